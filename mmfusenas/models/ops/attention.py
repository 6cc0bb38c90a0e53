"""Attention operators: ECA channel attention, spatial attention,
non-local attention and selective-kernel feature fusion (SKFF)."""
from typing import Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F

from mmfusenas.registry import MODELS
from .conv_ops import same_padding


@MODELS.register_module()
class ECALayer(nn.Module):
    """Efficient channel attention ``x * sigmoid(conv1d(GAP(x)))``
    (``eca_layer``).

    The pooled ``(N, C)`` vector is convolved along the channel axis by a
    bias-free ``Conv1d(1, 1, k)`` with zero padding.

    Args:
        kernel_size (int): odd 1-D kernel size. Defaults to 3.
    """

    def __init__(self, kernel_size: int = 3) -> None:
        super().__init__()
        self.conv = nn.Conv1d(
            1, 1, kernel_size, padding=same_padding(kernel_size), bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pooled = F.adaptive_avg_pool2d(x, 1)  # (N, C, 1, 1)
        weights = self.conv(pooled.squeeze(-1).transpose(-1, -2))
        weights = torch.sigmoid(weights.transpose(-1, -2).unsqueeze(-1))
        return x * weights


@MODELS.register_module()
class ECABlock(nn.Module):
    """Channel attention operator ``PReLU(conv3x3(ECA(x)))``
    (``ECABasicBlock``).

    Args:
        channels (int): input = output channels.
        kernel_size (int): odd ECA kernel size. Defaults to 3.
    """

    def __init__(self, channels: int, kernel_size: int = 3) -> None:
        super().__init__()
        self.eca = ECALayer(kernel_size)
        self.conv = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.act = nn.PReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.conv(self.eca(x)))


@MODELS.register_module()
class SpatialMask(nn.Module):
    """Spatial mask ``sigmoid(conv(cat[pool_1(x), pool_2(x), ...]))``.

    Each pool reduces over channels (``'max'`` or ``'mean'``); the bias-free
    conv gives one ``(N, 1, H, W)`` mask.

    Args:
        kernel_size (int): odd conv kernel size. Defaults to 1.
        pools (Sequence[str]): channel pools in concatenation order.
            Defaults to ``('max', 'max', 'mean')`` (official ``spa``).
    """

    def __init__(
        self,
        kernel_size: int = 1,
        pools: Sequence[str] = ('max', 'max', 'mean')
    ) -> None:
        super().__init__()
        self.pools = tuple(pools)
        self.conv = nn.Conv2d(
            len(pools),
            1,
            kernel_size,
            padding=same_padding(kernel_size),
            bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        maps = {}
        if 'max' in self.pools:
            maps['max'] = x.max(dim=1, keepdim=True)[0]
        if 'mean' in self.pools:
            maps['mean'] = x.mean(dim=1, keepdim=True)
        pooled = torch.cat([maps[p] for p in self.pools], dim=1)
        return torch.sigmoid(self.conv(pooled))


@MODELS.register_module()
class SpatialAttentionBlock(nn.Module):
    """Spatial attention ``x * sigmoid(conv_k([max_c, mean_c]))``
    (``Spatial_BasicBlock``).

    Args:
        channels (int): accepted for the uniform operator interface.
        kernel_size (int): odd kernel size of the mask conv. Defaults to 3.
    """

    def __init__(self, channels: int, kernel_size: int = 3) -> None:
        super().__init__()
        self.channels = channels
        self.mask = SpatialMask(kernel_size, pools=('max', 'mean'))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.mask(x)


@MODELS.register_module()
class NonLocalBlock(nn.Module):
    """Non-local attention operator (official ``NLBasicBlock``)::

        a = conv3x3(x); b = P(a)
        b = W(softmax_q(theta(b)^T phi(b)) g(b)) + b
        out = P(conv_k(b + a))

    ``theta``, ``phi``, ``g``, ``W`` are bias-free 1x1 convs, ``W`` starts at
    zero; the softmax runs over ``dim=1`` as in the official code.

    Args:
        channels (int): input = output channels.
        kernel_size (int): odd kernel size of the last conv. Defaults to 3.
    """

    def __init__(self, channels: int, kernel_size: int = 3) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.conv2 = nn.Conv2d(
            channels,
            channels,
            kernel_size,
            padding=same_padding(kernel_size),
            bias=False)
        self.g = nn.Conv2d(channels, channels, 1, bias=False)
        self.theta = nn.Conv2d(channels, channels, 1, bias=False)
        self.phi = nn.Conv2d(channels, channels, 1, bias=False)
        self.out = nn.Conv2d(channels, channels, 1, bias=False)
        nn.init.zeros_(self.out.weight)
        self.act = nn.PReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a = self.conv1(x)
        b = self.act(a)
        n, c, h, w = b.shape
        g = self.g(b).flatten(2).transpose(1, 2)  # (N, HW, C)
        theta = self.theta(b).flatten(2).transpose(1, 2)  # (N, HW, C)
        phi = self.phi(b).flatten(2)  # (N, C, HW)
        affinity = F.softmax(torch.matmul(theta, phi), dim=1)
        y = torch.matmul(affinity, g).transpose(1, 2).reshape(n, c, h, w)
        b = self.out(y) + b
        return self.act(self.conv2(b + a))


@MODELS.register_module()
class SKFF(nn.Module):
    """Selective-kernel feature fusion of equally shaped branches (``SKFF``)::

        z = PReLU(conv1x1(GAP(sum_i x_i)));  w = softmax_i(conv1x1_i(z))
        out = sum_i w_i * x_i

    Args:
        channels (int): channels of every branch.
        num_branches (int): number of branches. Defaults to 3.
        reduction (int): squeeze ratio (hidden ``max(C // r, 4)``). Defaults
            to 8.
    """

    def __init__(self,
                 channels: int,
                 num_branches: int = 3,
                 reduction: int = 8) -> None:
        super().__init__()
        self.num_branches = num_branches
        hidden = max(int(channels / reduction), 4)
        self.conv_du = nn.Sequential(
            nn.Conv2d(channels, hidden, 1, bias=False), nn.PReLU())
        self.fcs = nn.ModuleList(
            nn.Conv2d(hidden, channels, 1, bias=False)
            for _ in range(num_branches))

    def forward(self, feats: Sequence[torch.Tensor]) -> torch.Tensor:
        stacked = self._stack(feats)
        return (stacked * self._weights(stacked)).sum(dim=1)

    def _stack(self, feats: Sequence[torch.Tensor]) -> torch.Tensor:
        self._check(feats)
        return torch.stack(tuple(feats), dim=1)  # (N, branches, C, H, W)

    def _check(self, feats: Sequence[torch.Tensor]) -> None:
        if len(feats) != self.num_branches:
            raise ValueError(f'SKFF expects {self.num_branches} branches, '
                             f'got {len(feats)}')
        # compare with the first branch (not via a set of shapes, which
        # holds tensors under torch.jit.trace and breaks tracing)
        if any(f.shape != feats[0].shape for f in feats[1:]):
            raise ValueError('SKFF branches must share one shape, got '
                             f'{[tuple(f.shape) for f in feats]}')

    def _weights(self, stacked: torch.Tensor) -> torch.Tensor:
        return self._weights_of_sum(stacked.sum(dim=1))

    def _weights_of_sum(self, total: torch.Tensor) -> torch.Tensor:
        squeezed = self.conv_du(F.adaptive_avg_pool2d(total, 1))
        logits = torch.stack([fc(squeezed) for fc in self.fcs], dim=1)
        return F.softmax(logits, dim=1)
