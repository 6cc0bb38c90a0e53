"""Residual / dense building blocks of the TIM operator catalogue."""
import torch
import torch.nn as nn

from mmfusenas.registry import MODELS
from .conv_ops import depthwise_conv, same_padding


@MODELS.register_module()
class DenseBlock(nn.Module):
    """Residual dense block (official ``ResidualDenseBlock``,
    ``Denseblocks_<k>_<d>``)::

        x1 = P(conv1(x)); x2 = P(conv2([x, x1])); x3 = P(conv3([x, x1, x2]))
        out = 0.333 * x3 + x

    Every conv has ``groups = C``; ``P`` is one PReLU with a shared slope.

    Args:
        channels (int): input = output channels.
        kernel_size (int): odd kernel size. Defaults to 3.
        dilation (int): dilation of the three convs. Defaults to 1.
    """

    residual_scale = 0.333

    def __init__(self,
                 channels: int,
                 kernel_size: int = 3,
                 dilation: int = 1) -> None:
        super().__init__()
        padding = same_padding(kernel_size, dilation)

        def grouped(num_inputs: int) -> nn.Conv2d:
            return nn.Conv2d(
                num_inputs * channels,
                channels,
                kernel_size,
                padding=padding,
                dilation=dilation,
                groups=channels,
                bias=False)

        self.conv1 = grouped(1)
        self.conv2 = grouped(2)
        self.conv3 = grouped(3)
        self.act = nn.PReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x1 = self.act(self.conv1(x))
        x2 = self.act(self.conv2(torch.cat((x, x1), 1)))
        x3 = self.act(self.conv3(torch.cat((x, x1, x2), 1)))
        return x3 * self.residual_scale + x


@MODELS.register_module()
class ResidualBlock(nn.Module):
    """Depthwise residual block (official ``ResidualModule``)::

        out = x + PReLU(BN(conv1x1(dw3x3_dil2(dw_kxk_d(x)))))

    Args:
        channels (int): input = output channels.
        kernel_size (int): first depthwise kernel size. Defaults to 3.
        dilation (int): first depthwise dilation. Defaults to 1.
    """

    def __init__(self,
                 channels: int,
                 kernel_size: int = 3,
                 dilation: int = 1) -> None:
        super().__init__()
        self.layers = nn.Sequential(
            depthwise_conv(channels, kernel_size, dilation),
            depthwise_conv(channels, 3, 2),
            nn.Conv2d(channels, channels, 1, bias=False),
            nn.BatchNorm2d(channels), nn.PReLU())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.layers(x)


@MODELS.register_module()
class EnhanceResidualBlock(nn.Module):
    """Fixed residual block closing the decomposition cell
    (official ``EnhanceResidualModule``)::

        out = x + PReLU(BN(conv1x1(dw3x3_dil2(dw3x3_dil2(dw5x5_dil2(x))))))
    """

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.layers = nn.Sequential(
            depthwise_conv(channels, 5, 2), depthwise_conv(channels, 3, 2),
            depthwise_conv(channels, 3, 2),
            nn.Conv2d(channels, channels, 1, bias=False),
            nn.BatchNorm2d(channels), nn.PReLU())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.layers(x)
