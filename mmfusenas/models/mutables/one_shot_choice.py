"""One-shot choice points: sample or fix one candidate per forward.

A :class:`OneShotChoice` is the weight-sharing sibling of ``DiffMixedOp``:
it runs one candidate, the current choice, set from outside.
:func:`one_shot_space` lists the keys and candidates of a network and
:func:`apply_choices` sets a path (``{key: name}``).
"""
import random
from collections import OrderedDict
from typing import Dict, Mapping, Optional, Sequence, Union

import torch.nn as nn

from mmfusenas.registry import MODELS


@MODELS.register_module()
class OneShotChoice(nn.Module):
    """A choice point that runs one candidate.

    Args:
        key (str): stable key (the genotype key).
        candidates (Mapping[str, nn.Module], optional): name -> module.
        shared (nn.Module, optional): a module whose ``forward(*args,
            choice=name)`` computes every candidate (its ``choice_names``
            lists them).

    Give exactly one of ``candidates`` and ``shared``.
    """

    def __init__(self,
                 key: str,
                 candidates: Optional[Mapping[str, nn.Module]] = None,
                 shared: Optional[nn.Module] = None) -> None:
        super().__init__()
        if (candidates is None) == (shared is None):
            raise ValueError(f'OneShotChoice {key!r}: give exactly one of '
                             'candidates= and shared=')
        self.key = key
        if candidates is not None:
            if not candidates:
                raise ValueError(f'OneShotChoice {key!r}: no candidates')
            self.candidates = nn.ModuleDict(candidates)
            self.shared = None
            self.choice_names = tuple(candidates)
        else:
            self.candidates = None
            self.shared = shared
            self.choice_names = tuple(shared.choice_names)
        self._current: Optional[str] = None

    @property
    def current(self) -> Optional[str]:
        """The current choice (``None`` until one is set)."""
        return self._current

    def choose(self, name: str) -> None:
        """Set the current choice; ValueError for an unknown name."""
        if name not in self.choice_names:
            raise ValueError(f'{self.key}: {name!r} is not a candidate; '
                             f'valid: {list(self.choice_names)}')
        self._current = name

    def forward(self, *args, **kwargs):
        if self._current is None:
            raise RuntimeError(
                f'OneShotChoice {self.key!r} has no current choice: set a '
                'path first (apply_choices / a path sampler)')
        if self.shared is not None:
            return self.shared(*args, choice=self._current, **kwargs)
        return self.candidates[self._current](*args, **kwargs)

    def extra_repr(self) -> str:
        return f'key={self.key!r}, current={self._current!r}'


def one_shot_space(module: nn.Module) -> 'OrderedDict[str, tuple]':
    """``{key: candidate names}`` of every :class:`OneShotChoice`, in module
    order."""
    space: 'OrderedDict[str, tuple]' = OrderedDict()
    for m in module.modules():
        if isinstance(m, OneShotChoice):
            if m.key in space and space[m.key] != m.choice_names:
                raise ValueError(f'choice key {m.key!r} is used with '
                                 'different candidates')
            space[m.key] = m.choice_names
    return space


def apply_choices(module: nn.Module,
                  choices: Mapping[str, str],
                  strict: bool = True) -> None:
    """Set the current choice of every choice point of ``module``.

    Args:
        module (nn.Module): the supernet.
        choices (Mapping[str, str]): ``{key: name}``.
        strict (bool): all keys must match. Defaults to True.

    Raises:
        KeyError: (strict) missing or unknown keys.
    """
    space = one_shot_space(module)
    if strict:
        missing = [k for k in space if k not in choices]
        unknown = [k for k in choices if k not in space]
        if missing or unknown:
            raise KeyError(f'path does not match the space: missing keys '
                           f'{missing[:8]}, unknown keys {unknown[:8]}')
    for m in module.modules():
        if isinstance(m, OneShotChoice) and m.key in choices:
            m.choose(choices[m.key])


def random_choices(space: Mapping[str, Sequence[str]],
                   rng: Union[random.Random, None] = None) -> Dict[str, str]:
    """One uniformly random path (each key independently)."""
    rng = rng or random
    return {k: v[rng.randrange(len(v))] for k, v in space.items()}


def encode_choices(space: Mapping[str, Sequence[str]],
                   choices: Mapping[str, str]) -> list:
    """Path -> list of candidate indices in ``space`` order."""
    try:
        return [list(v).index(choices[k]) for k, v in space.items()]
    except (KeyError, ValueError) as err:
        raise ValueError(f'path does not fit the space: {err}') from err

