"""Load one sub-network of a checkpoint (``fusion_init`` and the like)."""
from typing import Any, Dict, Optional, Sequence, Union

import torch.nn as nn

from mmfusenas.utils.checkpoint import (checkpoint_state_dict,
                                        nonfinite_tensors, read_checkpoint,
                                        short_list, state_mismatch)

#: Prefixes tried in order for a fusion, scene and registration network.
FUSION_AUTO_PREFIXES = ('fusion_net.', 'architecture.fusion_net.', '')
SCENE_AUTO_PREFIXES = ('scene_net.', 'architecture.scene_net.', 'network.',
                       'architecture.network.', '')
REGISTRATION_AUTO_PREFIXES = ('registration_net.',
                              'architecture.registration_net.', '')

ModuleInit = Union[str, Dict[str, Any]]


def parse_module_init(value: Optional[ModuleInit],
                      option: str = 'fusion_init') -> Optional[dict]:
    """A ``*_init`` option (a path or ``dict(checkpoint=, prefix=,
    exclude=)``) as a dict, the keyword arguments of
    :func:`load_module_checkpoint`; ``exclude`` lists key prefixes of the
    network (e.g. ``['neck.']``) that keep their own initialisation."""
    if value is None:
        return None
    value = dict(checkpoint=value) if isinstance(value, str) else value
    exclude = value.get('exclude', ()) if isinstance(value, dict) else ()
    if not (isinstance(value, dict)
            and set(value) <= {'checkpoint', 'prefix', 'exclude'}
            and isinstance(value.get('checkpoint'), str)
            and isinstance(value.get('prefix'), (str, type(None)))
            and isinstance(exclude, (list, tuple))
            and all(isinstance(e, str) and e for e in exclude)):
        raise ValueError(f'{option} must be a checkpoint path or '
                         'dict(checkpoint=<path>, prefix=<str or None>, '
                         f'exclude=[<key prefix>, ...]); got {value!r}')
    return dict(checkpoint=value['checkpoint'], prefix=value.get('prefix'),
                exclude=tuple(exclude))


def load_module_checkpoint(module: nn.Module,
                           checkpoint: str,
                           prefix: Optional[str] = None,
                           auto_prefixes: Sequence[str] = ('', ),
                           option: str = 'fusion_init',
                           exclude: Sequence[str] = ()) -> str:
    """Load the weights under ``prefix`` (None: the first of
    ``auto_prefixes`` present) of ``checkpoint`` into ``module`` strictly,
    but for the keys of ``module`` starting with an ``exclude`` prefix
    (left as they are); ``option`` names the asking option. Returns the
    prefix used."""
    what = f'{option} checkpoint'
    state = checkpoint_state_dict(read_checkpoint(checkpoint, what),
                                  checkpoint, what)
    expected = module.state_dict()
    where = (f'any of {tuple(auto_prefixes)}' if prefix is None else
             repr(prefix))
    if prefix is None:
        prefix = next((p for p in auto_prefixes
                       if any(k.startswith(p) for k in state) and (
                           p or set(state) & set(expected))), None)
    weights = {k[len(prefix):]: v for k, v in state.items()
               if prefix is not None and k.startswith(prefix)}
    if not weights:
        raise KeyError(
            f'{checkpoint!r} has no {type(module).__name__} under prefix '
            f'{where} (keys: {short_list(list(state), 10)}); give '
            f'{option}=dict(checkpoint=..., prefix=...)')
    excluded = tuple(exclude)
    unused = [e for e in excluded
              if not any(k.startswith(e) for k in expected)]
    if unused:
        raise KeyError(f'{option}: exclude {unused} matches no key of '
                       f'{type(module).__name__} (keys: '
                       f'{short_list(list(expected), 10)})')
    if excluded:
        weights = {k: v for k, v in weights.items()
                   if not k.startswith(excluded)}
        expected = {k: v for k, v in expected.items()
                    if not k.startswith(excluded)}
    bad = nonfinite_tensors(weights)
    if bad:
        raise FloatingPointError(f'{option}: {checkpoint!r} holds NaN/Inf '
                                 f'({short_list(bad, 10)}) under {prefix!r}')
    problems = [f'{title}: {short_list(items, 10)}' for title, items in zip(
        ('missing keys', 'unexpected keys',
         'shape mismatches (checkpoint vs network)'),
        state_mismatch(expected, weights)) if items]
    if problems:
        raise ValueError(
            f'{option}: the weights under prefix {prefix!r} of '
            f'{checkpoint!r} do not fit the network {type(module).__name__} '
            f'({"; ".join(problems)}); trained with another '
            f'{option[:-len("_init")]}_net config?')
    module.load_state_dict(weights, strict=not excluded)  # checked above
    return prefix
