"""``--max-iters`` / ``--max-epochs``: rescale a config's schedule. A class
declares its settings counted in iterations (epochs: the dict's
``by_epoch``) in ``iteration_fields``, ``{dotted field: kind}`` (``*``: any
list item), kinds ``point``, ``start`` (to get past), ``length``,
``interval`` (capped at the run), ``run_interval`` (also never shorter)."""
import inspect
import re
from typing import Any, List, Mapping, Optional, Tuple

from mmengine.config import Config

from .config_tree import config_items, registered_class, set_path, type_name

#: the declarations of MMEngine's classes, which cannot state their own
_LOOP = {'val_begin': 'point', 'val_interval': 'run_interval',
         'dynamic_intervals.*.0': 'point',
         'dynamic_intervals.*.1': 'run_interval'}
MMENGINE_FIELDS = {
    'IterBasedTrainLoop': _LOOP, 'EpochBasedTrainLoop': _LOOP,
    'LoggerHook': {'interval': 'interval'},
    'CheckpointHook': {'interval': 'run_interval', 'save_begin': 'point'},
}
#: the fields of every parameter scheduler (``by_epoch`` defaults to True)
SCHEDULER_FIELDS = {'begin': 'point', 'end': 'point', 'milestones.*': 'point',
                    'T_max': 'length', 'step_size': 'length',
                    'periods.*': 'length', 'total_steps': 'length'}
#: MMEngine's "no end" (``end=INF``): never rescaled
NO_END = int(1e9)


def is_count(value: Any) -> bool:
    """Whether ``value`` is an int (not a bool)."""
    return isinstance(value, int) and not isinstance(value, bool)


def declared_fields(cls: Optional[type]) -> Optional[dict]:
    """``iteration_fields`` of ``cls`` or its bases (MMEngine's classes:
    :data:`MMENGINE_FIELDS`); None when nothing declares them."""
    for klass in getattr(cls, '__mro__', ()):
        if 'iteration_fields' in vars(klass):
            return dict(klass.iteration_fields)
        if klass.__module__.startswith('mmengine.') and \
                klass.__name__ in MMENGINE_FIELDS:
            return MMENGINE_FIELDS[klass.__name__]
    return None


def _counts_epochs(node: Mapping, cls: Optional[type]) -> bool:
    """The dict's ``by_epoch``, else the default of its class's, else
    False."""
    params = [inspect.signature(k.__init__).parameters.get('by_epoch')
              for k in getattr(cls, '__mro__', ()) if '__init__' in vars(k)]
    default = next((p.default for p in params
                    if p is not None and p.default is not p.empty), False)
    return bool(node.get('by_epoch', default))


def loop_unit(train_cfg: Any) -> Optional[str]:
    """``'iter'`` for a train loop with ``max_iters`` (no ``by_epoch``),
    ``'epoch'`` for one with ``max_epochs``, else None."""
    if isinstance(train_cfg, Mapping):
        if 'max_iters' in train_cfg and not train_cfg.get('by_epoch'):
            return 'iter'
        if 'max_epochs' in train_cfg:
            return 'epoch'
    return None


def loop_class(train_cfg: Mapping) -> Optional[type]:
    """The class of a train loop config."""
    return registered_class(train_cfg.get('type', 'EpochBasedTrainLoop' if
                                          train_cfg.get('by_epoch') else
                                          'IterBasedTrainLoop'))


def schedule_settings(cfg: Config) -> List[dict]:
    """Every declared iteration / epoch setting of ``cfg``, in order: dicts
    of ``path``, ``parts``, ``value``, ``unit``, ``kind``, ``group`` (the
    key of its dict) and ``owner`` (that dict's type name)."""
    owners: List[Tuple[List[str], Mapping, dict, bool]] = []

    def add(group: List[str], node: Any) -> None:
        cls = registered_class(node.get('type')) \
            if isinstance(node, Mapping) else None
        if (declared := declared_fields(cls)) is not None:
            owners.append((group, node, declared, _counts_epochs(node, cls)))

    train_cfg = cfg.get('train_cfg')
    fields = declared_fields(loop_class(train_cfg)) \
        if loop_unit(train_cfg) else None
    if fields is not None:
        owners.append((['train_cfg'], train_cfg, fields,
                       loop_unit(train_cfg) == 'epoch'))
        for key, sub in train_cfg.items():  # e.g. a path sampler
            add(['train_cfg', key], sub)
    # one scheduler, a list, or one or a list per optimizer
    top = ('param_scheduler', '', cfg.get('param_scheduler'))
    owners += [(path.split('.'), s, SCHEDULER_FIELDS, s.get('by_epoch', True))
               for path, _, s in [top] + list(config_items(top[2], top[0]))
               if isinstance(s, Mapping) and 'type' in s
               and path.count('.') < 3]
    for key, hook in (cfg.get('default_hooks') or {}).items():
        add(['default_hooks', key], hook)
    for i, hook in enumerate(cfg.get('custom_hooks') or []):
        add(['custom_hooks', str(i)], hook)
    out = []
    for group, node, fields, by_epoch in owners:
        # ``*`` in a field: every list index
        found = [(path.split('.'), value, kind)
                 for pattern, kind in fields.items()
                 for path, _, value in config_items(node) if is_count(value)
                 and re.fullmatch(re.escape(pattern).replace(r'\*', r'\d+'),
                                  path)]
        # stages.0.begin, stages.0.end, stages.1.begin, ...
        found.sort(key=lambda f: [int(p) for p in f[0] if p.isdigit()])
        out += [dict(path='.'.join(group + parts), parts=group + parts,
                     value=value, kind=kind, group='.'.join(group),
                     owner=type_name(node),
                     unit='epoch' if by_epoch else 'iter')
                for parts, value, kind in found]
    return out


def rescale_schedule(cfg: Config,
                     max_iters: Optional[int] = None,
                     max_epochs: Optional[int] = None
                     ) -> List[Tuple[str, int, int]]:
    """Set the length of training in place, each declared setting scaled to
    ``round(v * N / old)``, at least 1 (0, negatives, ``end=INF`` kept;
    intervals capped at ``N``; positions after the end stay after it,
    distinct and ordered; ``T_max = end - begin`` kept); returns the
    ``(dotted key, old, new)`` changes, the length first."""
    unit = 'iter' if max_iters is not None else 'epoch'
    new = max_iters if max_iters is not None else max_epochs
    option, noun = f'--max-{unit}s', 'iteration' if unit == 'iter' else unit
    if not is_count(new) or new < 1:
        raise ValueError(f'{option} must be an integer >= 1, got {new!r}')
    train_cfg, where = cfg.get('train_cfg'), cfg.filename or 'the config'
    has = loop_unit(train_cfg)
    if has and declared_fields(loop_class(train_cfg)) is None:
        raise ValueError(
            f'{option}: the train loop of {where} is {type_name(train_cfg)}, '
            'which declares no iteration_fields (its length may count '
            'something else than training iterations); set it with '
            f'--cfg-options train_cfg.max_{has}s=N')
    if has != unit:
        other = {'iter': 'iteration', 'epoch': 'epoch'}.get(has)
        loop = getattr(loop_class(train_cfg), '__name__', '?') if has else ''
        found = (f'an {other}-based train loop ({loop}, '
                 f'train_cfg.max_{has}s={train_cfg[f"max_{has}s"]}); use '
                 f'--max-{has}s to rescale its {other}s' if has else
                 'no train_cfg with max_iters or max_epochs')
        raise ValueError(f'{option} needs an {noun}-based train loop '
                         f'(train_cfg.max_{unit}s); {where} has {found}')
    old = train_cfg[f'max_{unit}s']
    if not is_count(old) or old < 1:
        raise ValueError(f'{option}: train_cfg.max_{unit}s of {where} is '
                         f'{old!r}, not a positive integer')
    if new == old:
        return []
    settings = schedule_settings(cfg)
    values = {s['path']: s['value'] for s in settings}
    plan = {}
    for s in settings:
        value, kind, same = s['value'], s['kind'], s['unit'] == unit
        if value <= 0 or value >= NO_END or (not same and (
                unit == 'iter' or kind.endswith('interval'))):
            continue  # an iteration-based run has one "epoch"
        result = max(1, (2 * value * new + old) // (2 * old))
        if kind == 'run_interval':
            result = max(result, value)
        if kind.endswith('interval'):
            result = min(result, new)
        if kind in ('point', 'start') and same and value > old:
            result = max(result, new + 1)  # after the end stays after it
        plan[s['path']] = result
    points = sorted((s for s in settings if s['path'] in plan
                     and s['kind'] in ('point', 'start')),
                    key=lambda s: (s['group'], s['value']))
    for prev, s in zip(points, points[1:]):
        if prev['group'] == s['group']:  # distinct and in order
            plan[s['path']] = plan[prev['path']] if s['value'] == \
                prev['value'] else max(plan[s['path']], plan[prev['path']] + 1)
    for s in settings:  # a T_max equal to end - begin stays so
        begin, end = f'{s["group"]}.begin', f'{s["group"]}.end'
        if s['path'] in plan and s['parts'][-1] == 'T_max' and end in plan \
                and values[end] - values.get(begin, 0) == s['value']:
            plan[s['path']] = max(
                1, plan[end] - plan.get(begin, values.get(begin, 0)))
    train_cfg[f'max_{unit}s'] = new
    changes = [(f'train_cfg.max_{unit}s', old, new)]
    for s in settings:
        if plan.get(s['path'], s['value']) != s['value']:
            set_path(cfg, s['path'], plan[s['path']])
            changes.append((s['path'], s['value'], plan[s['path']]))
    return changes


def set_schedule_length(cfg: Config, key: str, new: Optional[int],
                        cfg_options: Optional[Mapping] = None) -> List[str]:
    """``--max-iters`` / ``--max-epochs`` (``key``: ``max_iters`` /
    ``max_epochs``): :func:`rescale_schedule`, the settings given in
    ``cfg_options`` keeping their value; returns the log lines."""
    option = f'--{key.replace("_", "-")}'
    if new is None:
        return []
    options = dict(cfg_options or {})
    if f'train_cfg.{key}' in options:
        raise ValueError(f'{option} and --cfg-options train_cfg.{key} both '
                         'set the length of training; give one')
    changes = rescale_schedule(cfg, **{key: new})
    if not changes:
        return [f'{option} {new}: the config already trains this long; '
                'nothing rescaled']
    given = {k: v for k, v in options.items() if any(
        p == k or p.startswith(f'{k}.') for p, _, _ in changes)}
    cfg.merge_from_dict(given)  # the explicit values win
    kept = [p for p, _, _ in changes
            if any(p == k or p.startswith(f'{k}.') for k in given)]
    changes = [c for c in changes if c[0] not in kept]
    lines = [format_schedule_changes(changes)] if changes else []
    if kept:
        lines.append(f'{option}: kept as given with --cfg-options: '
                     f'{", ".join(kept)}')
    return lines


def format_schedule_changes(changes: List[Tuple[str, Any, Any]]) -> str:
    """The table of :func:`rescale_schedule`'s changes ('' for none)."""
    if not changes:
        return ''
    rows = [('field', 'before', 'after')] + [
        (path, str(old), str(new)) for path, old, new in changes]
    widths = [max(len(row[i]) for row in rows) for i in range(2)]
    count = f'{len(changes)} change{"s" if len(changes) > 1 else ""}'
    return '\n'.join([f'schedule rescaled by {changes[0][0]} {changes[0][1]}'
                      f' → {changes[0][2]} ({count}):'] + [
        f'  {a:<{widths[0]}}  {b:<{widths[1]}}  {c}' for a, b, c in rows])
