"""Strict renaming of official state dicts for the checkpoint converters."""
import hashlib
from collections import OrderedDict
from typing import Callable, Mapping, Optional

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
    """Rename ``official`` onto ``target``'s keys with ``map_key`` (official
    key -> ours, or None), in the target's order; ValueError listing every
    unmapped, unexpected, missing and mis-shaped key (30 of each)."""
    ours = {key: map_key(key) for key in official}
    origin = {new: key for key, new in ours.items() if new is not None}
    mapped = {new: official[key] for new, key in origin.items()}
    problems = []
    for title, items in (
        ('unexpected official keys (no conversion rule)',
         [key for key, new in ours.items() if new is None]),
        ('unexpected keys (not in the target model)',
         [f'{origin[k]} -> {k}' for k in mapped if k not in target]),
        ('missing keys (target keys no official key provides)',
         [k for k in target if k not in mapped]),
        ('shape mismatches',
         [f'{origin[k]} {tuple(v.shape)} -> {k} {tuple(target[k].shape)}'
          for k, v in mapped.items()
          if k in target and tuple(v.shape) != tuple(target[k].shape)])):
        if items:
            problems.append(f'{title} ({len(items)}):\n' + '\n'.join(
                [f'  {item}' for item in sorted(items)[:30]] +
                [f'  ... and {len(items) - 30} more'] * (len(items) > 30)))
    if problems:
        raise ValueError(f'cannot convert {source} strictly:\n' +
                         '\n'.join(problems))
    return OrderedDict((k, mapped[k]) for k in target)
