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
    """Efficient channel attention: ``x * sigmoid(conv1d(GAP(x)))``.

    Official name: ``eca_layer``. The global-average-pooled vector
    ``(N, C, 1, 1)`` is read as a length-``C`` sequence ``(N, 1, C)`` and
    convolved along the **channel** axis by a bias-free ``Conv1d(1, 1, k)``
    with zero padding ``(k - 1) // 2`` at both ends; output channel ``c`` is
    ``w[0] m[c-1] + w[1] m[c] + w[2] m[c+1]`` for ``k = 3``.

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
    """Channel attention operator: ``PReLU(conv3x3(ECA(x)))``, no residual.

    Official name: ``ECABasicBlock`` (genotype string ``ECAattention_<k>``;
    the paper's "channel attention, CA"; an ECA layer, not an SE block). The
    3x3 conv is always 3x3, ``k`` only sets the ECA kernel. Parameters:
    ``k + 9 C^2 + 1``.

    Args:
        channels (int): input = output channels ``C``.
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

    Each pool reduces over channels (``'max'`` or ``'mean'``) to one map;
    the maps are concatenated in the given order and a bias-free,
    size-preserving conv gives one ``(N, 1, H, W)`` mask in ``(0, 1)``.

    Official uses: ``spatial_attn_layer`` (``pools=('max', 'mean')``, inside
    :class:`SpatialAttentionBlock`) and ``spatial_attn_layer2`` / ``spa`` of
    ``Network_Fusion9_3`` (``pools=('max', 'max', 'mean')``, a 1x1 conv:
    the max map really appears twice).

    Args:
        kernel_size (int): odd conv kernel size. Defaults to 1.
        pools (Sequence[str]): channel pools in concatenation order, each
            ``'max'`` or ``'mean'``. Defaults to ``('max', 'max', 'mean')``.
    """

    _POOLS = ('max', 'mean')

    def __init__(
        self,
        kernel_size: int = 1,
        pools: Sequence[str] = ('max', 'max', 'mean')
    ) -> None:
        super().__init__()
        pools = tuple(pools)
        bad = [p for p in pools if p not in self._POOLS]
        if not pools or bad:
            raise ValueError(f'pools must be a non-empty sequence of '
                             f'{self._POOLS}, got {pools}')
        self.pools = pools
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
    """Spatial attention operator: ``x * sigmoid(conv_k([max_c, mean_c]))``.

    Official name: ``Spatial_BasicBlock`` (genotype string
    ``SPAattention_<k>``; the paper's "spatial attention, SA"). No residual
    and no other layer; the mask is broadcast over channels. Parameters:
    ``2 k^2`` whatever ``C``.

    Args:
        channels (int): accepted for the uniform ``(channels)`` operator
            interface; the block has no channel-dependent parameters.
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
    """Non-local attention operator (in the catalogue, unused by every
    official genotype).

    Official name: ``NLBasicBlock`` (genotype string
    ``NonLocalattention_<k>``)::

        a = conv3x3(x); b = P(a)
        b = W(softmax_q(theta(b)^T phi(b)) g(b)) + b   # non-local, +input
        out = P(conv_k(b + a))

    ``theta``, ``phi``, ``g``, ``W`` are bias-free 1x1 convs ``C -> C``;
    ``W`` starts at zero. Official quirk kept: the softmax of the
    ``(HW x HW)`` affinity ``theta^T phi`` is taken over ``dim=1``, i.e.
    normalised over the query index rather than the key index. Memory grows
    with ``(HW)^2``. Parameters: ``9C^2 + k^2 C^2 + 4C^2 + 1``.

    Args:
        channels (int): input = output channels ``C``.
        kernel_size (int): odd kernel size of the full conv after the
            non-local block. Defaults to 3.
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
    """Selective-kernel feature fusion of equally shaped branches.

    Official name: ``SKFF`` (used by the multi-scale fusion cell)::

        U = sum_i x_i;  z = PReLU(conv1x1_{C->d}(GAP(U)))
        a_i = conv1x1_{d->C}^i(z);  w = softmax over branches i of a
        out = sum_i w_i * x_i

    with ``d = max(int(C / reduction), 4)`` and bias-free convs.

    Args:
        channels (int): channels ``C`` of every branch.
        num_branches (int): number of branches. Defaults to 3.
        reduction (int): squeeze ratio. Defaults to 8.
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

    def attention_weights(self, feats: Sequence[torch.Tensor]) -> torch.Tensor:
        """Per-branch, per-channel weights ``(N, num_branches, C, 1, 1)``.

        Args:
            feats (Sequence[Tensor]): ``num_branches`` tensors
                ``(N, C, H, W)``.

        Returns:
            Tensor: softmax-normalised over the branch axis (dim 1).
        """
        return self._weights(self._stack(feats))

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
