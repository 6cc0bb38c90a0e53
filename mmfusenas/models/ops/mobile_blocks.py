"""Mobile inverted-residual blocks: the fixed MB block (with SE) and the
OFA-style elastic block of a one-shot supernet.

:data:`MB_OP_NAMES` (``mb_k{k}_r{r}``) is the DCNAS base-op list in the
official order.
"""
import re
from typing import Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F

from mmfusenas.registry import MODELS

MB_KERNELS = (3, 5, 7)
MB_RATIOS = (2, 3, 4, 5, 6)
#: the 16 DCNAS base ops, official index order
MB_OP_NAMES = ('skip', ) + tuple(f'mb_k{k}_r{r}' for k in MB_KERNELS
                                  for r in MB_RATIOS)
_MB_RE = re.compile(r'^mb_k(\d+)_r(\d+)$')


def parse_mb_name(name: str) -> Tuple[int, int]:
    """``'mb_k5_r3'`` -> ``(5, 3)``; ValueError for other names."""
    match = _MB_RE.match(name)
    if match is None:
        raise ValueError(f'{name!r} is not a mobile-block op name '
                         f'(expected mb_k<kernel>_r<ratio>, e.g. mb_k3_r4)')
    return int(match.group(1)), int(match.group(2))


@MODELS.register_module()
class ConvAct(nn.Module):
    """``conv`` ('same' padding) then ``'PReLU'``, ``'ReLU'``, ``'Sigmoid'``
    or no activation."""

    ACTS = ('PReLU', 'ReLU', 'Sigmoid', None)

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 kernel_size: int = 3,
                 act: Optional[str] = 'PReLU',
                 bias: bool = False,
                 groups: int = 1) -> None:
        super().__init__()
        if act not in self.ACTS:
            raise ValueError(f'act must be one of {self.ACTS}, got {act!r}')
        self.conv = nn.Conv2d(
            in_channels,
            out_channels,
            kernel_size,
            padding=kernel_size // 2,
            groups=groups,
            bias=bias)
        self.act = None if act is None else (
            nn.PReLU() if act == 'PReLU' else
            nn.ReLU() if act == 'ReLU' else nn.Sigmoid())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv(x)
        return x if self.act is None else self.act(x)


class SqueezeExcite(nn.Module):
    """SE: GAP -> 1x1 ``C -> C/reduction`` (bias) -> ReLU -> 1x1 (bias) ->
    sigmoid -> multiply (the official ``CALayer``)."""

    def __init__(self, channels: int, reduction: int = 4) -> None:
        super().__init__()
        self.reduce = nn.Conv2d(channels, channels // reduction, 1)
        self.expand = nn.Conv2d(channels // reduction, channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        w = x.mean(dim=(2, 3), keepdim=True)
        w = torch.sigmoid(self.expand(F.relu(self.reduce(w))))
        return x * w


@MODELS.register_module()
class MBConvSE(nn.Module):
    """Mobile inverted-residual block with SE (DCNAS ``StaticModel``).

    ``x + SE(project(act(dw_k(act(expand(x))))))`` with 1x1 ``C -> rC``,
    depthwise ``k x k`` and 1x1 ``rC -> C``.

    Args:
        channels (int): input = output channels.
        kernel_size (int): depthwise kernel size.
        expand_ratio (int): ``r``.
    """

    def __init__(self,
                 channels: int,
                 kernel_size: int = 3,
                 expand_ratio: int = 6) -> None:
        super().__init__()
        hidden = channels * expand_ratio
        self.expand = ConvAct(channels, hidden, 1)
        self.dw = ConvAct(hidden, hidden, kernel_size, groups=hidden)
        self.project = ConvAct(hidden, channels, 1, None)
        self.se = SqueezeExcite(channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.se(self.project(self.dw(self.expand(x))))


def build_mb_op(name: str, channels: int) -> nn.Module:
    """A fixed op of :data:`MB_OP_NAMES`: ``skip`` -> ``nn.Identity``,
    ``mb_k{k}_r{r}`` -> :class:`MBConvSE`."""
    if name == 'skip':
        return nn.Identity()
    return MBConvSE(channels, *parse_mb_name(name))


@MODELS.register_module()
class ElasticMBConv(nn.Module):
    """OFA-style elastic mobile block: weights at the largest kernel / ratio.

    ``forward(x, choice)`` runs ``x + project_r(act(dw_k(act(expand_r(x)))))``
    for an op name of :data:`MB_OP_NAMES` (``'skip'`` returns ``x``), slicing
    the hidden channels and transforming the centre of the kernel
    (``7 -> 5 -> 3``) as the official ``DynamicSeparableConv2d``.

    Args:
        channels (int): input = output channels.
    """

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.channels = channels
        self.kernel_sizes, self.expand_ratios = MB_KERNELS, MB_RATIOS
        hidden = channels * max(self.expand_ratios)
        kmax = self.kernel_sizes[-1]
        self.expand_weight = nn.Parameter(torch.empty(hidden, channels, 1, 1))
        self.dw_weight = nn.Parameter(torch.empty(hidden, 1, kmax, kmax))
        self.project_weight = nn.Parameter(
            torch.empty(channels, hidden, 1, 1))
        for w in (self.expand_weight, self.dw_weight, self.project_weight):
            nn.init.kaiming_uniform_(w, a=5**0.5)
        for big, small in zip(self.kernel_sizes[::-1][:-1],
                              self.kernel_sizes[::-1][1:]):
            self.register_parameter(f'transform_{big}to{small}',
                                    nn.Parameter(torch.eye(small**2)))
        self.act1, self.act2 = nn.PReLU(), nn.PReLU()
        self.choice_names = MB_OP_NAMES

    def kernel(self, kernel_size: int) -> torch.Tensor:
        """The depthwise kernel of size ``kernel_size`` (all hidden
        channels), through the chain of transforms."""
        if kernel_size not in self.kernel_sizes:
            raise ValueError(f'kernel size {kernel_size} not in '
                             f'{self.kernel_sizes}')
        filt = self.dw_weight
        for big, small in zip(self.kernel_sizes[::-1][:-1],
                              self.kernel_sizes[::-1][1:]):
            if big <= kernel_size:
                break
            start = (big - small) // 2
            sub = filt[:, :, start:start + small, start:start + small]
            matrix = getattr(self, f'transform_{big}to{small}')
            filt = F.linear(sub.reshape(-1, small * small),
                            matrix).reshape(sub.shape)
        return filt

    def forward(self, x: torch.Tensor, choice: str) -> torch.Tensor:
        if choice == 'skip':
            return x
        k, r = parse_mb_name(choice)
        if r not in self.expand_ratios:
            raise ValueError(f'expand ratio {r} not in {self.expand_ratios}')
        hidden = self.channels * r
        out = self.act1(F.conv2d(x, self.expand_weight[:hidden]))
        out = self.act2(
            F.conv2d(
                out,
                self.kernel(k)[:hidden],
                padding=k // 2,
                groups=hidden))
        out = F.conv2d(out, self.project_weight[:, :hidden])
        return x + out
