"""DeepLabV3+ head whose ASPP branches are searched (RUAS Sec. 5, Table 1)."""
import copy
from typing import Any, List, Optional, Sequence

import torch
import torch.nn as nn
from mmcv.cnn import build_activation_layer, build_norm_layer
from mmengine.registry import DefaultScope
from mmseg.models.decode_heads.sep_aspp_head import DepthwiseSeparableASPPHead

from mmfusenas.models.ops import build_edge
from mmfusenas.models.mutables.position_specs import (Position,
                                                      check_op_cfg_or_ops,
                                                      position_specs)
from mmfusenas.registry import MODELS


def aspp_positions(channels: int, num_branches: int) -> List[Position]:
    """``('branch<i>', channels, 1)`` for every searched ASPP branch."""
    if not isinstance(num_branches, int) or num_branches < 1:
        raise ValueError(f'num_branches must be an int >= 1, got '
                         f'{num_branches!r}')
    return [(f'branch{i}', channels, 1) for i in range(num_branches)]


class SearchedASPPModule(nn.ModuleList):
    """ASPP branches ``act(norm(op_i(x)))``; returns the list of outputs
    (the interface of mmseg's ``ASPPModule``)."""

    def forward(self, x: torch.Tensor) -> List[torch.Tensor]:
        return [branch(x) for branch in self]


@MODELS.register_module()
class SearchableASPPHead(DepthwiseSeparableASPPHead):
    """mmseg's DeepLabV3+ head whose ASPP branches are searched operators
    (RUAS).

    Each of the ``num_branches`` branches is a searched operator ``in_channels
    -> channels`` + the head's norm / act; the rest is mmseg's
    ``DepthwiseSeparableASPPHead``. A ``DiffMixedOp`` template with key ``k``
    gives ``k/branch<i>`` (:meth:`expand_op_cfg`).

    Args:
        c1_in_channels (int): channels of the low-level branch; 0: none.
        c1_channels (int): channels of the ``c1`` bottleneck.
        num_branches (int): searched ASPP branches. Defaults to 4.
        op_cfg (str | dict, optional): one template for every branch.
        ops (Sequence[str | dict], optional): one spec per branch. Give
            exactly one of ``op_cfg`` and ``ops``.
        **kwargs: other ``BaseDecodeHead`` arguments (no ``dilations``).
    """

    def __init__(self,
                 c1_in_channels: int,
                 c1_channels: int,
                 num_branches: int = 4,
                 op_cfg: Optional[Any] = None,
                 ops: Optional[Sequence[Any]] = None,
                 **kwargs) -> None:
        owner = type(self).__name__
        if 'dilations' in kwargs:
            raise ValueError(f'{owner} searches its ASPP branches: give '
                             f'num_branches and op_cfg / ops, not dilations '
                             f'(got dilations={kwargs["dilations"]!r}); a '
                             f"dilation-d 3x3 branch is the op '3-d-DC'")
        check_op_cfg_or_ops(ops, op_cfg, owner)
        if 'channels' not in kwargs:
            raise ValueError(f'{owner} needs `channels`')
        specs = position_specs(ops, op_cfg,
                               aspp_positions(kwargs['channels'],
                                              num_branches), owner)
        # mmseg builds its losses from mmseg's registry: in its scope. The
        # 1x1 branches it builds for these dilations are replaced below;
        # only their number matters (the bottleneck's input width)
        with DefaultScope.overwrite_default_scope('mmseg'):
            super().__init__(
                c1_in_channels=c1_in_channels,
                c1_channels=c1_channels,
                dilations=(1, ) * num_branches,
                **kwargs)
        self.dilations = None
        self.num_branches = num_branches
        branches = []
        for spec in specs:
            with DefaultScope.overwrite_default_scope('mmfusenas'):
                op = build_edge(spec, self.in_channels)
            branch = nn.Sequential()
            branch.add_module('op', op)
            if self.norm_cfg is not None:
                branch.add_module(
                    'bn',
                    build_norm_layer(self.norm_cfg, self.channels)[1])
            if self.act_cfg is not None:
                branch.add_module('activate',
                                  build_activation_layer(self.act_cfg))
            branches.append(branch)
        self.aspp_modules = SearchedASPPModule(branches)
        self.op_specs = specs

    @classmethod
    def expand_op_cfg(cls, cfg: dict) -> dict:
        """A copy of ``cfg`` with ``op_cfg`` expanded into ``ops`` (keys
        ``<key>/branch<i>``)."""
        cfg = copy.deepcopy(dict(cfg))
        positions = aspp_positions(cfg['channels'],
                                   cfg.get('num_branches', 4))
        cfg['ops'] = position_specs(
            cfg.get('ops'), cfg.pop('op_cfg', None), positions, cls.__name__)
        return cfg
