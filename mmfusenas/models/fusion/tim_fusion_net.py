"""TIM fusion network N_F (stage 1; also the latency-constrained "light"
model) and the stems / heads shared with stage 2."""
from typing import List, Optional, Sequence, Tuple

import torch
import torch.nn as nn

from mmfusenas.models.ops import ReflectPadConv2d
from mmfusenas.registry import MODELS
from .tim_genotypes import TIM_CELL_TYPES, TIM_GENOTYPES


def build_tim_stem(in_channels: int,
                   channels: int,
                   with_bn: bool = False) -> nn.Sequential:
    """Stem ``in -> 2C -> C`` of the TIM networks.

    ``[ReflectPadConv2d(in, 2C, 3), PReLU, ReflectPadConv2d(2C, C, 3),
    (BN(C),) PReLU]``; official ``stem`` (stage 1, no BN) and
    ``stem2`` / ``stem3`` (stage 2, with BN).

    Args:
        in_channels (int): input channels.
        channels (int): width ``C``.
        with_bn (bool): BN before the last PReLU. Defaults to False.

    Returns:
        nn.Sequential: the stem.
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
    """Head ``in -> C -> C/2 -> 1`` of the TIM networks (no output
    activation).

    ``[ReflectPadConv2d(in, C, 3), (PReLU,) ReflectPadConv2d(C, C/2, 3),
    ReflectPadConv2d(C/2, 1, 1)]``; official ``stem_out`` / ``stem_out2`` /
    ``stem_out3`` (``in = C``, with the PReLU) and ``stem_out4`` (without).

    Args:
        in_channels (int): input channels.
        channels (int): width ``C`` (even).
        with_act (bool): PReLU after the first conv. Defaults to True.

    Returns:
        nn.Sequential: the head.
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
    """Validate a source permutation (``None`` keeps the stacked order).

    Args:
        input_order (Sequence[int], optional): permutation of
            ``range(in_channels)``.
        in_channels (int): number of stacked sources.

    Returns:
        tuple[int, ...] | None: the permutation, or None for the identity.
    """
    if input_order is None:
        return None
    order = tuple(input_order)
    if sorted(order) != list(range(in_channels)):
        raise ValueError(f'input_order must be a permutation of '
                         f'{tuple(range(in_channels))}, got {order}')
    return None if order == tuple(range(in_channels)) else order


def tim_cell_cfgs(genotype: str, cell_names: Sequence[str]) -> List[dict]:
    """Cell configs of an official ``(genotype, cell_names)`` pair.

    Each official cell reads its own genotype field (``Cell_Fusion`` ->
    ``chain_fusion``, ``Cell_Chain2`` -> ``normal``, ``Cell_Model`` ->
    ``chain_model``, ``Cell_Chain`` -> ``chain_fusion``).

    Args:
        genotype (str): key of
            :data:`~mmfusenas.models.fusion.tim_genotypes.TIM_GENOTYPES`,
            e.g. ``'fusion_M'``.
        cell_names (Sequence[str]): official cell names, e.g.
            ``('Cell_Fusion', 'Cell_Chain2')``.

    Returns:
        list[dict]: e.g. ``[dict(type='MultiScaleFusionCell',
        ops=['Residualblocks_3_1', 'DilConv_3_2']), ...]``.
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
    """TIM image-fusion network :math:`\\mathcal{N}_F` (stage 1).

    Official name: ``Network_Fusion9_Meta(C, layers, genotype, cell_names)``
    (its ``layers + 1`` cells are the ``cells`` list here)::

        out = head(cells[-1](... cells[0](stem(inputs))))

    ``stem`` = :func:`build_tim_stem` (no BN), ``head`` =
    :func:`build_tim_head` (with PReLU). There is **no output activation**
    (no sigmoid / tanh / clamp), as in the official code.

    Official layouts (C = 48): the IVIF / medical stage 1 is
    ``cells=[MultiScaleFusionCell(ops=['Residualblocks_3_1',
    'DilConv_3_2']), SuccessiveCell(ops=['Denseblocks_3_1',
    'DilConv_3_2'])]`` (994,917 parameters); the light model is two
    ``SuccessiveCell(ops=['Residualblocks_3_1', 'ECAattention_3'])``
    (127,358). See :func:`tim_cell_cfgs`.

    Args:
        cells (Sequence[dict]): cell configs, built in order with
            ``MODELS.build(cfg, default_args=dict(channels=channels))``,
            e.g. ``dict(type='SuccessiveCell', ops=['Denseblocks_3_1',
            'DilConv_3_2'])``.
        channels (int): width ``C`` (even). Defaults to 48.
        in_channels (int): number of stacked sources ``M``. Defaults to 2.
        input_order (Sequence[int], optional): permutation applied to the
            sources before the stem (the official scripts call stage 1 as
            ``model(ir, vis)`` for IVIF but ``model(vis, ir)`` for the light
            model); None keeps the stacked order. Defaults to None.
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
        """Fuse stacked sources.

        Args:
            inputs (Tensor): ``(N, M, H, W)`` stacked sources.

        Returns:
            Tensor: ``(N, 1, H, W)`` fused image (not clamped).
        """
        if inputs.dim() != 4 or inputs.shape[1] != self.in_channels:
            raise ValueError(
                f'TIMFusionNet expects (N, {self.in_channels}, H, W) '
                f'inputs, got {tuple(inputs.shape)}')
        if self.input_order is not None:
            inputs = inputs[:, list(self.input_order)]
        feats = self.stem(inputs)
        for cell in self.cells:
            feats = cell(feats)
        return self.head(feats)
