"""Architecture regularisers: differentiable functions of α alone.

They are added to the upper (search) loss, e.g. TIM's
``ℓ_α = ℓ_F + λ·Reg(α)`` (Sec. 3.2), so every strategy differentiates them
like any other part of F.
"""
from typing import Mapping, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
from torch import Tensor

from mmfusenas.models.mutables import path_probability

Alphas = Union[Tensor, Sequence[Tensor], Mapping[str, Tensor],
               nn.ParameterDict]
Costs = Union[Tensor, Sequence[Tensor], Mapping[str, Tensor]]
_MAPPINGS = (Mapping, nn.ParameterDict)


def _expected_cost(alpha: Tensor, cost: Tensor, where: str) -> Tensor:
    cost = torch.as_tensor(cost, dtype=alpha.dtype, device=alpha.device)
    try:
        shape = torch.broadcast_shapes(alpha.shape, cost.shape)
    except RuntimeError:
        shape = None
    if shape != alpha.shape:
        raise ValueError(f'operation_sensitive_reg: the cost table of {where} '
                         f'has shape {tuple(cost.shape)}, which does not '
                         f'broadcast to its α of shape {tuple(alpha.shape)}')
    return (alpha.softmax(dim=-1) * cost).sum()


def operation_sensitive_reg(alphas: Alphas, costs: Costs) -> Tensor:
    """TIM's operation-sensitive regulariser, the expected cost of the cells.

    .. math::

        \\mathrm{Reg}(\\alpha) = \\sum_{e} \\sum_{o}
            \\mathrm{softmax}(\\alpha_e)_o \\, \\mathrm{LAT}_{e,o},
        \\qquad
        \\frac{\\partial \\mathrm{Reg}}{\\partial \\alpha_{e,j}}
            = p_{e,j} \\big(\\mathrm{LAT}_{e,j}
              - \\textstyle\\sum_o p_{e,o} \\mathrm{LAT}_{e,o}\\big),

    with :math:`p_e = \\mathrm{softmax}(\\alpha_e)` over the candidate
    operations of edge e (the mixing weights of the mixed op). The cost
    (latency, parameters, FLOPs, or 1 for skip connections to count them)
    is a constant table; measuring it is the estimators' job.

    Note: the paper writes ``Σ_l Σ_o α_{l,o}·LAT(o)`` on the raw α; we weight
    by the softmax mixing weights, which is what the relaxed network
    actually executes and is invariant to the softmax's free shift of α.

    Args:
        alphas (Tensor | Sequence[Tensor] | Mapping[str, Tensor]): α of
            shape ``(..., num_ops)``; the last dim holds the candidates and
            every leading index is an edge (``(num_edges, num_ops)`` for a
            cell). A sequence or a mapping (also an ``nn.ParameterDict``
            keyed by mutable) holds edges with different numbers of
            candidates; all terms are summed.
        costs (Tensor | Sequence[Tensor] | Mapping[str, Tensor]): The cost
            table, broadcastable to each α: ``(num_ops,)`` for one table
            shared by all edges or the α's own shape for per-edge costs. For
            a sequence (mapping) of α: one tensor shared by all, or a
            sequence of the same length (a mapping with the same keys).

    Returns:
        Tensor: The scalar Reg(α), differentiable w.r.t. α.
    """
    if isinstance(alphas, Tensor):
        return _expected_cost(alphas, costs, 'alphas')
    if isinstance(alphas, _MAPPINGS):
        keys = list(alphas)
        if isinstance(costs, _MAPPINGS):
            if set(costs) != set(keys):
                raise ValueError(
                    'operation_sensitive_reg: alphas and costs have different '
                    f'keys: {sorted(keys)} vs {sorted(costs)}')
            cost_list = [costs[k] for k in keys]
        else:
            cost_list = costs
        alpha_list = [alphas[k] for k in keys]
        names = [repr(k) for k in keys]
    else:
        alpha_list = list(alphas)
        cost_list = costs
        names = [f'alphas[{i}]' for i in range(len(alpha_list))]
    if not alpha_list:
        raise ValueError('operation_sensitive_reg: no α given')
    if isinstance(cost_list, Tensor):
        cost_list = [cost_list] * len(alpha_list)
    elif isinstance(cost_list, _MAPPINGS):
        raise TypeError('operation_sensitive_reg: costs is a mapping but '
                        'alphas is not')
    cost_list = list(cost_list)
    if len(cost_list) != len(alpha_list):
        raise ValueError(
            f'operation_sensitive_reg: {len(alpha_list)} α tensors but '
            f'{len(cost_list)} cost tables')
    return sum(
        _expected_cost(a, c, name)
        for a, c, name in zip(alpha_list, cost_list, names))


def nested_expected_cost(alphas: Mapping[str, Tensor],
                         costs: Mapping[str, Tensor],
                         parents: Mapping[str, Optional[Tuple[str, int]]]
                         ) -> Tensor:
    """Expected cost of a nested (two-level) space.

    .. math::

        \\mathrm{Reg}(\\alpha) = \\sum_k P_k(\\alpha) \\sum_o
            \\mathrm{softmax}(\\alpha_k)_o \\, c_{k,o},
        \\qquad P_k = \\prod_{(K, i) \\text{ above } k}
            \\mathrm{softmax}(\\alpha_K)_i,

    i.e. each choice point's expected cost weighted by the probability that
    every choice above it picks the candidate holding it (1 for an
    outermost choice point). Without nesting it is
    :func:`operation_sensitive_reg`. With it, the cell-level α sees the cost
    of the operators inside each cell: the gradient with respect to a
    cell's α includes the expected cost of its nested operators, which a
    flat sum (every nested operator counted whatever the cell's
    probability) cannot give.

    Args:
        alphas (Mapping[str, Tensor]): α of every key that appears in
            ``costs`` or as an enclosing key (a ``ParameterDict`` works).
        costs (Mapping[str, Tensor]): ``(num_candidates,)`` cost of every
            regularised key; a candidate that is itself a cell costs only
            its own part (its nested choice points have their own rows).
        parents (Mapping): ``{key: None | (parent_key, index)}``, see
            :func:`~mmfusenas.models.mutables.choice_parents`.

    Returns:
        Tensor: the scalar expected cost, differentiable w.r.t. α.
    """
    if not costs:
        raise ValueError('nested_expected_cost: no cost table given')
    probs = {k: alphas[k].softmax(dim=-1) for k in alphas}
    total = None
    for key, cost in costs.items():
        if key not in probs:
            raise KeyError(f'nested_expected_cost: no α for {key!r}')
        if key in parents and parents[key] is not None and \
                parents[key][0] not in probs:
            raise KeyError(f'nested_expected_cost: no α for {parents[key][0]!r}'
                           f', which encloses {key!r}')
        term = _expected_cost(alphas[key], cost, repr(key)) * \
            path_probability(key, parents, probs)
        total = term if total is None else total + term
    return total
