"""The nesting of choice points in a two-level search space: a nested
choice point exists in the derived network only if every enclosing choice
picks the candidate that holds it.
"""
from typing import Dict, Mapping, Optional, Tuple

import torch
import torch.nn as nn

from .diff_mixed_op import DiffMixedOp

#: ``{key: (parent key, candidate index)}``; top-level keys map to None
Parents = Dict[str, Optional[Tuple[str, int]]]


def choice_parents(module: nn.Module) -> Parents:
    """``{key: None}`` for an outermost choice point, ``{key: (parent_key,
    i)}``
    for one inside candidate ``i`` of ``parent_key``.

    Raises:
        ValueError: a key has different enclosing (key, candidate) pairs.
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
    """Probability (differentiable scalar) that ``key`` is in the derived
    network: the product of the enclosing ``probs[parent][i]``.
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
