"""Searchable bottom-up feature-distillation neck (TIM Sec. 4.3.1)."""
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


def _check_in_channels(in_channels: Sequence[int], owner: str) -> List[int]:
    if isinstance(in_channels, int) or len(in_channels) < 2 or not all(
            isinstance(c, int) and c > 0 for c in in_channels):
        raise ValueError(f'{owner} fuses pairs of adjacent backbone levels: '
                         f'in_channels must list >= 2 positive ints (fine to '
                         f'coarse), got {in_channels!r}')
    return list(in_channels)


@MODELS.register_module()
class SearchableDistillationNeck(BaseModule):
    """Bottom-up progressive fusion with feature distillation cells.

    TIM (Sec. 4.3.1) replaces RetinaNet's FPN by a searched neck that
    "following the bottom-up principle" fuses two features of different
    scales at a time with a :class:`FeatureDistillationCell` (4 nodes) at
    three levels. Here, with backbone levels ``x_0 .. x_{L-1}`` from fine to
    coarse (``L = len(in_channels)``; level 0 is the *seed* that only feeds
    the first fusion)::

        l_i = lateral_i(x_i)                       # 1x1 conv, c_i -> C
        f_0 = l_0
        f_i = cell_i(fuse_i(cat(resize(f_{i-1}, size(l_i)), l_i)))
                                                   # i = 1 .. L-1
        outs = (f_1, ..., f_{L-1}, extra levels)   # num_outs features

    ``fuse_i`` is a 1x1 conv ``2C -> C``; ``resize`` interpolates the
    finer running feature to the coarser level's size (the paper's "resize
    the features with lower resolution", read as *to* the lower
    resolution: a bottom-up pass goes from fine to coarse). So the
    ``L - 1`` cells fuse progressively, each output feeding the next
    coarser fusion; the paper's three levels are ``L = 4``, e.g. ResNet
    ``C2 .. C5`` (``out_indices=(0, 1, 2, 3)``, in_channels
    ``[64, 128, 256, 512]`` for ResNet-18 — the levels mmdet's RetinaNet
    R18 config feeds its FPN, with ``start_level=1``), giving outputs at
    strides 8, 16, 32.

    Extra levels (``num_outs - (L - 1)`` of them) follow FPN's
    ``add_extra_convs``: ``'on_input'``: a 3x3 stride-2 conv on ``x_{L-1}``,
    then 3x3 stride-2 convs on the previous output; ``'on_output'``: all on
    the previous output; ``False``: stride-2 max pooling (kernel 1).

    Heads: RetinaHead takes ``in_channels=C`` and anchor strides
    ``[8, 16, 32, 64, 128]`` for ``num_outs=5``. SSDHead takes one entry
    per level, ``in_channels=[C] * num_outs``, and its
    ``SSDAnchorGenerator`` needs ``num_outs`` strides and ratio lists; this
    neck replaces ``SSDNeck`` (which passes the backbone levels on, L2-norms
    the first and appends 1x1-3x3 extra convs, some without padding): every
    level has ``C`` channels and the extra levels halve the size (ceil), so
    at 300x300 the levels are 38, 19, 10, 5, 3, 2 (strides
    ``[8, 16, 32, 64, 100, 150]``). No L2 normalisation is needed after the
    BN'd cells.

    Search: edges are edge specs (op names, operator configs or
    ``DiffMixedOp`` choice points). A supernet config sets ``edge_cfg``;
    the fixed network is ``fix_space_cfg(space, choices)`` of the explicit
    config (expand templates first with
    :func:`~mmfusenas.models.mutables.expand_edge_templates`, or write
    ``ops``).

    Args:
        in_channels (Sequence[int]): channels of the ``L >= 2`` backbone
            levels, fine to coarse.
        out_channels (int): width ``C`` of the laterals, cells and outputs.
        num_outs (int): number of output levels, ``>= L - 1``.
        num_nodes (int): intermediate nodes of every cell. Defaults to 4.
        ops (Sequence[Sequence[str | dict]], optional): the edge specs of
            each cell (``L - 1`` lists of ``n (n + 1) / 2`` specs; cell
            ``c`` fuses into level ``c + 1``). Give this or ``edge_cfg``.
        edge_cfg (str | dict, optional): one spec for every edge; a
            ``DiffMixedOp`` template with key ``k`` gets the key
            ``k/cell<c>/edge<e>`` on edge ``e`` of cell ``c``.
        add_extra_convs (bool | str): how extra levels are made:
            ``'on_input'``, ``'on_output'`` or ``False`` (see above).
            Defaults to ``'on_input'``.
        resize_mode (str): ``F.interpolate`` mode of the bottom-up resize:
            ``'nearest'``, ``'bilinear'``, ``'bicubic'`` or ``'area'``
            (``align_corners=False``). Defaults to ``'bilinear'``.
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
        num_nodes: int = 4,
        ops: Optional[Sequence[Sequence[EdgeSpec]]] = None,
        edge_cfg: Optional[EdgeSpec] = None,
        add_extra_convs: Union[bool, str] = 'on_input',
        resize_mode: str = 'bilinear',
        norm_cfg: Optional[dict] = None,
        init_cfg: Optional[Union[dict, List[dict]]] = dict(
            type='Xavier', layer='Conv2d', distribution='uniform')
    ) -> None:
        super().__init__(init_cfg)
        self.in_channels = _check_in_channels(in_channels, type(self).__name__)
        num_cells = len(self.in_channels) - 1
        if num_outs < num_cells:
            raise ValueError(f'num_outs ({num_outs}) must be >= the '
                             f'{num_cells} fused levels (len(in_channels) - '
                             f'1, level 0 is the seed)')
        if add_extra_convs is not False and \
                add_extra_convs not in EXTRA_CONV_MODES:
            raise ValueError(f'add_extra_convs must be False or one of '
                             f'{EXTRA_CONV_MODES}, got {add_extra_convs!r}')
        if resize_mode not in RESIZE_MODES:
            raise ValueError(f'resize_mode must be one of {RESIZE_MODES}, '
                             f'got {resize_mode!r}')
        check_one_of(ops, edge_cfg, type(self).__name__)
        if edge_cfg is not None:
            ops = cell_edge_specs_from_template(edge_cfg, num_cells, num_nodes)
        if isinstance(ops, (str, dict)) or len(ops) != num_cells:
            raise ValueError(
                f'ops must hold the edge specs of each of the {num_cells} '
                f'cells (len(in_channels) - 1), got {ops!r}')
        self.out_channels = out_channels
        self.num_outs = num_outs
        self.add_extra_convs = add_extra_convs
        self.resize_mode = resize_mode

        self.lateral_convs = nn.ModuleList(
            ConvModule(c, out_channels, 1, norm_cfg=norm_cfg, act_cfg=None)
            for c in self.in_channels)
        self.fuse_convs = nn.ModuleList(
            ConvModule(
                2 * out_channels,
                out_channels,
                1,
                norm_cfg=norm_cfg,
                act_cfg=None) for _ in range(num_cells))
        self.cells = nn.ModuleList(
            FeatureDistillationCell(out_channels, num_nodes, ops=cell_ops)
            for cell_ops in ops)
        self.extra_convs = nn.ModuleList()
        if add_extra_convs:
            for k in range(num_outs - num_cells):
                in_c = self.in_channels[-1] if (
                    k == 0 and add_extra_convs == 'on_input') else out_channels
                self.extra_convs.append(
                    ConvModule(
                        in_c,
                        out_channels,
                        3,
                        stride=2,
                        padding=1,
                        norm_cfg=norm_cfg,
                        act_cfg=None))

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
        num_cells = len(_check_in_channels(cfg['in_channels'],
                                           cls.__name__)) - 1
        cfg['ops'] = cell_edge_specs_from_template(
            cfg.pop('edge_cfg'), num_cells, cfg.get('num_nodes', 4))
        return cfg

    def _resize(self, x: torch.Tensor, size: torch.Size) -> torch.Tensor:
        align = False if self.resize_mode in ('bilinear', 'bicubic') else None
        return F.interpolate(
            x, size=size, mode=self.resize_mode, align_corners=align)

    def forward(self, inputs: Sequence[torch.Tensor]) -> Tuple[torch.Tensor]:
        """Fuse the backbone levels.

        Args:
            inputs (Sequence[Tensor]): ``L`` backbone features, fine to
                coarse, with ``in_channels`` channels.

        Returns:
            tuple[Tensor]: ``num_outs`` features of ``C`` channels, fine to
            coarse.
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
        laterals = [conv(x) for conv, x in zip(self.lateral_convs, inputs)]
        feat = laterals[0]
        outs = []
        for lateral, fuse, cell in zip(laterals[1:], self.fuse_convs,
                                       self.cells):
            prev = self._resize(feat, lateral.shape[-2:])
            feat = cell(fuse(torch.cat((prev, lateral), dim=1)))
            outs.append(feat)
        if self.add_extra_convs:
            for k, conv in enumerate(self.extra_convs):
                src = inputs[-1] if (
                    k == 0 and self.add_extra_convs == 'on_input') \
                    else outs[-1]
                outs.append(conv(src))
        else:
            while len(outs) < self.num_outs:
                outs.append(F.max_pool2d(outs[-1], 1, stride=2))
        return tuple(outs)
