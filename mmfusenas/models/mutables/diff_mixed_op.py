"""Differentiable choice points (DARTS-style mixed operations)."""
import copy
from typing import Dict, List, Mapping, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn

from mmfusenas.models.ops.edges import build_edge
from mmfusenas.registry import MODELS
from .arch_params import ArchParams

CandidateSpec = Union[str, dict]
Candidates = Union[Sequence[str], Mapping[str, CandidateSpec]]


def normalise_candidates(
        candidates: Candidates) -> Tuple[List[str], List[CandidateSpec]]:
    """Split candidates (op names, or a mapping name -> spec) into names and
    specs."""
    if isinstance(candidates, Mapping):
        names, specs = list(candidates), list(candidates.values())
    elif isinstance(candidates, (list, tuple)) and all(
            isinstance(c, str) for c in candidates):
        names, specs = list(candidates), list(candidates)
    else:
        raise TypeError(
            'candidates must be a list of op names or a mapping name -> '
            f'spec (str or config dict), got {candidates!r}')
    if not names:
        raise ValueError('a mutable needs at least one candidate')
    return names, [copy.deepcopy(s) for s in specs]


@MODELS.register_module()
class DiffMixedOp(nn.Module):
    """``y = sum_i softmax(alpha_key)_i op_i(x)`` over candidate modules.

    The weights come from the bound :class:`ArchParams`
    (:func:`bind_arch_params`); mutables with the same ``key`` share one alpha.

    Args:
        key (str): architecture key (no '.').
        candidates (Sequence[str] | Mapping[str, str | dict]): see
            :func:`normalise_candidates`.
        channels (int): width the candidates operate at.
    """

    def __init__(self, key: str, candidates: Candidates,
                 channels: int) -> None:
        super().__init__()
        self.key = key
        self.choice_names, self.choice_specs = normalise_candidates(
            candidates)
        self.candidates = nn.ModuleList(
            build_edge(spec, channels) for spec in self.choice_specs)
        self._arch_params: Optional[ArchParams] = None

    def bind(self, arch_params: ArchParams) -> None:
        """Register this choice point in ``arch_params`` and read α there."""
        arch_params.register(self.key, self.choice_names)
        # a plain reference, not a submodule: α belongs to the container
        object.__setattr__(self, '_arch_params', arch_params)

    def weights(self) -> torch.Tensor:
        """``softmax(α_key)``; errors clearly when unbound."""
        if self._arch_params is None:
            raise RuntimeError(
                f'mutable {self.key!r} is not bound to architecture '
                'parameters: build the supernet inside a search algorithm or '
                'call mmfusenas.models.mutables.bind_arch_params(net, '
                'ArchParams())')
        return self._arch_params.weights(self.key)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        w = self.weights()
        out = w[0] * self.candidates[0](x)
        for i in range(1, len(self.candidates)):
            out = out + w[i] * self.candidates[i](x)
        return out

    def derive(self, exclude: Sequence[str] = ('zero', )) -> str:
        """Name of the candidate with the largest weight (``exclude`` never
        chosen)."""
        w = self.weights().detach()
        allowed = [i for i, n in enumerate(self.choice_names)
                   if n not in exclude] or list(range(len(w)))
        best = max(allowed, key=lambda i: float(w[i]))
        return self.choice_names[best]

    def extra_repr(self) -> str:
        return f'key={self.key!r}, choices={self.choice_names}'


def bind_arch_params(module: nn.Module, arch_params: ArchParams) -> List[str]:
    """Bind every mutable of ``module`` to ``arch_params``; return the keys."""
    keys: Dict[str, None] = {}
    for sub in module.modules():
        if isinstance(sub, DiffMixedOp):
            sub.bind(arch_params)
            keys[sub.key] = None
    if not keys:
        raise ValueError(f'{type(module).__name__} has no mutables to bind')
    return list(keys)


def derive_choices(module: nn.Module,
                   exclude: Sequence[str] = ('zero', )) -> Dict[str, str]:
    """``{key: chosen candidate}`` of every mutable inside ``module``."""
    return {
        sub.key: sub.derive(exclude)
        for sub in module.modules() if isinstance(sub, DiffMixedOp)
    }
