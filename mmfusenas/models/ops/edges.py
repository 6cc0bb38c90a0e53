"""Build the edges (chain positions) of a cell from edge specs.

An edge spec is either an op name registered in ``MODELS``
(:mod:`~mmfusenas.models.ops.op_names`: an official TIM genotype string
such as ``'Residualblocks_3_1'`` or a task-module op name), a fixed
operator built by :func:`~mmfusenas.models.ops.build_named_op`, or a
config dict built with ``MODELS.build(spec, default_args=dict(channels=C))``:
a fixed operator or a search-space choice point, which is how the same
cell class builds both the fixed network and the supernet.
:func:`build_edge` builds one edge, :func:`build_chain` a chain. The cell
decides ``C`` (possibly several widths from one spec), so a spec must not
set ``channels`` itself.
"""
from typing import Sequence, Union

import torch.nn as nn

from .op_names import build_named_op
from mmfusenas.registry import MODELS

EdgeSpec = Union[str, dict]


def build_edge(spec: EdgeSpec, channels: int) -> nn.Module:
    """Build one edge of a cell at width ``channels``.

    Args:
        spec (str | dict): an op name or a module config (see the module
            docstring).
        channels (int): width ``C`` the edge operates at.

    Returns:
        nn.Module: the edge module.

    Raises:
        TypeError: ``spec`` is neither a str nor a dict (a module instance
            cannot be used: a cell may need several copies at different
            widths).
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
    """Build a chain of edges applied in order (``ops[1](ops[0](x))``).

    The official cells apply the ops of a genotype strictly in list order;
    the integer paired with each op in the official genotypes is ignored.

    Args:
        specs (Sequence[str | dict]): one spec per edge, at least one.
        channels (int): width ``C`` of every edge.

    Returns:
        nn.Sequential: the edges, indexed by position.
    """
    if isinstance(specs, (str, dict)) or not len(specs):
        raise ValueError(f'ops must be a non-empty sequence of edge specs, '
                         f'got {specs!r}')
    return nn.Sequential(*(build_edge(spec, channels) for spec in specs))
