"""Config helpers shared by the command-line tools.

:func:`load_runner_config` loads a tool's config and checks
``--cfg-options`` at start-up (:func:`check_cfg_options`): unknown keys,
overridden config variables, Python-dict values
(:func:`check_option_values`), loss-set names
(:func:`resolve_loss_sets`, ``configs/_base_/losses/``), changed types
keeping foreign arguments (:func:`check_type_changes`) and unregistered
types (:func:`check_config_types`) are reported before anything is built.
:func:`rescale_schedule` changes the length of training with every
setting counted in its iterations (``tools/train.py --max-iters``),
:func:`schedule_warnings` names warm-ups a run does not get past, and
:func:`check_data_folders` checks the data folders of the run.
"""
import argparse
import difflib
import logging
import os
import os.path as osp
import re
from typing import Any, List, Mapping, Optional, Sequence, Set, Tuple

from mmengine.config import Config, ConfigDict, DictAction
from mmengine.logging import print_log


#: top-level keys read by MMEngine's Runner, ReliableRunner and the config
#: machinery; a --cfg-options key outside these and the config is unread
RUNNER_KEYS = frozenset({
    '_base_', 'activation_checkpointing', 'auto_scale_lr', 'compile',
    'custom_hooks', 'custom_imports', 'data_preprocessor', 'default_hooks',
    'default_scope', 'efficient_conv_bn_eval', 'env_cfg',
    'experiment_name',
    'find_unused_parameters', 'gpu_ids', 'launcher', 'load_from',
    'load_strict', 'log_level', 'log_processor', 'model', 'model_wrapper_cfg',
    'optim_wrapper', 'param_scheduler', 'randomness', 'resume', 'runner_type',
    'strategy', 'test_cfg', 'test_dataloader', 'test_evaluator', 'train_cfg',
    'train_dataloader', 'val_cfg', 'val_dataloader', 'val_evaluator',
    'visualizer', 'work_dir', 'work_dir_lock'
})


def _children(node: Any) -> List[Tuple[str, Any]]:
    """``(key, value)`` of a config node's children (list items keyed by
    their index as a string); none for a leaf."""
    if isinstance(node, Mapping):
        return [(str(k), v) for k, v in node.items()]
    if isinstance(node, (list, tuple)):
        return [(str(i), v) for i, v in enumerate(node)]
    return []


def _config_paths(node: Any, prefix: str = '') -> List[str]:
    """Every dotted key path of a config (list items as ``name.<i>``)."""
    paths = []
    for key, value in _children(node):
        path = f'{prefix}.{key}' if prefix else str(key)
        paths.append(path)
        paths += _config_paths(value, path)
    return paths


def walk_path(node: Any, parts: List[str]) -> Tuple[bool, Any, int]:
    """Follow dotted-path ``parts`` (dict keys / list indices) into a config.

    Returns:
        tuple[bool, Any, int]: whether the whole path exists, the node
        reached, and how many parts were walked (the failing part is
        ``parts[walked]`` when the path does not exist).
    """
    for i, part in enumerate(parts):
        if isinstance(node, Mapping) and part in node:
            node = node[part]
        elif isinstance(node, (list, tuple)) and part.isdigit() \
                and int(part) < len(node):
            node = node[int(part)]
        else:
            return False, node, i
    return True, node, len(parts)


def _suggest(key: str, paths: List[str]) -> List[str]:
    """Existing paths with the same last component, then paths whose last
    component is close to it (same parent first)."""
    parent, _, leaf = key.rpartition('.')
    by_leaf = [p for p in paths if p.rpartition('.')[2] == leaf]
    close = [
        p for p in paths
        if difflib.get_close_matches(leaf, [p.rpartition('.')[2]], cutoff=0.8)
    ]
    close.sort(key=lambda p: p.rpartition('.')[0] != parent)
    out: List[str] = []
    for p in by_leaf + close:
        if p not in out and p != key:
            out.append(p)
    return out[:5]


def check_cfg_options(cfg: Config, options: Mapping) -> List[str]:
    """Check ``--cfg-options`` against the config *before* merging them.

    Args:
        cfg (Config): The loaded config (not yet merged).
        options (Mapping): ``{dotted.key: value}`` as parsed by
            :class:`~mmengine.config.DictAction`.

    Returns:
        list[str]: Warnings for new nested keys (also logged).

    Raises:
        KeyError: A new top-level key nothing reads; the message suggests
            existing keys. Or a variable of the config file (or a key under
            one): a top-level key of the config in neither
            :data:`RUNNER_KEYS` nor :data:`TOOL_READ_KEYS`, e.g. a file's
            ``max_iters = 300``. Its value was copied where it is used when
            the file was parsed, so overriding it changes nothing; the
            message names the settings holding its value and, for the
            length of training, ``tools/train.py --max-iters``.
    """
    paths = _config_paths(cfg._cfg_dict.to_dict())
    warnings = []
    for key in options:
        parts = str(key).split('.')
        if parts[0] in cfg._cfg_dict and parts[0] not in RUNNER_KEYS \
                and parts[0] not in TOOL_READ_KEYS \
                and not parts[0].startswith('_'):
            raise KeyError(_variable_error(cfg, key, options[key]))
        if walk_path(cfg._cfg_dict, parts)[0]:
            continue
        hints = _suggest(str(key), paths)
        hint = f'; did you mean {" or ".join(hints)}?' if hints else ''
        if len(parts) == 1 and parts[0] not in RUNNER_KEYS \
                and parts[0] not in TOOL_READ_KEYS:
            raise KeyError(
                f'--cfg-options {key}: no such key in the config and nothing '
                f'reads a top-level {key!r}{hint}')
        if len(parts) > 1:
            text = (f'--cfg-options {key}: not in the config (it is added; '
                    f'check the spelling){hint}')
            warnings.append(text)
            print_log(text, logger='current', level=logging.WARNING)
    return warnings


#: top-level keys outside :data:`RUNNER_KEYS` that the tools read after the
#: config is loaded (``tools/train.py`` / ``test.py``: ``tensorboard``,
#: ``sync_bn``, ``data_root`` as ``--data-root``;
#: ``tools/search/train_predictor.py``: ``predictor``); ``--cfg-options``
#: may set them. Every other top-level key of a config that is not a runner
#: key is a variable of the config file (:func:`check_cfg_options`).
TOOL_READ_KEYS = frozenset({'data_root', 'predictor', 'sync_bn',
                            'tensorboard'})

#: names of config-file variables that hold a schedule length or position
_SCHEDULE_NAME = re.compile(r'(^|_)(iter|iters|epoch|epochs)($|_)')


def _equal_paths(node: Any, prefix: str, value: Any, leaf: Optional[str],
                 out: List[str]) -> None:
    """Dotted paths under ``node`` whose value equals ``value`` (and whose
    last component is ``leaf`` unless ``leaf`` is None)."""
    for key, sub in _children(node):
        path = f'{prefix}.{key}' if prefix else key
        try:
            same = type(sub) is type(value) and sub == value
        except Exception:  # noqa: BLE001 - values that cannot be compared
            same = False
        if same and (leaf is None or key == leaf):
            out.append(path)
        _equal_paths(sub, path, value, leaf, out)


def _variable_holders(cfg: Config, name: str) -> List[str]:
    """The settings the runner reads that hold the value of the config-file
    variable ``name``: the keys of that name with an equal value, then (for
    schedule variables) iteration / epoch settings with an equal value, then
    (for strings, lists and dicts) any key with an equal value."""
    tree = cfg._cfg_dict.to_dict()
    value = tree[name]
    read = {k: v for k, v in tree.items()
            if k in RUNNER_KEYS or k in TOOL_READ_KEYS}
    found: List[str] = []
    _equal_paths(read, '', value, name, found)
    if _SCHEDULE_NAME.search(name) and isinstance(value, int) \
            and not isinstance(value, bool):
        found += [s['path'] for s in _schedule_settings(cfg)
                  if s['value'] == value]
    if isinstance(value, (str, list, tuple, dict)) and value:
        _equal_paths(read, '', value, None, found)
    out: List[str] = []
    for path in found:
        if path not in out:
            out.append(path)
    return out[:6]


def _variable_error(cfg: Config, key: str, value: Any) -> str:
    """The message of :func:`check_cfg_options` for an override of a
    config-file variable (``key`` is ``name`` or ``name.sub.path``)."""
    name, _, rest = str(key).partition('.')
    where = f' {cfg.filename}' if cfg.filename else ''
    current = cfg._cfg_dict.to_dict()[name]
    shown = repr(current)
    if len(shown) > 60:
        shown = shown[:57] + '...'
    text = (f'--cfg-options {key}={value!r}: {name!r} is a variable of the '
            f'config file{where}, not a setting: its value ({shown}) was '
            'copied into the settings built from it when the file was read, '
            'and nothing reads the variable afterwards, so overriding it '
            'changes nothing.')
    holders = _variable_holders(cfg, name)
    if rest:
        holders = [f'{h}.{rest}' for h in holders]
    train_cfg = cfg.get('train_cfg') or {}
    unit = _loop_unit(train_cfg)
    length_key = {'iter': 'max_iters', 'epoch': 'max_epochs'}.get(unit)
    is_length = (not rest and length_key is not None
                 and current == train_cfg.get(length_key)
                 and _SCHEDULE_NAME.search(name) is not None
                 and 'warmup' not in name)
    if is_length:
        option = '--max-iters' if unit == 'iter' else '--max-epochs'
        new = value if isinstance(value, int) and not isinstance(
            value, bool) else 'N'
        text += (f' To change the length of training use tools/train.py '
                 f'{option} {new}: it sets train_cfg.{length_key} and '
                 'rescales every iteration / epoch setting of the schedule '
                 '(parameter schedulers, warm-ups, validation, checkpoint and '
                 'log intervals) with it')
        if holders:
            text += f'; the settings holding {name} are {", ".join(holders)}'
        return text + '.'
    if holders:
        text += (' Set the settings that hold its value instead: '
                 f'{", ".join(holders)}')
    else:
        text += ' No setting the run reads holds its value'
    if _SCHEDULE_NAME.search(name):
        text += ('; to shorten or lengthen the whole schedule use '
                 'tools/train.py --max-iters N (--max-epochs N for '
                 'epoch-based loops)')
    return text + '.'


# --- schedule length: rescaling and checks -------------------------------

#: MMEngine's "no end" of a parameter scheduler (``end=INF``); values at or
#: above it are never rescaled
_NO_END = int(1e9)

#: iteration / epoch settings of hooks by type name: ``(unit, [(pattern,
#: kind[, unit]), ...])``. ``unit`` is ``'iter'`` / ``'epoch'``, or
#: ``'by_iter'`` / ``'by_epoch'``: the hook's ``by_epoch`` argument with
#: that default. ``*`` in a pattern is every list index. Kinds: ``point``
#: (a position in the schedule: begin, end, warm-up length), ``span`` (a
#: length that may exceed the run), ``interval`` (capped at the run's
#: length), ``run_interval`` (validation / checkpoint: also never shorter
#: than the config's), ``log_interval`` (an interval of iterations;
#: rescaled in iteration-based runs only).
_HOOK_SCHEDULES = {
    'FusionWarmupHook': ('by_iter', [('warmup', 'point')]),
    'FreezeFusionHook': ('by_iter', [('begin', 'point'), ('end', 'point')]),
    'FusionLossWeightHook': ('by_iter', [('schedule.*.0', 'point')]),
    'ChainStagingHook': ('by_iter', [('phases.*.begin', 'point'),
                                     ('recalibrate_bn', 'span')]),
    'ArchScheduleHook': ('by_epoch', [('stages.*.begin', 'point'),
                                      ('stages.*.end', 'point')]),
    'ArchLoggingHook': ('by_epoch', [('interval', 'interval')]),
    'GenotypeExportHook': ('by_epoch', [('interval', 'interval')]),
    'RUASTrainingStrategyHook': ('iter', [('scene_iters', 'point')]),
    'CheckpointHook': ('by_epoch', [('interval', 'run_interval'),
                                    ('save_begin', 'point')]),
    'SafeCheckpointHook': ('by_epoch', [('interval', 'run_interval'),
                                        ('save_begin', 'point')]),
    'LoggerHook': ('iter', [('interval', 'log_interval')]),
    'EMAHook': ('iter', [('begin_iter', 'point', 'iter'),
                         ('begin_epoch', 'point', 'epoch')]),
}
#: iteration / epoch settings of parameter schedulers (their ``by_epoch``,
#: default True as in MMEngine, gives the unit)
_SCHEDULER_KEYS = [('begin', 'point'), ('end', 'point'), ('T_max', 'span'),
                   ('milestones.*', 'point'), ('step_size', 'span'),
                   ('periods.*', 'span'), ('total_steps', 'span')]


#: train loops whose ``max_iters`` counts something else than training
#: iterations (generations of an evolution over a trained supernet)
_NOT_TRAINING_LOOPS = frozenset({'EvolutionSearchLoop'})


def _loop_unit(train_cfg: Any) -> Optional[str]:
    """``'iter'`` for a train loop with ``max_iters`` (and no
    ``by_epoch=True``), ``'epoch'`` for one with ``max_epochs``, else None
    (also for the loops of :data:`_NOT_TRAINING_LOOPS`)."""
    if not isinstance(train_cfg, Mapping) or \
            _short_type(train_cfg) in _NOT_TRAINING_LOOPS:
        return None
    if 'max_iters' in train_cfg and not train_cfg.get('by_epoch', False):
        return 'iter'
    if 'max_epochs' in train_cfg:
        return 'epoch'
    return None


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _expand(node: Any, parts: List[str], prefix: List[str]):
    """Yield ``(path parts, value)`` for a pattern (``*``: every index)."""
    if not parts:
        yield prefix, node
        return
    head, rest = parts[0], parts[1:]
    if head == '*':
        if isinstance(node, (list, tuple)):
            for i, sub in enumerate(node):
                yield from _expand(sub, rest, prefix + [str(i)])
        return
    found, sub, _ = walk_path(node, [head])
    if found:
        yield from _expand(sub, rest, prefix + [head])


def _unit_of(node: Mapping, spec: str) -> str:
    if spec == 'by_iter':
        return 'epoch' if node.get('by_epoch', False) else 'iter'
    if spec == 'by_epoch':
        return 'epoch' if node.get('by_epoch', True) else 'iter'
    return spec


def _short_type(node: Any) -> str:
    type_ = node.get('type') if isinstance(node, Mapping) else None
    if isinstance(type_, type):
        return type_.__name__
    return str(type_).rpartition('.')[2].rpartition('::')[2]


def _schedule_settings(cfg: Config) -> List[dict]:
    """Every iteration / epoch setting of the train loop, the parameter
    schedulers and the hooks of :data:`_HOOK_SCHEDULES`, as dicts with
    ``path`` (dotted), ``parts``, ``value`` (an int), ``unit``, ``kind``,
    ``group`` (the loop / scheduler / hook it belongs to) and ``owner``
    (that group's type name)."""
    out: List[dict] = []

    def add(group: List[str], owner: str, node: Mapping, pattern: str,
            kind: str, unit: str) -> None:
        for parts, value in _expand(node, pattern.split('.'), []):
            if _is_count(value):
                full = group + parts
                out.append(dict(path='.'.join(full), parts=full, value=value,
                                unit=unit, kind=kind,
                                group='.'.join(group), owner=owner,
                                order=len(out)))

    train_cfg = cfg.get('train_cfg')
    unit = _loop_unit(train_cfg)
    if unit is not None:
        owner = _short_type(train_cfg) if 'type' in train_cfg else \
            'IterBasedTrainLoop' if unit == 'iter' else 'EpochBasedTrainLoop'
        for pattern, kind in (('val_begin', 'point'),
                              ('val_interval', 'run_interval'),
                              ('dynamic_intervals.*.0', 'point'),
                              ('dynamic_intervals.*.1', 'run_interval')):
            add(['train_cfg'], owner, train_cfg, pattern, kind, unit)
        sampler = train_cfg.get('sampler')
        if isinstance(sampler, Mapping):
            add(['train_cfg', 'sampler'], _short_type(sampler), sampler,
                'refresh_start', 'point', 'iter')
            add(['train_cfg', 'sampler'], _short_type(sampler), sampler,
                'refresh_interval', 'interval', 'iter')
    schedulers: List[Tuple[List[str], Any]] = []
    node = cfg.get('param_scheduler')
    if isinstance(node, Mapping) and 'type' not in node:
        for name, sub in node.items():  # one schedule per optimizer
            if isinstance(sub, (list, tuple)):
                schedulers += [(['param_scheduler', str(name), str(i)], s)
                               for i, s in enumerate(sub)]
            else:
                schedulers.append((['param_scheduler', str(name)], sub))
    elif isinstance(node, Mapping):
        schedulers.append((['param_scheduler'], node))
    elif isinstance(node, (list, tuple)):
        schedulers += [(['param_scheduler', str(i)], s)
                       for i, s in enumerate(node)]
    for group, sched in schedulers:
        if not isinstance(sched, Mapping):
            continue
        sched_unit = 'epoch' if sched.get('by_epoch', True) else 'iter'
        for pattern, kind in _SCHEDULER_KEYS:
            add(group, _short_type(sched), sched, pattern, kind, sched_unit)
    hooks: List[Tuple[List[str], Any]] = []
    default_hooks = cfg.get('default_hooks')
    if isinstance(default_hooks, Mapping):
        hooks += [(['default_hooks', str(k)], v)
                  for k, v in default_hooks.items()]
    custom_hooks = cfg.get('custom_hooks')
    if isinstance(custom_hooks, (list, tuple)):
        hooks += [(['custom_hooks', str(i)], v)
                  for i, v in enumerate(custom_hooks)]
    for group, hook in hooks:
        if not isinstance(hook, Mapping):
            continue
        owner = _short_type(hook)
        if owner not in _HOOK_SCHEDULES:
            continue
        spec, entries = _HOOK_SCHEDULES[owner]
        for entry in entries:
            pattern, kind = entry[:2]
            add(group, owner, hook, pattern, kind,
                entry[2] if len(entry) > 2 else _unit_of(hook, spec))

    def position(setting: dict) -> tuple:
        # by owner (in the order found), then by list index, then as
        # found: stages.0.begin, stages.0.end, stages.1.begin, ...
        first = min(s['order'] for s in out
                    if s['group'] == setting['group'])
        return (first, [int(p) for p in setting['parts'] if p.isdigit()],
                setting['order'])

    return sorted(out, key=position)


def _set_path(node: Any, parts: List[str], value: Any) -> Any:
    """Set ``value`` at ``parts`` (tuples on the way are rebuilt)."""
    if not parts:
        return value
    head, rest = parts[0], parts[1:]
    if isinstance(node, tuple):
        items = list(node)
        items[int(head)] = _set_path(items[int(head)], rest, value)
        return tuple(items)
    if isinstance(node, list):
        node[int(head)] = _set_path(node[int(head)], rest, value)
        return node
    node[head] = _set_path(node[head], rest, value)
    return node


def rescale_schedule(cfg: Config,
                     max_iters: Optional[int] = None,
                     max_epochs: Optional[int] = None
                     ) -> List[Tuple[str, int, int]]:
    """Change the length of training and every setting counted in its
    iterations (epochs) by the same factor.

    ``train_cfg.max_iters`` (``max_epochs``) is set to the new length ``N``;
    with ``f = N / old length`` these settings are rescaled:

    * the train loop's ``val_begin``, ``val_interval`` and
      ``dynamic_intervals``, and a path sampler's ``refresh_start`` /
      ``refresh_interval`` (``train_cfg.sampler``);
    * every parameter scheduler's (``param_scheduler``: a list, one
      scheduler, or a dict of them per optimizer) ``begin``, ``end``,
      ``T_max``, ``milestones``, ``step_size``, ``periods`` and
      ``total_steps``; a ``T_max`` equal to ``end - begin`` stays equal to
      it. Per-step factors (``gamma`` of an exponential schedule,
      ``patience`` of ReduceOnPlateau) are left;
    * the iteration (epoch) settings of the hooks in ``default_hooks`` and
      ``custom_hooks``: ``FusionWarmupHook.warmup``,
      ``FreezeFusionHook.begin`` / ``end``, the iterations of
      ``FusionLossWeightHook.schedule``, ``ChainStagingHook``'s phase
      ``begin`` and ``recalibrate_bn``, ``ArchScheduleHook``'s stage
      ``begin`` / ``end``, the ``interval`` of ``ArchLoggingHook``,
      ``GenotypeExportHook``, ``CheckpointHook`` / ``SafeCheckpointHook``
      (and their ``save_begin``) and ``LoggerHook``,
      ``RUASTrainingStrategyHook.scene_iters``, ``EMAHook.begin_iter`` /
      ``begin_epoch``. Hooks of other types are left.

    Each value ``v`` becomes ``round(v * f)`` (halves up), at least 1 when
    ``v`` was positive (0, negative intervals such as a checkpoint
    ``interval=-1`` and MMEngine's ``end=INF`` are kept). Intervals are
    never above ``N``. Validation and checkpoint intervals (the loop's
    ``val_interval`` and ``dynamic_intervals``, ``CheckpointHook`` /
    ``SafeCheckpointHook``) are never made shorter than the config's: a
    shorter run validates and saves at most as often as the config does,
    and a run shorter than the config's interval validates and saves at
    its end only (interval ``N``). A position after the old end stays
    after the new one (``val_begin = max_iters + 1``, no validation while
    training, becomes ``N + 1``). Distinct positions of one scheduler or
    hook stay distinct and in order (a later one is moved up by one
    iteration where rounding would merge them), so ``begin < end`` and
    increasing phases remain valid.

    Units: a setting's unit is its owner's ``by_epoch`` (MMEngine's
    defaults: parameter schedulers, checkpoint, ``ArchLoggingHook`` /
    ``GenotypeExportHook`` / ``ArchScheduleHook`` count epochs unless
    ``by_epoch=False``; the task-guidance and chain hooks count
    iterations). In an iteration-based run, settings counted in epochs are
    left unchanged (the loop runs a single "epoch"). In an epoch-based run
    (``max_epochs``), settings counted in iterations are rescaled by the
    same factor (the number of iterations scales with the number of
    epochs) but not capped, except the ``LoggerHook`` interval, which
    counts iterations within an epoch and is left.

    The config file's own variables (e.g. ``max_iters = 300``) are not
    read after the file is parsed and are left as they are. When resuming
    a rescaled run, rescale it the same way (the parameter schedulers'
    ``begin`` / ``end`` / ``T_max`` are saved in the checkpoint).

    Args:
        cfg (Config): the config, changed in place.
        max_iters (int, optional): the new ``train_cfg.max_iters`` (an
            iteration-based train loop).
        max_epochs (int, optional): the new ``train_cfg.max_epochs`` (an
            epoch-based train loop). Give exactly one of the two.

    Returns:
        list[tuple[str, int, int]]: ``(dotted key, old, new)`` of every
        changed setting, the loop's length first (empty when the length
        does not change).

    Raises:
        ValueError: neither or both lengths given, a length below 1, or a
            train loop of the other kind (``--max-iters`` needs
            ``train_cfg.max_iters``, ``--max-epochs`` needs
            ``train_cfg.max_epochs``) or none.
    """
    if (max_iters is None) == (max_epochs is None):
        raise ValueError('rescale_schedule: give max_iters or max_epochs')
    unit = 'iter' if max_iters is not None else 'epoch'
    new = max_iters if max_iters is not None else max_epochs
    option = '--max-iters' if unit == 'iter' else '--max-epochs'
    if not _is_count(new) or new < 1:
        raise ValueError(f'{option} must be an integer >= 1, got {new!r}')
    train_cfg = cfg.get('train_cfg')
    where = cfg.filename or 'the config'
    loop_unit = _loop_unit(train_cfg)
    if isinstance(train_cfg, Mapping) and \
            _short_type(train_cfg) in _NOT_TRAINING_LOOPS:
        raise ValueError(
            f'{option}: the train loop of {where} is '
            f'{_short_type(train_cfg)}, whose max_iters counts generations '
            'of the evolution, not training iterations; set it with '
            '--cfg-options train_cfg.max_iters=N')
    if loop_unit != unit:
        if loop_unit is None:
            has = ('no train_cfg' if not isinstance(train_cfg, Mapping) else
                   f'a train_cfg without max_iters or max_epochs '
                   f'({dict(train_cfg)})')
        else:
            has = (f'an {"epoch" if loop_unit == "epoch" else "iteration"}'
                   f'-based train loop '
                   f'({train_cfg.get("type", "by_epoch=True")}, '
                   f'train_cfg.max_{loop_unit}s='
                   f'{train_cfg.get(f"max_{loop_unit}s")})')
        other = {'iter': ('--max-iters', 'iteration'),
                 'epoch': ('--max-epochs', 'epoch')}.get(loop_unit)
        hint = (f'; use {other[0]} to rescale its {other[1]}s'
                if other else '')
        raise ValueError(
            f'{option} needs an {"iteration" if unit == "iter" else "epoch"}'
            f'-based train loop (train_cfg.max_{unit}s); {where} has {has}'
            f'{hint}')
    length_key = f'max_{unit}s'
    old = train_cfg[length_key]
    if not _is_count(old) or old < 1:
        raise ValueError(f'{option}: train_cfg.{length_key} of {where} is '
                         f'{old!r}, not a positive integer')
    if new == old:
        return []

    def scaled(value: int) -> int:
        return max(1, (2 * value * new + old) // (2 * old))

    changes: List[Tuple[str, int, int]] = [(f'train_cfg.{length_key}', old,
                                            new)]
    plan = {}
    by_group: dict = {}
    for setting in _schedule_settings(cfg):
        value, kind = setting['value'], setting['kind']
        if setting['unit'] != unit and unit == 'iter':
            continue  # epochs of an iteration-based run: one "epoch"
        if kind == 'log_interval' and unit != 'iter':
            continue  # iterations within an epoch
        if value <= 0 or value >= _NO_END:
            continue
        result = scaled(value)
        if kind == 'run_interval':  # never more often than the config
            result = max(result, value)
        if kind in ('interval', 'run_interval', 'log_interval') \
                and setting['unit'] == unit:
            result = min(result, new)
        if kind == 'point' and setting['unit'] == unit and value > old:
            # after the end stays after the end (val_begin = max_iters + 1:
            # no validation while training)
            result = max(result, new + 1)
        plan[setting['path']] = result
        if kind == 'point':
            by_group.setdefault(setting['group'], []).append(setting)
    settings = {s['path']: s for s in _schedule_settings(cfg)}
    # distinct positions of one owner stay distinct and ordered
    for group in by_group.values():
        group.sort(key=lambda s: s['value'])
        prev_old = prev_new = None
        for setting in group:
            result = plan[setting['path']]
            if prev_old is not None and setting['value'] > prev_old:
                result = max(result, prev_new + 1)
            elif prev_old is not None:
                result = prev_new
            plan[setting['path']] = result
            prev_old, prev_new = setting['value'], result
    # T_max equal to end - begin stays so
    for path, setting in settings.items():
        if not path.endswith('.T_max') or path not in plan:
            continue
        group = setting['group']
        begin = settings.get(f'{group}.begin')
        end = settings.get(f'{group}.end')
        begin_old = begin['value'] if begin else 0
        if end and end['value'] - begin_old == setting['value'] \
                and end['path'] in plan:
            begin_new = plan.get(f'{group}.begin', 0) if begin else 0
            plan[path] = max(1, plan[end['path']] - begin_new)
    train_cfg[length_key] = new
    for path, setting in settings.items():  # in the order of the config
        if path not in plan:
            continue
        result = plan[path]
        if result == setting['value']:
            continue
        top = setting['parts'][0]
        cfg[top] = _set_path(cfg[top], setting['parts'][1:], result)
        changes.append((path, setting['value'], result))
    return changes


def format_schedule_changes(changes: List[Tuple[str, Any, Any]]) -> str:
    """The table of :func:`rescale_schedule`'s changes: a title, then one
    ``field  before  after`` row each under a header (empty string for no
    changes)."""
    if not changes:
        return ''
    rows = [('field', 'before', 'after')] + [
        (path, str(old), str(new)) for path, old, new in changes]
    widths = [max(len(row[i]) for row in rows) for i in range(2)]
    lines = [f'schedule rescaled by {changes[0][0]} {changes[0][1]} → '
             f'{changes[0][2]} ({len(changes)} '
             f'{"change" if len(changes) == 1 else "changes"}):']
    lines += [f'  {a:<{widths[0]}}  {b:<{widths[1]}}  {c}'
              for a, b, c in rows]
    return '\n'.join(lines)


def _empty(value: Any) -> bool:
    return isinstance(value, (list, tuple)) and not value


def _warmup_ends(cfg: Config) -> List[Tuple[str, str, int, str, str]]:
    """The warm-ups of the config's hooks: ``(hook key, hook type, end,
    unit, what happens until the end)``, where ``end`` is the first
    iteration (epoch) after the warm-up."""
    out = []
    hooks: List[Tuple[str, Any]] = []
    if isinstance(cfg.get('custom_hooks'), (list, tuple)):
        hooks += [(f'custom_hooks.{i}', h)
                  for i, h in enumerate(cfg.custom_hooks)]
    if isinstance(cfg.get('default_hooks'), Mapping):
        hooks += [(f'default_hooks.{k}', h)
                  for k, h in cfg.default_hooks.items()]
    for key, hook in hooks:
        if not isinstance(hook, Mapping):
            continue
        owner = _short_type(hook)
        if owner == 'FusionWarmupHook' and _is_count(hook.get('warmup')) \
                and hook['warmup'] > 0:
            out.append((key, owner, hook['warmup'], _unit_of(hook, 'by_iter'),
                        'only the fusion loss trains and the task model '
                        '(detector / segmentor) never runs, so validation '
                        'has no task results (mmdet: "The testing results '
                        'of the whole dataset is empty", no mAP)'))
        elif owner == 'ChainStagingHook' and isinstance(
                hook.get('phases'), (list, tuple)):
            begins = [p.get('begin') for p in hook['phases']
                      if isinstance(p, Mapping) and p.get('task', True)]
            begins = [b for b in begins if _is_count(b)]
            if begins and min(begins) > 0:
                out.append((key, owner, min(begins),
                            _unit_of(hook, 'by_iter'),
                            'the task model runs from the first phase with '
                            f'task=True (begin={min(begins)}) on, so it is '
                            'never trained'))
        elif owner == 'RUASTrainingStrategyHook' and hook.get(
                'strategy') == 'hierarchical' and _is_count(
                    hook.get('scene_iters')) and hook['scene_iters'] > 0:
            out.append((key, owner, hook['scene_iters'], 'iter',
                        'only the scene module trains (hierarchical '
                        'strategy), so the task module is never trained'))
        elif owner == 'ArchScheduleHook' and isinstance(
                hook.get('stages'), (list, tuple)):
            begins = [
                s.get('begin') for s in hook['stages']
                if isinstance(s, Mapping)
                and not (_empty(s.get('keys')) and not s.get('levels'))
                and not (_empty(s.get('levels')) and not s.get('keys'))
            ]
            begins = [b for b in begins if _is_count(b)]
            if begins and min(begins) > 0:
                out.append((key, owner, min(begins),
                            _unit_of(hook, 'by_epoch'),
                            'α is updated from the first stage with keys '
                            f'(begin={min(begins)}) on, so the architecture '
                            'is never searched'))
    return out


def schedule_warnings(cfg: Config,
                      original: Optional[Config] = None) -> List[str]:
    """What a run of ``cfg`` will not reach, to log before training.

    * a warm-up that lasts the whole run (its end at or after
      ``train_cfg.max_iters`` / ``max_epochs``, counted in the same unit):
      ``FusionWarmupHook`` (the task model never trains, so a detector's
      validation has no results: mmdet's "The testing results of the whole
      dataset is empty"), a ``ChainStagingHook`` whose first phase with
      ``task=True`` is not reached, a hierarchical
      ``RUASTrainingStrategyHook`` whose ``scene_iters`` are not passed, an
      ``ArchScheduleHook`` whose first stage updating α is not reached;
    * parameter schedulers that run past the end of training (``begin`` at
      or after it, ``end`` / ``milestones`` / ``begin + T_max`` beyond it,
      MMEngine's ``end=INF`` excepted): the length was changed without the
      schedule (``--cfg-options train_cfg.max_iters=N``; ``tools/train.py
      --max-iters N`` rescales both).

    With ``original``, the config before ``tools/train.py --max-iters`` /
    ``--max-epochs`` rescaled it, a warm-up of the config that lasts the
    whole (new) run is named the same way, although the run itself gets
    past its rescaled warm-up: such a run is too short for the config, and
    its stages are cut to a few iterations each (e.g. a flat fused image
    at the end).

    Args:
        cfg (Config): the config as the run will use it.
        original (Config, optional): ``cfg`` before it was rescaled.

    Returns:
        list[str]: one message per finding (empty when nothing is found).
    """
    train_cfg = cfg.get('train_cfg')
    unit = _loop_unit(train_cfg)
    if unit is None:
        return []
    length_key = f'max_{unit}s'
    length = train_cfg[length_key]
    if not _is_count(length):
        return []
    noun = 'iterations' if unit == 'iter' else 'epochs'
    option = '--max-iters' if unit == 'iter' else '--max-epochs'
    out = []
    now = {}
    for key, owner, end, hook_unit, what in _warmup_ends(cfg):
        now[key] = end
        if hook_unit != unit or end < length:
            continue
        out.append(
            f'{owner} ({key}): its warm-up of {end} {noun} '
            f'{"outlasts" if end > length else "lasts"} the whole run '
            f'(train_cfg.{length_key}={length}): {what}. Train for more '
            f'than {end} {noun}, shorten the warm-up, or shorten the whole '
            f'schedule with tools/train.py {option} N, which rescales the '
            'warm-up with it.')
    for key, owner, end, hook_unit, _ in (
            _warmup_ends(original) if original is not None else []):
        if hook_unit != unit or end < length or now.get(key, 0) >= length:
            continue
        out.append(
            f'{owner} ({key}): its warm-up of {end} {noun} '
            f'{"outlasts" if end > length else "lasts"} the whole run '
            f'({option} {length}): {option} rescaled it to '
            f'{now.get(key, "?")} {noun}, so it and every later stage of the '
            f'schedule are cut to a few {noun} each and the model ends '
            'under-trained (e.g. a flat fused image). Train for more than '
            f'{end} {noun} for a useful result.')
    beyond = []
    settings = [s for s in _schedule_settings(cfg)
                if s['path'].startswith('param_scheduler')
                and s['unit'] == unit and s['value'] < _NO_END]
    for s in settings:
        leaf = s['parts'][-1] if not s['parts'][-1].isdigit() else \
            s['parts'][-2]
        if leaf == 'begin' and s['value'] >= length:
            beyond.append(f'{s["path"]}={s["value"]}')
        elif leaf in ('end', 'milestones') and s['value'] > length:
            beyond.append(f'{s["path"]}={s["value"]}')
        elif leaf == 'T_max':
            begin = next((b['value'] for b in settings
                          if b['path'] == f'{s["group"]}.begin'), 0)
            if begin + s['value'] > length:
                beyond.append(f'{s["path"]}={s["value"]}')
    if beyond:
        out.append(
            f'the parameter schedule runs past the end of training '
            f'(train_cfg.{length_key}={length}): {", ".join(beyond)}; the '
            'schedule is cut where training stops (e.g. the learning rate '
            f'is not annealed). tools/train.py {option} N sets the length '
            'and rescales the schedule with it.')
    return out


#: sections checked by :func:`check_config_keys`: the registry they are
#: built from and the keys the builder consumes besides the class's own
#: ``__init__`` arguments
_SECTIONS = {
    'train_cfg': ('LOOPS', {'type', 'by_epoch', '_scope_'}),
    'val_cfg': ('LOOPS', {'type', '_scope_'}),
    'test_cfg': ('LOOPS', {'type', '_scope_'}),
    'default_hooks': ('HOOKS', {'type', 'priority', '_scope_'}),
    'custom_hooks': ('HOOKS', {'type', 'priority', '_scope_'}),
    'param_scheduler': ('PARAM_SCHEDULERS',
                        {'type', 'convert_to_iter_based', '_scope_'}),
    'optim_wrapper': ('OPTIM_WRAPPERS', {
        'type', 'optimizer', 'constructor', 'paramwise_cfg', '_scope_'
    }),
}
#: loops built without a ``type`` (MMEngine's defaults)
_DEFAULT_LOOPS = {
    'train_cfg': lambda c: 'EpochBasedTrainLoop'
    if c.get('by_epoch', False) else 'IterBasedTrainLoop',
    'val_cfg': lambda c: 'ValLoop',
    'test_cfg': lambda c: 'TestLoop',
}


def _typo_distance(a: str, b: str) -> int:
    """Edit distance counting a swap of neighbours as one edit
    (``trian_cfg`` is 1 from ``train_cfg``; a config's own variables such as
    ``arch_dataloader`` are 3 or more from every runner key)."""
    prev2: List[int] = []
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1,
                         prev[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        prev2, prev = prev, cur
    return prev[-1]


def _init_keywords(cls: type) -> Optional[Set[str]]:
    """The keyword arguments ``cls(...)`` accepts; None when it takes
    ``**kwargs`` (nothing can be said)."""
    import inspect
    try:
        params = inspect.signature(cls.__init__).parameters.values()
    except (TypeError, ValueError):
        return None
    names = set()
    for param in params:
        if param.kind is param.VAR_KEYWORD:
            return None
        names.add(param.name)
    names.discard('self')
    return names


def _section_errors(where: str, path: str, node: Any, registry: Any,
                    extra: Set[str], default_type: Optional[str]) -> List[str]:
    if not isinstance(node, Mapping):
        return []
    type_ = node.get('type', default_type)
    if isinstance(type_, type):
        cls = type_
    elif isinstance(type_, str):
        try:
            cls = registry.get(type_)
        except Exception:  # noqa: BLE001 - an unknown type is built later
            cls = None
    else:
        cls = None
    if cls is None:
        return []
    accepted = _init_keywords(cls)
    if accepted is None:
        return []
    accepted |= extra
    errors = []
    for key in node:
        if key in accepted:
            continue
        close = difflib.get_close_matches(str(key), sorted(accepted), n=1,
                                          cutoff=0.6)
        hint = f'; did you mean {path}.{close[0]}?' if close else ''
        errors.append(f'{where}: {path}.{key} is not an argument of '
                      f'{cls.__name__} (it takes '
                      f'{", ".join(sorted(accepted - {"_scope_"}))}){hint}')
    return errors


def check_config_keys(cfg: Config) -> None:
    """Refuse misspelt keys of a config file before anything is built.

    MMEngine ignores an unknown top-level key (``trian_cfg`` trains with
    the default loop) and reports an unknown key of a section only when
    the section is built, as a bare ``TypeError`` naming neither the file
    nor the key. This checks, with the config's file in every message:

    * top-level keys that are not read by the runner but are close to a key
      it reads (``trian_cfg`` → ``train_cfg``; other unknown top-level keys
      are the config's own variables, e.g. ``train_pipeline``, and stay
      allowed);
    * the keys of ``train_cfg`` / ``val_cfg`` / ``test_cfg``, every
      ``default_hooks`` / ``custom_hooks`` entry, every ``param_scheduler``
      and ``optim_wrapper`` against the ``__init__`` arguments of the class
      their ``type`` names (classes taking ``**kwargs`` are not checked).

    Args:
        cfg (Config): the loaded config (after ``--cfg-options``).

    Raises:
        KeyError: one line per misspelt key: file, key path and the closest
            accepted key.
    """
    from mmfusenas.registry import (HOOKS, LOOPS, OPTIM_WRAPPERS,
                                    PARAM_SCHEDULERS)
    registries = dict(HOOKS=HOOKS, LOOPS=LOOPS, OPTIM_WRAPPERS=OPTIM_WRAPPERS,
                      PARAM_SCHEDULERS=PARAM_SCHEDULERS)
    where = f'config {cfg.filename}' if cfg.filename else 'config'
    errors = []
    for key in cfg.keys():
        if key in RUNNER_KEYS or key.startswith('_'):
            continue
        # the edit distance is at least the length difference: only keys
        # of a near length are compared in full
        close = [
            k for k in sorted(RUNNER_KEYS)
            if abs(len(key) - len(k)) <= 2 and _typo_distance(key, k) <= 2
        ]
        if close:
            errors.append(f'{where}: top-level key {key!r} is read by '
                          f'nothing; did you mean {close[0]!r}?')
    for section, (reg_name, extra) in _SECTIONS.items():
        node = cfg.get(section)
        if node is None:
            continue
        registry = registries[reg_name]
        default = _DEFAULT_LOOPS.get(section)
        if section == 'default_hooks' and isinstance(node, Mapping):
            items = [(f'{section}.{k}', v) for k, v in node.items()]
        elif isinstance(node, (list, tuple)):
            items = [(f'{section}[{i}]', v) for i, v in enumerate(node)]
        else:
            items = [(section, node)]
        for path, item in items:
            errors += _section_errors(
                where, path, item, registry, extra,
                default(item) if default and isinstance(item, Mapping)
                else None)
    if errors:
        raise KeyError('\n'.join(errors))


#: where files a config may name come from, by the key naming them
_FILE_HINTS = {
    'feature_weights': (
        "torchvision's ImageNet VGG16 state dict, "
        'https://download.pytorch.org/models/vgg16-397923af.pth (kept by '
        'torchvision in ~/.cache/torch/hub/checkpoints/)',
        '{parent}.measure=gradient {path}=None (the weight-free gradient '
        'measure of U2Fusion)'),
    'checkpoint': ('the pretrained weights this init_cfg names',
                   '{parent}=None (random initialisation)'),
    'pretrained': ('the pretrained weights this model names',
                   '{path}=None (random initialisation)'),
    'load_from': ('a checkpoint of an earlier run',
                  'load_from=None'),
}


def _named_files(node: Any, path: str, out: List[Tuple[str, str]]) -> None:
    """Collect ``(dotted key, file)`` for the keys of :data:`_FILE_HINTS`
    holding a local path (URLs and ``scheme://`` names are left out)."""
    if isinstance(node, Mapping):
        is_pretrained = node.get('type') == 'Pretrained'
        for key, value in node.items():
            sub = f'{path}.{key}' if path else str(key)
            wanted = key in ('feature_weights', 'pretrained', 'load_from') \
                or (key == 'checkpoint' and is_pretrained)
            if wanted and isinstance(value, str) and value \
                    and '://' not in value:
                out.append((sub, value))
            else:
                _named_files(value, sub, out)
    elif isinstance(node, (list, tuple)):
        for i, value in enumerate(node):
            _named_files(value, f'{path}.{i}', out)


def check_run_files(cfg: Config) -> None:
    """Fail before the runner is built when a file the training run reads
    is missing.

    Weight files are otherwise opened late: a perceptual loss's VGG16 file
    on the first training step, ``init_cfg`` checkpoints when the weights
    are initialised, after datasets and hooks are built and hundreds of log
    lines are printed. This checks every local path named by a
    ``feature_weights`` / ``pretrained`` / ``load_from`` key or by the
    ``checkpoint`` of a ``Pretrained`` ``init_cfg`` anywhere in the config.

    Args:
        cfg (Config): the config as the run will use it.

    Raises:
        FileNotFoundError: one paragraph per missing file: the key, the
            file, where to get it and the option that does without it.
    """
    found: List[Tuple[str, str]] = []
    # what the runner reads; other top-level keys are the file's variables
    _named_files({k: v for k, v in cfg._cfg_dict.to_dict().items()
                  if k in RUNNER_KEYS}, '', found)
    where = f'config {cfg.filename}' if cfg.filename else 'config'
    errors = []
    for path, file in found:
        if osp.isfile(file):
            continue
        key = path.rpartition('.')[2]
        parent = path.rpartition('.')[0]
        source, avoid = _FILE_HINTS[key]
        errors.append(
            f'{where}: {path} = {file!r} is not a file (from {os.getcwd()}).'
            f' It is {source}. Put it there, point {path} at it, or run '
            f'without it: --cfg-options '
            f'{avoid.format(path=path, parent=parent)}')
    if errors:
        raise FileNotFoundError('\n'.join(errors))


#: the model wrapper of distributed runs (plain models: MMEngine's DDP step;
#: search algorithms: their own train step with averaged gradients)
DEFAULT_MODEL_WRAPPER = 'mmfusenas.AlgorithmDistributedDataParallel'


def register_config_package() -> None:
    """Let configs of other projects name ours: ``'mmfusenas::tim/x.py'``.

    MMEngine resolves ``package::path`` through its ``MODULE2PACKAGE``
    table and the package's ``.mim/configs`` folder
    (``mmfusenas/.mim/configs``, a link to ``configs/`` in a source
    checkout). Called when :mod:`mmfusenas` is imported, so it works
    whenever ``mmfusenas`` is imported before the config is parsed (our
    tools, or ``import mmfusenas`` in your script).
    """
    from mmengine.config.utils import MODULE2PACKAGE
    MODULE2PACKAGE.setdefault('mmfusenas', 'mmfusenas')


def enable_tensorboard(cfg: Config) -> None:
    """Add MMEngine's ``TensorboardVisBackend`` to the config's visualizer.

    Scalars (losses, metrics, ``arch/*`` weights) and the images of
    ``PredictionVisualizationHook`` then also go to
    ``<work_dir>/<timestamp>/vis_data/`` as TensorBoard event files
    (``tensorboard --logdir work_dirs``). Idempotent.

    Raises:
        ImportError: the ``tensorboard`` package is not installed (it is an
            optional dependency: ``pip install tensorboard``).
    """
    import importlib.util
    if importlib.util.find_spec('tensorboard') is None:
        raise ImportError(
            'the TensorBoard switch (tensorboard = True in the config or '
            '--tensorboard) needs the optional `tensorboard` package: '
            '`pip install tensorboard` (or -r requirements/optional.txt)')
    visualizer = cfg.get('visualizer')
    if visualizer is None:
        cfg.visualizer = visualizer = ConfigDict(
            type='Visualizer', vis_backends=[])
    backends = list(visualizer.get('vis_backends') or [])
    if not any(str(b.get('type', '')).split('.')[-1] ==
               'TensorboardVisBackend' for b in backends):
        backends.append(dict(type='TensorboardVisBackend'))
    visualizer.vis_backends = backends


def _dataset_roots(node: Any, found: Set[str]) -> None:
    """Collect the ``data_root`` of every dataset config under ``node``."""
    if isinstance(node, dict):
        if 'data_root' in node and isinstance(node['data_root'], str) and \
                node['data_root']:
            found.add(node['data_root'])
        for value in node.values():
            _dataset_roots(value, found)
    elif isinstance(node, (list, tuple)):
        for value in node:
            _dataset_roots(value, found)


def _under(path: str, root: str) -> bool:
    """Whether ``path`` is ``root`` or inside it (folder boundaries, so
    ``data/toy_det/`` is not under ``data/toy``)."""
    root = root.rstrip('/')
    return path.rstrip('/') == root or path.startswith(root + '/')


def _moved(path: str, roots: List[str], new: str) -> Optional[str]:
    """``path`` with the first (longest) old root of ``roots`` it lies
    under replaced by ``new``, keeping the sub-folder and a trailing
    ``/``; None when it lies under none."""
    for root in roots:
        if _under(path, root):
            rest = path[len(root.rstrip('/')):].lstrip('/')
            return osp.join(new, rest) if rest else new
    return None


def _reroot(node: Any, old: List[str], new: str, path: str,
            changed: List[str]) -> Any:
    if isinstance(node, dict):
        for key in list(node.keys()):
            sub = f'{path}.{key}' if path else str(key)
            node[key] = _reroot(node[key], old, new, sub, changed)
        return node
    if isinstance(node, list):
        return [
            _reroot(v, old, new, f'{path}[{i}]', changed)
            for i, v in enumerate(node)
        ]
    if isinstance(node, tuple):
        return tuple(
            _reroot(v, old, new, f'{path}[{i}]', changed)
            for i, v in enumerate(node))
    if isinstance(node, str) and node:
        moved = _moved(node, old, new)
        if moved is not None and moved != node:
            changed.append(path)
            return moved
    return node


def _old_roots(cfg: Config) -> List[str]:
    """The roots ``--data-root`` replaces, longest first.

    The config's ``data_root`` variable (whatever file set it: a child's
    own value replaces its base's, but the datasets may still hold the
    base's) and, for the dataset roots outside it, their common folder.

    Raises:
        ValueError: dataset roots outside the ``data_root`` variable that
            share no folder (two data sets: one ``--data-root`` cannot say
            where each goes).
    """
    found: Set[str] = set()
    _dataset_roots(cfg._cfg_dict, found)
    base = cfg.get('data_root')
    old = [base] if isinstance(base, str) and base else []
    outside = sorted(r for r in found if not any(_under(r, b) for b in old))
    if outside:
        try:
            common = osp.commonpath([r.rstrip('/') or '/' for r in outside])
        except ValueError:  # absolute and relative paths mixed
            common = ''
        if common in ('', '/', '.'):
            raise ValueError(
                f'--data-root: {cfg.filename or "the config"} reads data '
                f'from unrelated folders {outside}; one --data-root cannot '
                'replace them all. Set each dataset root with --cfg-options '
                '(e.g. train_dataloader.dataset.data_root=...)')
        old.append(common)
    return sorted(old, key=len, reverse=True)


def reroot_data(cfg: Config, data_root: str) -> List[str]:
    """Point every dataset of ``cfg`` at ``data_root``.

    A config's ``data_root`` variable is only a Python variable of the
    config file: it is copied into every dataset (``dataset.data_root``)
    and into paths built from it (e.g. a COCO metric's
    ``ann_file=data_root + 'annotations/...'``) when the file is parsed, so
    ``--cfg-options data_root=X`` changes nothing that is used, and a child
    config's own ``data_root = '...'`` does not reach the datasets its
    ``_base_`` built. This function replaces the old root(s) — the
    config's ``data_root`` variable and the common folder of the dataset
    roots outside it (a base's ``data_root``) — in the ``data_root`` of
    every (nested) dataset config (train / val / test loaders, a search's
    ``train_cfg.arch_dataloader``, wrapped datasets) and in every other
    string under them (evaluator annotation files, absolute ``img_path``
    prefixes, ...). Sub-folders are kept: ``<old>/train/`` ->
    ``<new>/train/``. Paths given with ``--cfg-options`` are merged after
    re-rooting (:func:`load_runner_config`), so they win.

    Args:
        cfg (Config): the config, changed in place.
        data_root (str): the new root folder.

    Returns:
        list[str]: the dotted keys that changed (never empty).

    Raises:
        FileNotFoundError: ``data_root`` is not a folder.
        ValueError: nothing in the config lies under a data root (the
            option would change nothing), or the datasets read unrelated
            folders.
    """
    if not osp.isdir(data_root):
        raise FileNotFoundError(f'--data-root folder does not exist: '
                                f'{data_root}')
    old = _old_roots(cfg)
    changed: List[str] = []
    for key in list(cfg.keys()):
        if key == 'data_root':
            continue
        value = cfg[key]
        new = _reroot(value, old, data_root, key, changed)
        if not isinstance(value, (dict, ConfigDict)):
            cfg[key] = new
    if not changed:
        raise ValueError(
            f'--data-root {data_root}: nothing in '
            f'{cfg.filename or "the config"} lies under a data root '
            f'({old or "no dataset has a data_root"}), so the option would '
            'change nothing; set the dataset paths with --cfg-options')
    if 'data_root' in cfg:
        cfg.data_root = data_root
    return changed


#: ``--pairs`` holds out one pair in this many (at least one) for validation
PAIRS_VAL_EVERY = 10


def _image_stems(folder: str, suffixes: Tuple[str, ...]) -> Set[str]:
    """Stems of the images directly in ``folder``, read as
    :class:`~mmfusenas.datasets.PairedImageDataset` reads a modality folder
    (suffixes case-insensitive, hidden files left out)."""
    return {
        osp.splitext(name)[0] for name in os.listdir(folder)
        if not name.startswith('.')
        and osp.splitext(name)[1].lower() in suffixes
        and osp.isfile(osp.join(folder, name))
    }


def use_pair_folders(cfg: Config, folders: Tuple[str, str],
                     img_suffixes: Sequence[str]) -> List[str]:
    """Train and validate ``cfg`` on two folders of image pairs
    (``tools/train.py --pairs IR_DIR VI_DIR``).

    The files of the two folders pair by stem (the name without extension;
    extensions may differ), as :class:`~mmfusenas.datasets.
    PairedImageDataset` pairs them; no split file is read. The pairs are
    sorted by stem and one in every :data:`PAIRS_VAL_EVERY` (the middle one
    of each block, at least one) is held out: the validation (and test)
    set; the rest trains. The same folders always give the same split. The
    first folder is the config's first modality (``ir`` of the IVIF
    configs, ``mri`` of the medical ones). A config whose validation starts
    after its end (``val_begin > max_iters``) validates from the start.

    Args:
        cfg (Config): a config whose train and validation datasets are
            ``PairedImageDataset`` of two modalities; changed in place.
        folders (tuple[str, str]): the folders of the first and second
            modality.
        img_suffixes (Sequence[str]): the image suffixes of a dataset that
            states none (``PairedImageDataset``'s default).

    Returns:
        list[str]: lines for the log: the pairs found and the held-out
        stems.

    Raises:
        FileNotFoundError: a folder does not exist.
        ValueError: the config does not train on such datasets (or reads
            other data too), a stem has a file in one folder only, or there
            are fewer than 2 pairs.
    """
    where = cfg.filename or 'the config'
    datasets = {}
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        loader = cfg.get(key)
        dataset = loader.get('dataset') if isinstance(loader, Mapping) \
            else None
        if _short_type(dataset) == 'PairedImageDataset':
            datasets[key] = dataset
        elif key != 'test_dataloader':
            found = _short_type(dataset) if dataset is not None else \
                f'missing ({key} is a {type(loader).__name__})'
            raise ValueError(
                f'--pairs trains fusion configs, whose {key}.dataset is a '
                f'PairedImageDataset; {key}.dataset of {where} is {found}')
    others = [key for key, _ in _run_loaders(cfg, 'train')
              if key not in ('train_dataloader', 'val_dataloader')]
    if others:
        raise ValueError(f'--pairs sets the train and validation data only; '
                         f'{where} also reads {", ".join(others)}')
    train = datasets['train_dataloader']
    modalities = list(train.get('data_prefix') or {}) or ['ir', 'vi']
    if len(modalities) != 2:
        raise ValueError(f'--pairs gives two folders, but {where} fuses '
                         f'{len(modalities)} modalities {modalities}')
    suffixes = tuple(s.lower() for s in train.get('img_suffixes',
                                                  img_suffixes))
    for folder in folders:
        if not osp.isdir(folder):
            raise FileNotFoundError(f'--pairs: {folder} is not a folder')
    stems = [_image_stems(folder, suffixes) for folder in folders]
    names = ' and '.join(folders)
    for i in (0, 1):
        alone = sorted(stems[i] - stems[1 - i])
        if alone:
            shown = ', '.join(alone[:10]) + (', ...' if len(alone) > 10
                                               else '')
            raise ValueError(
                f'--pairs: {len(alone)} image(s) of {folders[i]} have no '
                f'file of the same stem in {folders[1 - i]}: {shown}. The '
                'two folders must hold the same stems (one file per pair '
                'in each, e.g. ir/0001.png and vi/0001.jpg)')
    paired = sorted(stems[0])
    if len(paired) < 2:
        raise ValueError(
            f'--pairs needs at least 2 pairs (one to train on, one held out '
            f'for validation); {names} hold {len(paired)} (images: '
            f'{", ".join(suffixes)})')
    n, n_val = len(paired), max(1, len(paired) // PAIRS_VAL_EVERY)
    held = [(2 * i + 1) * n // (2 * n_val) for i in range(n_val)]
    kept = [i for i in range(n) if i not in held]
    prefix = dict(zip(modalities, (osp.abspath(f) for f in folders)))
    root = osp.commonpath(list(prefix.values()))
    for key, dataset in datasets.items():
        dataset.update(data_root=root, data_prefix=prefix, ann_file='',
                       indices=kept if key == 'train_dataloader' else held)
    lines = []
    train_cfg = cfg.get('train_cfg') or {}
    length = train_cfg.get('max_iters', train_cfg.get('max_epochs'))
    if _is_count(train_cfg.get('val_begin')) and _is_count(length) and \
            train_cfg.val_begin > length:
        lines.append(f'--pairs: validating on the held-out pairs '
                     f'(train_cfg.val_begin {train_cfg.pop("val_begin")} '
                     f'was after the end of training)')
    shown = ', '.join(paired[i] for i in held[:10]) + (
        ', ...' if n_val > 10 else '')
    lines.insert(0, (
        f'--pairs: {n} pairs matched by stem in {names} '
        f'({" / ".join(modalities)}): {len(kept)} train, {n_val} held out '
        f'for validation (one in every {PAIRS_VAL_EVERY} in name order, at '
        f'least one): {shown}'))
    return lines


def add_runner_args(parser: argparse.ArgumentParser) -> None:
    """Add ``--work-dir``, ``--cfg-options``, ``--launcher``, local rank.

    Distributed launchers pass ``--local-rank`` (torch >= 2.0) or
    ``--local_rank`` (older ones); both are accepted.
    """
    parser.add_argument('--work-dir', help='folder for logs and outputs')
    parser.add_argument(
        '--tensorboard',
        action='store_true',
        help='also log to TensorBoard (same as tensorboard = True in the '
        'config; needs the tensorboard package)')
    parser.add_argument(
        '--data-root',
        help='re-root every dataset of the config (and paths built from '
        'its data_root, e.g. annotation files of metrics) at this folder')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=ConfigOptionsAction,
        help='override config settings, e.g. train_cfg.max_iters=50; a '
        'loss list by the name of a loss set, e.g. model.losses=tim '
        '(configs/_base_/losses/)')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)


def load_runner_config(args: argparse.Namespace) -> Config:
    """Load ``args.config`` and apply the options of :func:`add_runner_args`.

    The work dir defaults to ``./work_dirs/<config name>``, as in mmdet.
    Also exports ``LOCAL_RANK`` for distributed runs.

    ``--cfg-options`` are checked before they are merged: values written as
    Python dicts are refused (:func:`check_option_values`), loss-set names
    given for loss lists are replaced by the sets
    (:func:`resolve_loss_sets`), unknown keys are reported
    (:func:`check_cfg_options`) and a changed ``type`` that keeps
    arguments the new type does not take is refused
    (:func:`check_type_changes`). After merging, the keys
    (:func:`check_config_keys`) and every ``type`` of the config
    (:func:`check_config_types`) are checked. All of this happens before
    anything is built or written.
    """
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    if not osp.isfile(args.config):
        raise FileNotFoundError(f'config file not found: {args.config}')
    cfg = Config.fromfile(args.config)
    cfg.launcher = args.launcher
    options = dict(args.cfg_options or {})
    data_root = getattr(args, 'data_root', None)
    if 'data_root' in options:
        # a top-level data_root option would be ignored (the datasets were
        # resolved when the file was parsed): treat it as --data-root
        given = options.pop('data_root')
        if data_root is not None and data_root != given:
            raise ValueError(f'--data-root {data_root} and --cfg-options '
                             f'data_root={given} disagree')
        data_root = given
    if options:
        # dict(...) values, loss-set names, a changed type keeping keys
        check_option_values(cfg, options)
        options = resolve_loss_sets(cfg, options)
        # KEY._delete_=True replaces the dict KEY: its keys are all new
        replaced = [str(k)[:-len('._delete_')] for k, v in options.items()
                    if str(k).endswith('._delete_') and v is True]
        check_cfg_options(cfg, {
            k: v for k, v in options.items()
            if not any(str(k).startswith(f'{r}.') for r in replaced)})
        check_type_changes(cfg, options)
    if data_root is not None:
        # before the options are merged: a path given with --cfg-options
        # is the user's explicit choice and wins
        changed = reroot_data(cfg, data_root)
        from .distributed import launcher_rank  # once per run, not per rank
        if launcher_rank(args.launcher) == 0:
            print(f'data root {data_root}: re-rooted {len(changed)} config '
                  f'entries ({", ".join(changed[:6])}'
                  f'{", ..." if len(changed) > 6 else ""})')
    if options:
        cfg.merge_from_dict(options)
    check_config_keys(cfg)
    check_config_types(cfg)  # every type= against the registries
    if getattr(args, 'tensorboard', False) or cfg.get('tensorboard', False):
        enable_tensorboard(cfg)
    work_dir: Optional[str] = args.work_dir
    if work_dir is not None:
        cfg.work_dir = work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(args.config))[0])
    return cfg


def setup_distributed(cfg: Config) -> None:
    """Prepare a distributed run of ``cfg`` (``cfg.launcher != 'none'``).

    * ``model_wrapper_cfg`` defaults to
      ``dict(type='mmfusenas.AlgorithmDistributedDataParallel')``, which
      runs a search algorithm's own train step (and plain models as DDP
      does); the runner looks the type up in MMEngine's root registry, so
      the scope prefix is needed;
    * without CUDA, the process group is initialised here with gloo
      (MMEngine's ``init_dist`` always calls ``torch.cuda.set_device``; the
      runner skips it when a group exists): ``env_cfg.dist_cfg.backend``
      ``'nccl'`` (the GPU default) becomes ``'gloo'``, ``timeout`` (seconds)
      is honoured; ``sync_bn`` (torch's / mmcv's ``SyncBatchNorm``, CUDA
      only) raises a :class:`ValueError` naming the option.

    Nothing happens for ``launcher='none'``.
    """
    launcher = cfg.get('launcher', 'none')
    if launcher == 'none':
        return
    if cfg.get('model_wrapper_cfg', None) is None:
        cfg.model_wrapper_cfg = dict(type=DEFAULT_MODEL_WRAPPER)
    import torch
    import torch.distributed as dist

    from .distributed import init_cpu_distributed
    if torch.cuda.is_available():
        return
    if cfg.get('sync_bn', None) is not None:
        raise ValueError(
            f"sync_bn={cfg.sync_bn!r}: SyncBatchNorm needs CUDA and this "
            'machine has none; remove `sync_bn` from the config (or '
            "--cfg-options sync_bn=None) for per-rank BatchNorm statistics "
            '(see docs/user_guides/distributed.md, BatchNorm)')
    if dist.is_initialized():
        return
    dist_cfg = dict(cfg.get('env_cfg', {}).get('dist_cfg', {}))
    backend = dist_cfg.get('backend', 'gloo')
    if backend == 'nccl':
        backend = 'gloo'
    init_cpu_distributed(launcher, backend, timeout=dist_cfg.get('timeout'))


def load_task_model_cfg(config: str) -> ConfigDict:
    """The ``model`` of an mmdet / mmseg config, ready to be our task model.

    ``config`` is a file or ``'mmdet::fcos/fcos_r50-caffe_fpn_gn-head_1x_
    coco.py'`` / ``'mmseg::...'`` (resolved in the installed package's
    ``.mim/configs``). The compound models normalise the fused / enhanced
    image themselves, so the task model's ``data_preprocessor`` is removed;
    ``_scope_`` is set to the package's scope (``mmdet`` / ``mmseg``) so it
    builds from inside our configs. Set ``num_classes`` and the backbone's
    ``init_cfg`` (``None`` or a LOCAL checkpoint: nothing is downloaded)
    afterwards.

    Returns:
        ConfigDict: the model config.
    """
    scope = None
    path = config
    if '::' in config:
        from mmengine.config.utils import (_get_external_cfg_base_path,
                                           _get_package_and_cfg_path)
        from mmengine.utils import get_installed_path
        scope = config.partition('::')[0]
        package, rel = _get_package_and_cfg_path(config)
        path = _get_external_cfg_base_path(get_installed_path(package), rel)
    if not osp.isfile(path):
        raise FileNotFoundError(f'task model config not found: {config}')
    cfg = Config.fromfile(path)
    if 'model' not in cfg:
        raise KeyError(f'{config} has no `model`')
    model = cfg.model
    model.pop('data_preprocessor', None)
    scope = scope or cfg.get('default_scope')
    if scope:
        model['_scope_'] = scope
    return model


# --- --cfg-options values MMEngine cannot parse; named loss sets ----------

#: the folder of the named loss sets under ``configs/``: ``<name>.py``
#: holding one list, ``losses``
LOSS_SETS_FOLDER = '_base_/losses'
#: the documentation of replacing a config's losses
LOSS_RECIPE_DOC = 'docs/user_guides/fusion_losses.md#swapping-the-losses'


class UnparsedOption(str):
    """A ``--cfg-options`` value that MMEngine's parser cannot read, kept as
    its text (:class:`ConfigOptionsAction`); :func:`load_runner_config`
    refuses it with :func:`check_option_values`'s message."""


class ConfigOptionsAction(DictAction):
    """MMEngine's :class:`~mmengine.config.DictAction` that keeps a value it
    cannot parse instead of crashing.

    ``DictAction`` reads numbers, booleans, ``None``, strings and (nested)
    lists / tuples. A Python ``dict(...)`` holding a comma sends its parser
    into endless recursion (``RecursionError``) and unbalanced brackets
    fail an assertion, both inside ``argparse`` with a traceback that names
    neither the option nor the fix. Such a value is kept as an
    :class:`UnparsedOption`; :func:`load_runner_config` explains it. An
    item without ``=`` is an ``argparse`` error naming it.
    """

    def __call__(self, parser, namespace, values, option_string=None):
        options = dict(getattr(namespace, self.dest, None) or {})
        for item in values or []:
            key, sep, text = str(item).partition('=')
            if not sep or not key:
                raise argparse.ArgumentError(
                    self, f'{item!r} is not KEY=VALUE (e.g. '
                    'train_cfg.max_iters=50)')
            try:
                options[key] = self._parse_iterable(text)
            except (RecursionError, AssertionError):
                options[key] = UnparsedOption(text)
        setattr(namespace, self.dest, options)


def _configs_dir() -> Optional[str]:
    """The ``configs/`` folder shipped with the package
    (``mmfusenas/.mim/configs`` or ``configs/`` next to the package, as
    :func:`mmfusenas.apis.inferencer.configs_dir`); None without one."""
    pkg = osp.dirname(osp.dirname(osp.abspath(__file__)))  # mmfusenas/
    for folder in (osp.join(pkg, '.mim', 'configs'),
                   osp.join(osp.dirname(pkg), 'configs')):
        if osp.isdir(folder):
            return folder
    return None


def loss_sets_dir() -> str:
    """The folder of the named loss sets (``configs/_base_/losses``)."""
    return osp.join(_configs_dir() or 'configs',
                    *LOSS_SETS_FOLDER.split('/'))


def loss_set_names() -> List[str]:
    """The names of the loss sets: the files of :func:`loss_sets_dir`."""
    folder = loss_sets_dir()
    if not osp.isdir(folder):
        return []
    return sorted(name[:-3] for name in os.listdir(folder)
                  if name.endswith('.py') and not name.startswith('_'))


def load_loss_set(name: str) -> List[dict]:
    """The ``losses`` list of the loss set ``name``.

    Args:
        name (str): a name of :func:`loss_set_names`, e.g. ``'tim'``.

    Returns:
        list[dict]: the loss configs (``dict(type=...)``).

    Raises:
        KeyError: no set of that name; the message lists the sets and the
            closest name.
        ValueError: the set's file has no list of loss configs ``losses``.
    """
    names = loss_set_names()
    if name not in names:
        close = difflib.get_close_matches(name, names, n=1, cutoff=0.6)
        hint = f'; did you mean {close[0]}?' if close else ''
        raise KeyError(
            f'no loss set named {name!r}{hint} The loss sets are '
            f'{", ".join(names) or "(none)"} ({loss_sets_dir()}/<name>.py; '
            f'{LOSS_RECIPE_DOC}).')
    path = osp.join(loss_sets_dir(), f'{name}.py')
    losses = Config.fromfile(path)._cfg_dict.to_dict().get('losses')
    if not _is_loss_list(losses):
        raise ValueError(f'{path}: a loss set defines `losses`, a list of '
                         'loss configs (dict(type=...))')
    return list(losses)


def _is_loss_list(value: Any) -> bool:
    """A non-empty list / tuple of configs with a ``type``."""
    return isinstance(value, (list, tuple)) and bool(value) and all(
        isinstance(item, Mapping) and 'type' in item for item in value)


def config_loss_lists(cfg: Config) -> List[str]:
    """Dotted keys of the loss lists of ``cfg`` the runner reads: keys whose
    name ends with ``losses`` holding a list of ``dict(type=...)``
    (``model.losses``, ``model.fusion_losses``,
    ``model.architecture.fusion_losses``, ...)."""
    out: List[str] = []

    def walk(node: Any, path: str) -> None:
        if isinstance(node, Mapping):
            for key, value in node.items():
                sub = f'{path}.{key}' if path else str(key)
                if str(key).endswith('losses') and _is_loss_list(value):
                    out.append(sub)
                walk(value, sub)
        elif isinstance(node, (list, tuple)):
            for i, value in enumerate(node):
                walk(value, f'{path}.{i}')

    walk({k: v for k, v in cfg._cfg_dict.items() if k in RUNNER_KEYS}, '')
    return out


def _loss_key(cfg: Config, key: str) -> bool:
    """Whether ``key`` names a loss list of ``cfg`` (or a list item of
    one: ``model.losses.0``)."""
    parts = str(key).split('.')
    while parts and parts[-1].isdigit():
        parts = parts[:-1]
    found, node, _ = walk_path(cfg._cfg_dict, parts)
    return bool(parts) and parts[-1].endswith('losses') and (
        _is_loss_list(node) or not found)


def _base_reference(cfg: Config) -> str:
    """How a child config anywhere names ``cfg`` as its ``_base_``:
    ``'mmfusenas::tim/x.py'`` for a config shipped in ``configs/``, else
    the file's absolute path."""
    if not cfg.filename:
        return 'CONFIG.py'
    path = osp.abspath(cfg.filename)
    root = _configs_dir()
    if root is None:
        return path
    rel = osp.relpath(osp.realpath(path), osp.realpath(root))
    return path if rel.startswith('..') else f'mmfusenas::{rel}'


def _child_config(cfg: Config, key: str, value: str) -> str:
    """A child config setting ``key`` to ``value`` (Python text)."""
    parts = str(key).split('.')
    base = _base_reference(cfg)
    if any(part.isdigit() for part in parts):
        return f"_base_ = '{base}'  # then write the whole list / dict"
    text = value
    for part in reversed(parts[1:]):
        text = f'dict({part}={text})'
    return f"_base_ = '{base}'\n    {parts[0]} = {text}"


def _replace_hint(cfg: Config, key: str, value: str) -> str:
    """How to replace the list / dict at ``key``: the named loss sets for
    loss lists, a child config (and ``_delete_``) for anything."""
    sets = loss_set_names()
    if _loss_key(cfg, key):
        parts = str(key).split('.')
        while parts and parts[-1].isdigit():
            parts = parts[:-1]
        lists = '.'.join(parts)
        example = sets[0] if sets else 'NAME'
        if not value.startswith('['):  # one item of the list was named
            value = f'[{value}, ...]'
        return (
            f'To replace the losses, name a loss set: --cfg-options '
            f'{lists}={example} (the sets: {", ".join(sets) or "(none)"}; '
            f'configs/{LOSS_SETS_FOLDER}/<name>.py), or write the list in a '
            'child config; a list in a child config replaces the '
            "base's list:\n    "
            f'{_child_config(cfg, lists, value)}\n'
            f'See {LOSS_RECIPE_DOC}.')
    options = _dict_as_options(key, value)
    in_list = any(part.isdigit() for part in str(key).split('.'))
    if options and not in_list:
        given = ('The same on the command line: --cfg-options '
                 f'{key}._delete_=True {" ".join(options)} (_delete_ '
                 'replaces the dict; it does not work for list items).\n')
    else:
        given = ''
    if value.startswith('dict(') and value != 'dict()':
        value = f'dict(_delete_=True, {value[5:]}'  # replace, not merge
    return (
        'Set the keys one by one (KEY.SUBKEY=VALUE, list items by index: '
        'KEY.0.SUBKEY=VALUE; the keys already there stay), or write the '
        "value in a child config, where a list replaces the base's list and "
        'a dict is merged into the base\'s unless it holds _delete_=True:\n'
        f'    {_child_config(cfg, key, value)}\n{given}'
        'See docs/user_guides/train_test.md#replacing-lists-and-dicts.')


#: a string --cfg-options passes through unchanged (MMEngine's parser drops
#: spaces and quotes and splits at commas)
_PLAIN_STRING = re.compile(r'^[\w./:+-]+$')


def _dict_as_options(key: str, text: str) -> Optional[List[str]]:
    """``KEY.SUB=VALUE`` options equal to a ``dict(...)`` text (nested
    dicts as dotted keys), or None when the text is no ``dict(...)`` of
    literals that ``--cfg-options`` can write (numbers, booleans, None,
    plain strings and lists / tuples of them)."""
    import ast

    def literal(node: ast.AST) -> Optional[str]:
        try:
            value = ast.literal_eval(node)
        except (ValueError, TypeError, SyntaxError, MemoryError,
                RecursionError):
            return None
        if isinstance(value, (list, tuple)):
            items = [literal(ast.Constant(v)) for v in value]
            if any(item is None for item in items):
                return None
            inner = ','.join(items)
            return f'[{inner}]' if isinstance(value, list) else f'({inner})'
        if isinstance(value, str):
            return value if _PLAIN_STRING.match(value) else None
        if value is None or isinstance(value, (bool, int, float)):
            return str(value)
        return None

    def walk(node: ast.AST, prefix: str, out: List[str]) -> bool:
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                and node.func.id == 'dict' and not node.args):
            return False
        for kw in node.keywords:
            if kw.arg is None:
                return False
            sub = f'{prefix}.{kw.arg}' if prefix else kw.arg
            if walk(kw.value, sub, out):
                continue
            value = literal(kw.value)
            if value is None:
                return False
            out.append(f'{sub}={value}')
        return True

    try:
        tree = ast.parse(text.strip(), mode='eval').body
    except SyntaxError:
        return None
    out: List[str] = []
    if not walk(tree, str(key), out) or not out:
        return None
    return out


def _dict_text(value: Any) -> Optional[str]:
    """The text of a value written as a Python dict (``dict(...)``,
    ``{...}``) that MMEngine's parser read as a string, else None."""
    if isinstance(value, str):
        text = value.strip()
        if 'dict(' in text or text.startswith('{') or (
                text.endswith('}') and ':' in text):
            return text
        return None
    if isinstance(value, (list, tuple)):
        items = [_dict_text(v) for v in value]
        if any(item is not None for item in items):
            texts = [item if item is not None else repr(v)
                     for item, v in zip(items, value)]
            joined = ', '.join(texts)
            return f'[{joined}]' if isinstance(value, list) else f'({joined})'
    return None


def check_option_values(cfg: Config, options: Mapping) -> None:
    """Refuse ``--cfg-options`` values written as Python dicts.

    MMEngine's parser reads numbers, ``True`` / ``False`` / ``None``,
    strings and lists / tuples of them; ``dict(...)`` and ``{...}`` are not
    values it knows: one holding a comma ends in a ``RecursionError``
    (:class:`ConfigOptionsAction` keeps it as text), one without arrives as
    a string that fails when the runner builds it.

    Raises:
        ValueError: the option, what the parser accepts and how to replace
            the list or dict instead: a named loss set (loss lists, see
            :func:`load_loss_set`) or a child config. Also for a value the
            parser could not read at all (unbalanced brackets), and for
            ``_delete_`` given for a list item (``model.losses.0._delete_``),
            which MMEngine keeps as an argument instead of obeying it.
    """
    accepted = ('a value is a number, True / False / None, a string, or a '
                'list / tuple of these ([a,b], (1,2))')
    for key, value in options.items():
        parts = str(key).split('.')
        if parts[-1] == '_delete_' and len(parts) > 1 and parts[-2].isdigit():
            item = '.'.join(parts[:-1])
            raise ValueError(
                f'--cfg-options {key}={value}: _delete_ replaces a dict, not '
                'an item of a list: MMEngine merges a list item by its index '
                f'and keeps _delete_ as an argument of {item}. '
                + _replace_hint(cfg, item, 'dict(...)'))
        text = _dict_text(value)
        if text is None and isinstance(value, UnparsedOption):
            raise ValueError(
                f'--cfg-options {key}={value}: MMEngine\'s --cfg-options '
                'parser cannot read this value (unbalanced brackets?); '
                f'{accepted}.')
        if text is None:
            continue
        raise ValueError(
            f'--cfg-options {key}={text}: MMEngine\'s --cfg-options parser '
            'does not read Python dicts (dict(...) or {...}): a value is a '
            'number, True / False / None, a string, or a list / tuple of '
            'these ([a,b], (1,2)); a dict(...) holding a comma sends it '
            'into a RecursionError and one without arrives as a string. '
            + _replace_hint(cfg, key, text))


def resolve_loss_sets(cfg: Config, options: Mapping) -> dict:
    """Replace loss-set names given for loss lists by the sets' lists.

    ``--cfg-options model.losses=max_intensity_gradient``: a string given
    for a key of ``cfg`` that holds a loss list (:func:`config_loss_lists`:
    a key named ``*losses`` holding ``dict(type=...)`` items) names a loss
    set (:func:`loss_set_names`, ``configs/_base_/losses/<name>.py``); the
    option's value becomes that set's list, which replaces the config's
    list when merged. Options under that key change the set's list
    (``model.losses=tim_vgg model.losses.0.feature_weights=PATH``). Other
    options are returned unchanged.

    Args:
        cfg (Config): the loaded config (before the options are merged).
        options (Mapping): ``{dotted.key: value}``.

    Returns:
        dict: the options with the set names replaced by their lists.

    Raises:
        KeyError: an unknown set name for a loss list (the message lists
            the sets and the closest name), or a set name given for a key
            the config does not have (the message names its loss lists).
    """
    out = dict(options)
    for key, value in options.items():
        if not isinstance(value, str) or isinstance(value, UnparsedOption) \
                or not str(key).rpartition('.')[2].endswith('losses'):
            continue
        found, node, _ = walk_path(cfg._cfg_dict, str(key).split('.'))
        where = cfg.filename or 'the config'
        if found and _is_loss_list(node):
            try:
                losses = load_loss_set(value)
            except KeyError as err:
                raise KeyError(f'--cfg-options {key}={value}: '
                               f'{err.args[0]}') from None
            # options under the key change the set's list
            # (model.losses.0.feature_weights=PATH)
            for sub in [k for k in out if str(k).startswith(f'{key}.')]:
                parts = str(sub)[len(key) + 1:].split('.')
                inside, item, _ = walk_path(losses, parts[:-1])
                if not inside or not isinstance(item, dict):
                    raise KeyError(
                        f'--cfg-options {sub}: the loss set {value!r} has '
                        f'no {".".join([key] + parts[:-1])} ({len(losses)} '
                        'losses)')
                item[parts[-1]] = out.pop(sub)
            out[key] = losses
        elif not found and value in loss_set_names():
            lists = config_loss_lists(cfg)
            raise KeyError(
                f'--cfg-options {key}={value}: {where} has no {key}; its '
                f'loss lists are {", ".join(lists) or "(none)"}, e.g. '
                f'--cfg-options {lists[0] if lists else "model.losses"}='
                f'{value}')
    return out


def _changed_type_errors(cfg: Config, options: Mapping) -> List[str]:
    """The errors of :func:`check_type_changes`."""
    errors = []
    registered = None
    for key, value in options.items():
        parts = str(key).split('.')
        if parts[-1] != 'type' or not isinstance(value, str):
            continue
        found, node, _ = walk_path(cfg._cfg_dict, parts[:-1])
        if not found or not isinstance(node, Mapping) \
                or node.get('type') in (None, value):
            continue
        parent = '.'.join(parts[:-1])
        given = {str(k)[len(parent) + 1:].split('.')[0] for k in options
                 if str(k).startswith(f'{parent}.')}
        if options.get(f'{parent}._delete_') is True:
            continue  # the dict is replaced: nothing is kept
        kept = [k for k in node if k not in given and k != '_scope_']
        if registered is None:
            registered = _registered_types(cfg)[0]
        classes = [obj for _, _, obj in registered.get(
            value.rpartition('.')[2], []) if isinstance(obj, type)]
        refused: Optional[List[str]] = None
        for cls in classes:
            accepted = _init_keywords(cls)
            bad = [] if accepted is None else \
                [k for k in kept if k not in accepted]
            if not bad:
                refused = None
                break
            refused = bad
        if not refused:
            continue
        old = _short_type(node)
        shown = ', '.join(f'{k}={node[k]!r}' for k in refused)
        takes = ', '.join(sorted(_init_keywords(classes[0]) or []))
        in_list = any(part.isdigit() for part in parts[:-1])
        errors.append(
            f'--cfg-options {key}={value}: an option is merged into the '
            f'item it names, so {parent} keeps the other keys of the {old} '
            f'it holds ({shown}), which {value} does not take (it takes '
            f'{takes}). '
            + ('--cfg-options cannot remove a key of a list item. '
               if in_list else '')
            + _replace_hint(cfg, parent, f"dict(type='{value}')"))
    return errors


def check_type_changes(cfg: Config, options: Mapping) -> None:
    """Refuse a ``--cfg-options KEY.type=NEW`` that keeps arguments ``NEW``
    does not take.

    MMEngine merges an option into the item it names, so
    ``model.losses.0.type=MaxIntensityLoss`` over an
    ``InfoPreservationLoss`` keeps its ``measure``, and building fails
    with a ``TypeError`` once the runner exists. The kept keys are checked
    against the ``__init__`` arguments of every registered class named
    ``NEW`` (classes taking ``**kwargs`` accept anything).

    Args:
        cfg (Config): the loaded config (before the options are merged).
        options (Mapping): ``{dotted.key: value}``.

    Raises:
        ValueError: the option, the kept keys, the arguments of the new
            type and how to replace the item (:func:`_replace_hint`).
    """
    errors = _changed_type_errors(cfg, options)
    if errors:
        raise ValueError('\n'.join(errors))


# --- every `type` of a config against the registries ----------------------

#: modules registering MMEngine's and MMCV's own components into the root
#: registries (loops, hooks, optimizers, schedulers, norm layers, ...)
_ROOT_MODULES = ('mmengine.dataset', 'mmengine.evaluator', 'mmengine.hooks',
                 'mmengine.model', 'mmengine.optim', 'mmengine.runner',
                 'mmengine.visualization', 'mmcv.cnn', 'mmcv.transforms')

#: ``type`` values that are no registry names, by the key of their dict:
#: mmdet's NMS (``batched_nms``) and RoI extractors look them up in
#: ``mmcv.ops``; the deblurring datasets' kernel source is ``'motion'``
_NON_REGISTRY_TYPES = ('nms', 'roi_layer', 'kernels')


def _non_registry_names(key: str) -> Optional[List[str]]:
    """The accepted ``type`` values of a :data:`_NON_REGISTRY_TYPES` key
    (None: cannot be told, e.g. without ``mmcv.ops``)."""
    if key == 'kernels':
        return ['motion']
    try:
        import mmcv.ops
    except Exception:  # noqa: BLE001 - mmcv without its compiled ops
        return None
    return [name for name in dir(mmcv.ops) if not name.startswith('_')]


def _scope_registries(scope: str) -> Optional[list]:
    """The registries of ``scope`` with their modules imported (MMEngine's
    root registries for ``'mmengine'``); None when ``scope`` is no
    installed package with registries."""
    import importlib

    from mmengine.registry import Registry, root
    roots = [reg for reg in vars(root).values() if isinstance(reg, Registry)]
    if scope == 'mmengine':
        for module in _ROOT_MODULES:
            try:
                importlib.import_module(module)
            except Exception:  # noqa: BLE001 - optional parts
                pass
        return roots
    if not scope.isidentifier():
        return None
    try:
        importlib.import_module(f'{scope}.registry')
    except Exception:  # noqa: BLE001 - not installed / fails to import
        return None
    out = []
    for reg in roots:
        child = reg._search_child(scope)
        if child is not None and child is not reg:
            child.import_from_location()
            out.append(child)
    return out or None


def _config_types(node: Any, path: str, key: str,
                  out: List[Tuple[str, str, str]], scopes: Set[str]) -> None:
    """Collect ``(dotted path of the dict, type, key of the dict)`` of every
    string ``type``, and the scopes named by ``_scope_`` / prefixes."""
    if isinstance(node, Mapping):
        scope = node.get('_scope_')
        if isinstance(scope, str) and scope:
            scopes.add(scope)
        type_ = node.get('type')
        if isinstance(type_, str):
            out.append((path, type_, key))
            prefix, dot, _ = type_.partition('.')
            if dot:
                scopes.add(prefix)
        for sub_key, value in node.items():
            _config_types(value, f'{path}.{sub_key}' if path else
                          str(sub_key), str(sub_key), out, scopes)
    elif isinstance(node, (list, tuple)):
        for i, value in enumerate(node):
            _config_types(value, f'{path}.{i}', key, out, scopes)


def _registered_types(cfg: Config):
    """``(registered, found, scopes)``: name → ``[(scope, registry name,
    object)]`` over the registries of the config's scopes (its
    ``default_scope``, MMEngine's, every ``_scope_`` and ``scope.`` type
    prefix that is an installed package); the ``(path, type, key)`` of
    every ``type`` the runner reads; scope → its names (None: not
    installed)."""
    tree = {k: v for k, v in cfg._cfg_dict.to_dict().items()
            if k in RUNNER_KEYS}
    found: List[Tuple[str, str, str]] = []
    scopes = {'mmengine', cfg.get('default_scope') or 'mmengine'}
    _config_types(tree, '', '', found, scopes)
    registered: dict = {}
    names: dict = {}
    for scope in sorted(scopes):
        registries = _scope_registries(scope)
        if registries is None:
            names[scope] = None
            continue
        names[scope] = set()
        for reg in registries:
            for name, obj in reg.module_dict.items():
                registered.setdefault(name, []).append((scope, reg.name, obj))
                names[scope].add(name)
    return registered, found, names


def _importable(name: str) -> bool:
    """Whether ``name`` is an importable dotted path (``'torch.nn.ReLU'``),
    which MMEngine's ``Registry.get`` falls back to."""
    from mmengine.utils import get_object_from_string
    try:
        return get_object_from_string(name) is not None
    except Exception:  # noqa: BLE001 - anything that does not import
        return False


class ConfigTypeError(KeyError):
    """An unknown ``type`` of a config (:func:`check_config_types`); a
    ``KeyError`` as MMEngine's registries raise, shown without quotes so
    that a message of several lines stays readable."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ''


def check_config_types(cfg: Config) -> None:
    """Refuse a ``type`` that no registry knows, before anything is built.

    MMEngine reports an unknown type only when the runner builds it (a
    ``KeyError: 'X is not in the mmfusenas::model registry'`` without the
    key or a suggestion) after the work dir is made. This looks up every
    string ``type`` of the keys the runner reads in the registries of the
    config's scopes: ``default_scope``, MMEngine's root registries (with
    MMCV's layers and transforms), and every scope named by a ``_scope_``
    key or a ``scope.`` prefix (``mmdet.RetinaNet``); a prefixed type must
    be in that scope (or MMEngine's). A name is accepted when any of these
    registries holds it, whatever the section (models, transforms, hooks,
    optimizers, ...), so a type in the wrong scope is left to the builder;
    so is an importable dotted path (``'torch.nn.ReLU'``), which MMEngine
    imports. Types given as classes or functions are not checked, nor the
    ``type`` of an ``nms`` / ``roi_layer`` dict (mmcv.ops names) or of the
    deblurring datasets' ``kernels`` (``'motion'``), which name no registry
    entry.

    Args:
        cfg (Config): the config as the run will use it.

    Raises:
        ConfigTypeError: (a ``KeyError``) one line per unknown type: the
            config file, the key path (as ``--cfg-options`` writes it) and
            the closest registered names.
    """
    registered, found, names = _registered_types(cfg)
    where = f'config {cfg.filename}' if cfg.filename else 'config'
    all_names = sorted(registered)
    errors = []
    for path, type_, key in found:
        if '.' in type_ and _importable(type_):
            continue  # MMEngine imports a dotted path the registries lack
        if key in _NON_REGISTRY_TYPES:
            accepted = _non_registry_names(key)
            if accepted is None or type_ in accepted:
                continue
            candidates = accepted
            looked = f'the names {key} accepts'
        else:
            prefix, dot, name = type_.partition('.')
            if dot and names.get(prefix) is not None:
                if name in names[prefix] or name in names['mmengine']:
                    continue
                candidates = [f'{prefix}.{n}' for n in sorted(
                    names[prefix] | names['mmengine'])]
                looked = f'the registries of {prefix} and mmengine'
            elif dot and prefix in names:  # scope named, not installed
                errors.append(
                    f'{where}: {path}.type = {type_!r}: {prefix!r} is not an '
                    'installed package with registries')
                continue
            else:
                if type_ in registered:
                    continue
                candidates = all_names
                scopes = sorted(s for s, n in names.items() if n is not None)
                looked = f'the registries of {", ".join(scopes)}'
        close = difflib.get_close_matches(type_, candidates, n=3, cutoff=0.6)
        hint = f'; did you mean {" or ".join(close)}?' if close else ''
        errors.append(f'{where}: {path}.type = {type_!r} is not a registered '
                      f'type (looked up in {looked}){hint}')
    if errors:
        raise ConfigTypeError('\n'.join(errors))


# --- the data folders a run reads -----------------------------------------

#: the layout documentation of each dataset type
_DATA_DOCS = {
    'PairedImageDataset': 'docs/user_guides/datasets.md#layouts',
    'PairedDetDataset':
    'docs/user_guides/det_seg_datasets.md#where-the-real-data-goes',
    'PairedSegDataset':
    'docs/user_guides/det_seg_datasets.md#where-the-real-data-goes',
    'ExDarkDataset': 'docs/user_guides/restoration_datasets.md'
    '#low-light-detection-and-segmentation-datasets',
    'DarkFaceDataset': 'docs/user_guides/restoration_datasets.md'
    '#low-light-detection-and-segmentation-datasets',
    'ACDCDataset': 'docs/user_guides/restoration_datasets.md'
    '#low-light-detection-and-segmentation-datasets',
    'HazeDataset': 'docs/user_guides/restoration_datasets.md'
    '#haze-and-underwater-datasets-hbl',
    'UnderwaterDataset': 'docs/user_guides/restoration_datasets.md'
    '#haze-and-underwater-datasets-hbl',
    'GISRDataset': 'docs/user_guides/restoration_datasets.md'
    '#guided-image-super-resolution-gisr',
    'LowLightDataset': 'docs/methods/ruas.md#data',
    'LevinDataset': 'docs/methods/hyper_guidance.md#data',
    'SyntheticDeblurDataset': 'docs/methods/hyper_guidance.md#data',
    'SyntheticRainDataset': 'docs/methods/hyper_guidance.md#data',
    'SyntheticHazeDataset': 'docs/methods/hyper_guidance.md#data',
    'PairedRestorationDataset': 'docs/methods/hyper_guidance.md#data',
    'RestorationFolderDataset': 'docs/methods/hyper_guidance.md#data',
}


def _data_doc(type_: Any) -> str:
    """The layout documentation of a dataset type (mmdet / mmseg datasets:
    the detection and segmentation page)."""
    name = _short_type({'type': type_})
    if name in _DATA_DOCS:
        return _DATA_DOCS[name]
    if isinstance(type_, str) and type_.startswith(('mmdet.', 'mmseg.')):
        return _DATA_DOCS['PairedDetDataset']
    return _DATA_DOCS['PairedImageDataset']


def _run_loaders(cfg: Config, mode: str) -> List[Tuple[str, Any]]:
    """``(dotted key, config)`` of the dataloaders a run builds: for
    ``'test'`` the ``test_dataloader``; for ``'train'`` every other
    ``*dataloader`` under the keys the runner reads (``train_dataloader``,
    ``val_dataloader`` when there is a ``val_cfg``,
    ``train_cfg.arch_dataloader``, a hook's ``dataloader``, ...)."""
    if mode == 'test':
        loader = cfg.get('test_dataloader')
        return [('test_dataloader', loader)] if loader else []
    out: List[Tuple[str, Any]] = []

    def walk(node: Any, path: str) -> None:
        for key, value in _children(node):
            sub = f'{path}.{key}' if path else key
            if key.endswith('dataloader') and isinstance(value, Mapping):
                out.append((sub, value))
            elif key.endswith('dataloaders') and isinstance(value, list):
                out.extend((f'{sub}.{i}', v) for i, v in enumerate(value)
                           if isinstance(v, Mapping))
            else:
                walk(value, sub)

    skip = {'test_dataloader'}
    if cfg.get('val_cfg') is None:
        skip.add('val_dataloader')
    walk({k: v for k, v in cfg._cfg_dict.items()
          if k in RUNNER_KEYS and k not in skip}, '')
    return out


def _loader_datasets(node: Any, path: str,
                     out: List[Tuple[str, Mapping]]) -> None:
    """``(dotted key, config)`` of the datasets under a dataloader (wrapped
    ones included): the dicts with a ``data_root``, ``ann_file`` or
    ``data_prefix``."""
    if isinstance(node, Mapping):
        if any(k in node for k in ('data_root', 'ann_file', 'data_prefix')):
            out.append((path, node))
            return
        for key, value in node.items():
            if key != 'pipeline':
                _loader_datasets(value, f'{path}.{key}', out)
    elif isinstance(node, (list, tuple)):
        for i, value in enumerate(node):
            _loader_datasets(value, f'{path}.{i}', out)


def _missing_data(dataset: Mapping) -> List[Tuple[str, str, str]]:
    """``(key, path, what)`` of the paths of a dataset config that do not
    exist: its ``data_root`` folder, else its ``ann_file`` and the folders
    of ``data_prefix`` (relative ones under ``data_root``, as MMEngine's
    ``BaseDataset`` joins them). URLs and empty values are left out."""
    root = dataset.get('data_root')
    root = root if isinstance(root, str) else ''
    if '://' in root:
        return []
    if root and not osp.isdir(root):
        return [('data_root', root, 'is not a folder')]
    out = []

    def check(key: str, value: Any) -> None:
        if not isinstance(value, str) or not value or '://' in value:
            return
        path = value if osp.isabs(value) or not root else \
            osp.join(root, value)
        if not osp.exists(path):
            out.append((key, path, 'does not exist'))

    check('ann_file', dataset.get('ann_file'))
    prefix = dataset.get('data_prefix')
    if isinstance(prefix, Mapping):
        for key, value in prefix.items():
            check(f'data_prefix.{key}', value)
    return out


def toy_sibling(config: Optional[str]) -> Optional[str]:
    """The toy version of a config file: ``x.py`` → ``x_toy.py``, when that
    file exists (None otherwise, and for toy configs)."""
    if not config or not config.endswith('.py'):
        return None
    stem = osp.basename(config)[:-3]
    if stem.endswith('_toy') or '_toy_' in stem:
        return None
    sibling = f'{config[:-3]}_toy.py'
    return sibling if osp.isfile(sibling) else None


def _shown(path: str) -> str:
    """``path`` relative to the working directory when it lies under it."""
    rel = osp.relpath(path) if osp.isabs(path) else path
    return path if rel.startswith('..') else rel


def check_data_folders(cfg: Config, mode: str = 'train') -> None:
    """Fail before the runner is built when the data of a run is missing.

    Datasets are otherwise opened once the runner exists: after the work
    dir, its lock file and a timestamped log folder are made and dozens of
    log lines are printed, with a traceback that ends in the dataset's own
    error. For every dataset of the dataloaders the run builds
    (:func:`_run_loaders`; wrapped datasets included) the ``data_root``
    folder must exist, and then its ``ann_file`` and ``data_prefix``
    folders (relative to ``data_root``).

    Args:
        cfg (Config): the config as the run will use it.
        mode (str): ``'train'`` (``tools/train.py``: the train, validation
            and search loaders) or ``'test'`` (``tools/test.py``: the test
            loader).

    Raises:
        FileNotFoundError: one line per missing path naming the dataset's
            key, its type and the path. Then, for the folders of the toy
            generators
            (:data:`~mmfusenas.utils.toy_data_commands.TOY_DATA_COMMANDS`),
            the command that writes the toy data; for any other data the
            layout documentation of the dataset types, the options that
            point the config at its data and, when it exists, the config's
            toy sibling (``x_toy.py`` next to ``x.py``).
    """
    from .toy_data_commands import toy_data_command
    lines, docs, toys, seen = [], [], [], set()
    first_key = None
    for loader_key, loader in _run_loaders(cfg, mode):
        datasets: List[Tuple[str, Mapping]] = []
        _loader_datasets(loader.get('dataset'), f'{loader_key}.dataset',
                         datasets)
        for key, dataset in datasets:
            type_ = dataset.get('type', '?')
            for sub, path, what in _missing_data(dataset):
                if (key, sub, path) in seen:
                    continue
                seen.add((key, sub, path))
                first_key = first_key or f'{key}.{sub}'
                lines.append(f'  {key} ({_short_type(dataset)}): '
                             f'{sub} {path!r} {what}')
                doc = _data_doc(type_)
                if doc not in docs:
                    docs.append(doc)
                command = toy_data_command(path)
                if command is not None and command not in toys:
                    toys.append(command)
    if not lines:
        return
    where = f'config {cfg.filename}' if cfg.filename else 'the config'
    text = [f'{where}: the data of this run is missing (paths from '
            f'{os.getcwd()}):'] + lines
    if toys:
        text.append('This is toy data; write it with: ' +
                    '; '.join(f'`{c}`' for c in toys) + '.')
    else:
        text.append(
            f'Put the data there (folder layout: {", ".join(docs)}) or point '
            'the config at it: --data-root DIR re-roots every dataset, '
            f'--cfg-options {first_key}=DIR sets one path.')
        if mode == 'train' and _data_doc('PairedImageDataset') in docs:
            text.append('Your own pairs in two folders (matched by stem, no '
                        'split file): tools/train.py CONFIG --pairs IR_DIR '
                        'VI_DIR.')
        sibling = toy_sibling(cfg.filename)
        if sibling is not None:
            text.append(f'No data? {_shown(sibling)} is the toy sibling of '
                        'this config: the same pipeline on the embedded toy '
                        'data.')
    raise FileNotFoundError('\n'.join(text))
