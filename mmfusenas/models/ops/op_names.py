"""Op names: genotype strings (``'Residualblocks_3_1'``, ``'3-2-RDC'``, ...)
registered in ``MODELS``, so ``MODELS.build(dict(type=name),
default_args=dict(channels=C))`` builds them.
"""
import copy
from typing import Callable, Iterable, List, Tuple

import torch.nn as nn

from mmfusenas.registry import MODELS

#: name -> operator config (without ``channels``) of one op-name family;
#: raises ``ValueError`` naming the valid forms for a name outside it
OpNameParser = Callable[[str], dict]


def _registered() -> List[Tuple[str, Callable]]:
    """``(name, builder)`` of every registered op name."""
    return [(key, obj) for key, obj in MODELS.module_dict.items()
            if hasattr(obj, 'op_family')]


def _builder(key: str, family: str, cfg: dict, parser: OpNameParser,
             prefix: str, module: str) -> Callable[..., nn.Module]:
    """The registered builder of one op name."""

    def build(channels: int, **kwargs) -> nn.Module:
        return MODELS.build({**cfg, **kwargs},
                            default_args=dict(channels=channels))

    build.__name__ = build.__qualname__ = key
    build.__module__ = module
    build.__doc__ = (f'Op name of the {family} family: '
                     f'``{cfg}`` at width ``channels``.')
    build.op_family, build.op_cfg = family, cfg
    build.op_parser, build.op_prefix = parser, prefix
    return build


def register_op_names(family: str,
                      names: Iterable[str],
                      to_cfg: OpNameParser,
                      prefix: str = '',
                      module: str = None) -> None:
    """Register every name of an op-name family in ``MODELS``.

    Args:
        family (str): unique family label.
        names (Iterable[str]): every name the family defines.
        to_cfg (OpNameParser): name -> operator config without ``channels``;
            raises ``ValueError`` for a name outside the family.
        prefix (str): registered as ``prefix + name``. Defaults to ''.
        module (str, optional): the module the builders report.

    Raises:
        ValueError: ``family`` or a name is already registered.
    """
    if any(obj.op_family == family for _, obj in _registered()):
        raise ValueError(f'op-name family {family!r} is already registered')
    module = module or to_cfg.__module__
    new = []
    for name in names:
        key, cfg = prefix + name, to_cfg(name)
        if '.' in key:
            raise ValueError(f'op name {key!r} of family {family!r} holds a '
                             "'.', which MMEngine reads as a scope")
        other = MODELS.module_dict.get(key)
        if other is None:
            new.append((key, cfg))
        elif getattr(other, 'op_cfg', None) != cfg:
            what = (f'family {other.op_family!r} as a different operator '
                    f'({other.op_cfg} vs {cfg})' if hasattr(
                        other, 'op_family') else
                    f'{other.__module__}.{other.__name__}')
            raise ValueError(f'op name {key!r} of family {family!r} is '
                             f'already registered by {what}')
    for key, cfg in new:
        MODELS.register_module(
            name=key,
            module=_builder(key, family, cfg, to_cfg, prefix, module))


def known_op_names() -> Tuple[str, ...]:
    """Every op name a genotype may hold (prefixed names also without
    prefix)."""
    names = set()
    for key, obj in _registered():
        names.update((key, key[len(obj.op_prefix):]))
    return tuple(sorted(names))


def op_name_cfg(name: str) -> dict:
    """Operator config (without ``channels``) of a registered op name.

    Raises:
        TypeError: ``name`` is not a str.
        ValueError: ``name`` is not a registered op name.
    """
    if not isinstance(name, str):
        raise TypeError(f'op name must be a str, got {name!r}')
    builder = MODELS.module_dict.get(name)
    if hasattr(builder, 'op_cfg'):
        return copy.deepcopy(builder.op_cfg)
    reasons, families = [], []
    for _, obj in _registered():
        if obj.op_family in families:
            continue
        families.append(obj.op_family)
        prefix = obj.op_prefix
        bare = name[len(prefix):] if name.startswith(prefix) else name
        try:
            obj.op_parser(bare)
        except (ValueError, KeyError) as err:
            reason = str(err.args[0]) if err.args else str(err)
            reasons.append(reason + (f' (registered with the prefix '
                                     f'{prefix!r})' if prefix else ''))
    raise ValueError(f'unknown op name {name!r} in every op-name family: ' +
                     ' | '.join(reasons))


def build_named_op(name: str, channels: int) -> nn.Module:
    """Build the operator of a registered op name at width ``channels``."""
    op_name_cfg(name)  # a clear error for an unknown name
    return MODELS.build(dict(type=name), default_args=dict(channels=channels))
