"""Single-layer convolutions of the TIM task-module search space (Sec. 4.3):
``conv_<k>``, ``dil_conv_<k>_2``, ``res_conv_<k>`` (:class:`TaskConv`) and
``skip`` (:data:`TASK_OP_NAMES`).
"""
from itertools import product
from typing import Dict, Tuple

import torch
import torch.nn as nn

from mmfusenas.registry import MODELS
from .conv_ops import same_padding
from .op_names import register_op_names

TASK_CONV_KERNEL_SIZES = (1, 3, 5, 7)
TASK_DIL_KERNEL_SIZES = (3, 5, 7)
TASK_DILATIONS = (2, )
TASK_RES_KERNEL_SIZES = (3, 5, 7)


@MODELS.register_module()
class TaskConv(nn.Module):
    """Size-preserving ``ReLU(BN(conv(x)))``, plus ``x`` with ``residual``.

    Args:
        channels (int): input = output channels.
        kernel_size (int): odd kernel size. Defaults to 3.
        dilation (int): conv dilation. Defaults to 1.
        residual (bool): add the input to the output. Defaults to False.
    """

    #: forward applies ``bn`` to ``conv``'s output only (BatchNorm folding,
    #: see :func:`~mmfusenas.models.utils.batchnorm_folding.fold_batchnorm`)
    conv_bn_pairs = (('conv', 'bn'), )

    def __init__(self,
                 channels: int,
                 kernel_size: int = 3,
                 dilation: int = 1,
                 residual: bool = False) -> None:
        super().__init__()
        self.residual = residual
        self.conv = nn.Conv2d(
            channels,
            channels,
            kernel_size,
            padding=same_padding(kernel_size, dilation),
            dilation=dilation,
            bias=False)
        self.bn = nn.BatchNorm2d(channels)
        self.act = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.act(self.bn(self.conv(x)))
        return x + out if self.residual else out


def _task_op_cfgs() -> Dict[str, dict]:
    cfgs = {
        f'conv_{k}': dict(type='TaskConv', kernel_size=k)
        for k in TASK_CONV_KERNEL_SIZES
    }
    cfgs.update({
        f'dil_conv_{k}_{d}':
        dict(type='TaskConv', kernel_size=k, dilation=d)
        for k, d in product(TASK_DIL_KERNEL_SIZES, TASK_DILATIONS)
    })
    cfgs.update({
        f'res_conv_{k}':
        dict(type='TaskConv', kernel_size=k, residual=True)
        for k in TASK_RES_KERNEL_SIZES
    })
    cfgs['skip'] = dict(type='SkipConnect')
    return cfgs


_TASK_OP_CFGS = _task_op_cfgs()

#: every task op name, in the order of the table above (the paper's
#: 11-operator space)
TASK_OP_NAMES: Tuple[str, ...] = tuple(_TASK_OP_CFGS)


def task_op_cfg(name: str) -> dict:
    """Operator config (without ``channels``) of a task op name; ValueError
    for names outside :data:`TASK_OP_NAMES`.
    """
    if name not in _TASK_OP_CFGS:
        raise ValueError(f'unknown task op {name!r}; valid: '
                         f'{", ".join(TASK_OP_NAMES)}')
    return dict(_TASK_OP_CFGS[name])


def build_task_op(name: str, channels: int) -> nn.Module:
    """Build the operator of a task op name at width ``channels``."""
    return MODELS.build(
        task_op_cfg(name), default_args=dict(channels=channels))


register_op_names('task', TASK_OP_NAMES, task_op_cfg)
