"""A checkpoint hook that never loses the last good checkpoint.

:class:`SafeCheckpointHook` (selected by ``default_runtime.py``) is
MMEngine's :class:`~mmengine.hooks.CheckpointHook` with another order and
checks: the state is checked for NaN / Inf before saving (a non-finite
state raises :class:`FloatingPointError` and nothing is written); the new
checkpoint, then ``last_checkpoint``, is written atomically and durably
(with the ``atomic_local`` backend); only then is the oldest checkpoint
beyond ``max_keep_ckpts`` (or the previous best) removed. A kill at any
moment therefore leaves ``last_checkpoint`` naming a whole checkpoint;
temporary files of killed writes are removed when the next run starts.
Unknown keyword arguments (e.g. the typo ``max_keep_ckpt``) are rejected
when the hook is built.
"""
import glob
import inspect
import os
import os.path as osp
import re
from typing import Any, Dict, List, Optional

from mmengine.dist import is_main_process
from mmengine.hooks import CheckpointHook
from mmengine.runner import Runner

from mmfusenas.registry import HOOKS
from mmfusenas.utils.checkpoint import nonfinite_state, short_list
from mmfusenas.utils.fileio import atomic_write


def _save_checkpoint_kwargs() -> set:
    params = inspect.signature(Runner.save_checkpoint).parameters
    return {n for n in params if n != 'self'}


@HOOKS.register_module()
class SafeCheckpointHook(CheckpointHook):
    """:class:`CheckpointHook` with finite-state checks and crash-safe
    rotation (see the module docstring).

    Args:
        check_finite (bool): Refuse to save a non-finite model / optimizer
            state. Defaults to True.
        clean_tmp (bool): Remove leftover ``.<checkpoint>.*.tmp`` files of
            killed writes when training starts. Defaults to True.
        **kwargs: The arguments of :class:`~mmengine.hooks.CheckpointHook`.
    """

    def __init__(self,
                 *args: Any,
                 check_finite: bool = True,
                 clean_tmp: bool = True,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        accepted = _save_checkpoint_kwargs()
        unknown = sorted(set(self.args) - accepted)
        if unknown:
            hook_params = sorted(
                set(inspect.signature(CheckpointHook.__init__).parameters) -
                {'self', 'kwargs'})
            raise TypeError(
                f'{type(self).__name__}: unknown argument(s) {unknown} '
                f'(checkpoint hook options: {hook_params}; extra options '
                'passed to runner.save_checkpoint: '
                f'{sorted(accepted)})')
        self.check_finite = bool(check_finite)
        self.clean_tmp = bool(clean_tmp)
        #: leftover temporary files removed at the start of training
        self.removed_tmp: List[str] = []

    # ------------------------------------------------------------------
    def before_train(self, runner: Runner) -> None:
        super().before_train(runner)
        if self.clean_tmp and is_main_process():
            self.removed_tmp = self._remove_stale_tmp(runner)

    def _remove_stale_tmp(self, runner: Runner) -> List[str]:
        """Remove the temporary files of killed atomic checkpoint writes."""
        suffix = re.escape(self.filename_tmpl.split('{}')[-1])
        pattern = re.compile(rf'^\..+{suffix}\.[^.]+\.tmp$')
        folders = {osp.abspath(self.out_dir), osp.abspath(runner.work_dir)}
        removed = []
        for folder in sorted(folders):
            for path in glob.glob(osp.join(folder, '.*.tmp')):
                name = osp.basename(path)
                if pattern.match(name) or name.startswith('.last_checkpoint.'):
                    try:
                        size = osp.getsize(path)
                        os.remove(path)
                    except OSError:
                        continue
                    removed.append(path)
                    runner.logger.warning(
                        f'removed {path} ({size} bytes), the temporary file '
                        'of a checkpoint write that was interrupted')
        return removed

    def _check_finite_state(self, runner: Runner, step: int) -> None:
        optim = getattr(runner, 'optim_wrapper', None) \
            if self.save_optimizer else None
        bad = nonfinite_state(runner.model, optim)
        if bad:
            name = ('the best checkpoint' if step == 'best' else
                    self.filename_tmpl.format(step))
            raise FloatingPointError(
                f'{type(self).__name__}: refusing to save checkpoint '
                f'{name}: {len(bad)} tensor(s) '
                f'hold NaN/Inf ({short_list(bad, 10)}). Nothing was written; '
                'last_checkpoint still names the last good checkpoint. '
                'See docs/user_guides/reliability.md (FiniteStepGuardHook)')

    def _save_best_checkpoint(self, runner: Runner,
                              metrics: Optional[Dict[str, float]]) -> None:
        """MMEngine's best-checkpoint logic, but the previous best file is
        removed only after the new one is written."""
        if not self.save_best:
            return
        if self.check_finite:
            self._check_finite_state(runner, 'best')
        single = self.best_ckpt_path
        multi = dict(getattr(self, 'best_ckpt_path_dict', None) or {})
        # hide the previous paths so that MMEngine does not remove them first
        self.best_ckpt_path = None
        if multi:
            self.best_ckpt_path_dict = {k: None for k in multi}
        try:
            super()._save_best_checkpoint(runner, metrics)
        finally:
            old_new = [(single, self.best_ckpt_path)]
            if self.best_ckpt_path is None:
                self.best_ckpt_path = single
            for key, old in multi.items():
                new = self.best_ckpt_path_dict.get(key)
                old_new.append((old, new))
                if new is None:
                    self.best_ckpt_path_dict[key] = old
        if not is_main_process():
            return
        for old, new in old_new:
            if old and new and old != new:
                if self.file_backend.isfile(old):
                    self.file_backend.remove(old)
                elif self.file_backend.isdir(old):
                    self.file_backend.rmtree(old)
                runner.logger.info(
                    f'The previous best checkpoint {old} is removed')

    def _save_checkpoint_with_step(self, runner: Runner, step: int,
                                   meta: dict) -> None:
        if self.check_finite:
            self._check_finite_state(runner, step)
        # decide the rotation first (so the saved keep_ckpt_ids are those
        # MMEngine would save) but remove files only after the save
        to_remove = []
        if self.max_keep_ckpts > 0:
            if len(self.keep_ckpt_ids) > 0 and self.keep_ckpt_ids[-1] == step:
                pass
            else:
                while len(self.keep_ckpt_ids) >= self.max_keep_ckpts:
                    to_remove.append(self.keep_ckpt_ids.popleft())
                self.keep_ckpt_ids.append(step)
                runner.message_hub.update_info('keep_ckpt_ids',
                                               list(self.keep_ckpt_ids))

        ckpt_filename = self.filename_tmpl.format(step)
        self.last_ckpt = self.file_backend.join_path(self.out_dir,
                                                     ckpt_filename)
        runner.message_hub.update_info('last_ckpt', self.last_ckpt)
        runner.save_checkpoint(
            self.out_dir,
            ckpt_filename,
            self.file_client_args,
            save_optimizer=self.save_optimizer,
            save_param_scheduler=self.save_param_scheduler,
            meta=meta,
            by_epoch=self.by_epoch,
            backend_args=self.backend_args,
            **self.args)
        if not is_main_process():
            return
        atomic_write(self.last_ckpt, osp.join(runner.work_dir,
                                              'last_checkpoint'))
        for old in to_remove:
            path = self.file_backend.join_path(self.out_dir,
                                               self.filename_tmpl.format(old))
            if path == self.last_ckpt:
                continue
            if self.file_backend.isfile(path):
                self.file_backend.remove(path)
            elif self.file_backend.isdir(path):
                self.file_backend.rmtree(path)
