"""The container of architecture parameters (α) of a search space."""
import json
from typing import Dict, Sequence, Tuple, Union

import torch
import torch.nn as nn


class ArchParams(nn.Module):
    """One alpha vector per architecture key, shared by every mutable using it.

    Owned by the search algorithm, not by the network, so the two levels of a
    bilevel search never mix.

    Args:
        init_std (float): alpha is initialised as ``init_std * N(0, 1)``.
            Defaults to 1e-3.
    """

    def __init__(self, init_std: float = 1e-3) -> None:
        super().__init__()
        self.init_std = init_std
        self.alphas = nn.ParameterDict()
        self._choices: Dict[str, Tuple[str, ...]] = {}

    def register(self, key: str, choices: Sequence[str]) -> None:
        """Add alpha for ``key`` (or check that an existing one agrees)."""
        choices = tuple(choices)
        if not key or '.' in key:
            raise ValueError(f"architecture key must be a non-empty string "
                             f"without '.', got {key!r}")
        if len(choices) < 1 or len(set(choices)) != len(choices):
            raise ValueError(f'mutable {key!r} needs distinct candidate '
                             f'names, got {list(choices)}')
        if key in self._choices:
            if self._choices[key] != choices:
                raise ValueError(
                    f'mutables sharing the architecture key {key!r} must '
                    f'have the same candidates: {list(self._choices[key])} '
                    f'vs {list(choices)}')
            return
        self._choices[key] = choices
        self.alphas[key] = nn.Parameter(self.init_std *
                                        torch.randn(len(choices)))

    def choices(self, key: str) -> Tuple[str, ...]:
        """Candidate names of ``key``."""
        self._check_key(key)
        return self._choices[key]

    def keys(self) -> Tuple[str, ...]:
        """All registered keys, in registration order."""
        return tuple(self._choices)

    def weights(self, key: str) -> torch.Tensor:
        """Mixing weights ``softmax(α_key)``."""
        self._check_key(key)
        return torch.softmax(self.alphas[key], dim=-1)

    def probabilities(self) -> Dict[str, Dict[str, float]]:
        """``{key: {candidate: softmax weight}}`` as plain floats."""
        with torch.no_grad():
            return {
                key: dict(
                    zip(names, (float(p) for p in self.weights(key).cpu())))
                for key, names in self._choices.items()
            }

    def _check_key(self, key: str) -> None:
        if key not in self._choices:
            raise KeyError(f'unknown architecture key {key!r}; registered: '
                           f'{list(self._choices)}')

    def get_extra_state(self) -> torch.Tensor:
        """The candidate names of every key as UTF-8 JSON bytes (a uint8
        tensor, so the state dict holds tensors only).
        """
        names = {key: list(names) for key, names in self._choices.items()}
        data = json.dumps(names, sort_keys=False).encode('utf-8')
        return torch.tensor(list(data), dtype=torch.uint8)

    def set_extra_state(
            self, state: Union[torch.Tensor, Dict[str,
                                                   Sequence[str]]]) -> None:
        if isinstance(state, torch.Tensor):  # JSON bytes
            state = json.loads(bytes(state.tolist()).decode('utf-8'))
        for key, names in state.items():
            if key in self._choices and self._choices[key] != tuple(names):
                raise ValueError(
                    f'checkpoint architecture key {key!r} has candidates '
                    f'{list(names)}, the model {list(self._choices[key])}')
