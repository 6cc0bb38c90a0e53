"""Op names: genotype strings registered in ``MODELS``.

A genotype names its operators with short strings -- TIM's
``'Residualblocks_3_1'``, the task modules' ``'dil_conv_3_2'``, RUAS's
``'resdilconv_3x3'`` or its paper's ``'3-2-RDC'``. :func:`register_op_names`
registers each family of such names in ``MODELS``, so a name resolves the
way every other component does::

    MODELS.build(dict(type='Residualblocks_3_1'),
                 default_args=dict(channels=16))

:func:`op_name_cfg` gives the operator config of a name,
:func:`build_named_op` builds it and :func:`known_op_names` lists every
registered name; a clashing family registers under a prefix (``hbl_``).
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
        family (str): family label, unique (error messages, API index).
        names (Iterable[str]): every name the family defines.
        to_cfg (OpNameParser): name -> operator config without
            ``channels``; raises ``ValueError`` (naming the valid forms) for
            a name outside the family.
        prefix (str): registered as ``prefix + name`` (for a family whose
            names another family already uses for other operators).
            Defaults to ''.
        module (str, optional): the module the builders report (API index);
            defaults to ``to_cfg``'s module.

    Raises:
        ValueError: ``family`` is already registered, or a name is already
            registered as another operator or another component.
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
    """Every op name a genotype may hold, sorted: the registered names and,
    of a family registered with a prefix, also its own names without it
    (HBL's genotypes say ``conv_3x3``, which its modules resolve)."""
    names = set()
    for key, obj in _registered():
        names.update((key, key[len(obj.op_prefix):]))
    return tuple(sorted(names))


def op_name_cfg(name: str) -> dict:
    """Operator config (without ``channels``) of a registered op name.

    Args:
        name (str): e.g. ``'Residualblocks_3_1'`` (TIM fusion ops) or
            ``'dil_conv_3_2'`` (task ops).

    Returns:
        dict: the operator config (a copy).

    Raises:
        TypeError: ``name`` is not a str.
        ValueError: ``name`` is not a registered op name; the message joins
            every family's own error (each lists its valid forms).
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
    """Build the operator of a registered op name at width ``C``.

    Args:
        name (str): op name (see :func:`op_name_cfg`).
        channels (int): operator width ``C``.

    Returns:
        nn.Module: the operator.
    """
    op_name_cfg(name)  # a clear error for an unknown name
    return MODELS.build(dict(type=name), default_args=dict(channels=channels))
