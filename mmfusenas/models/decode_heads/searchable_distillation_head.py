"""Searchable feature-distillation segmentation decoder (TIM Sec. 4.3.2)."""
import copy
from typing import List, Optional, Sequence

import torch
import torch.nn as nn
from mmcv.cnn import ConvModule
from mmengine.registry import DefaultScope
from mmseg.models.decode_heads.decode_head import BaseDecodeHead

from mmfusenas.models.cells import (FeatureDistillationCell,
                                    cell_edge_specs_from_template)
from mmfusenas.models.cells.feature_distillation_cell import (
    check_in_channels, check_one_of)
from mmfusenas.models.ops import EdgeSpec, ResidualUpSample
from mmfusenas.registry import MODELS


def _check_levels(in_channels: Sequence[int],
                  in_index: Optional[Sequence[int]], owner: str) -> List[int]:
    """Validate the encoder levels; returns ``in_index`` as a list."""
    check_in_channels(in_channels, owner)
    if in_index is None:
        return list(range(len(in_channels)))
    if isinstance(in_index, int) or len(in_index) != len(in_channels):
        raise ValueError(f'in_index must list one encoder output index per '
                         f'entry of in_channels ({len(in_channels)}), got '
                         f'{in_index!r}')
    return list(in_index)


@MODELS.register_module()
class SearchableDistillationHead(BaseDecodeHead):
    """Decoder of residual up-sampling + feature distillation cells (TIM).

    With encoder levels ``x_0 .. x_{L-1}`` (fine to coarse) and widths
    ``w_i = channels * 2^i``::

        l_i = lateral_i(x_i)                  # 1x1 ConvModule, c_i -> w_i
        f_{L-1} = l_{L-1}
        for i = L-2 .. 0:
            u = ResidualUpSample(f_{i+1})     # w_{i+1} -> w_i, 2x size
            p = fuse_i(cat(l_i, u))           # 1x1 ConvModule, 2w_i -> w_i
            f_i = p + cell_i(p)
        logits = conv_seg(dropout(f_0))

    Losses and ``predict`` are mmseg's ``BaseDecodeHead``'s.

    Args:
        in_channels (Sequence[int]): channels of the ``L >= 2`` levels.
        channels (int): width ``w_0`` of the finest level.
        num_nodes (int): intermediate nodes of every cell. Defaults to 2.
        ops (Sequence[Sequence[str | dict]], optional): edge specs of each
            cell (``ops[0]`` is the finest). Give this or ``edge_cfg``.
        edge_cfg (str | dict, optional): one spec for every edge (keys
            ``k/cell<i>/edge<e>``).
        in_index (Sequence[int], optional): encoder output index of each
            level; None: ``0 .. L-1``.
        **kwargs: other ``BaseDecodeHead`` arguments (``num_classes``
            required; ``input_transform`` is always ``'multiple_select'``).
    """

    def __init__(self,
                 in_channels: Sequence[int],
                 channels: int,
                 num_nodes: int = 2,
                 ops: Optional[Sequence[Sequence[EdgeSpec]]] = None,
                 edge_cfg: Optional[EdgeSpec] = None,
                 in_index: Optional[Sequence[int]] = None,
                 **kwargs) -> None:
        owner = type(self).__name__
        in_index = _check_levels(in_channels, in_index, owner)
        if kwargs.get('input_transform', 'multiple_select') != \
                'multiple_select':
            raise ValueError(f"{owner} selects its levels itself: "
                             f"input_transform must be 'multiple_select' "
                             f"(or unset), got {kwargs['input_transform']!r}")
        kwargs['input_transform'] = 'multiple_select'
        # mmseg's base class builds its losses from mmseg's registry: do it
        # in the mmseg scope, whatever scope is current (e.g. 'mmfusenas'
        # when the head is built directly from a mmfusenas config)
        with DefaultScope.overwrite_default_scope('mmseg'):
            super().__init__(
                list(in_channels), channels, in_index=in_index, **kwargs)
        num_cells = len(self.in_channels) - 1
        check_one_of(ops, edge_cfg, owner)
        if edge_cfg is not None:
            ops = cell_edge_specs_from_template(edge_cfg, num_cells, num_nodes)
        if isinstance(ops, (str, dict)) or len(ops) != num_cells:
            raise ValueError(
                f'ops must hold the edge specs of each of the {num_cells} '
                f'cells (len(in_channels) - 1), got {ops!r}')
        widths = [channels * 2**i for i in range(len(self.in_channels))]

        def conv1x1(in_c: int, out_c: int) -> ConvModule:
            return ConvModule(
                in_c,
                out_c,
                1,
                conv_cfg=self.conv_cfg,
                norm_cfg=self.norm_cfg,
                act_cfg=self.act_cfg)

        self.lateral_convs = nn.ModuleList(
            conv1x1(c, w) for c, w in zip(self.in_channels, widths))
        self.up_samples = nn.ModuleList(
            ResidualUpSample(w) for w in widths[1:])
        self.fuse_convs = nn.ModuleList(conv1x1(2 * w, w) for w in widths[:-1])
        self.cells = nn.ModuleList(
            FeatureDistillationCell(w, num_nodes, ops=cell_ops)
            for w, cell_ops in zip(widths, ops))

    @classmethod
    def expand_edge_cfg(cls, cfg: dict) -> dict:
        """A copy of ``cfg`` with its ``edge_cfg`` template expanded into
        ``ops``."""
        check_one_of(cfg.get('ops'), cfg.get('edge_cfg'), cls.__name__)
        cfg = copy.deepcopy(cfg)
        _check_levels(cfg['in_channels'], cfg.get('in_index'), cls.__name__)
        cfg['ops'] = cell_edge_specs_from_template(
            cfg.pop('edge_cfg'),
            len(cfg['in_channels']) - 1, cfg.get('num_nodes', 2))
        return cfg

    @staticmethod
    def _match_size(up: torch.Tensor, ref: torch.Tensor,
                    level: int) -> torch.Tensor:
        """Crop the 2x up-sampled feature to the finer level's size."""
        h, w = ref.shape[-2:]
        if any(s - t not in (0, 1) for s, t in zip(up.shape[-2:], (h, w))):
            raise ValueError(
                f'encoder level {level + 1} ({tuple(up.shape[-2:])} after '
                f'2x up-sampling) is not half the size of level {level} '
                f'{(h, w)}: the levels must be at strides 2x apart (e.g. a '
                f'non-dilated ResNet)')
        return up[..., :h, :w]

    def forward(self, inputs: Sequence[torch.Tensor]) -> torch.Tensor:
        """Logits at the finest selected level's size."""
        feats = self._transform_inputs(inputs)
        laterals = [conv(x) for conv, x in zip(self.lateral_convs, feats)]
        feat = laterals[-1]
        for i in range(len(self.cells) - 1, -1, -1):
            up = self._match_size(self.up_samples[i](feat), laterals[i], i)
            fused = self.fuse_convs[i](torch.cat((laterals[i], up), dim=1))
            feat = fused + self.cells[i](fused)
        return self.cls_seg(feat)
