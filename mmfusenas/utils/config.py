"""Config helpers shared by the command-line tools."""
import argparse
import os
import os.path as osp
from typing import Optional

from mmengine.config import Config, DictAction

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
