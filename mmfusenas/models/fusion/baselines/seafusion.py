"""SeAFusion (Tang et al., Information Fusion 2022), inference part, from
the released ``FusionNet`` weights (the unused decoder BN is kept so the
file loads strictly).
"""
from typing import Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F

from mmfusenas.registry import MODELS


class _Conv(nn.Module):
    """``conv`` (+ an unused ``bn`` when ``with_bn``), then an activation."""

    def __init__(self, in_channels: int, out_channels: int,
                 kernel_size: int = 3, act: str = 'lrelu',
                 with_bn: bool = False) -> None:
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, kernel_size,
                              padding=kernel_size // 2)
        if with_bn:
            self.bn = nn.BatchNorm2d(out_channels)  # unused (see module doc)
        self.act = act

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv(x)
        if self.act == 'lrelu':
            return F.leaky_relu(x, 0.2)
        if self.act == 'tanh01':
            return torch.tanh(x) / 2 + 0.5
        return x


class _Gradient(nn.Module):
    """Depthwise ``|conv_x(x)| + |conv_y(x)|`` (Sobel-initialised)."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.convx = nn.Conv2d(channels, channels, 3, padding=1,
                               groups=channels, bias=False)
        self.convy = nn.Conv2d(channels, channels, 3, padding=1,
                               groups=channels, bias=False)
        sobel = torch.tensor([[1., 0., -1.], [2., 0., -2.], [1., 0., -1.]])
        with torch.no_grad():
            self.convx.weight.copy_(sobel.expand_as(self.convx.weight))
            self.convy.weight.copy_(sobel.t().expand_as(self.convy.weight))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.convx(x).abs() + self.convy(x).abs()


class _Dense(nn.Module):
    """Two densely connected 3x3 conv + LeakyReLU(0.2) layers (3C out)."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv1 = _Conv(channels, channels)
        self.conv2 = _Conv(2 * channels, channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.cat([x, self.conv1(x)], dim=1)
        return torch.cat([x, self.conv2(x)], dim=1)


class GRDB(nn.Module):
    """Gradient residual dense block of SeAFusion (``in_channels`` ->
    ``out_channels``)."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.dense = _Dense(in_channels)
        self.convdown = _Conv(3 * in_channels, out_channels, 1, act='none')
        self.sobelconv = _Gradient(in_channels)
        self.convup = _Conv(in_channels, out_channels, 1, act='none')

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        main = self.convdown(self.dense(x))
        grad = self.convup(self.sobelconv(x))
        return F.leaky_relu(main + grad, 0.1)


@MODELS.register_module()
class SeAFusionNet(nn.Module):
    """SeAFusion's fusion network: ``(N, 2, H, W)`` (ir, vi Y) -> ``(N, 1, H,
    W)``.

    Args:
        channels (Sequence[int]): encoder widths. Defaults to (16, 32, 48).
    """

    def __init__(self, channels: Sequence[int] = (16, 32, 48)) -> None:
        super().__init__()
        c0, c1, c2 = channels
        for branch in ('vis', 'inf'):
            setattr(self, f'{branch}_conv', _Conv(1, c0))
            setattr(self, f'{branch}_rgbd1', GRDB(c0, c1))
            setattr(self, f'{branch}_rgbd2', GRDB(c1, c2))
        self.decode4 = _Conv(2 * c2, 2 * c1, with_bn=True)
        self.decode3 = _Conv(2 * c1, 2 * c0, with_bn=True)
        self.decode2 = _Conv(2 * c0, c0, with_bn=True)
        self.decode1 = _Conv(c0, 1, act='tanh01', with_bn=True)

    def _encode(self, x: torch.Tensor, branch: str) -> torch.Tensor:
        x = getattr(self, f'{branch}_conv')(x)
        x = getattr(self, f'{branch}_rgbd1')(x)
        return getattr(self, f'{branch}_rgbd2')(x)

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        if inputs.dim() != 4 or inputs.shape[1] != 2:
            raise ValueError('SeAFusionNet expects (N, 2, H, W) inputs (ir, '
                             f'vi), got {tuple(inputs.shape)}')
        feats = torch.cat([
            self._encode(inputs[:, 1:2], 'vis'),
            self._encode(inputs[:, 0:1], 'inf')
        ], dim=1)
        x = self.decode4(feats)
        x = self.decode3(x)
        x = self.decode2(x)
        return self.decode1(x)
