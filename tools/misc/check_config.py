"""Check a config before training: ``python tools/misc/check_config.py
CONFIG [--cfg-options ...]``.

Opt-in lint of what MMEngine would report only when it builds the part, or
not at all: top-level keys close to a runner key (``trian_cfg``), keys the
loops, hooks, schedulers and ``optim_wrapper`` do not take, and ``type``
names that no registry holds, each with its closest names. Training does
not run these checks (``tools/train.py`` checks the command line only).
"""
import argparse
import difflib
import importlib
import inspect
from contextlib import suppress
from typing import Mapping, Optional, Set

from mmengine.config import Config
from mmengine.registry import Registry

from mmfusenas.utils.config import (add_runner_args, load_runner_config,
                                    replace_hint)
from mmfusenas.utils.config_tree import (RUNNER_KEYS, config_items,
                                         config_name, did_you_mean,
                                         registered_class, runner_part,
                                         walk_path)
from mmfusenas.utils.schedule import loop_class

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


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Check a MMFuseNAS config')
    parser.add_argument('config', help='config file path')
    add_runner_args(parser)
    return parser.parse_args(argv)


def main(argv=None) -> None:
    args = parse_args(argv)
    cfg = load_runner_config(args)
    check_config_keys(cfg, tuple(
        k[:-len('.type')] for k in args.cfg_options or {}
        if k.endswith('.type')))
    check_config_types(cfg)
    print(f'{args.config}: keys and types check out')


if __name__ == '__main__':
    main()
