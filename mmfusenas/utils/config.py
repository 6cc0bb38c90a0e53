"""Config helpers shared by the command-line tools."""
import argparse
import os
import os.path as osp
from typing import Any, List, Optional, Set

from mmengine.config import Config, ConfigDict, DictAction


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


def _reroot(node: Any, old: List[str], new: str, path: str,
            changed: List[str]) -> Any:
    if isinstance(node, dict):
        for key in list(node.keys()):
            sub = f'{path}.{key}' if path else str(key)
            if key == 'data_root' and isinstance(node[key], str):
                if node[key] != new:
                    node[key] = new
                    changed.append(sub)
                continue
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
    if isinstance(node, str):
        for root in old:
            if node.startswith(root) and node != root:
                changed.append(path)
                return osp.join(new, node[len(root):].lstrip('/'))
    return node


def reroot_data(cfg: Config, data_root: str) -> List[str]:
    """Point every dataset of ``cfg`` at ``data_root``.

    A config's ``data_root`` variable is only a Python variable of the
    config file: it is copied into every dataset (``dataset.data_root``)
    and into paths built from it (e.g. a COCO metric's
    ``ann_file=data_root + 'annotations/...'``) when the file is parsed, so
    ``--cfg-options data_root=X`` changes nothing that is used. This
    function sets ``data_root`` of every (nested) dataset config — train /
    val / test loaders, a search's ``train_cfg.arch_dataloader``, wrapped
    datasets — and rewrites every other string that starts with one of
    the old dataset roots (evaluator annotation files, ...).

    Args:
        cfg (Config): the config, changed in place.
        data_root (str): the new root folder.

    Returns:
        list[str]: the dotted keys that changed.

    Raises:
        FileNotFoundError: ``data_root`` is not a folder.
    """
    if not osp.isdir(data_root):
        raise FileNotFoundError(f'--data-root folder does not exist: '
                                f'{data_root}')
    found: Set[str] = set()
    _dataset_roots(cfg._cfg_dict, found)
    # longest first, so 'data/toy_det/' wins over 'data/toy'
    old = sorted(found, key=len, reverse=True)
    changed: List[str] = []
    for key in list(cfg.keys()):
        if key == 'data_root':
            continue
        value = cfg[key]
        new = _reroot(value, old, data_root, key, changed)
        if not isinstance(value, (dict, ConfigDict)):
            cfg[key] = new
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
        cfg.merge_from_dict(options)
    if data_root is not None:
        changed = reroot_data(cfg, data_root)
        print(f'data root {data_root}: re-rooted {len(changed)} config '
              f'entries ({", ".join(changed[:6])}'
              f'{", ..." if len(changed) > 6 else ""})')
    if getattr(args, 'tensorboard', False) or cfg.get('tensorboard', False):
        enable_tensorboard(cfg)
    work_dir: Optional[str] = args.work_dir
    if work_dir is not None:
        cfg.work_dir = work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(args.config))[0])
    return cfg


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
