"""The tools' common options: load a run's config and check its
``--cfg-options``, each error naming the file and the key (the opt-in lint
of keys, ``type`` names and schedules is ``tools/misc/check_config.py``)."""
import argparse
import difflib
import glob
import importlib.util
import os
import os.path as osp
import re
from typing import Any, List, Mapping, Optional

from mmengine.config import Config, ConfigDict, DictAction

from .config_tree import (RUNNER_KEYS, config_items, config_name,
                          did_you_mean, runner_part, type_name, walk_path)
from .data_folders import reroot_data

#: top-level keys the tools read; any other key is a variable of the file
TOOL_READ_KEYS = frozenset({'data_root', 'predictor', 'sync_bn',
                            'tensorboard'})
#: keys naming a size or a count: their integers take non-negative integers
_COUNT_NAME = re.compile(r'^num_|(^|_)(channels|size|iters|epochs)$')
REPLACING_DOC = 'docs/user_guides/train_test.md#replacing-lists-and-dicts'
LOSS_RECIPE_DOC = 'docs/user_guides/fusion_losses.md#swapping-the-losses'
#: the named loss sets, each a list ``losses`` (``model.losses=<name>``);
#: ``mmfusenas/.mim/configs`` links ``configs``
LOSS_SETS_DIR = osp.join(osp.dirname(osp.dirname(osp.abspath(__file__))),
                         '.mim', 'configs', '_base_', 'losses')


# --- named loss sets and --cfg-options ---------------------------------------

def loss_set_names() -> List[str]:
    """The names of the loss sets (the files of :data:`LOSS_SETS_DIR`)."""
    return sorted(osp.basename(path)[:-3] for path in glob.glob(
        osp.join(glob.escape(LOSS_SETS_DIR), '[!_]*.py')))


def _is_loss_list(value: Any) -> bool:
    return isinstance(value, (list, tuple)) and bool(value) and all(
        isinstance(item, Mapping) and 'type' in item for item in value)


def load_loss_set(name: str) -> List[dict]:
    """The ``losses`` list of the loss set ``name`` (e.g. ``'tim'``)."""
    names = loss_set_names()
    if name not in names:
        raise KeyError(
            f'no loss set named {name!r}'
            f'{did_you_mean(difflib.get_close_matches(name, names, n=1))} '
            f'The loss sets are {", ".join(names) or "(none)"} '
            f'({LOSS_SETS_DIR}/<name>.py; {LOSS_RECIPE_DOC}).')
    path = osp.join(LOSS_SETS_DIR, f'{name}.py')
    try:
        losses = Config.fromfile(path).to_dict().get('losses')
    except SyntaxError as err:  # mmengine's parse names no file
        raise SyntaxError(f'{path}: {err}') from None
    if not _is_loss_list(losses):
        raise ValueError(f'{path}: a loss set defines `losses`, a list of '
                         'loss configs (dict(type=...))')
    return list(losses)


def resolve_loss_sets(cfg: Config, options: Mapping) -> dict:
    """``{key: the set's list}`` of the ``options`` naming a loss set for a
    ``*losses`` list of ``cfg``."""
    out, tree = {}, cfg.to_dict()
    for key, value in options.items():
        if not isinstance(value, str) or not str(key).endswith('losses'):
            continue
        found, node, _ = walk_path(tree, str(key).split('.'))
        if found and _is_loss_list(node):
            try:
                out[key] = load_loss_set(value)
            except KeyError as err:
                raise KeyError(f'--cfg-options {key}={value}: '
                               f'{err.args[0]}') from None
        elif not found and value in loss_set_names():
            lists = [p for p, k, v in config_items(runner_part(cfg))
                     if k.endswith('losses') and _is_loss_list(v)]
            raise KeyError(
                f'--cfg-options {key}={value}: {cfg.filename or "the config"}'
                f' has no {key}; its loss lists are '
                f'{", ".join(lists) or "(none)"}, e.g. --cfg-options '
                f'{lists[0] if lists else "model.losses"}={value}')
    return out


def existing_key_options(options: Mapping) -> dict:
    """The ``--cfg-options`` to check against the config's keys: all but
    those under a ``KEY._delete_=True``, which replaces the dict ``KEY``
    (its keys are all new)."""
    replaced = tuple(k[:-len('_delete_')] for k, v in options.items()
                     if k.endswith('._delete_') and v is True)
    return {k: v for k, v in options.items() if not k.startswith(replaced)}


def check_options(cfg: Config, options: Mapping) -> None:
    """Refuse a ``--cfg-options`` key nothing reads (a new top-level key, or
    a variable of the file: overriding it changes nothing), a string for a
    number or a bool, and anything but a non-negative integer for a size or
    a count (``*channels``, ``*size``, ``*iters``, ``*epochs``, ``num_*``).
    Keys under ``KEY._delete_=True`` are left out."""
    where, tree = cfg.filename or 'the config', cfg.to_dict()
    for key, value in existing_key_options(options).items():
        name = str(key).partition('.')[0]
        if name not in RUNNER_KEYS and name not in TOOL_READ_KEYS and \
                not name.startswith('_'):
            if name in cfg:
                raise KeyError(
                    f'--cfg-options {key}: {name!r} is a variable of {where}, '
                    'not a setting, so overriding it changes nothing; set the '
                    'settings that hold its value (tools/misc/check_config.py '
                    f'{where} --cfg-options {key}=... names them)')
            if name == key:
                raise KeyError(
                    f'--cfg-options {key}: no such key in {where} and nothing '
                    f'reads a top-level {key!r} (tools/misc/check_config.py '
                    'names close keys)')
        found, old, _ = walk_path(tree, str(key).split('.'))
        if not found or value is None or isinstance(value, (list, tuple)):
            continue
        expected = None
        if type(old) is int and old >= 0 and \
                _COUNT_NAME.search(str(key).rpartition('.')[2]):
            if type(value) is not int or value < 0:
                expected = 'a non-negative integer (a size or a count)'
        elif isinstance(value, str) and isinstance(old, (int, float)):
            expected = ('True or False' if isinstance(old, bool) else
                        'a number')
        if expected:
            raise ValueError(
                f'--cfg-options {key}={value}: expected {expected}; the '
                f'config has the {type(old).__name__} {old!r}')


class UnparsedOption(str):
    """A ``--cfg-options`` value MMEngine's parser cannot read, as text."""


class ConfigOptionsAction(DictAction):
    """MMEngine's ``DictAction``, keeping a value it cannot parse (a
    ``dict(...)`` with a comma, unbalanced brackets) as an
    :class:`UnparsedOption`, and naming an item without ``=``."""

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


def _dict_text(value: Any) -> Optional[str]:
    """The text of a value written as a Python dict, else None."""
    if isinstance(value, str):
        text = value.strip()
        return text if 'dict(' in text or text.startswith('{') else None
    if isinstance(value, (list, tuple)) and any(map(_dict_text, value)):
        text = ', '.join(_dict_text(v) or repr(v) for v in value)
        return f'[{text}]' if isinstance(value, list) else f'({text})'
    return None


def replace_hint(key: str) -> str:
    """How to replace the list or dict at ``key`` (for messages)."""
    return (f'To replace {key}: set its keys one by one (KEY.SUBKEY=VALUE, '
            'list items by index: KEY.0.SUBKEY=VALUE; KEY._delete_=True '
            'first replaces a dict), name a loss set for a list of losses '
            '(model.losses=tim, configs/_base_/losses/), or write the value '
            f'in a child config; see {REPLACING_DOC}.')


def check_option_values(options: Mapping) -> None:
    """Refuse ``--cfg-options`` values MMEngine's parser does not read
    (Python dicts, unbalanced brackets, ``_delete_`` of a list item) with a
    ``ValueError`` saying how to replace the list or dict instead."""
    accepted = ('a value is a number, True / False / None, a string, or a '
                'list / tuple of these ([a,b], (1,2))')
    for key, value in options.items():
        parts, text = str(key).split('.'), _dict_text(value)
        if parts[-1] == '_delete_' and len(parts) > 1 and parts[-2].isdigit():
            item = '.'.join(parts[:-1])
            raise ValueError(
                f'--cfg-options {key}={value}: _delete_ replaces a dict, not '
                'an item of a list: MMEngine merges a list item by its index '
                f'and keeps _delete_ as an argument of {item}. '
                + replace_hint(item))
        if text is not None or isinstance(value, UnparsedOption):
            raise ValueError(
                f'--cfg-options {key}={text or value}: MMEngine\'s '
                '--cfg-options parser ' + (
                    'does not read Python dicts (dict(...) or {...}): '
                    f'{accepted}. {replace_hint(key)}' if text else
                    'cannot read this value (unbalanced brackets?); '
                    f'{accepted}.'))


# --- the runner's options ----------------------------------------------------

def add_runner_args(parser: argparse.ArgumentParser) -> None:
    """Add ``--work-dir``, ``--tensorboard``, ``--data-root``,
    ``--cfg-options``, ``--launcher`` and ``--local-rank``."""
    parser.add_argument('--work-dir', help='folder for logs and outputs')
    parser.add_argument(
        '--tensorboard', action='store_true',
        help='also log to TensorBoard (as tensorboard = True in the config)')
    parser.add_argument(
        '--data-root',
        help='re-root every dataset of the config (and paths built from '
        'its data_root, e.g. annotation files of metrics) at this folder')
    parser.add_argument(
        '--cfg-options', nargs='+', action=ConfigOptionsAction,
        help='override config settings, e.g. train_cfg.max_iters=50; a '
        'loss list by the name of a loss set, e.g. model.losses=tim '
        '(configs/_base_/losses/); a string for a number or a bool, and '
        'a negative or fractional size or count (*channels, *size, *iters, '
        '*epochs, num_*) are refused')
    parser.add_argument(
        '--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none', help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)


def load_runner_config(args: argparse.Namespace) -> Config:
    """Load ``args.config`` and apply the options of :func:`add_runner_args`;
    ``--data-root`` re-roots the datasets before the other options are
    merged, so paths given as options win."""
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    if not osp.isfile(args.config):
        raise FileNotFoundError(f'config file not found: {args.config}')
    cfg = Config.fromfile(args.config)
    cfg.launcher = args.launcher
    options = dict(args.cfg_options or {})
    data_root = getattr(args, 'data_root', None)
    if 'data_root' in options:  # the datasets hold it already
        given = options.pop('data_root')
        if data_root is not None and data_root != given:
            raise ValueError(f'--data-root {data_root} and --cfg-options '
                             f'data_root={given} disagree')
        data_root = given
    check_option_values(options)
    loss_sets = resolve_loss_sets(cfg, options)
    cfg.merge_from_dict(loss_sets)
    options = {k: v for k, v in options.items() if k not in loss_sets}
    check_options(cfg, options)
    if data_root is not None:
        changed = reroot_data(cfg, data_root)
        from .distributed import launcher_rank  # once per run, not per rank
        if launcher_rank(args.launcher) == 0:
            print(f'data root {data_root}: re-rooted {len(changed)} config '
                  f'entries ({", ".join(changed[:6])}'
                  f'{", ..." if len(changed) > 6 else ""})')
    cfg.merge_from_dict(options)
    if getattr(args, 'tensorboard', False) or cfg.get('tensorboard', False):
        enable_tensorboard(cfg)
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(args.config))[0])
    return cfg


def enable_tensorboard(cfg: Config) -> None:
    """Add MMEngine's ``TensorboardVisBackend`` to the visualizer
    (idempotent)."""
    if importlib.util.find_spec('tensorboard') is None:
        raise ImportError(
            'tensorboard = True (or --tensorboard) needs the optional '
            '`tensorboard` package: `pip install tensorboard`')
    if cfg.get('visualizer') is None:
        cfg.visualizer = ConfigDict(type='Visualizer', vis_backends=[])
    backends = list(cfg.visualizer.get('vis_backends') or [])
    if not any(type_name(b) == 'TensorboardVisBackend' for b in backends):
        backends.append(dict(type='TensorboardVisBackend'))
    cfg.visualizer.vis_backends = backends


def setup_distributed(cfg: Config) -> None:
    """Prepare a distributed run: ``model_wrapper_cfg`` defaults to
    ``AlgorithmDistributedDataParallel``; without CUDA the process group
    starts here with gloo (for ``nccl`` too) and ``sync_bn`` is refused."""
    import torch
    import torch.distributed as dist

    from .distributed import init_cpu_distributed
    launcher = cfg.get('launcher', 'none')
    if launcher == 'none':
        return
    if cfg.get('model_wrapper_cfg', None) is None:
        cfg.model_wrapper_cfg = dict(
            type='mmfusenas.AlgorithmDistributedDataParallel')
    if torch.cuda.is_available():
        return
    if cfg.get('sync_bn', None) is not None:
        raise ValueError(
            f'sync_bn={cfg.sync_bn!r}: SyncBatchNorm needs CUDA; remove '
            '`sync_bn` (--cfg-options sync_bn=None) for per-rank BatchNorm '
            'statistics (docs/user_guides/distributed.md)')
    if not dist.is_initialized():
        dist_cfg = dict(cfg.get('env_cfg', {}).get('dist_cfg', {}))
        backend = dist_cfg.get('backend', 'gloo')
        init_cpu_distributed(launcher, 'gloo' if backend == 'nccl' else
                             backend, timeout=dist_cfg.get('timeout'))


def load_task_model_cfg(config: str) -> ConfigDict:
    """The ``model`` of an mmdet / mmseg config (a file or ``'mmdet::x.py'``)
    without its ``data_preprocessor`` (the compound models normalise the
    fused image), ``_scope_`` set to its package."""
    from mmengine.hub import get_config
    cfg = get_config(config) if '::' in config else Config.fromfile(config)
    if 'model' not in cfg:
        raise KeyError(f'{config} has no `model`')
    model = cfg.model
    model.pop('data_preprocessor', None)
    scope = config.partition('::')[0] if '::' in config else None
    if scope or cfg.get('default_scope'):
        model['_scope_'] = scope or cfg.default_scope
    return model


#: weight files a config may name, by key: where they come from, and the
#: ``--cfg-options`` that do without them
_WEIGHT_FILES = {
    'feature_weights': (
        "torchvision's ImageNet VGG16 state dict, https://download.pytorch."
        'org/models/vgg16-397923af.pth', '{parent}.measure=gradient {path}='
        'None (the weight-free gradient measure of U2Fusion)'),
    'checkpoint': ('the pretrained weights of this init_cfg',
                   '{parent}=None (random initialisation)'),
    'pretrained': ('the pretrained weights of this model',
                   '{path}=None (random initialisation)'),
    'load_from': ('a checkpoint of an earlier run', 'load_from=None'),
}


def check_run_files(cfg: Config) -> None:
    """Raise FileNotFoundError before the runner is built when a weight
    file of :data:`_WEIGHT_FILES` is missing (``checkpoint``: of a
    ``Pretrained`` ``init_cfg``), naming where to get it."""
    tree, where, errors = runner_part(cfg), config_name(cfg), []
    for path, key, value in config_items(tree):
        parent = path.rpartition('.')[0]
        if key not in _WEIGHT_FILES or not isinstance(value, str) or \
                not value or '://' in value or osp.isfile(value) or (
                    key == 'checkpoint' and type_name(walk_path(
                        tree, parent.split('.'))[1]) != 'Pretrained'):
            continue
        source, avoid = _WEIGHT_FILES[key]
        errors.append(
            f'{where}: {path} = {value!r} is not a file (from '
            f'{os.getcwd()}). It is {source}. Put it there, point '
            f'{path} at it, or run without it: --cfg-options '
            f'{avoid.format(path=path, parent=parent)}')
    if errors:
        raise FileNotFoundError('\n'.join(errors))
