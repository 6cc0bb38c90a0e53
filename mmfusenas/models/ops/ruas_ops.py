"""Operators of RUAS (Liu et al., TPAMI 2022), from the official
``vis-opt-group/RUAS`` ``model_enhance/operations.py``.

:data:`RUAS_SEARCH_OPS` is the enhancement search space,
:data:`RUAS_TASK_OPS` the task space and :data:`RUAS_PAPER_OP_NAMES` the
paper's aliases; an edge's conv is ``<edge>.conv`` (official ``<edge>.op``).
"""
from typing import Dict, Optional, Tuple

import torch
import torch.nn as nn

from mmfusenas.registry import MODELS
from .conv_ops import same_padding
from .op_names import register_op_names

POOL_MODES = ('avg', 'max')


@MODELS.register_module()
class RUASConv(nn.Module):
    """Biased conv of the RUAS operator set, ``C_in -> C_out``.

    ``conv(x)``, ``ReLU(conv(x))`` with ``relu`` and ``x + ...`` with
    ``residual`` (official ``Conv``, ``DilConv``, ``ResConv``, ``ResDilConv``,
    ``ReLUConv``); padding ``dilation * (k - 1) / 2``.

    Args:
        channels (int): input channels.
        kernel_size (int): odd kernel size. Defaults to 3.
        dilation (int): dilation. Defaults to 1.
        residual (bool): add the input to the output. Defaults to False.
        relu (bool): ReLU after the conv. Defaults to False.
        out_channels (int, optional): output channels; None: ``channels``.
        stride (int): conv stride. Defaults to 1.
    """

    def __init__(self,
                 channels: int,
                 kernel_size: int = 3,
                 dilation: int = 1,
                 residual: bool = False,
                 relu: bool = False,
                 out_channels: Optional[int] = None,
                 stride: int = 1) -> None:
        super().__init__()
        out_channels = channels if out_channels is None else out_channels
        if not isinstance(stride, int) or stride < 1:
            raise ValueError(f'RUASConv stride must be an int >= 1, got '
                             f'{stride!r}')
        if residual and (out_channels != channels or stride != 1):
            raise ValueError(
                f'a residual RUASConv (x + conv(x)) needs out_channels == '
                f'channels and stride 1, got {channels} -> {out_channels} '
                f'channels at stride {stride}: use a plain conv (e.g. '
                f"'conv_3x3' / '3-C') at a position that changes the "
                f'channels or the size')
        self.residual = residual
        self.relu = relu
        self.conv = nn.Conv2d(
            channels,
            out_channels,
            kernel_size,
            stride=stride,
            padding=same_padding(kernel_size, dilation),
            dilation=dilation,
            bias=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.conv(x)
        if self.relu:
            out = torch.relu(out)
        return x + out if self.residual else out


@MODELS.register_module()
class RUASPool(nn.Module):
    """3x3 stride-1 pooling keeping H x W: ``'avg'``
    (``count_include_pad=False``) or ``'max'``."""

    def __init__(self, channels: int, mode: str = 'avg') -> None:
        super().__init__()
        if mode not in POOL_MODES:
            raise ValueError(
                f"RUASPool mode must be one of {POOL_MODES}, got {mode!r}")
        self.channels = channels
        self.mode = mode
        self.pool = (
            nn.AvgPool2d(3, 1, 1, count_include_pad=False)
            if mode == 'avg' else nn.MaxPool2d(3, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pool(x)


def _ruas_op_cfgs() -> Dict[str, dict]:
    cfgs = dict(skip_connect=dict(type='SkipConnect'))
    for k in (1, 3, 5, 7):
        cfgs[f'conv_{k}x{k}'] = dict(type='RUASConv', kernel_size=k)
    for k in (3, 5, 7):
        cfgs[f'dilconv_{k}x{k}'] = dict(
            type='RUASConv', kernel_size=k, dilation=2)
    for k in (1, 3, 5, 7):
        cfgs[f'resconv_{k}x{k}'] = dict(
            type='RUASConv', kernel_size=k, residual=True)
    for k in (3, 5, 7):
        cfgs[f'resdilconv_{k}x{k}'] = dict(
            type='RUASConv', kernel_size=k, dilation=2, residual=True)
    cfgs['reluconv_3x3'] = dict(type='RUASConv', kernel_size=3, relu=True)
    cfgs['avg_pool_3x3'] = dict(type='RUASPool', mode='avg')
    cfgs['max_pool_3x3'] = dict(type='RUASPool', mode='max')
    return cfgs


_RUAS_OP_CFGS = _ruas_op_cfgs()

#: every official RUAS (TPAMI) op name, in the order of the module table
RUAS_OP_NAMES: Tuple[str, ...] = tuple(_RUAS_OP_CFGS)

#: dilation rates of the paper's ``3-k-DC`` operators (in no official code)
RUAS_WIDE_DILATIONS: Tuple[int, ...] = (6, 12, 18)

# the paper's 3-k-DC: 3x3 convs with dilation 6 / 12 / 18. NOT in any
# official code (the official detection OPS table has dilation <= 2); the
# names ``dilconv<k>_3x3`` are ours
_RUAS_PAPER_ONLY_CFGS = {
    f'dilconv{k}_3x3': dict(type='RUASConv', kernel_size=3, dilation=k)
    for k in RUAS_WIDE_DILATIONS
}

#: op names of the paper-only operators ``3-k-DC`` (not official names)
RUAS_PAPER_ONLY_OP_NAMES: Tuple[str, ...] = tuple(_RUAS_PAPER_ONLY_CFGS)

#: the 7 candidates of the enhancement search (CVPR ``PRIMITIVES`` order)
RUAS_SEARCH_OPS: Tuple[str, ...] = ('skip_connect', 'conv_1x1', 'conv_3x3',
                                    'dilconv_3x3', 'resconv_1x1',
                                    'resconv_3x3', 'resdilconv_3x3')

#: paper op name -> op name (Sec. 4.1; high-level task space ``m-C``,
#: ``n-2-DC``, ``3-k-DC``). The ``3-k-DC`` targets are not official names
#: (:data:`RUAS_PAPER_ONLY_OP_NAMES`): no official code has those operators
RUAS_PAPER_OP_NAMES: Dict[str, str] = {
    'SC': 'skip_connect',
    '1-C': 'conv_1x1',
    '3-C': 'conv_3x3',
    '5-C': 'conv_5x5',
    '7-C': 'conv_7x7',
    '1-RC': 'resconv_1x1',
    '3-RC': 'resconv_3x3',
    '3-2-DC': 'dilconv_3x3',
    '5-2-DC': 'dilconv_5x5',
    '7-2-DC': 'dilconv_7x7',
    '3-2-RDC': 'resdilconv_3x3',
    # paper only (Table 1), in no official code
    '3-6-DC': 'dilconv6_3x3',
    '3-12-DC': 'dilconv12_3x3',
    '3-18-DC': 'dilconv18_3x3',
}

#: the 10 candidates of the paper's high-level task cell (Table 1 / Sec.
#: 4.1), as paper names: ``m-C`` (m in 1, 3, 5, 7), ``n-2-DC`` (n in 3, 5,
#: 7), ``3-k-DC`` (k in 6, 12, 18; not in the official code)
RUAS_TASK_OPS: Tuple[str, ...] = ('1-C', '3-C', '5-C', '7-C', '3-2-DC',
                                  '5-2-DC', '7-2-DC', '3-6-DC', '3-12-DC',
                                  '3-18-DC')


def ruas_op_cfg(name: str) -> dict:
    """Operator config (without ``channels``) of an official or paper-only RUAS
    op name.

    Raises:
        ValueError: ``name`` is unknown.
    """
    if name in _RUAS_OP_CFGS:
        return dict(_RUAS_OP_CFGS[name])
    if name in _RUAS_PAPER_ONLY_CFGS:
        return dict(_RUAS_PAPER_ONLY_CFGS[name])
    raise ValueError(f'unknown RUAS op {name!r}; valid: '
                     f'{", ".join(RUAS_OP_NAMES + RUAS_PAPER_ONLY_OP_NAMES)}')


def ruas_paper_op_cfg(name: str) -> dict:
    """Operator config of a paper op name (e.g. ``'3-2-RDC'``)."""
    if name not in RUAS_PAPER_OP_NAMES:
        raise ValueError(f'unknown RUAS paper op {name!r}; valid: '
                         f'{", ".join(RUAS_PAPER_OP_NAMES)}')
    return ruas_op_cfg(RUAS_PAPER_OP_NAMES[name])


register_op_names('RUAS', RUAS_OP_NAMES + RUAS_PAPER_ONLY_OP_NAMES,
                  ruas_op_cfg)
register_op_names('RUAS paper', tuple(RUAS_PAPER_OP_NAMES), ruas_paper_op_cfg)
