"""MMEngine's CheckpointHook that never loses the last good checkpoint."""
import glob
import inspect
import os
import os.path as osp
from contextlib import contextmanager
from typing import Any, Dict, Iterator, List, Optional

from mmengine.dist import is_main_process
from mmengine.hooks import CheckpointHook
from mmengine.runner import Runner

from mmfusenas.registry import HOOKS
from mmfusenas.utils.checkpoint import nonfinite_state, short_list


@HOOKS.register_module()
class SafeCheckpointHook(CheckpointHook):
    """:class:`~mmengine.hooks.CheckpointHook` that refuses to save NaN /
    Inf state and removes old (or previous best) checkpoints only after the
    new one is written; with the ``atomic_local`` backend a kill at any
    moment leaves a whole checkpoint. Unknown options (e.g. the typo
    ``max_keep_ckpt``) are refused when the hook is built.

    Args:
        check_finite (bool): Refuse to save a non-finite model / optimizer
            state. Defaults to True.
        clean_tmp (bool): Remove the ``.<checkpoint>.*.tmp`` files of killed
            writes when training starts. Defaults to True.
        **kwargs: The arguments of :class:`~mmengine.hooks.CheckpointHook`.
    """

    def __init__(self, *args: Any, check_finite: bool = True,
                 clean_tmp: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.args:  # the hook passes every runner.save_checkpoint argument
            options = sorted(set(inspect.signature(
                CheckpointHook.__init__).parameters) - {'self', 'kwargs'})
            raise TypeError(
                f'{type(self).__name__}: unknown argument(s) '
                f'{sorted(self.args)} (checkpoint hook options: {options})')
        self.check_finite, self.clean_tmp = bool(check_finite), bool(clean_tmp)
        self.removed_tmp: List[str] = []  # leftovers removed at the start

    def before_train(self, runner: Runner) -> None:
        super().before_train(runner)
        if not (self.clean_tmp and is_main_process()):
            return
        suffix = glob.escape(self.filename_tmpl.split('{}')[-1])
        for folder in sorted({osp.abspath(self.out_dir),
                              osp.abspath(runner.work_dir)}):
            for path in glob.glob(osp.join(folder, f'.*{suffix}.*.tmp')) + \
                    glob.glob(osp.join(folder, '.last_checkpoint.*.tmp')):
                try:
                    size = osp.getsize(path)
                    os.remove(path)
                except OSError:
                    continue
                self.removed_tmp.append(path)
                runner.logger.warning(
                    f'removed {path} ({size} bytes), the temporary file of a '
                    'checkpoint write that was interrupted')

    def _check_finite_state(self, runner: Runner, name: str) -> None:
        optim = runner.optim_wrapper if self.save_optimizer else None
        bad = nonfinite_state(runner.model, optim) if self.check_finite \
            else []
        if bad:
            raise FloatingPointError(
                f'{type(self).__name__}: refusing to save checkpoint {name}: '
                f'{len(bad)} tensor(s) hold NaN/Inf ({short_list(bad, 10)}). '
                'Nothing was written; last_checkpoint still names the last '
                'good checkpoint. See docs/user_guides/reliability.md')

    @contextmanager
    def _removals_after_save(self) -> Iterator[None]:
        """MMEngine removes old checkpoints before saving the new one: the
        removals are collected here and done once the block succeeds."""
        backend, paths = self.file_backend, []
        if 'remove' in vars(backend):  # nested: the outer block removes
            yield
            return
        backend.remove = backend.rmtree = paths.append
        try:
            yield
        finally:
            del backend.remove, backend.rmtree
        for path in set(paths) - {self.last_ckpt}:
            if backend.isfile(path):
                backend.remove(path)
            elif backend.isdir(path):
                backend.rmtree(path)

    def _save_best_checkpoint(self, runner: Runner,
                              metrics: Optional[Dict[str, float]]) -> None:
        if self.save_best:
            self._check_finite_state(runner, 'the best checkpoint')
        with self._removals_after_save():
            super()._save_best_checkpoint(runner, metrics)

    def _save_checkpoint_with_step(self, runner: Runner, step: int,
                                   meta: dict) -> None:
        self._check_finite_state(runner, self.filename_tmpl.format(step))
        with self._removals_after_save():
            super()._save_checkpoint_with_step(runner, step, meta)
