"""Edge specs of ``C_in -> C_out`` positions of task modules (RUAS Table 1).

:func:`task_position_spec` turns a template (op name, operator config or
``DiffMixedOp``) into a spec with ``out_channels`` and ``stride``, e.g.
``'3-C'`` -> ``dict(type='RUASConv', kernel_size=3, out_channels=24,
stride=1)``; it is idempotent.
"""
import copy
import inspect
from typing import Any, List, Optional, Sequence, Tuple

from mmfusenas.models.ops import RUAS_TASK_OPS, op_name_cfg
from mmfusenas.registry import MODELS
from .diff_mixed_op import normalise_candidates
from .space import MUTABLE_TYPES

#: (key suffix, out_channels, stride) of one position
Position = Tuple[str, int, int]


def task_op_template(key: str,
                     candidates: Sequence[str] = RUAS_TASK_OPS) -> dict:
    """``dict(type='DiffMixedOp', key=key, candidates=[...])`` over the RUAS
    task ops."""
    return dict(type='DiffMixedOp', key=key, candidates=list(candidates))


def _accepts(cls: Any, arg: str) -> bool:
    try:
        params = inspect.signature(cls).parameters.values()
    except (TypeError, ValueError):
        return True
    return any(p.name == arg or p.kind == p.VAR_KEYWORD for p in params)


def _check_op_args(cfg: dict, spec: Any) -> None:
    """Raise if the operator type cannot take ``out_channels`` / stride."""
    op_type = cfg['type']
    cls = None
    if callable(op_type):
        cls = op_type
    elif isinstance(op_type, str):
        try:
            cls = MODELS.get(op_type)
        except Exception:  # unknown type: the build reports it
            cls = None
    if cls is None:
        return  # unknown here: the build reports it
    for arg in ('out_channels', 'stride'):
        if not _accepts(cls, arg):
            raise ValueError(
                f'op {spec!r} ({getattr(cls, "__name__", cls)}) cannot be '
                f'placed at a C_in -> C_out / strided position: it takes no '
                f'{arg!r} argument; use a RUASConv op, e.g. one of '
                f'{list(RUAS_TASK_OPS)}')


def task_position_spec(spec: Any,
                       out_channels: int,
                       stride: int = 1,
                       key_suffix: Optional[str] = None) -> Any:
    """The edge spec of one ``C_in -> C_out`` position from a template.

    Args:
        spec (str | dict): an op name, an operator config without
            ``channels`` or a ``DiffMixedOp`` config over such specs.
        out_channels (int): ``C_out`` of the position.
        stride (int): stride of the position. Defaults to 1.
        key_suffix (str, optional): appended to ``DiffMixedOp`` keys as
            ``<key>/<key_suffix>``; None keeps the key.

    Returns:
        dict: an operator config with ``out_channels`` and ``stride``, or a
        ``DiffMixedOp`` config with a mapping of such configs.

    Raises:
        TypeError: ``spec`` is neither an op name nor a config dict.
        ValueError: unknown op name, conflicting arguments or a mixed op
            without ``key``.
    """
    if not isinstance(out_channels, int) or out_channels < 1:
        raise ValueError(f'out_channels must be a positive int, got '
                         f'{out_channels!r}')
    if not isinstance(stride, int) or stride < 1:
        raise ValueError(f'stride must be an int >= 1, got {stride!r}')
    if isinstance(spec, str):
        cfg = op_name_cfg(spec)
        cfg.update(out_channels=out_channels, stride=stride)
        _check_op_args(cfg, spec)
        return cfg
    if not isinstance(spec, dict):
        raise TypeError(f'a position spec must be an op name (str) or a '
                        f'config dict, got {type(spec).__name__}: {spec!r}')
    if 'type' not in spec:
        raise ValueError(f"a position config dict needs a 'type' key, got "
                         f'{spec!r}')
    if 'channels' in spec:
        raise ValueError(f"a position config must not set 'channels' (the "
                         f'module sets C_in), got {spec!r}')
    spec = copy.deepcopy(spec)
    if spec['type'] in MUTABLE_TYPES:
        if 'key' not in spec:
            raise ValueError(f"a DiffMixedOp position template needs a 'key' "
                             f'(the prefix of the position keys), got '
                             f'{spec!r}')
        if key_suffix is not None:
            spec['key'] = f"{spec['key']}/{key_suffix}"
        names, specs = normalise_candidates(spec['candidates'])
        spec['candidates'] = {
            name: task_position_spec(s, out_channels, stride, key_suffix)
            for name, s in zip(names, specs)
        }
        return spec
    for arg, value in (('out_channels', out_channels), ('stride', stride)):
        if spec.get(arg, value) != value:
            raise ValueError(f'the position needs {arg}={value}, but its '
                             f'spec sets {arg}={spec[arg]}: {spec!r}')
        spec[arg] = value
    _check_op_args(spec, spec)
    return spec


def check_op_cfg_or_ops(ops: Any, op_cfg: Any, owner: str) -> None:
    """Raise unless exactly one of ``ops`` / ``op_cfg`` is given."""
    if (ops is None) == (op_cfg is None):
        raise ValueError(f'{owner} needs exactly one of `ops` (explicit '
                         f'per-position specs) and `op_cfg` (one template '
                         f'for every position), got ops={ops!r}, '
                         f'op_cfg={op_cfg!r}')


def position_specs(ops: Optional[Sequence[Any]], op_cfg: Any,
                   positions: Sequence[Position], owner: str,
                   what: str = 'ops') -> List[Any]:
    """One expanded spec per position from ``op_cfg`` (template) or ``ops``.

    Args:
        ops (Sequence[str | dict], optional): one spec per position.
        op_cfg (str | dict, optional): one template for every position.
        positions (Sequence[tuple[str, int, int]]): ``(key suffix,
            out_channels, stride)`` of every position.
        owner (str): module name for error messages.
        what (str): name of the explicit list in error messages.
    """
    check_op_cfg_or_ops(ops, op_cfg, owner)
    if op_cfg is not None:
        return [
            task_position_spec(op_cfg, out_c, stride, key_suffix=suffix)
            for suffix, out_c, stride in positions
        ]
    if isinstance(ops, (str, dict)) or not isinstance(
            ops, (list, tuple)) or len(ops) != len(positions):
        raise ValueError(
            f'{owner}: `{what}` must list one spec per position '
            f'({len(positions)}: {[p[0] for p in positions]}), got '
            f'{ops!r}')
    return [
        task_position_spec(spec, out_c, stride)
        for spec, (_, out_c, stride) in zip(ops, positions)
    ]
