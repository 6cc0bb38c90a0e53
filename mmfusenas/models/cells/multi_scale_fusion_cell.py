"""Multi-scale fusion cell C_MS."""
from typing import Sequence

import torch
import torch.nn as nn

from mmfusenas.models.ops import SKFF, DownSample, ReLUConvBN, UpSample
from mmfusenas.registry import MODELS
from mmfusenas.models.ops import EdgeSpec, build_chain


@MODELS.register_module()
class MultiScaleFusionCell(nn.Module):
    """Multi-scale fusion cell C_MS (official ``Cell_Fusion``)::

        p  = ReLU-1x1conv-BN(x)
        p2 = down2(p); p4 = down4(p)
        s0 = ops(p); s1 = ops_down2(p2); s2 = ops_down4(p4)
        out = p + SKFF([s0, up2(s1), up4(s2)])

    The three chains (widths ``C``, ``2C``, ``4C``) have separate parameters;
    H and W must be multiples of 4.

    Args:
        channels (int): width ``C``.
        ops (Sequence[str | dict]): edge specs of each chain.
    """

    def __init__(self, channels: int, ops: Sequence[EdgeSpec]) -> None:
        super().__init__()
        self.preprocess = ReLUConvBN(channels)
        self.down2 = DownSample(channels, 2)
        self.down4 = DownSample(channels, 4)
        self.up2 = UpSample(channels * 2, 2)
        self.up4 = UpSample(channels * 4, 4)
        self.skff = SKFF(channels)
        self.ops = build_chain(ops, channels)
        self.ops_down2 = build_chain(ops, channels * 2)
        self.ops_down4 = build_chain(ops, channels * 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        p = self.preprocess(x)
        s0 = self.ops(p)
        s1 = self.up2(self.ops_down2(self.down2(p)))
        s2 = self.up4(self.ops_down4(self.down4(p)))
        return p + self.skff([s0, s1, s2])
