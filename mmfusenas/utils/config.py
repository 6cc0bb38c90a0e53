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
from typing import Any, List, Mapping, Optional, Tuple

from mmengine.config import Config, DictAction
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

#: the model wrapper of distributed runs (plain models: MMEngine's DDP step;
#: search algorithms: their own train step with averaged gradients)
DEFAULT_MODEL_WRAPPER = 'mmfusenas.AlgorithmDistributedDataParallel'


def add_runner_args(parser: argparse.ArgumentParser) -> None:
    """Add ``--work-dir``, ``--cfg-options``, ``--launcher``, local rank.

    Distributed launchers pass ``--local-rank`` (torch >= 2.0) or
    ``--local_rank`` (older ones); both are accepted.
    """
    parser.add_argument('--work-dir', help='folder for logs and outputs')
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
    if args.cfg_options is not None:
        check_cfg_options(cfg, args.cfg_options)
        cfg.merge_from_dict(args.cfg_options)
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
      is honoured.

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
    if torch.cuda.is_available() or dist.is_initialized():
        return
    dist_cfg = dict(cfg.get('env_cfg', {}).get('dist_cfg', {}))
    backend = dist_cfg.get('backend', 'gloo')
    if backend == 'nccl':
        backend = 'gloo'
    init_cpu_distributed(launcher, backend, timeout=dist_cfg.get('timeout'))
