"""The Hadamard neural unit (HNU) of HBL (IJCAI 2022, Sec. 3.1; official
``SearchBlock``): ``R / max(sigmoid(I), 0.01)`` of two searched branches.
"""
from typing import Sequence, Union

import torch
import torch.nn as nn
import torch.nn.functional as F

from mmfusenas.models.ops.edges import build_edge
from mmfusenas.models.ops.hbl_ops import StatsBatchNorm2d, hbl_op_cfg
from mmfusenas.registry import MODELS

EdgeSpec = Union[str, dict]


def hadamard_divide(reflectance: torch.Tensor,
                    illumination: torch.Tensor,
                    eps: float = 0.01) -> torch.Tensor:
    """``R / max(sigmoid(I), eps)``, the Hadamard (element-wise) division."""
    return reflectance / torch.sigmoid(illumination).clamp(min=eps)


def hbl_position_spec(spec: EdgeSpec, out_channels=None) -> EdgeSpec:
    """Resolve HBL op names in one position spec (names stay the keys of a
    ``DiffMixedOp``'s candidates); ``out_channels`` goes to every op.
    """
    if isinstance(spec, str):
        return hbl_op_cfg(spec, out_channels)
    if isinstance(spec, dict) and spec.get('type') in ('DiffMixedOp',
                                                       'mmfusenas.DiffMixedOp'):
        cands = spec['candidates']
        if isinstance(cands, dict):
            names, specs = list(cands), list(cands.values())
        else:
            names, specs = list(cands), list(cands)
        resolved = dict(spec)
        resolved['candidates'] = {
            n: hbl_position_spec(s, out_channels)
            for n, s in zip(names, specs)
        }
        return resolved
    if not isinstance(spec, dict):
        raise TypeError(f'an HBL position spec must be an op name or a '
                        f'config dict, got {spec!r}')
    return spec


def build_position(spec: EdgeSpec, channels: int,
                   out_channels=None) -> nn.Module:
    """Build one HBL position at input width ``channels``."""
    return build_edge(hbl_position_spec(spec, out_channels), channels)


@MODELS.register_module()
class HadamardUnit(nn.Module):
    """Hadamard neural unit::

        R = ReLU(BN(op_r4(ReLU(BN(op_r3(...ReLU(BN(op_r1(x)))))))) + x)
        I = ReLU(BN(op_i4(...)) + x)
        y = R / max(sigmoid(I), eps)

    Every BN is a non-affine :class:`StatsBatchNorm2d`.

    Args:
        channels (int): width of the unit (32 in HBL).
        ops (Sequence[str | dict]): 8 edge specs, r1..r4 then i1..i4.
        eps (float): lower bound of ``sigmoid(I)``. Defaults to 0.01.
        test_stats (str): BN statistics in eval mode, ``'running'`` or
            ``'per_image'``.
    """

    #: ``r_norms[k]`` is applied to ``r_ops[k]``'s output only (and so for
    #: ``i``): BatchNorm folding, see
    #: :func:`~mmfusenas.models.utils.batchnorm_folding.fold_batchnorm`
    conv_bn_pairs = (('r_ops', 'r_norms'), ('i_ops', 'i_norms'))

    def __init__(self,
                 channels: int,
                 ops: Sequence[EdgeSpec],
                 eps: float = 0.01,
                 test_stats: str = 'running') -> None:
        super().__init__()
        if isinstance(ops, (str, dict)) or len(ops) != 8:
            raise ValueError(f'HadamardUnit needs 8 edge specs (r1..r4, '
                             f'i1..i4), got {ops!r}')
        self.channels = channels
        self.eps = eps
        self.r_ops = nn.ModuleList(
            build_position(s, channels) for s in ops[:4])
        self.i_ops = nn.ModuleList(
            build_position(s, channels) for s in ops[4:])
        self.r_norms = nn.ModuleList(
            StatsBatchNorm2d(channels, test_stats=test_stats)
            for _ in range(4))
        self.i_norms = nn.ModuleList(
            StatsBatchNorm2d(channels, test_stats=test_stats)
            for _ in range(4))

    @staticmethod
    def _branch(x: torch.Tensor, ops: nn.ModuleList,
                norms: nn.ModuleList) -> torch.Tensor:
        h = x
        for k, (op, norm) in enumerate(zip(ops, norms)):
            h = norm(op(h))
            if k < len(ops) - 1:
                h = F.relu(h)
        return F.relu(h + x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        reflectance = self._branch(x, self.r_ops, self.r_norms)
        illumination = self._branch(x, self.i_ops, self.i_norms)
        return hadamard_divide(reflectance, illumination, self.eps)
