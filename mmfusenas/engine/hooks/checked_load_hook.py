"""Check what the runner loads (``load_from``, ``resume``) before it reaches
the model, and auto-resume from the newest usable checkpoint
(``default_hooks.checked_load``; docs/user_guides/reliability.md)."""
import os
import os.path as osp
from typing import Any, Optional

from mmengine.dist import barrier, is_main_process
from mmengine.hooks import Hook
from mmengine.runner import Runner

from mmfusenas.registry import HOOKS
from mmfusenas.utils.checkpoint import (auto_resume_checkpoint, check_state,
                                        nonfinite_tensors, short_list)
from mmfusenas.utils.distributed import unwrap
from mmfusenas.utils.fileio import atomic_write


@HOOKS.register_module()
class CheckedLoadHook(Hook):
    """Refuse a checkpoint whose weights do not fit the model (keys when
    ``strict``, shapes always) or hold NaN / Inf (and on resume the
    optimizer state), naming the file, before the runner loads it. With
    ``resume=True`` and no ``load_from`` (read from the runner's config),
    ``last_checkpoint`` is first pointed at the newest usable checkpoint of
    the work dir (damaged ones are skipped and said so).

    Args:
        strict (bool): Refuse missing and unexpected keys. Defaults to True.
    """

    priority = 'VERY_HIGH'

    def __init__(self, strict: bool = True) -> None:
        self.strict = bool(strict)
        self.source: Optional[str] = None  # the file the runner loads

    def before_run(self, runner: Runner) -> None:
        cfg = runner.cfg
        self.source = cfg.get('load_from')
        if self.source or not cfg.get('resume'):
            return
        pointer = osp.join(runner.work_dir, 'last_checkpoint')
        self.source = auto_resume_checkpoint(runner.work_dir, runner.logger)
        if is_main_process() and self.source is not None:
            atomic_write(self.source, pointer)  # MMEngine resumes from it
        elif is_main_process() and osp.isfile(pointer):
            os.remove(pointer)  # an empty pointer: nothing to resume
        barrier()

    def after_load_checkpoint(self, runner: Runner, checkpoint: Any) -> None:
        resume = bool(runner.cfg.get('resume'))
        what = '--resume checkpoint' if resume else 'checkpoint'
        check_state(unwrap(runner.model), checkpoint, self.source, self.strict,
                    what)
        if resume and (bad := nonfinite_tensors(
                dict(optimizer=checkpoint.get('optimizer')))):
            raise FloatingPointError(
                f'{what} {self.source}: {len(bad)} loaded tensor(s) hold '
                f'NaN/Inf ({short_list(bad, 10)}); stopping before the first '
                'step. Resume from an earlier checkpoint of the work dir '
                '(docs/user_guides/reliability.md)')
