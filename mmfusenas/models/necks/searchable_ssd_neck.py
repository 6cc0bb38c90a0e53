"""SSD neck whose extra layers are searched (RUAS Sec. 5, Table 1)."""
import copy
from typing import Any, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
from mmcv.cnn import ConvModule, build_activation_layer, build_norm_layer
from mmdet.models.necks.ssd_neck import L2Norm
from mmengine.model import BaseModule
from mmengine.registry import DefaultScope

from mmfusenas.models.ops import build_edge
from mmfusenas.models.mutables.position_specs import (Position,
                                                      check_op_cfg_or_ops,
                                                      position_specs)
from mmfusenas.registry import MODELS

#: paddings of mmdet's 3x3 extra convs this neck reproduces
LEVEL_PADDINGS = (0, 1)


def ssd_neck_positions(in_channels: Sequence[int],
                       out_channels: Sequence[int],
                       level_strides: Sequence[int],
                       level_paddings: Sequence[int],
                       owner: str = 'SearchableSSDNeck') -> List[Position]:
    """Check an SSD neck's levels; return the positions of its searched ops."""
    in_channels, out_channels = list(in_channels), list(out_channels)
    num_extra = len(out_channels) - len(in_channels)
    if num_extra < 1 or in_channels != out_channels[:len(in_channels)]:
        raise ValueError(f'{owner}: out_channels must start with in_channels '
                         f'and add >= 1 extra level, got in_channels='
                         f'{in_channels}, out_channels={out_channels}')
    if len(level_strides) != num_extra or len(level_paddings) != num_extra:
        raise ValueError(f'{owner}: level_strides and level_paddings need '
                         f'one entry per extra level ({num_extra}), got '
                         f'{list(level_strides)} and {list(level_paddings)}')
    if any(p not in LEVEL_PADDINGS for p in level_paddings) or any(
            not isinstance(s, int) or s < 1 for s in level_strides):
        raise ValueError(f'{owner}: level_paddings must be 0 or 1 (the '
                         f"padding of mmdet's 3x3 extra conv) and "
                         f'level_strides ints >= 1, got '
                         f'{list(level_paddings)} and {list(level_strides)}')
    return [(f'extra{i}', c, s if p == 1 else 1)
            for i, (c, s, p) in enumerate(
                zip(out_channels[len(in_channels):], level_strides,
                    level_paddings))]


class SearchedExtraLayer(nn.Module):
    """``act(norm(crop(op(reduce(x)))))``: one SSD extra level.

    ``reduce`` is a 1x1 ConvModule ``C_prev -> C / 2``, ``op`` the searched
    ``C / 2 -> C`` operator. ``padding == 1`` runs ``op`` at ``stride``;
    ``padding == 0`` runs it at stride 1, crops one pixel per border and
    subsamples, as mmdet's valid 3x3 conv.
    """

    def __init__(self, in_channels: int, out_channels: int, spec: Any,
                 stride: int, padding: int, conv_cfg: Optional[dict],
                 norm_cfg: Optional[dict], act_cfg: Optional[dict]) -> None:
        super().__init__()
        self.stride = stride
        self.padding = padding
        mid = out_channels // 2
        self.reduce = ConvModule(
            in_channels,
            mid,
            1,
            conv_cfg=conv_cfg,
            norm_cfg=norm_cfg,
            act_cfg=act_cfg)
        with DefaultScope.overwrite_default_scope('mmfusenas'):
            self.op = build_edge(spec, mid)
        self.norm = (
            build_norm_layer(norm_cfg, out_channels)[1]
            if norm_cfg is not None else nn.Identity())
        self.act = (
            build_activation_layer(act_cfg)
            if act_cfg is not None else nn.Identity())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.reduce(x)
        if self.padding == 0 and min(x.shape[-2:]) < 3:
            raise ValueError(f'a valid (padding 0) SSD extra level needs an '
                             f'input of at least 3x3, got '
                             f'{tuple(x.shape[-2:])}')
        out = self.op(x)
        if self.padding == 0:
            s = self.stride
            out = out[..., 1:-1:s, 1:-1:s]
        return self.act(self.norm(out))

    def extra_repr(self) -> str:
        return f'stride={self.stride}, padding={self.padding}'


@MODELS.register_module()
class SearchableSSDNeck(BaseModule):
    """mmdet's ``SSDNeck`` whose extra layers' 3x3 convs are searched (RUAS).

    Input levels pass through (the first L2-normalised); extra level ``i`` is
    a :class:`SearchedExtraLayer`. Output sizes equal mmdet's for every
    candidate, and with ``'3-C'`` everywhere the neck is mmdet's ``SSDNeck``.
    A ``DiffMixedOp`` template with key ``k`` gives ``k/extra<i>``
    (:meth:`expand_op_cfg`).

    Args:
        in_channels (Sequence[int]): channels of the input levels.
        out_channels (Sequence[int]): channels of every output level.
        level_strides (Sequence[int]): stride of each extra level.
        level_paddings (Sequence[int]): 1 or 0 (valid) per extra level.
        l2_norm_scale (float, optional): initial L2Norm scale; None / 0: no
            L2Norm. Defaults to 20.
        op_cfg (str | dict, optional): one template for every extra level.
        ops (Sequence[str | dict], optional): one spec per extra level.
            Give exactly one of ``op_cfg`` and ``ops``.
        conv_cfg (dict, optional): conv of the 1x1 reduction.
        norm_cfg (dict, optional): norm of the reduction and after the op.
        act_cfg (dict, optional): activation. Defaults to ReLU.
        init_cfg (dict | list[dict], optional): mmdet's SSDNeck init.
    """

    def __init__(self,
                 in_channels: Sequence[int],
                 out_channels: Sequence[int],
                 level_strides: Sequence[int],
                 level_paddings: Sequence[int],
                 l2_norm_scale: Optional[float] = 20.,
                 op_cfg: Optional[Any] = None,
                 ops: Optional[Sequence[Any]] = None,
                 conv_cfg: Optional[dict] = None,
                 norm_cfg: Optional[dict] = None,
                 act_cfg: Optional[dict] = dict(type='ReLU'),
                 init_cfg: Optional[Union[dict, List[dict]]] = [
                     dict(
                         type='Xavier', distribution='uniform',
                         layer='Conv2d'),
                     dict(type='Constant', val=1, layer='BatchNorm2d'),
                 ]) -> None:
        owner = type(self).__name__
        check_op_cfg_or_ops(ops, op_cfg, owner)
        positions = ssd_neck_positions(in_channels, out_channels,
                                       level_strides, level_paddings, owner)
        specs = position_specs(ops, op_cfg, positions, owner)
        super().__init__(copy.deepcopy(init_cfg))
        self.in_channels = list(in_channels)
        self.out_channels = list(out_channels)
        if l2_norm_scale:
            self.l2_norm = L2Norm(self.in_channels[0], l2_norm_scale)
            # mmdet's L2Norm leaves its weight as uninitialised memory until
            # init_weights (any value, NaN included): the scale from the start
            with torch.no_grad():
                self.l2_norm.weight.fill_(l2_norm_scale)
            self.init_cfg += [
                dict(
                    type='Constant',
                    val=self.l2_norm.scale,
                    override=dict(name='l2_norm'))
            ]
        num_in = len(self.in_channels)
        self.extra_layers = nn.ModuleList(
            SearchedExtraLayer(self.out_channels[num_in - 1 + i],
                               self.out_channels[num_in + i], spec, stride,
                               padding, conv_cfg, norm_cfg, act_cfg)
            for i, (spec, stride, padding) in enumerate(
                zip(specs, level_strides, level_paddings)))
        self.op_specs = specs

    @classmethod
    def expand_op_cfg(cls, cfg: dict) -> dict:
        """A copy of ``cfg`` with ``op_cfg`` expanded into ``ops`` (keys
        ``<key>/extra<i>``)."""
        cfg = copy.deepcopy(dict(cfg))
        positions = ssd_neck_positions(cfg['in_channels'],
                                       cfg['out_channels'],
                                       cfg['level_strides'],
                                       cfg['level_paddings'], cls.__name__)
        cfg['ops'] = position_specs(
            cfg.get('ops'), cfg.pop('op_cfg', None), positions, cls.__name__)
        return cfg

    def forward(self, inputs: Sequence[torch.Tensor]) -> Tuple[torch.Tensor]:
        """The input levels (first L2-normed) and the extra levels."""
        if len(inputs) != len(self.in_channels):
            raise ValueError(f'{type(self).__name__} expects '
                             f'{len(self.in_channels)} input levels '
                             f'(in_channels={self.in_channels}), got '
                             f'{len(inputs)}')
        outs = list(inputs)
        if hasattr(self, 'l2_norm'):
            outs[0] = self.l2_norm(outs[0])
        feat = outs[-1]
        for layer in self.extra_layers:
            feat = layer(feat)
            outs.append(feat)
        return tuple(outs)
