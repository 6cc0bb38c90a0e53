"""Searchable feature-distillation neck (TIM Sec. 4.3.1)."""
import copy
from typing import List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn import ConvModule
from mmengine.model import BaseModule

from mmfusenas.models.cells import (FeatureDistillationCell,
                                    cell_edge_specs_from_template)
from mmfusenas.models.cells.feature_distillation_cell import (
    check_in_channels, check_one_of)
from mmfusenas.models.ops import EdgeSpec
from mmfusenas.registry import MODELS

EXTRA_CONV_MODES = ('on_input', 'on_output')


def _level_range(num_levels: int, start_level: int, end_level: int,
                 owner: str) -> Tuple[int, int]:
    """The used backbone levels ``[start, end]`` (``end`` inclusive)."""
    end = num_levels - 1 if end_level == -1 else end_level
    if not (0 <= start_level < end < num_levels):
        raise ValueError(
            f'{owner}: start_level ({start_level}) and end_level '
            f'({end_level}) must select >= 2 of the {num_levels} backbone '
            f'levels (0 <= start_level < end_level <= {num_levels - 1}, or '
            f'end_level=-1 for the last)')
    return start_level, end


@MODELS.register_module()
class SearchableDistillationNeck(BaseModule):
    """Progressive multi-scale fusion with feature distillation cells (TIM).

    With the used levels ``x_0 .. x_{L-1}`` (fine to coarse)::

        l_i = lateral_i(x_i)                                    # 1x1, c_i -> C
        t_{L-1} = l_{L-1};  t_i = D(fuse(cat(l_i, up(t_{i+1}))))  # top-down
        b_0 = t_0;          b_i = D(fuse(cat(t_i, down(b_{i-1}))))  # bottom-up
        outs = (b_0, ..., b_{L-1}, extra levels)

    with ``D(p) = p + cell(p)`` (``residual``) and ``fuse`` a 1x1 conv
    ``2C -> C``; cells ``0 .. L-2`` are the top-down cells, then the bottom-up
    ones. Extra levels follow FPN's
    ``add_extra_convs``; ``strides`` (the head's) are checked against
    :attr:`out_strides` at build time.

    Args:
        in_channels (Sequence[int]): channels of all backbone levels.
        out_channels (int): width ``C`` of laterals, cells and outputs.
        num_outs (int): number of output levels.
        start_level (int): first used backbone level. Defaults to 0.
        end_level (int): last used level (inclusive), -1 for the last.
        num_nodes (int): intermediate nodes of every cell. Defaults to 4.
        ops (Sequence[Sequence[str | dict]], optional): edge specs of each
            cell. Give this or ``edge_cfg``.
        edge_cfg (str | dict, optional): one spec for every edge (keys
            ``<key>/cell<c>/edge<e>``).
        residual (bool): add each cell's input to its output. Defaults to True.
        add_extra_convs (bool | str): ``'on_input'``, ``'on_output'`` or
            False. Defaults to 'on_input'.
        in_strides (Sequence[int], optional): backbone strides; None:
            ``4 * 2^i``.
        strides (Sequence[int], optional): the strides the head expects.
        norm_cfg (dict, optional): norm of the lateral, fusion and extra convs.
        init_cfg (dict | list[dict], optional): defaults to FPN's Xavier init.
    """

    def __init__(
        self,
        in_channels: Sequence[int],
        out_channels: int,
        num_outs: int,
        start_level: int = 0,
        end_level: int = -1,
        num_nodes: int = 4,
        ops: Optional[Sequence[Sequence[EdgeSpec]]] = None,
        edge_cfg: Optional[EdgeSpec] = None,
        residual: bool = True,
        add_extra_convs: Union[bool, str] = 'on_input',
        in_strides: Optional[Sequence[int]] = None,
        strides: Optional[Sequence[int]] = None,
        norm_cfg: Optional[dict] = None,
        init_cfg: Optional[Union[dict, List[dict]]] = dict(
            type='Xavier', layer='Conv2d', distribution='uniform')
    ) -> None:
        super().__init__(init_cfg)
        owner = type(self).__name__
        self.in_channels = check_in_channels(in_channels, owner)
        self.start_level, self.end_level = _level_range(
            len(self.in_channels), start_level, end_level, owner)
        num_levels = self.end_level - self.start_level + 1
        num_cells = 2 * (num_levels - 1)
        if num_outs < num_levels:
            raise ValueError(
                f'num_outs ({num_outs}) must be >= the {num_levels} fused '
                f'levels (levels {self.start_level}..{self.end_level})')
        if add_extra_convs is not False and \
                add_extra_convs not in EXTRA_CONV_MODES:
            raise ValueError(f'add_extra_convs must be False or one of '
                             f'{EXTRA_CONV_MODES}, got {add_extra_convs!r}')
        if in_strides is None:
            in_strides = [4 * 2**i for i in range(len(self.in_channels))]
        if len(in_strides) != len(self.in_channels):
            raise ValueError(f'in_strides must give one stride per backbone '
                             f'level ({len(self.in_channels)}), got '
                             f'{list(in_strides)}')
        self.in_strides = [int(s) for s in in_strides]
        fused = self.in_strides[self.start_level:self.end_level + 1]
        extra = [fused[-1] * 2**(k + 1) for k in range(num_outs - num_levels)]
        self.out_strides = fused + extra
        if strides is not None and list(strides) != self.out_strides:
            raise ValueError(
                f'{owner}: the head expects strides {list(strides)} but the '
                f'neck outputs levels at strides {self.out_strides} '
                f'(backbone levels {self.start_level}..{self.end_level} at '
                f'in_strides {self.in_strides}, num_outs={num_outs}); set '
                "start_level / num_outs, or the head's anchor_generator."
                'strides, to match')
        check_one_of(ops, edge_cfg, owner)
        if edge_cfg is not None:
            ops = cell_edge_specs_from_template(edge_cfg, num_cells, num_nodes)
        if isinstance(ops, (str, dict)) or len(ops) != num_cells:
            raise ValueError(
                f'ops must hold the edge specs of each of the {num_cells} '
                f'cells ({num_levels} levels), got {ops!r}')
        self.out_channels = out_channels
        self.num_outs = num_outs
        self.residual = residual
        self.add_extra_convs = add_extra_convs

        def conv(in_c: int, k: int = 1, stride: int = 1) -> ConvModule:
            return ConvModule(
                in_c,
                out_channels,
                k,
                stride=stride,
                padding=k // 2,
                norm_cfg=norm_cfg,
                act_cfg=None)

        used = self.in_channels[self.start_level:self.end_level + 1]
        self.lateral_convs = nn.ModuleList(conv(c) for c in used)
        self.fuse_convs = nn.ModuleList(
            conv(2 * out_channels) for _ in range(num_cells))
        self.cells = nn.ModuleList(
            FeatureDistillationCell(out_channels, num_nodes, ops=cell_ops)
            for cell_ops in ops)
        self.extra_convs = nn.ModuleList()
        if add_extra_convs:
            for k in range(num_outs - num_levels):
                in_c = self.in_channels[self.end_level] if (
                    k == 0 and add_extra_convs == 'on_input') else out_channels
                self.extra_convs.append(conv(in_c, 3, 2))

    @classmethod
    def expand_edge_cfg(cls, cfg: dict) -> dict:
        """A copy of ``cfg`` with its ``edge_cfg`` template expanded into
        ``ops``."""
        check_one_of(cfg.get('ops'), cfg.get('edge_cfg'), cls.__name__)
        cfg = copy.deepcopy(cfg)
        in_channels = check_in_channels(cfg['in_channels'], cls.__name__)
        start, end = _level_range(
            len(in_channels), cfg.get('start_level', 0),
            cfg.get('end_level', -1), cls.__name__)
        num_cells = 2 * (end - start)
        cfg['ops'] = cell_edge_specs_from_template(
            cfg.pop('edge_cfg'), num_cells, cfg.get('num_nodes', 4))
        return cfg

    def _resize(self, x: torch.Tensor, size: torch.Size) -> torch.Tensor:
        return F.interpolate(
            x, size=size, mode='bilinear', align_corners=False)

    def _fuse(self, k: int, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        """Cell ``k`` on ``fuse_k(cat(a, b))`` (+ its input if residual)."""
        p = self.fuse_convs[k](torch.cat((a, b), dim=1))
        out = self.cells[k](p)
        return p + out if self.residual else out

    def forward(self, inputs: Sequence[torch.Tensor]) -> Tuple[torch.Tensor]:
        """Fuse all backbone levels into ``num_outs`` features at
        :attr:`out_strides`."""
        if len(inputs) != len(self.in_channels):
            raise ValueError(f'{type(self).__name__} expects '
                             f'{len(self.in_channels)} backbone levels '
                             f'(in_channels={self.in_channels}), got '
                             f'{len(inputs)}')
        used = inputs[self.start_level:self.end_level + 1]
        laterals = [conv(x) for conv, x in zip(self.lateral_convs, used)]
        num_levels = len(laterals)
        td = [None] * num_levels
        td[-1] = laterals[-1]
        for k, i in enumerate(range(num_levels - 2, -1, -1)):
            up = self._resize(td[i + 1], laterals[i].shape[-2:])
            td[i] = self._fuse(k, laterals[i], up)
        outs = [td[0]]
        for k, i in enumerate(range(1, num_levels), num_levels - 1):
            down = self._resize(outs[-1], td[i].shape[-2:])
            outs.append(self._fuse(k, td[i], down))
        if self.add_extra_convs:
            for k, conv in enumerate(self.extra_convs):
                src = used[-1] if (
                    k == 0 and self.add_extra_convs == 'on_input') \
                    else outs[-1]
                outs.append(conv(src))
        else:
            while len(outs) < self.num_outs:
                outs.append(F.max_pool2d(outs[-1], 1, stride=2))
        return tuple(outs)
