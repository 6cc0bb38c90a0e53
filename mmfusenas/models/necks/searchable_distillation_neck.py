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
from mmfusenas.models.cells.feature_distillation_cell import check_one_of
from mmfusenas.models.ops import EdgeSpec
from mmfusenas.registry import MODELS

EXTRA_CONV_MODES = ('on_input', 'on_output')
RESIZE_MODES = ('nearest', 'bilinear', 'bicubic', 'area')
FUSION_ORDERS = ('top_down_bottom_up', 'bottom_up')


def _check_in_channels(in_channels: Sequence[int], owner: str) -> List[int]:
    if isinstance(in_channels, int) or len(in_channels) < 2 or not all(
            isinstance(c, int) and c > 0 for c in in_channels):
        raise ValueError(f'{owner} fuses pairs of adjacent backbone levels: '
                         f'in_channels must list >= 2 positive ints (fine to '
                         f'coarse), got {in_channels!r}')
    return list(in_channels)


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


def num_neck_cells(num_levels: int, fusion: str) -> int:
    """Number of distillation cells of the neck over ``num_levels`` levels.

    Args:
        num_levels (int): used backbone levels ``L``.
        fusion (str): ``'top_down_bottom_up'`` (``2 (L - 1)`` cells) or
            ``'bottom_up'`` (``L - 1``).

    Returns:
        int: the number of cells.
    """
    if fusion not in FUSION_ORDERS:
        raise ValueError(f'fusion must be one of {FUSION_ORDERS}, got '
                         f'{fusion!r}')
    return (2 if fusion == 'top_down_bottom_up' else 1) * (num_levels - 1)


@MODELS.register_module()
class SearchableDistillationNeck(BaseModule):
    """Progressive multi-scale fusion with feature distillation cells.

    TIM (Sec. 4.3.1) replaces RetinaNet's FPN by a searched neck that fuses
    "two features with diverse scales from backbones" at a time with a
    :class:`FeatureDistillationCell` ``C_FD``: "we first resize the features
    with lower resolution and concatenate them into the cell". The same
    words in the decoder section (Sec. 4.3.2) mean *up-sampling the coarse
    feature to the finer one*; that is the default reading here, and the
    cascade runs top-down then bottom-up so that every output sees every
    backbone level (as FPN + PANet do; a top-down pass alone would leave the
    coarse outputs blind to the fine levels, a bottom-up pass alone the fine
    outputs blind to the coarse ones).

    With the used backbone levels ``x_s .. x_e`` (``start_level``,
    ``end_level``; ``L = e - s + 1``, indexed ``0 .. L-1`` fine to coarse)
    and ``fusion='top_down_bottom_up'`` (default)::

        l_i = lateral_i(x_i)                           # 1x1 conv, c_i -> C
        t_{L-1} = l_{L-1}                              # top-down
        t_i = D(fuse(cat(l_i, resize(t_{i+1}, size(l_i)))))   i = L-2 .. 0
        b_0 = t_0                                      # bottom-up
        b_i = D(fuse(cat(t_i, resize(b_{i-1}, size(t_i)))))   i = 1 .. L-1
        outs = (b_0, ..., b_{L-1}, extra levels)       # num_outs features

    where ``D(p) = p + cell(p)`` (``residual=True``, as the TIM decoder's
    "residual connection for the output of cells") or ``cell(p)``, and
    ``fuse`` is a 1x1 conv ``2C -> C``. Cells ``0 .. L-2`` are the top-down
    cells in execution order (levels ``L-2 .. 0``), cells ``L-1 .. 2L-3``
    the bottom-up cells (levels ``1 .. L-1``): ``2 (L - 1)`` cells. Every
    output depends on every used backbone level, and the outputs are at
    the strides of ``x_s .. x_e`` (FPN's ``start_level`` semantics).

    ``fusion='bottom_up'`` is the earlier reading (*down-sampling* the fine
    running feature to the coarser level): ``f_0 = l_0``,
    ``f_i = D(fuse(cat(resize(f_{i-1}, size(l_i)), l_i)))`` for
    ``i = 1 .. L-1`` and ``outs = (f_1, ..., f_{L-1}, extras)``: ``L - 1``
    cells, the first used level only seeds the cascade (no output at its
    stride) and an output never sees the coarser levels. Kept for
    comparison; it trains far worse (docs/user_guides/task_guided.md).

    Extra levels (``num_outs`` minus the fused levels) follow FPN's
    ``add_extra_convs``: ``'on_input'``: a 3x3 stride-2 conv on ``x_e``,
    then 3x3 stride-2 convs on the previous output; ``'on_output'``: all on
    the previous output; ``False``: stride-2 max pooling (kernel 1).

    Strides: ``in_strides`` are the strides of the backbone levels
    (default ``4, 8, 16, ...``: ResNet ``C2 ..``); :attr:`out_strides` those
    of the outputs. Give ``strides`` (the head's anchor / prior strides) to
    have a mismatch -- e.g. a head expecting stride 8 first while the neck
    starts at 4 -- raise at build time instead of silently training anchors
    of the wrong size. Heads: RetinaHead / FCOSHead / RPNHead take
    ``in_channels=C`` and ``out_strides``; SSDHead takes
    ``in_channels=[C] * num_outs``.

    Search: edges are edge specs (op names, operator configs or
    ``DiffMixedOp`` choice points). A supernet config sets ``edge_cfg``
    (keys ``<key>/cell<c>/edge<e>``); the fixed network is
    ``fix_space_cfg(space, choices)`` of the explicit config (expand
    templates first with
    :func:`~mmfusenas.models.mutables.expand_edge_templates`, or write
    ``ops``).

    Args:
        in_channels (Sequence[int]): channels of the backbone levels, fine
            to coarse (all of them; ``start_level`` / ``end_level`` select).
        out_channels (int): width ``C`` of the laterals, cells and outputs.
        num_outs (int): number of output levels, at least the fused ones
            (``L``, or ``L - 1`` for ``fusion='bottom_up'``).
        start_level (int): first used backbone level. Defaults to 0.
        end_level (int): last used backbone level (inclusive), ``-1`` for
            the last. Defaults to -1.
        num_nodes (int): intermediate nodes of every cell. Defaults to 4.
        ops (Sequence[Sequence[str | dict]], optional): the edge specs of
            each cell (one list of ``n (n + 1) / 2`` specs per cell, in the
            cell order above). Give this or ``edge_cfg``.
        edge_cfg (str | dict, optional): one spec for every edge.
        fusion (str): ``'top_down_bottom_up'`` or ``'bottom_up'`` (see
            above). Defaults to ``'top_down_bottom_up'``.
        residual (bool): add each cell's input to its output. Defaults to
            True.
        add_extra_convs (bool | str): ``'on_input'``, ``'on_output'`` or
            ``False`` (see above). Defaults to ``'on_input'``.
        resize_mode (str): ``F.interpolate`` mode of the resizes
            (``'nearest'``, ``'bilinear'``, ``'bicubic'``, ``'area'``;
            ``align_corners=False``). Defaults to ``'bilinear'``.
        in_strides (Sequence[int], optional): stride of every backbone
            level; ``None``: ``4 * 2^i``. Defaults to None.
        strides (Sequence[int], optional): the strides the head expects;
            checked against :attr:`out_strides`. Defaults to None.
        norm_cfg (dict, optional): norm layer of the lateral, fusion and
            extra convs (none by default, as in FPN; the cell edges carry
            their own BN).
        init_cfg (dict | list[dict], optional): initialisation; defaults
            to FPN's Xavier-uniform init of every ``Conv2d``.
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
        fusion: str = 'top_down_bottom_up',
        residual: bool = True,
        add_extra_convs: Union[bool, str] = 'on_input',
        resize_mode: str = 'bilinear',
        in_strides: Optional[Sequence[int]] = None,
        strides: Optional[Sequence[int]] = None,
        norm_cfg: Optional[dict] = None,
        init_cfg: Optional[Union[dict, List[dict]]] = dict(
            type='Xavier', layer='Conv2d', distribution='uniform')
    ) -> None:
        super().__init__(init_cfg)
        owner = type(self).__name__
        self.in_channels = _check_in_channels(in_channels, owner)
        self.start_level, self.end_level = _level_range(
            len(self.in_channels), start_level, end_level, owner)
        num_levels = self.end_level - self.start_level + 1
        num_cells = num_neck_cells(num_levels, fusion)
        num_fused = num_levels if fusion == 'top_down_bottom_up' \
            else num_levels - 1
        if num_outs < num_fused:
            raise ValueError(
                f'num_outs ({num_outs}) must be >= the {num_fused} fused '
                f'levels (levels {self.start_level}..{self.end_level}, '
                f'fusion={fusion!r})')
        if add_extra_convs is not False and \
                add_extra_convs not in EXTRA_CONV_MODES:
            raise ValueError(f'add_extra_convs must be False or one of '
                             f'{EXTRA_CONV_MODES}, got {add_extra_convs!r}')
        if resize_mode not in RESIZE_MODES:
            raise ValueError(f'resize_mode must be one of {RESIZE_MODES}, '
                             f'got {resize_mode!r}')
        if in_strides is None:
            in_strides = [4 * 2**i for i in range(len(self.in_channels))]
        if len(in_strides) != len(self.in_channels):
            raise ValueError(f'in_strides must give one stride per backbone '
                             f'level ({len(self.in_channels)}), got '
                             f'{list(in_strides)}')
        self.in_strides = [int(s) for s in in_strides]
        fused = self.in_strides[self.start_level + num_levels - num_fused:
                                self.end_level + 1]
        extra = [fused[-1] * 2**(k + 1) for k in range(num_outs - num_fused)]
        self.out_strides = fused + extra
        if strides is not None and list(strides) != self.out_strides:
            raise ValueError(
                f'{owner}: the head expects strides {list(strides)} but the '
                f'neck outputs levels at strides {self.out_strides} '
                f'(backbone levels {self.start_level}..{self.end_level} at '
                f'in_strides {self.in_strides}, fusion={fusion!r}, '
                f'num_outs={num_outs}); set start_level / num_outs, or the '
                f"head's anchor_generator.strides, to match")
        check_one_of(ops, edge_cfg, owner)
        if edge_cfg is not None:
            ops = cell_edge_specs_from_template(edge_cfg, num_cells, num_nodes)
        if isinstance(ops, (str, dict)) or len(ops) != num_cells:
            raise ValueError(
                f'ops must hold the edge specs of each of the {num_cells} '
                f'cells ({num_levels} levels, fusion={fusion!r}), got '
                f'{ops!r}')
        self.out_channels = out_channels
        self.num_outs = num_outs
        self.num_fused = num_fused
        self.fusion = fusion
        self.residual = residual
        self.add_extra_convs = add_extra_convs
        self.resize_mode = resize_mode

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
            for k in range(num_outs - num_fused):
                in_c = self.in_channels[self.end_level] if (
                    k == 0 and add_extra_convs == 'on_input') else out_channels
                self.extra_convs.append(conv(in_c, 3, 2))

    @classmethod
    def expand_edge_cfg(cls, cfg: dict) -> dict:
        """The neck config with its ``edge_cfg`` template made explicit.

        Args:
            cfg (dict): a neck config with ``edge_cfg``.

        Returns:
            dict: a copy with ``ops`` (the edge specs of each cell).
        """
        check_one_of(cfg.get('ops'), cfg.get('edge_cfg'), cls.__name__)
        cfg = copy.deepcopy(cfg)
        in_channels = _check_in_channels(cfg['in_channels'], cls.__name__)
        start, end = _level_range(
            len(in_channels), cfg.get('start_level', 0),
            cfg.get('end_level', -1), cls.__name__)
        num_cells = num_neck_cells(end - start + 1,
                                   cfg.get('fusion', 'top_down_bottom_up'))
        cfg['ops'] = cell_edge_specs_from_template(
            cfg.pop('edge_cfg'), num_cells, cfg.get('num_nodes', 4))
        return cfg

    def _resize(self, x: torch.Tensor, size: torch.Size) -> torch.Tensor:
        align = False if self.resize_mode in ('bilinear', 'bicubic') else None
        return F.interpolate(
            x, size=size, mode=self.resize_mode, align_corners=align)

    def _fuse(self, k: int, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        """Cell ``k`` on ``fuse_k(cat(a, b))`` (+ its input if residual)."""
        p = self.fuse_convs[k](torch.cat((a, b), dim=1))
        out = self.cells[k](p)
        return p + out if self.residual else out

    def forward(self, inputs: Sequence[torch.Tensor]) -> Tuple[torch.Tensor]:
        """Fuse the backbone levels.

        Args:
            inputs (Sequence[Tensor]): all backbone features, fine to
                coarse, with ``in_channels`` channels.

        Returns:
            tuple[Tensor]: ``num_outs`` features of ``C`` channels, fine to
            coarse, at :attr:`out_strides`.
        """
        if len(inputs) != len(self.in_channels):
            raise ValueError(f'{type(self).__name__} expects '
                             f'{len(self.in_channels)} backbone levels '
                             f'(in_channels={self.in_channels}), got '
                             f'{len(inputs)}')
        for i, (x, c) in enumerate(zip(inputs, self.in_channels)):
            if x.shape[1] != c:
                raise ValueError(f'backbone level {i} has {x.shape[1]} '
                                 f'channels, in_channels says {c}')
        used = inputs[self.start_level:self.end_level + 1]
        laterals = [conv(x) for conv, x in zip(self.lateral_convs, used)]
        num_levels = len(laterals)
        if self.fusion == 'top_down_bottom_up':
            td = [None] * num_levels
            td[-1] = laterals[-1]
            for k, i in enumerate(range(num_levels - 2, -1, -1)):
                up = self._resize(td[i + 1], laterals[i].shape[-2:])
                td[i] = self._fuse(k, laterals[i], up)
            outs = [td[0]]
            for k, i in enumerate(range(1, num_levels), num_levels - 1):
                down = self._resize(outs[-1], td[i].shape[-2:])
                outs.append(self._fuse(k, td[i], down))
        else:
            feat = laterals[0]
            outs = []
            for k, lateral in enumerate(laterals[1:]):
                prev = self._resize(feat, lateral.shape[-2:])
                feat = self._fuse(k, prev, lateral)
                outs.append(feat)
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
