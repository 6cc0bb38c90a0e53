"""Architecture regularisers: differentiable functions of α alone, added to
the upper loss (TIM's ``ℓ_α = ℓ_F + λ·Reg(α)``).
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


def _expected_cost(probs: Tensor, cost: Tensor, where: str) -> Tensor:
    """``Σ probs · cost`` for ``probs = softmax(α)``."""
    cost = torch.as_tensor(cost, dtype=probs.dtype, device=probs.device)
    try:
        shape = torch.broadcast_shapes(probs.shape, cost.shape)
    except RuntimeError:
        shape = None
    if shape != probs.shape:
        raise ValueError(f'operation_sensitive_reg: the cost table of {where} '
                         f'has shape {tuple(cost.shape)}, which does not '
                         f'broadcast to its α of shape {tuple(probs.shape)}')
    return (probs * cost).sum()


def operation_sensitive_reg(alphas: Alphas, costs: Costs) -> Tensor:
    """TIM's operation-sensitive regulariser: ``Σ_e Σ_o softmax(α_e)_o ·
    cost_{e,o}``.

    The softmax mixing weights (not the paper's raw α) make it invariant to
    α's free shift.

    Args:
        alphas (Tensor | Sequence[Tensor] | Mapping[str, Tensor]): α of shape
            ``(..., num_ops)`` (leading indices are edges); a sequence or
            mapping holds edges with different candidate counts.
        costs (Tensor | Sequence[Tensor] | Mapping[str, Tensor]): constant
            cost tables broadcastable to each α: one shared tensor, or one per
            α (same length / keys).

    Returns:
        Tensor: The scalar Reg(α), differentiable w.r.t. α.
    """
    if isinstance(alphas, Tensor):
        return _expected_cost(alphas.softmax(dim=-1), costs, 'alphas')
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
        _expected_cost(a.softmax(dim=-1), c, name)
        for a, c, name in zip(alpha_list, cost_list, names))


def nested_expected_cost(alphas: Mapping[str, Tensor],
                         costs: Mapping[str, Tensor],
                         parents: Mapping[str, Optional[Tuple[str, int]]]
                         ) -> Tensor:
    """Expected cost of a nested space: ``Σ_k P_k Σ_o softmax(α_k)_o c_{k,o}``,
    ``P_k`` the probability that the choices above key k pick the candidates
    holding it (1 for an outermost key), so a cell's α sees the cost of the
    operators inside it.

    Args:
        alphas (Mapping[str, Tensor]): α of every costed or enclosing key.
        costs (Mapping[str, Tensor]): ``(num_candidates,)`` own cost of every
            regularised key.
        parents (Mapping): ``{key: None | (parent_key, index)}``
            (:func:`~mmfusenas.models.mutables.choice_parents`).

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
        term = _expected_cost(probs[key], cost, repr(key)) * \
            path_probability(key, parents, probs)
        total = term if total is None else total + term
    return total
