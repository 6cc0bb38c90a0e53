"""The nesting of choice points in a two-level (or deeper) search space.

In a space whose candidates are themselves cells with choice points (TIM's
N_F: which cell at a position, then which operator on each of its edges),
a nested choice point only exists in the derived network if every choice
above it picks the candidate that holds it. :func:`choice_parents` finds,
for every key, the choice point and candidate that hold it, and
:func:`path_probability` turns that into the probability, under
``softmax(α)``, that the key is part of the derived network — what a cost
regulariser must weight its expected cost with.
"""
from typing import Dict, Mapping, Optional, Tuple

import torch
import torch.nn as nn

from .diff_mixed_op import DiffMixedOp

#: ``{key: (parent key, candidate index)}``; top-level keys map to None
Parents = Dict[str, Optional[Tuple[str, int]]]


def choice_parents(module: nn.Module) -> Parents:
    """The enclosing (key, candidate) of every choice point of ``module``.

    Args:
        module (nn.Module): a supernet (or part of one) with
            :class:`DiffMixedOp` choice points.

    Returns:
        dict: ``{key: None}`` for an outermost choice point, ``{key:
        (parent_key, i)}`` for one inside candidate ``i`` of choice point
        ``parent_key`` (the innermost enclosing one).

    Raises:
        ValueError: a key is used at places with different enclosing
            (key, candidate) pairs, so no single path probability exists.
    """
    places = [(name, m) for name, m in module.named_modules()
              if isinstance(m, DiffMixedOp)]
    parents: Parents = {}
    for name, op in places:
        parent = None
        best = -1
        for other_name, other in places:
            for i in range(len(other.candidates)):
                prefix = f'{other_name}.candidates.{i}.'.lstrip('.')
                if name.startswith(prefix) and len(prefix) > best:
                    parent, best = (other.key, i), len(prefix)
        if op.key in parents and parents[op.key] != parent:
            raise ValueError(
                f'choice point {op.key!r} is used inside {parents[op.key]} '
                f'and inside {parent} (key, candidate): a shared key must '
                'have one enclosing choice')
        parents[op.key] = parent
    return parents


def path_probability(key: str, parents: Mapping[str, Optional[Tuple[str,
                                                                      int]]],
                     probs: Mapping[str, torch.Tensor]) -> torch.Tensor:
    """Probability that ``key`` is in the derived network.

    ``Π`` over the chain of enclosing choices of ``probs[parent][i]``; 1 for
    an outermost key.

    Args:
        key (str): the choice point.
        parents: from :func:`choice_parents`.
        probs (Mapping[str, Tensor]): ``softmax(α)`` of every key.

    Returns:
        Tensor: a scalar, differentiable w.r.t. the enclosing α.
    """
    out = None
    seen = {key}
    parent = parents.get(key)
    while parent is not None:
        pkey, index = parent
        if pkey in seen:
            raise ValueError(f'choice points {sorted(seen)} enclose each '
                             'other in a cycle')
        seen.add(pkey)
        p = probs[pkey][index]
        out = p if out is None else out * p
        parent = parents.get(pkey)
    if out is None:
        return next(iter(probs.values())).new_ones(())
    return out
