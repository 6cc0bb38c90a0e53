"""Successive cell C_SC: pre-process, then a chain of operators."""
from typing import Sequence

import torch
import torch.nn as nn

from mmfusenas.models.ops import ReLUConvBN
from mmfusenas.registry import MODELS
from mmfusenas.models.ops import EdgeSpec, build_chain


@MODELS.register_module()
class SuccessiveCell(nn.Module):
    """Successive cell C_SC ``ops[-1](... ops[0](ReLU-1x1conv-BN(x)))``
    (official ``Cell_Chain2`` / ``Cell_Chain``).

    Args:
        channels (int): width ``C``.
        ops (Sequence[str | dict]): edge specs of the chain.
    """

    def __init__(self, channels: int, ops: Sequence[EdgeSpec]) -> None:
        super().__init__()
        self.preprocess = ReLUConvBN(channels)
        self.ops = build_chain(ops, channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.ops(self.preprocess(x))
