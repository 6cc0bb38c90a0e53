"""Strict renaming of foreign state dicts (official checkpoint converters):
coverage both ways and every shape checked, all problems reported at once."""
import hashlib
from collections import OrderedDict
from typing import Any, Callable, Dict, Mapping, Optional, Sequence

import torch


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
    """Rename ``official`` onto the keys of ``target`` with ``map_key``
    (official key -> our key, or None), strictly (:func:`check_key_coverage`
    on the result).

    Returns:
        OrderedDict: The converted state dict in the target's key order.
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
    check_key_coverage(mapped, origin, unmapped, target, source)
    return OrderedDict((k, mapped[k]) for k in target)


def key_listing(title: str, items: Sequence[str], limit: int = 30) -> str:
    """``title (n):`` and at most ``limit`` indented items."""
    shown = [f'  {item}' for item in items[:limit]]
    if len(items) > limit:
        shown.append(f'  ... and {len(items) - limit} more')
    return f'{title} ({len(items)}):\n' + '\n'.join(shown)


def check_key_coverage(mapped: Mapping[str, Any], origin: Mapping[str, str],
                       unmapped: Sequence[str], target: Mapping[str, Any],
                       source: str, kind: str = 'official') -> None:
    """Raise ValueError listing every unmapped source key, mapped key the
    target lacks, target key nothing provides and shape mismatch.

    Args:
        mapped: Our key -> tensor, from the conversion rules.
        origin: Our key -> the source key it came from.
        unmapped: Source keys no rule maps.
        target: The target model's state dict.
        source (str): Names the source in the message.
        kind (str): What the source keys are called. Defaults to 'official'.
    """
    unknown = sorted(f'{origin[k]} -> {k}' for k in mapped if k not in target)
    missing = sorted(k for k in target if k not in mapped)
    shapes = sorted(
        f'{origin[k]} {tuple(v.shape)} -> {k} {tuple(target[k].shape)}'
        for k, v in mapped.items()
        if k in target and tuple(v.shape) != tuple(target[k].shape))
    problems = []
    if unmapped:
        problems.append(
            key_listing(f'unexpected {kind} keys (no conversion rule)',
                        sorted(unmapped)))
    if unknown:
        problems.append(
            key_listing('unexpected keys (not in the target model)', unknown))
    if missing:
        problems.append(
            key_listing(f'missing keys (target keys no {kind} key provides)',
                        missing))
    if shapes:
        problems.append(key_listing('shape mismatches', shapes))
    if problems:
        raise ValueError(f'cannot convert {source} strictly:\n' +
                         '\n'.join(problems))
