"""Decomposition cell C_DC: guided-filter low / high-frequency split."""
from typing import Sequence, Tuple

import torch
import torch.nn as nn

from mmfusenas.models.ops import EnhanceResidualBlock, guided_filter
from mmfusenas.registry import MODELS
from mmfusenas.models.ops import EdgeSpec, build_chain


@MODELS.register_module()
class DecompositionCell(nn.Module):
    """Decomposition cell C_DC (official ``Cell_Decom``): guided-filter split::

        g = max_c(x) - min_c(x)
        for r in radii, for eps in eps_values:
            LF_i = GF_{r, eps}(guide=g, src=x); HF_i = x - LF_i
        lf = ops_low(reduce_low(cat LF)); hf = ops_high(reduce_high(cat HF))
        out = enhance(reduce_concat(cat[lf, hf]))

    Args:
        channels (int): width ``C``.
        ops (Sequence[str | dict]): edge specs of each chain.

    The guided filters run at radii (2, 4, 8) and eps (1e-3, 1e-4).
    """

    radii = (2, 4, 8)
    eps_values = (1e-3, 1e-4)

    def __init__(self, channels: int, ops: Sequence[EdgeSpec]) -> None:
        super().__init__()
        num_bands = len(self.radii) * len(self.eps_values)
        self.reduce_low = nn.Conv2d(
            channels * num_bands, channels, 1, bias=False)
        self.reduce_high = nn.Conv2d(
            channels * num_bands, channels, 1, bias=False)
        self.ops_low = build_chain(ops, channels)
        self.ops_high = build_chain(ops, channels)
        self.reduce_concat = nn.Conv2d(channels * 2, channels, 1, bias=False)
        self.enhance = EnhanceResidualBlock(channels)

    def decompose(self, x: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """``(LF, HF)`` stacks of ``x``, each ``(N, 6C, H, W)``."""
        guide = x.max(dim=1, keepdim=True)[0] - x.min(dim=1, keepdim=True)[0]
        lows = [
            guided_filter(guide, x, radius, eps) for radius in self.radii
            for eps in self.eps_values
        ]
        highs = [x - low for low in lows]
        return torch.cat(lows, dim=1), torch.cat(highs, dim=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        low, high = self.decompose(x)
        low = self.ops_low(self.reduce_low(low))
        high = self.ops_high(self.reduce_high(high))
        return self.enhance(self.reduce_concat(torch.cat((low, high), 1)))
