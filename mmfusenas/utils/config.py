"""Config helpers shared by the command-line tools.

:func:`load_runner_config` also checks ``--cfg-options`` at start-up
(:func:`check_cfg_options`): a new top-level key that nothing reads (e.g.
``max_iters=1`` instead of ``train_cfg.max_iters=1``) is an error with
suggestions; a new nested key (``train_cfg.max_iter=1``) is reported as a
warning with the closest existing keys, since many sub-configs accept
arbitrary keyword arguments.
"""
import argparse
import difflib
import logging
import os
import os.path as osp
from typing import Any, List, Mapping, Optional, Set, Tuple

from mmengine.config import Config, ConfigDict, DictAction
from mmengine.logging import print_log

#: top-level keys read by MMEngine's Runner, ReliableRunner and the config
#: machinery; a --cfg-options key outside these and the config is unread
RUNNER_KEYS = frozenset({
    '_base_', 'activation_checkpointing', 'auto_scale_lr', 'compile',
    'custom_hooks', 'custom_imports', 'data_preprocessor', 'default_hooks',
    'default_scope', 'efficient_conv_bn_eval', 'env_cfg', 'experiment_name',
    'find_unused_parameters', 'gpu_ids', 'launcher', 'load_from',
    'load_strict', 'log_level', 'log_processor', 'model', 'model_wrapper_cfg',
    'optim_wrapper', 'param_scheduler', 'randomness', 'resume', 'runner_type',
    'strategy', 'test_cfg', 'test_dataloader', 'test_evaluator', 'train_cfg',
    'train_dataloader', 'val_cfg', 'val_dataloader', 'val_evaluator',
    'visualizer', 'work_dir', 'work_dir_lock'
})


def _config_paths(node: Any, prefix: str = '') -> List[str]:
    """Every dotted key path of a config (list items as ``name.<i>``)."""
    paths = []
    if isinstance(node, Mapping):
        items = node.items()
    elif isinstance(node, (list, tuple)):
        items = enumerate(node)
    else:
        return paths
    for key, value in items:
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
            existing keys.
    """
    paths = _config_paths(cfg._cfg_dict.to_dict())
    warnings = []
    for key in options:
        parts = str(key).split('.')
        if walk_path(cfg._cfg_dict, parts)[0]:
            continue
        hints = _suggest(str(key), paths)
        hint = f'; did you mean {" or ".join(hints)}?' if hints else ''
        if len(parts) == 1 and parts[0] not in RUNNER_KEYS:
            raise KeyError(
                f'--cfg-options {key}: no such key in the config and nothing '
                f'reads a top-level {key!r}{hint}')
        if len(parts) > 1:
            text = (f'--cfg-options {key}: not in the config (it is added; '
                    f'check the spelling){hint}')
            warnings.append(text)
            print_log(text, logger='current', level=logging.WARNING)
    return warnings

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
        action=DictAction,
        help='override config settings, e.g. train_cfg.max_iters=50')
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
        check_cfg_options(cfg, options)
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
