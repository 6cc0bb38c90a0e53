"""The Hadamard neural unit (HNU) of HBL (Zhu et al., "Hierarchical
Bilevel Learning with Architecture and Loss Search for Hadamard-Based Image
Restoration", IJCAI 2022, Sec. 3.1; ``SearchBlock`` of the official
github.com/zhudear/HBLALS_pytorch): a reflectance and an illumination branch
of searched operators, output ``R / max(sigmoid(I), 0.01)``."""
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
    """``R ⊘ max(σ(I), eps)``, the Hadamard (element-wise) division.

    Args:
        reflectance (Tensor): R.
        illumination (Tensor): I (logits; broadcastable to R).
        eps (float): lower bound of ``σ(I)``, so the division is bounded by
            ``R / eps``. Defaults to 0.01 (official).

    Returns:
        Tensor: ``R / max(σ(I), eps)``.
    """
    return reflectance / torch.sigmoid(illumination).clamp(min=eps)


def hbl_position_spec(spec: EdgeSpec, out_channels=None) -> EdgeSpec:
    """Resolve HBL op names in one position spec.

    An op-name string becomes its module config
    (:func:`~mmfusenas.models.ops.hbl_op_cfg`); a ``DiffMixedOp`` config whose
    candidates are op names gets the mapping ``{name: config}`` (names are
    kept, so genotypes and ``fix_space_cfg`` still speak official names);
    any other config is returned unchanged. ``out_channels`` is passed to
    every resolved op (positions that change the width).
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
    """Hadamard neural unit: ``R ⊘ max(σ(I), 0.01)``.

    Two branches of four edges read the same input x::

        R = ReLU(BN(op_r4(ReLU(BN(op_r3(...ReLU(BN(op_r1(x)))))))) + x)
        I = ReLU(BN(op_i4(...)) + x)      # same structure, ops i1..i4
        y = R / max(sigmoid(I), eps)

    Every BN is non-affine (:class:`StatsBatchNorm2d`); a branch whose ops
    are all ``skip_connect`` still applies BN and ReLU. Since I ≥ 0 after
    its ReLU, ``σ(I) ≥ 0.5`` and the ``eps`` clamp never binds inside this
    unit (it does in :func:`hadamard_divide` on raw logits); it is kept as
    in the official code.

    Args:
        channels (int): width of the unit (32 in HBL).
        ops (Sequence[str | dict]): 8 edge specs, positions 0-3 the
            reflectance ops r1..r4 and 4-7 the illumination ops i1..i4 (the
            official genotype order): HBL op names (:data:`HBL_HNU_OPS`),
            module configs or ``DiffMixedOp`` configs (the supernet).
        eps (float): lower bound of ``σ(I)``. Defaults to 0.01.
        test_stats (str): BN statistics in eval mode, ``'running'`` or
            ``'per_image'`` (see :class:`StatsBatchNorm2d`).
    """

    #: ``r_norms[k]`` is applied to ``r_ops[k]``'s output only (and so for
    #: ``i``): BatchNorm folding, see :func:`mmfusenas.utils.fold_batchnorm`
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
