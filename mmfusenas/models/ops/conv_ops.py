"""Convolutional ``C -> C`` operators: dilated / separable convs,
reflection-padded convs, identity and zero (bias-free unless stated).
"""
from typing import Optional

import torch
import torch.nn as nn

from mmfusenas.registry import MODELS


def same_padding(kernel_size: int, dilation: int = 1) -> int:
    """``dilation * (kernel_size - 1) // 2``: keeps H x W at stride 1."""
    if kernel_size < 1 or kernel_size % 2 == 0:
        raise ValueError(
            f'kernel_size must be a positive odd number, got {kernel_size}')
    if dilation < 1:
        raise ValueError(f'dilation must be >= 1, got {dilation}')
    return dilation * (kernel_size - 1) // 2


def conv_lrelu(cin: int, cout: int, stride: int = 1,
               slope: float = 0.2) -> nn.Sequential:
    """3x3 conv (bias, padding 1) then in-place ``LeakyReLU(slope)``."""
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, stride=stride, padding=1),
        nn.LeakyReLU(slope, inplace=True))


def depthwise_conv(channels: int,
                   kernel_size: int,
                   dilation: int = 1) -> nn.Conv2d:
    """Bias-free, size-preserving depthwise conv (``groups = channels``)."""
    return nn.Conv2d(
        channels,
        channels,
        kernel_size,
        padding=same_padding(kernel_size, dilation),
        dilation=dilation,
        groups=channels,
        bias=False)


@MODELS.register_module()
class ReflectPadConv2d(nn.Module):
    """Reflection padding + biased conv keeping H x W (official ``ConvLayer``).

    Args:
        in_channels (int): input channels.
        out_channels (int): output channels.
        kernel_size (int): odd kernel size.
    """
    #: the output is this conv's output (BatchNorm folding, see
    #: :func:`~mmfusenas.models.utils.batchnorm_folding.fold_batchnorm`)
    bn_fold_conv = 'conv'

    def __init__(self, in_channels: int, out_channels: int,
                 kernel_size: int) -> None:
        super().__init__()
        self.pad = nn.ReflectionPad2d(same_padding(kernel_size))
        self.conv = nn.Conv2d(in_channels, out_channels, kernel_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(self.pad(x))


@MODELS.register_module()
class ReLUConvBN(nn.Module):
    """ReLU -> size-preserving conv ``C -> C`` -> BN (official ``ReLUConvBN``).

    Args:
        channels (int): input = output channels.
        kernel_size (int): odd kernel size. Defaults to 1.
    """

    def __init__(self, channels: int, kernel_size: int = 1) -> None:
        super().__init__()
        self.layers = nn.Sequential(
            nn.ReLU(),
            nn.Conv2d(
                channels,
                channels,
                kernel_size,
                padding=same_padding(kernel_size),
                bias=False), nn.BatchNorm2d(channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x)


@MODELS.register_module()
class DilConv(nn.Module):
    """Dilated depthwise-separable conv: ReLU -> dw conv -> 1x1 -> BN.

    Official ``DilConv_<k>_<d>``; TIM adds the input (``residual=True``),
    ``residual=False`` gives the DARTS ``dil_conv``.

    Args:
        channels (int): input = output channels.
        kernel_size (int): odd depthwise kernel size. Defaults to 3.
        dilation (int): depthwise dilation. Defaults to 2.
        residual (bool): add the input to the output. Defaults to True.
    """

    def __init__(self,
                 channels: int,
                 kernel_size: int = 3,
                 dilation: int = 2,
                 residual: bool = True) -> None:
        super().__init__()
        self.residual = residual
        self.layers = nn.Sequential(
            nn.ReLU(), depthwise_conv(channels, kernel_size, dilation),
            nn.Conv2d(channels, channels, 1, bias=False),
            nn.BatchNorm2d(channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.layers(x)
        return out + x if self.residual else out


@MODELS.register_module()
class SepConv(nn.Module):
    """Separable conv pair: (ReLU -> dw conv -> 1x1 -> BN) twice.

    Official ``SepConv_<k>_<s>``: ``stride`` applies to the first depthwise
    conv; the official factory fixes ``padding=1`` (:func:`build_tim_op`).

    Args:
        channels (int): input = output channels.
        kernel_size (int): depthwise kernel size. Defaults to 3.
        stride (int): stride of the first depthwise conv. Defaults to 1.
        padding (int, optional): padding of both depthwise convs; None:
            ``(kernel_size - 1) // 2``.
    """

    def __init__(self,
                 channels: int,
                 kernel_size: int = 3,
                 stride: int = 1,
                 padding: Optional[int] = None) -> None:
        super().__init__()
        if padding is None:
            padding = same_padding(kernel_size)

        def dw(conv_stride: int) -> nn.Conv2d:
            return nn.Conv2d(
                channels,
                channels,
                kernel_size,
                stride=conv_stride,
                padding=padding,
                groups=channels,
                bias=False)

        self.layers = nn.Sequential(
            nn.ReLU(), dw(stride),
            nn.Conv2d(channels, channels, 1, bias=False),
            nn.BatchNorm2d(channels), nn.ReLU(), dw(1),
            nn.Conv2d(channels, channels, 1, bias=False),
            nn.BatchNorm2d(channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x)


@MODELS.register_module()
class SkipConnect(nn.Module):
    """Identity operator (``skip``); ``channels`` is unused."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.channels = channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x


@MODELS.register_module()
class Zero(nn.Module):
    """Zero operator (``zero`` / DARTS ``none``); ``channels`` is unused."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.channels = channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.zeros_like(x)
