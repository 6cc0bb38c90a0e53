"""Build the edges (chain positions) of a cell from edge specs.

An edge spec is an op name registered in ``MODELS``
(:mod:`~mmfusenas.models.ops.op_names`) or a config dict built with
``MODELS.build(spec, default_args=dict(channels=C))`` (a fixed operator or
a choice point); the cell decides ``C``.
"""
from typing import Sequence, Union

import torch.nn as nn

from .op_names import build_named_op
from mmfusenas.registry import MODELS

EdgeSpec = Union[str, dict]


def build_edge(spec: EdgeSpec, channels: int) -> nn.Module:
    """Build one edge of a cell at width ``channels``.

    Raises:
        TypeError: ``spec`` is neither a str nor a dict.
        ValueError: a dict spec without ``type`` or one that sets
            ``channels``.
    """
    if isinstance(spec, str):
        return build_named_op(spec, channels)
    if not isinstance(spec, dict):
        raise TypeError(f'an edge spec must be an op name (str) or a config '
                        f'dict, got {type(spec).__name__}: {spec!r}')
    if 'type' not in spec:
        raise ValueError(f"an edge config dict needs a 'type' key, got "
                         f'{spec!r}')
    if 'channels' in spec:
        raise ValueError(f"an edge config must not set 'channels' (the cell "
                         f'sets it, here {channels}), got {spec!r}')
    return MODELS.build(spec, default_args=dict(channels=channels))


def build_chain(specs: Sequence[EdgeSpec], channels: int) -> nn.Sequential:
    """``nn.Sequential`` of edges applied in list order
    (``ops[1](ops[0](x))``)."""
    if isinstance(specs, (str, dict)) or not len(specs):
        raise ValueError(f'ops must be a non-empty sequence of edge specs, '
                         f'got {specs!r}')
    return nn.Sequential(*(build_edge(spec, channels) for spec in specs))
