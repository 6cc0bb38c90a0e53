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
    on the result); returns the state dict in the target's key order."""
    mapped: Dict[str, torch.Tensor] = {}
    origin: Dict[str, str] = {}
    unmapped = []
    for key, value in official.items():
        ours = map_key(key)
        if ours is None:
            unmapped.append(key)
        else:
            mapped[ours], origin[ours] = value, key
    check_key_coverage(mapped, origin, unmapped, target, source)
    return OrderedDict((k, mapped[k]) for k in target)


def check_key_coverage(mapped: Mapping[str, Any], origin: Mapping[str, str],
                       unmapped: Sequence[str], target: Mapping[str, Any],
                       source: str, kind: str = 'official') -> None:
    """Raise ValueError listing (30 each) every unmapped source key, mapped
    key the target lacks, target key nothing provides and shape mismatch.

    Args:
        mapped: Our key -> tensor, from the conversion rules.
        origin: Our key -> the source key it came from.
        unmapped: Source keys no rule maps.
        target: The target model's state dict.
        source (str): Names the source in the message.
        kind (str): What the source keys are called. Defaults to 'official'.
    """
    problems = []
    for title, items in (
        (f'unexpected {kind} keys (no conversion rule)', unmapped),
        ('unexpected keys (not in the target model)',
         [f'{origin[k]} -> {k}' for k in mapped if k not in target]),
        (f'missing keys (target keys no {kind} key provides)',
         [k for k in target if k not in mapped]),
        ('shape mismatches',
         [f'{origin[k]} {tuple(v.shape)} -> {k} {tuple(target[k].shape)}'
          for k, v in mapped.items()
          if k in target and tuple(v.shape) != tuple(target[k].shape)])):
        items = sorted(items)
        if items:
            problems.append(f'{title} ({len(items)}):\n' + '\n'.join(
                [f'  {item}' for item in items[:30]] +
                ([f'  ... and {len(items) - 30} more']
                 if len(items) > 30 else [])))
    if problems:
        raise ValueError(f'cannot convert {source} strictly:\n' +
                         '\n'.join(problems))
