"""Check a config before training: ``python tools/misc/check_config.py
CONFIG [--cfg-options ...]``.

Opt-in lint of what MMEngine would report only when it builds the part, or
not at all: ``--cfg-options`` keys new to the config (with the closest
ones) or naming a variable of the file (with the settings holding its
value), top-level keys close to a runner key (``trian_cfg``), keys the
loops, hooks, schedulers and ``optim_wrapper`` do not take, ``type`` names
that no registry holds, each with its closest names, and schedule settings
the run never reaches. Training does not run these checks
(``tools/train.py`` refuses only top-level ``--cfg-options`` keys nothing
reads).
"""
import argparse
import difflib
import importlib
import inspect
import os.path as osp
import re
from contextlib import suppress
from typing import Any, List, Mapping, Optional, Set

from mmengine.config import Config
from mmengine.registry import Registry

from mmfusenas.utils.config import (TOOL_READ_KEYS, add_runner_args,
                                    existing_key_options, load_runner_config,
                                    replace_hint)
from mmfusenas.utils.config_tree import (RUNNER_KEYS, config_items,
                                         config_name, did_you_mean,
                                         registered_class, runner_part,
                                         walk_path)
from mmfusenas.utils.schedule import (NO_END, is_count, loop_class, loop_unit,
                                      schedule_settings)

#: names of config-file variables that hold a schedule length or position
_SCHEDULE_NAME = re.compile(r'(^|_)(iter|iters|epoch|epochs)($|_)')
#: keys the runner's builders take besides the class's arguments
_BUILDER_KEYS = dict(train_cfg={'by_epoch'}, default_hooks={'priority'},
                     custom_hooks={'priority'},
                     param_scheduler={'convert_to_iter_based'},
                     optim_wrapper={'optimizer', 'constructor',
                                    'paramwise_cfg'})
#: keys whose dict's ``type`` is no registry name (mmcv.ops NMS / RoI
#: layers, the deblurring datasets' kernel source): not checked
_NOT_REGISTERED = ('nms', 'roi_layer', 'kernels')


def _init_keywords(cls: type) -> Optional[Set[str]]:
    """The keyword arguments ``cls(...)`` takes; None with ``**kwargs``."""
    try:
        params = inspect.signature(cls.__init__).parameters.values()
    except (TypeError, ValueError):
        return None
    if any(p.kind is p.VAR_KEYWORD for p in params):
        return None
    return {p.name for p in params} - {'self'}


def check_config_keys(cfg: Config, typed: tuple = ()) -> None:
    """Refuse top-level keys close to a runner key (``trian_cfg``) and keys
    that the loops, hooks, schedulers, ``optim_wrapper`` and the dicts at
    ``typed`` (whose ``type`` an option set) do not take: a ``KeyError``,
    one line per key."""
    where, errors = config_name(cfg), []
    for key in cfg.keys():
        # close spellings and swapped letters (``modle``)
        close = difflib.get_close_matches(key, RUNNER_KEYS, n=1,
                                          cutoff=0.85) or [
            k for k in RUNNER_KEYS if sorted(k) == sorted(key)][:1]
        if close and key not in RUNNER_KEYS and not key.startswith('_'):
            errors.append(f'{where}: top-level key {key!r} is read by '
                          f'nothing{did_you_mean(map(repr, close))}')
    items = {p: v for p, _, v in config_items(runner_part(cfg))
             if p in ('train_cfg', 'val_cfg', 'test_cfg', 'param_scheduler',
                      'optim_wrapper') or p.rpartition('.')[0] in (
                          'default_hooks', 'custom_hooks', 'param_scheduler')}
    items.update((p, walk_path(cfg.to_dict(), p.split('.'))[1])
                 for p in typed)
    loops = dict(val_cfg='ValLoop', test_cfg='TestLoop')
    for path, node in items.items():
        if not isinstance(node, Mapping):
            continue
        cls = loop_class(node) if path == 'train_cfg' else \
            registered_class(node.get('type', loops.get(path)))
        accepted = _init_keywords(cls) if cls else None
        if accepted is None:
            continue
        accepted |= {'type', '_scope_'} | _BUILDER_KEYS.get(
            path.split('.')[0], set())
        errors += [
            f'{where}: {path}.{key} is not an argument of {cls.__name__} '
            f'(it takes {", ".join(sorted(accepted - {"_scope_"}))})'
            + did_you_mean(f'{path}.{c}' for c in difflib.get_close_matches(
                str(key), sorted(accepted), n=1))
            + (f'. --cfg-options {path}.type=... keeps the other keys of '
               f'{path}. {replace_hint(path)}' if path in typed else '')
            for key in node if key not in accepted]
    if errors:
        raise KeyError('\n'.join(errors))


class ConfigTypeError(KeyError):
    """An unknown ``type``: a ``KeyError`` shown without quotes."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ''


def _scope_child(registry: Registry, scope: str) -> Optional[Registry]:
    """``registry`` or its first descendant (depth first) of ``scope``."""
    if registry.scope == scope:
        return registry
    for child in registry.children.values():
        found = _scope_child(child, scope)
        if found is not None:
            return found
    return None


def _scope_names(scope: str) -> Set[str]:
    """The names in the registries of ``scope`` (MMEngine's root ones for
    ``'mmengine'``); empty when it is no installed package."""
    from mmengine.registry import root
    if scope == 'mmengine':  # mmengine.runner imports MMEngine's others
        for module in ('mmengine.runner', 'mmcv.cnn', 'mmcv.transforms'):
            importlib.import_module(module)
    else:
        try:
            importlib.import_module(f'{scope}.registry')
        except Exception:  # noqa: BLE001 - no installed package with one
            return set()
    names: Set[str] = set()
    for reg in vars(root).values():
        if isinstance(reg, Registry) and scope != 'mmengine':
            reg = _scope_child(reg, scope)
        if isinstance(reg, Registry) and reg.scope == scope:
            reg.import_from_location()
            names.update(reg.module_dict)
    return names


def check_config_types(cfg: Config) -> None:
    """Refuse a string ``type`` that no registry of the config's scopes
    (``default_scope``, MMEngine's, each ``_scope_`` and ``scope.``
    prefix) holds and no dotted path imports: a :class:`ConfigTypeError`,
    one line per type with the closest names.

    MMEngine builds datasets, loops and hooks only after it made the work
    dir, and its registry errors suggest no names.
    """
    from mmengine.utils import get_object_from_string
    found, scopes = [], {'mmengine', cfg.get('default_scope') or 'mmengine'}
    for path, key, node in config_items(runner_part(cfg)):
        if not isinstance(node, Mapping) or key in _NOT_REGISTERED:
            continue
        if isinstance(node.get('_scope_'), str):
            scopes.add(node['_scope_'])
        if isinstance(node.get('type'), str):
            found.append((path, node['type']))
            if '.' in node['type']:
                scopes.add(node['type'].partition('.')[0])
    names = {s: _scope_names(s) for s in sorted(scopes)}
    known, looked = set().union(*names.values()), ', '.join(
        s for s, n in names.items() if n)
    errors = []
    for path, type_ in found:
        if type_.rpartition('.')[2] in known:
            continue
        with suppress(Exception):  # anything that does not import
            if '.' in type_ and get_object_from_string(type_) is not None:
                continue  # MMEngine imports a dotted path
        close = difflib.get_close_matches(type_.rpartition('.')[2],
                                          sorted(known), n=3)
        errors.append(f'{config_name(cfg)}: {path}.type = {type_!r} is not '
                      'a registered type (looked up in the registries of '
                      f'{looked}){did_you_mean(close)}')
    if errors:
        raise ConfigTypeError('\n'.join(errors))


def check_cfg_options(cfg: Config, options: Mapping) -> List[str]:
    """Check ``--cfg-options`` before they are merged: a ``KeyError`` for a
    new top-level key nothing reads and for a variable of the config file;
    returns warnings for new nested keys, with close keys."""
    tree = cfg.to_dict()
    paths = [p for p, _, _ in config_items(tree)]
    warnings = []
    for key in options:
        parts = str(key).split('.')
        read = parts[0] in RUNNER_KEYS or parts[0] in TOOL_READ_KEYS
        if parts[0] in tree and not read \
                and not parts[0].startswith('_'):
            raise KeyError(_variable_error(cfg, key, options[key]))
        if walk_path(tree, parts)[0]:
            continue
        # paths with the same last key, then with a close one
        parent, _, leaf = str(key).rpartition('.')
        hints = [p for p in paths if p.rpartition('.')[2] == leaf] + sorted(
            (p for p in paths if difflib.get_close_matches(
                leaf, [p.rpartition('.')[2]], cutoff=0.8)),
            key=lambda p: p.rpartition('.')[0] != parent)
        hint = did_you_mean([p for p in dict.fromkeys(hints) if p != key][:5])
        if len(parts) == 1 and not read:
            raise KeyError(
                f'--cfg-options {key}: no such key in the config and nothing '
                f'reads a top-level {key!r}{hint}')
        if len(parts) > 1:
            text = (f'--cfg-options {key}: not in the config (it is added; '
                    f'check the spelling){hint}')
            warnings.append(text)
    return warnings


def _variable_error(cfg: Config, key: str, value: Any) -> str:
    """The error for overriding the config-file variable in ``key``
    (``name`` or ``name.sub.path``), naming the settings holding its
    value."""
    name, _, rest = str(key).partition('.')
    current = cfg.to_dict()[name]
    read = [(p, k, v) for p, k, v in config_items(runner_part(cfg))
            if type(v) is type(current) and v == current]
    holders = [p for p, k, _ in read if k == name]
    if _SCHEDULE_NAME.search(name) and isinstance(current, int):
        holders += [s['path'] for s in schedule_settings(cfg)
                    if s['value'] == current]
    if isinstance(current, (str, list, tuple, dict)) and current:
        holders += [p for p, _, _ in read]
    holders = [f'{h}.{rest}' if rest else h
               for h in list(dict.fromkeys(holders))[:6]]
    shown = repr(current) if len(repr(current)) <= 60 else \
        repr(current)[:57] + '...'
    text = (f'--cfg-options {key}={value!r}: {name!r} is a variable of the '
            f'config file{" " + cfg.filename if cfg.filename else ""}, not '
            f'a setting: its value ({shown}) was copied into the settings '
            'when the file was read, so overriding it changes nothing. ' + (
                f'Set the settings that hold its value instead: '
                f'{", ".join(holders)}' if holders else
                'No setting the run reads holds its value'))
    if _SCHEDULE_NAME.search(name):
        train_cfg = cfg.get('train_cfg') or {}
        unit = 'epoch' if 'max_epochs' in train_cfg else 'iter'
        length = train_cfg.get(f'max_{unit}s') == current and not rest
        text += (f'; to change the length of training use tools/train.py '
                 f'--max-{unit}s {value if length else "N"}, which rescales '
                 'the schedule with it')
    return text + '.'


def schedule_warnings(cfg: Config) -> List[str]:
    """What a run of ``cfg`` never reaches, to print before training: the
    first ``start`` of each dict at or after the end of training, and
    parameter schedulers running past it (``end=INF`` excepted)."""
    train_cfg = cfg.get('train_cfg')
    unit = loop_unit(train_cfg)
    length = train_cfg[f'max_{unit}s'] if unit else None
    if not is_count(length):
        return []
    noun = 'iterations' if unit == 'iter' else 'epochs'
    end = f'train_cfg.max_{unit}s={length}'
    tip = f'tools/train.py --max-{unit}s N'
    settings = [s for s in schedule_settings(cfg) if s['unit'] == unit]
    values = {s['path']: s['value'] for s in settings}
    first: dict = {}  # the first start of each dict the run does not reach
    for s in settings:
        if s['kind'] == 'start' and s['value'] >= length and (
                s['group'] not in first
                or s['value'] < first[s['group']]['value']):
            first[s['group']] = s
    out = [f'{s["owner"]} ({s["group"]}): {s["path"][len(s["group"]) + 1:]}'
           f'={s["value"]} is not before the end of training ({end}), so '
           f'the run never gets there. Train for more than {s["value"]} '
           f'{noun}, or shorten the whole schedule with {tip}, which '
           'rescales it with it.' for s in first.values()]
    beyond = []
    for s in settings:
        leaf = [p for p in s['parts'] if not p.isdigit()][-1]
        begin = values.get(f'{s["group"]}.begin', 0)
        if s['path'].startswith('param_scheduler') and s['value'] < NO_END \
                and (leaf == 'begin' and s['value'] >= length
                     or leaf in ('end', 'milestones') and s['value'] > length
                     or leaf == 'T_max' and begin + s['value'] > length):
            beyond.append(f'{s["path"]}={s["value"]}')
    if beyond:
        out.append(
            f'the parameter schedule runs past the end of training ({end}): '
            f'{", ".join(beyond)}; the schedule is cut where training stops '
            f'(e.g. the learning rate is not annealed). {tip} sets the '
            'length and rescales the schedule with it.')
    return out


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Check a MMFuseNAS config')
    parser.add_argument('config', help='config file path')
    add_runner_args(parser)
    return parser.parse_args(argv)


def main(argv=None) -> None:
    args = parse_args(argv)
    if not osp.isfile(args.config):
        raise FileNotFoundError(f'config file not found: {args.config}')
    options = existing_key_options(args.cfg_options or {})
    for text in check_cfg_options(Config.fromfile(args.config), options):
        print(f'warning: {text}')
    cfg = load_runner_config(args)
    check_config_keys(cfg, tuple(
        k[:-len('.type')] for k in args.cfg_options or {}
        if k.endswith('.type')))
    check_config_types(cfg)
    for text in schedule_warnings(cfg):
        print(f'warning: {text}')
    print(f'{args.config}: keys and types check out')


if __name__ == '__main__':
    main()
