"""Strict renaming of foreign state dicts (official checkpoint converters).

A converter maps every key of an official state dict to a key of the target
model with a rule function; :func:`strict_remap` checks the coverage both
ways and every shape, and reports all problems at once.
"""
import hashlib
from collections import OrderedDict
from typing import Callable, Dict, Mapping, Optional, Sequence

import torch

#: at most this many keys are listed per category in an error message
MAX_LISTED = 30


def listing(title: str, items: Sequence[str]) -> str:
    """``title (n):`` and the items, one per line, elided after
    :data:`MAX_LISTED`."""
    shown = [f'  {item}' for item in items[:MAX_LISTED]]
    if len(items) > MAX_LISTED:
        shown.append(f'  ... and {len(items) - MAX_LISTED} more')
    return f'{title} ({len(items)}):\n' + '\n'.join(shown)


def file_sha256(path: str) -> str:
    """Hex SHA-256 of a file."""
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(1 << 20), b''):
            digest.update(block)
    return digest.hexdigest()


def strict_remap(official: Mapping[str, torch.Tensor],
                 target: Mapping[str, torch.Tensor],
                 map_key: Callable[[str], Optional[str]],
                 source: str = 'the checkpoint'
                 ) -> 'OrderedDict[str, torch.Tensor]':
    """Rename ``official`` onto the keys of ``target``, strictly.

    Args:
        official (Mapping[str, Tensor]): the foreign state dict.
        target (Mapping[str, Tensor]): the state dict of the model the
            result must load into (keys and shapes).
        map_key (Callable): official key -> our key, or None (no rule).
        source (str): name of the source, for the messages.

    Returns:
        OrderedDict: the converted state dict in the target's key order.

    Raises:
        ValueError: official keys no rule maps, mapped keys the target
            lacks, target keys nothing provides, or shape mismatches; the
            message lists every category found.
    """
    mapped: Dict[str, torch.Tensor] = {}
    origin: Dict[str, str] = {}
    unmapped = []
    for key, value in official.items():
        ours = map_key(key)
        if ours is None:
            unmapped.append(key)
            continue
        mapped[ours] = value
        origin[ours] = key
    unknown = sorted(f'{origin[k]} -> {k}' for k in mapped if k not in target)
    missing = sorted(k for k in target if k not in mapped)
    shapes = sorted(
        f'{origin[k]} {tuple(v.shape)} -> {k} {tuple(target[k].shape)}'
        for k, v in mapped.items()
        if k in target and tuple(v.shape) != tuple(target[k].shape))
    problems = []
    if unmapped:
        problems.append(
            listing('unexpected official keys (no conversion rule)',
                    sorted(unmapped)))
    if unknown:
        problems.append(
            listing('unexpected keys (not in the target model)', unknown))
    if missing:
        problems.append(
            listing('missing keys (target keys no official key provides)',
                    missing))
    if shapes:
        problems.append(listing('shape mismatches', shapes))
    if problems:
        raise ValueError(f'cannot convert {source} strictly:\n' +
                         '\n'.join(problems))
    return OrderedDict((k, mapped[k]) for k in target)
