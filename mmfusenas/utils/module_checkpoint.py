"""Load one sub-network of a checkpoint (a compound model's pre-module, the
first stage of a two-stage fusion network, ...)."""
from typing import Dict, Optional, Sequence, Union

import torch
import torch.nn as nn
from mmengine.runner.checkpoint import _load_checkpoint

from .checkpoint import nonfinite_tensors, read_checkpoint

#: Prefixes tried, in order, for a fusion network when ``prefix`` is not
#: given: an ImageFusor / PMI / compound-model checkpoint (``fusion_net.``),
#: a search checkpoint of an ImageFusor or compound model
#: (``architecture.fusion_net.``), a bare state dict (``''``).
FUSION_AUTO_PREFIXES = ('fusion_net.', 'architecture.fusion_net.', '')
#: The same for a scene module (``RUASNet``): a scene + task model
#: (``scene_net.``) or its search (``architecture.scene_net.``), an
#: ImageEnhancer (``network.``: trained, or converted from the official
#: RUAS weights with ``--scene-only`` for a scene-only network) or its
#: search (``architecture.network.``), a bare state dict.
SCENE_AUTO_PREFIXES = ('scene_net.', 'architecture.scene_net.', 'network.',
                       'architecture.network.', '')

#: The same for a registration network: an ImageRegistrator checkpoint
#: (``registration_net.``), its search (``architecture.registration_net.``),
#: a bare state dict.
REGISTRATION_AUTO_PREFIXES = ('registration_net.',
                              'architecture.registration_net.', '')

ModuleInit = Union[str, Dict[str, Optional[str]]]

_MAX_LISTED = 10


def _listing(keys: Sequence[str]) -> str:
    keys = sorted(keys)
    shown = ', '.join(keys[:_MAX_LISTED])
    more = len(keys) - _MAX_LISTED
    return shown + (f', ... and {more} more' if more > 0 else '')


def parse_module_init(value: Optional[ModuleInit],
                      option: str = 'fusion_init'
                      ) -> Optional[Dict[str, Optional[str]]]:
    """Normalise the ``fusion_init`` / ``scene_init`` option of the
    compound models.

    Args:
        value (str | dict, optional): a checkpoint path, or
            ``dict(checkpoint=path, prefix=None)``.
        option (str): the option's name, for the messages. Defaults to
            'fusion_init'.

    Returns:
        dict | None: ``dict(checkpoint=..., prefix=...)``.

    Raises:
        TypeError / ValueError: a malformed option.
    """
    if value is None:
        return None
    if isinstance(value, str):
        value = dict(checkpoint=value)
    if not isinstance(value, dict):
        raise TypeError(f'{option} must be a checkpoint path or '
                        'dict(checkpoint=..., prefix=...), got '
                        f'{type(value).__name__}')
    unknown = sorted(set(value) - {'checkpoint', 'prefix'})
    if unknown or not isinstance(value.get('checkpoint'), str):
        raise ValueError(
            f'{option} must be dict(checkpoint=<path>, prefix=<str or '
            f'None>); got {dict(value)}')
    prefix = value.get('prefix')
    if prefix is not None and not isinstance(prefix, str):
        raise TypeError(f'{option} prefix must be a str or None, got '
                        f'{prefix!r}')
    return dict(checkpoint=value['checkpoint'], prefix=prefix)


def load_fusion_checkpoint(fusion_net: nn.Module,
                           checkpoint: str,
                           prefix: Optional[str] = None) -> str:
    """Copy the fusion-network weights of a checkpoint into ``fusion_net``.

    The checkpoint may be an MMEngine checkpoint (``state_dict`` key) of an
    :class:`~mmfusenas.models.ImageFusor`, a PMI initialisation
    (``pmi_init.pth``), a compound model, a search run, or a bare state
    dict; see :func:`load_module_checkpoint` (``auto_prefixes`` =
    :data:`FUSION_AUTO_PREFIXES`).
    """
    return load_module_checkpoint(fusion_net, checkpoint, prefix,
                                  FUSION_AUTO_PREFIXES, 'fusion_init')


def load_module_checkpoint(module: nn.Module,
                           checkpoint: str,
                           prefix: Optional[str] = None,
                           auto_prefixes: Sequence[str] = ('', ),
                           option: str = 'fusion_init') -> str:
    """Copy the weights of one sub-network of a checkpoint into ``module``.

    The keys under ``prefix`` must match the module's state dict exactly (no
    missing, no unexpected key, equal shapes): a partial load would
    silently train from a half-random network.

    Args:
        module (nn.Module): the network to load into.
        checkpoint (str): checkpoint path (or any MMEngine-loadable URI); an
            MMEngine checkpoint (``state_dict`` key) or a bare state dict.
        prefix (str, optional): key prefix of the network in the
            checkpoint (e.g. ``'fusion_net.'``). None tries
            ``auto_prefixes`` and takes the first one under which the
            checkpoint has keys.
        auto_prefixes (Sequence[str]): prefixes tried in order when
            ``prefix`` is None. Defaults to ('', ).
        option (str): the option that asked for the load, for the
            messages. Defaults to 'fusion_init'.

    Returns:
        str: the prefix used.

    Raises:
        FileNotFoundError: a local ``checkpoint`` does not exist.
        KeyError: no key carries the prefix.
        ValueError: the keys or shapes do not match ``module``.
    """
    if '://' in checkpoint:
        ckpt = _load_checkpoint(checkpoint, map_location='cpu')
    else:  # the checked reader: missing, empty, truncated, CRC-32
        ckpt = read_checkpoint(checkpoint, f'{option} checkpoint')
    state = ckpt.get('state_dict', ckpt) if isinstance(ckpt, dict) else ckpt
    if not isinstance(state, dict):
        raise ValueError(f'{checkpoint!r} holds no state dict (got '
                         f'{type(state).__name__})')
    expected = module.state_dict()
    if prefix is None:
        prefix = next((p for p in auto_prefixes
                       if any(k.startswith(p) for k in state) and (
                           p or set(state) & set(expected))), None)
        if prefix is None:
            raise KeyError(
                f'{checkpoint!r} has no {type(module).__name__} under any of '
                f'the prefixes {tuple(auto_prefixes)}; its keys start like '
                f'{_listing(list(state)[:_MAX_LISTED])}. Give '
                f'{option}=dict(checkpoint=..., prefix=...)')
    weights = {
        k[len(prefix):]: v
        for k, v in state.items() if k.startswith(prefix)
    }
    if not weights:
        raise KeyError(f'{checkpoint!r} has no key starting with prefix '
                       f'{prefix!r}')
    bad = nonfinite_tensors(weights)
    if bad:
        raise FloatingPointError(
            f'{option}: {checkpoint!r} holds NaN/Inf in {len(bad)} tensor(s) '
            f'under prefix {prefix!r} ({_listing(bad)})')
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
            f'{option}: the weights under prefix {prefix!r} of '
            f'{checkpoint!r} do not fit the network '
            f'{type(module).__name__} ({"; ".join(problems)}). Was the '
            f'checkpoint trained with another {option[:-len("_init")]}_net '
            'config?')
    with torch.no_grad():
        module.load_state_dict(weights, strict=True)
    return prefix
