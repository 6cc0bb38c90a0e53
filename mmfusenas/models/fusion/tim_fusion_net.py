"""TIM fusion network N_F (stage 1, also the "light" model) and the
stems / heads shared with stage 2.
"""
from typing import List, Optional, Sequence, Tuple

import torch
import torch.nn as nn

from mmfusenas.models.ops import ReflectPadConv2d
from mmfusenas.registry import MODELS
from .tim_genotypes import TIM_CELL_TYPES, TIM_GENOTYPES


def build_tim_stem(in_channels: int,
                   channels: int,
                   with_bn: bool = False) -> nn.Sequential:
    """Stem ``in -> 2C -> C``: reflect conv, PReLU, reflect conv, (BN,) PReLU.

    Official ``stem`` (no BN) and ``stem2`` / ``stem3`` (with BN).
    """
    layers = [
        ReflectPadConv2d(in_channels, channels * 2, 3),
        nn.PReLU(),
        ReflectPadConv2d(channels * 2, channels, 3)
    ]
    if with_bn:
        layers.append(nn.BatchNorm2d(channels))
    layers.append(nn.PReLU())
    return nn.Sequential(*layers)


def build_tim_head(in_channels: int,
                   channels: int,
                   with_act: bool = True) -> nn.Sequential:
    """Head ``in -> C -> C/2 -> 1`` of reflect convs (no output activation).

    Official ``stem_out*``; ``with_act`` adds a PReLU after the first conv.
    """
    layers = [ReflectPadConv2d(in_channels, channels, 3)]
    if with_act:
        layers.append(nn.PReLU())
    layers += [
        ReflectPadConv2d(channels, channels // 2, 3),
        ReflectPadConv2d(channels // 2, 1, 1)
    ]
    return nn.Sequential(*layers)


def check_input_order(input_order: Optional[Sequence[int]],
                      in_channels: int) -> Optional[Tuple[int, ...]]:
    """Validate a permutation of ``range(in_channels)``; None for the
    identity."""
    if input_order is None:
        return None
    order = tuple(input_order)
    if sorted(order) != list(range(in_channels)):
        raise ValueError(f'input_order must be a permutation of '
                         f'{tuple(range(in_channels))}, got {order}')
    return None if order == tuple(range(in_channels)) else order


def tim_cell_cfgs(genotype: str, cell_names: Sequence[str]) -> List[dict]:
    """Cell configs of an official ``(genotype, cell_names)`` pair.

    Args:
        genotype (str): key of
            :data:`~mmfusenas.models.fusion.tim_genotypes.TIM_GENOTYPES`.
        cell_names (Sequence[str]): official cell names, e.g.
            ``('Cell_Fusion', 'Cell_Chain2')``.

    Returns:
        list[dict]: the cell configs.
    """
    if genotype not in TIM_GENOTYPES:
        raise KeyError(f"unknown TIM genotype '{genotype}'; known: "
                       f'{sorted(TIM_GENOTYPES)}')
    cfgs = []
    for name in cell_names:
        if name not in TIM_CELL_TYPES:
            raise KeyError(f"unknown TIM cell name '{name}'; known: "
                           f'{sorted(TIM_CELL_TYPES)}')
        cell_type, field = TIM_CELL_TYPES[name]
        ops = list(getattr(TIM_GENOTYPES[genotype], field))
        cfgs.append(dict(type=cell_type, ops=ops))
    return cfgs


@MODELS.register_module()
class TIMFusionNet(nn.Module):
    """TIM image-fusion network N_F (official ``Network_Fusion9_Meta``).

    ``out = head(cells[-1](... cells[0](stem(inputs))))`` with no output
    activation, as in the official code; see :func:`tim_cell_cfgs` for the
    official layouts.

    Args:
        cells (Sequence[dict]): cell configs, built with ``channels``.
        channels (int): width ``C`` (even). Defaults to 48.
        in_channels (int): number of stacked sources. Defaults to 2.
        input_order (Sequence[int], optional): permutation applied to the
            sources before the stem; None keeps the order.
    """

    def __init__(self,
                 cells: Sequence[dict],
                 channels: int = 48,
                 in_channels: int = 2,
                 input_order: Optional[Sequence[int]] = None) -> None:
        super().__init__()
        if channels < 2 or channels % 2:
            raise ValueError(f'channels must be an even number >= 2, got '
                             f'{channels}')
        if isinstance(cells, dict) or not len(cells):
            raise ValueError(f'cells must be a non-empty sequence of cell '
                             f'configs, got {cells!r}')
        self.in_channels = in_channels
        self.input_order = check_input_order(input_order, in_channels)
        self.stem = build_tim_stem(in_channels, channels)
        self.cells = nn.ModuleList(
            MODELS.build(cfg, default_args=dict(channels=channels))
            for cfg in cells)
        self.head = build_tim_head(channels, channels)

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        """Fuse ``(N, M, H, W)`` stacked sources into ``(N, 1, H, W)``."""
        if self.input_order is not None:
            # the indexing would drop extra channels silently
            if inputs.shape[1] != self.in_channels:
                raise ValueError(
                    f'TIMFusionNet expects (N, {self.in_channels}, H, W) '
                    f'inputs, got {tuple(inputs.shape)}')
            inputs = inputs[:, list(self.input_order)]
        feats = self.stem(inputs)
        for cell in self.cells:
            feats = cell(feats)
        return self.head(feats)
