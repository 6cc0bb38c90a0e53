"""Anti-aliased down-sampling and residual up- / down-sampling blocks."""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from mmfusenas.registry import MODELS


def _num_halvings(scale_factor: int) -> int:
    steps = int(math.log2(scale_factor)) if scale_factor >= 1 else -1
    if steps < 1 or 2**steps != scale_factor:
        raise ValueError(f'scale_factor must be a power of 2 >= 2, got '
                         f'{scale_factor}')
    return steps


@MODELS.register_module()
class AntiAliasDownsample(nn.Module):
    """Blur-then-subsample (Zhang 2019; official ``Downsample``).

    Reflection padding, then a fixed depthwise 3x3 binomial filter (a
    persistent buffer ``kernel``) at ``stride``.

    Args:
        channels (int): input = output channels.
        stride (int): sub-sampling stride. Defaults to 2.
    """

    def __init__(self, channels: int, stride: int = 2) -> None:
        super().__init__()
        self.channels = channels
        self.stride = stride
        self.pad = 1
        taps = torch.tensor([1., 2., 1.])
        kernel = taps[:, None] * taps[None, :]
        kernel = (kernel / kernel.sum())[None, None]
        self.register_buffer('kernel', kernel.repeat(channels, 1, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.pad(x, (self.pad, ) * 4, mode='reflect')
        return F.conv2d(x, self.kernel, stride=self.stride, groups=x.shape[1])


@MODELS.register_module()
class ResidualDownSample(nn.Module):
    """``n`` channels at ``H`` -> ``2n`` at ``ceil(H / 2)`` (official)::

        top = conv1x1 -> PReLU -> conv3x3 -> PReLU -> blur-down -> conv1x1(2n)
        bot = blur-down -> conv1x1(2n);   out = top(x) + bot(x)
    """

    def __init__(self, channels: int) -> None:
        super().__init__()
        n = channels
        self.top = nn.Sequential(
            nn.Conv2d(n, n, 1, bias=False), nn.PReLU(),
            nn.Conv2d(n, n, 3, padding=1, bias=False), nn.PReLU(),
            AntiAliasDownsample(n), nn.Conv2d(n, 2 * n, 1, bias=False))
        self.bot = nn.Sequential(
            AntiAliasDownsample(n), nn.Conv2d(n, 2 * n, 1, bias=False))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.top(x) + self.bot(x)


@MODELS.register_module()
class ResidualUpSample(nn.Module):
    """``n`` channels at ``H`` -> ``n / 2`` at ``2H`` (official)::

        top = conv1x1 -> PReLU -> convT3x3(stride 2) -> PReLU -> conv1x1(n/2)
        bot = bilinear x2 -> conv1x1(n/2);   out = top(x) + bot(x)
    """

    def __init__(self, channels: int) -> None:
        super().__init__()
        if channels % 2:
            raise ValueError(f'channels must be even, got {channels}')
        n = channels
        self.top = nn.Sequential(
            nn.Conv2d(n, n, 1, bias=False), nn.PReLU(),
            nn.ConvTranspose2d(
                n, n, 3, stride=2, padding=1, output_padding=1, bias=False),
            nn.PReLU(), nn.Conv2d(n, n // 2, 1, bias=False))
        self.bot = nn.Sequential(
            nn.Upsample(scale_factor=2, mode='bilinear', align_corners=False),
            nn.Conv2d(n, n // 2, 1, bias=False))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.top(x) + self.bot(x)


@MODELS.register_module()
class DownSample(nn.Module):
    """``log2(scale_factor)`` chained :class:`ResidualDownSample` blocks."""

    def __init__(self, channels: int, scale_factor: int) -> None:
        super().__init__()
        steps = _num_halvings(scale_factor)
        self.body = nn.Sequential(*(ResidualDownSample(channels * 2**i)
                                    for i in range(steps)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)


@MODELS.register_module()
class UpSample(nn.Module):
    """``log2(scale_factor)`` chained :class:`ResidualUpSample` blocks."""

    def __init__(self, channels: int, scale_factor: int) -> None:
        super().__init__()
        steps = _num_halvings(scale_factor)
        if channels % scale_factor:
            raise ValueError(f'channels ({channels}) must be divisible by '
                             f'scale_factor ({scale_factor})')
        self.body = nn.Sequential(*(ResidualUpSample(channels // 2**i)
                                    for i in range(steps)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)
