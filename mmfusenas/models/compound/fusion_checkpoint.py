"""Load the fusion network of a checkpoint into a compound model's N_F."""
import os.path as osp
from typing import Dict, Optional, Sequence, Union

import torch
import torch.nn as nn
from mmengine.runner.checkpoint import _load_checkpoint

#: Prefixes tried, in order, when ``prefix`` is not given: an ImageFusor /
#: PMI / compound-model checkpoint (``fusion_net.``), a search checkpoint of
#: an ImageFusor or compound model (``architecture.fusion_net.``), a bare
#: state dict of the fusion network (``''``).
AUTO_PREFIXES = ('fusion_net.', 'architecture.fusion_net.', '')

FusionInit = Union[str, Dict[str, Optional[str]]]

_MAX_LISTED = 10


def _listing(keys: Sequence[str]) -> str:
    keys = sorted(keys)
    shown = ', '.join(keys[:_MAX_LISTED])
    more = len(keys) - _MAX_LISTED
    return shown + (f', ... and {more} more' if more > 0 else '')


def parse_fusion_init(fusion_init: Optional[FusionInit]
                      ) -> Optional[Dict[str, Optional[str]]]:
    """Normalise the ``fusion_init`` option of the compound models.

    Args:
        fusion_init (str | dict, optional): a checkpoint path, or
            ``dict(checkpoint=path, prefix=None)``.

    Returns:
        dict | None: ``dict(checkpoint=..., prefix=...)``.

    Raises:
        TypeError / ValueError: a malformed option.
    """
    if fusion_init is None:
        return None
    if isinstance(fusion_init, str):
        fusion_init = dict(checkpoint=fusion_init)
    if not isinstance(fusion_init, dict):
        raise TypeError('fusion_init must be a checkpoint path or '
                        'dict(checkpoint=..., prefix=...), got '
                        f'{type(fusion_init).__name__}')
    unknown = sorted(set(fusion_init) - {'checkpoint', 'prefix'})
    if unknown or not isinstance(fusion_init.get('checkpoint'), str):
        raise ValueError(
            'fusion_init must be dict(checkpoint=<path>, prefix=<str or '
            f'None>); got {dict(fusion_init)}')
    prefix = fusion_init.get('prefix')
    if prefix is not None and not isinstance(prefix, str):
        raise TypeError(f'fusion_init prefix must be a str or None, got '
                        f'{prefix!r}')
    return dict(checkpoint=fusion_init['checkpoint'], prefix=prefix)


def load_fusion_checkpoint(fusion_net: nn.Module,
                           checkpoint: str,
                           prefix: Optional[str] = None) -> str:
    """Copy the fusion-network weights of a checkpoint into ``fusion_net``.

    The checkpoint may be an MMEngine checkpoint (``state_dict`` key) of an
    :class:`~mmfusenas.models.ImageFusor`, a PMI initialisation
    (``pmi_init.pth``), a compound model, a search run, or a bare state
    dict. The keys under ``prefix`` must match the network's state dict
    exactly (no missing, no unexpected key, equal shapes): a partial load
    would silently train from a half-random N_F.

    Args:
        fusion_net (nn.Module): the network to load into.
        checkpoint (str): checkpoint path (or any MMEngine-loadable URI).
        prefix (str, optional): key prefix of the fusion network in the
            checkpoint (e.g. ``'fusion_net.'``). None tries
            :data:`AUTO_PREFIXES` and takes the first one under which the
            checkpoint has keys.

    Returns:
        str: the prefix used.

    Raises:
        FileNotFoundError: a local ``checkpoint`` does not exist.
        KeyError: no key carries the prefix.
        ValueError: the keys or shapes do not match ``fusion_net``.
    """
    if '://' not in checkpoint and not osp.isfile(checkpoint):
        raise FileNotFoundError(
            f'fusion_init checkpoint not found: {checkpoint!r}')
    ckpt = _load_checkpoint(checkpoint, map_location='cpu')
    state = ckpt.get('state_dict', ckpt) if isinstance(ckpt, dict) else ckpt
    if not isinstance(state, dict):
        raise ValueError(f'{checkpoint!r} holds no state dict (got '
                         f'{type(state).__name__})')
    expected = fusion_net.state_dict()
    if prefix is None:
        prefix = next((p for p in AUTO_PREFIXES
                       if any(k.startswith(p) for k in state) and (
                           p or set(state) & set(expected))), None)
        if prefix is None:
            raise KeyError(
                f'{checkpoint!r} has no fusion network under any of the '
                f'prefixes {AUTO_PREFIXES}; its keys start like '
                f'{_listing(list(state)[:_MAX_LISTED])}. Give '
                'fusion_init=dict(checkpoint=..., prefix=...)')
    weights = {
        k[len(prefix):]: v
        for k, v in state.items() if k.startswith(prefix)
    }
    if not weights:
        raise KeyError(f'{checkpoint!r} has no key starting with prefix '
                       f'{prefix!r}')
    missing = set(expected) - set(weights)
    unexpected = set(weights) - set(expected)
    shapes = [
        f'{k} {tuple(weights[k].shape)} vs {tuple(v.shape)}'
        for k, v in expected.items()
        if k in weights and tuple(weights[k].shape) != tuple(v.shape)
    ]
    if missing or unexpected or shapes:
        problems = []
        if missing:
            problems.append(f'missing keys: {_listing(missing)}')
        if unexpected:
            problems.append(f'unexpected keys: {_listing(unexpected)}')
        if shapes:
            problems.append('shape mismatches (checkpoint vs network): ' +
                            _listing(shapes))
        raise ValueError(
            f'fusion_init: the weights under prefix {prefix!r} of '
            f'{checkpoint!r} do not fit the fusion network '
            f'{type(fusion_net).__name__} ({"; ".join(problems)}). Was the '
            'checkpoint trained with another fusion_net config?')
    with torch.no_grad():
        fusion_net.load_state_dict(weights, strict=True)
    return prefix
