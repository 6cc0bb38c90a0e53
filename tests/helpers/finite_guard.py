"""Training under the finite-step guard of the default runtime
(``default_hooks.finite_guard`` of ``configs/_base_/default_runtime.py``)."""
import time
from types import SimpleNamespace
from typing import Any, Sequence

import torch.nn as nn
from mmengine.config import Config
from mmengine.runner import Runner
from torch.utils.data import DataLoader

from mmfusenas.registry import HOOKS
from .tools import REPO_ROOT

DEFAULT_RUNTIME = f'{REPO_ROOT}/configs/_base_/default_runtime.py'


def default_guard() -> dict:
    """The guard's config in the default runtime."""
    return Config.fromfile(DEFAULT_RUNTIME).default_hooks.finite_guard


def guarded_runner(model: nn.Module, batches: Sequence[dict],
                   work_dir: str) -> Runner:
    """A runner training ``model`` with SGD on ``batches`` (one iteration
    each, given to the model's data preprocessor as they are) with the
    default runtime's guard and no checkpoints."""
    return Runner(
        model=model,
        work_dir=str(work_dir),
        train_dataloader=DataLoader(
            list(batches), batch_size=1, collate_fn=lambda b: b[0]),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.01)),
        train_cfg=dict(by_epoch=False, max_iters=len(batches)),
        default_hooks=dict(checkpoint=None, finite_guard=default_guard()),
        default_scope='mmfusenas',
        experiment_name=f'guarded{time.time_ns()}',
        log_level='WARNING')


def set_up_guard(model: nn.Module, optim_wrapper: Any,
                 data_batch: Any) -> Any:
    """The default runtime's guard, set up as the runner sets it up for
    iteration 0 on ``data_batch`` (for a ``train_step`` called by hand);
    call ``remove()`` on it when done."""
    hook = HOOKS.build(default_guard())
    hook.before_train(SimpleNamespace(model=model,
                                      optim_wrapper=optim_wrapper, iter=0,
                                      logger=None))
    hook.before_train_iter(None, 0, data_batch)
    return hook
