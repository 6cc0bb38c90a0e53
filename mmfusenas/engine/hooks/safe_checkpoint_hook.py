"""MMEngine's CheckpointHook that never loses the last good checkpoint (nor
the validation a kill interrupted)."""
import bisect
import glob
import inspect
import json
import os
import os.path as osp
from contextlib import contextmanager
from typing import Any, Dict, Iterator, List, Optional, Tuple

from mmengine.dist import broadcast_object_list, is_main_process
from mmengine.hooks import CheckpointHook
from mmengine.runner import EpochBasedTrainLoop, IterBasedTrainLoop, Runner

from mmfusenas.registry import HOOKS
from mmfusenas.utils.checkpoint import nonfinite_state, short_list
from mmfusenas.utils.fileio import atomic_write

#: in the work dir: the iteration and epoch of the last validation of the
#: run whose results were all written
LAST_VALIDATION = 'last_validation.json'


def due_validation(runner: Runner) -> Optional[Tuple[str, int]]:
    """``('iteration', N)`` / ``('epoch', N)`` when MMEngine's train loop
    validates right after the iteration / epoch the runner stands at (its
    ``val_begin``, ``val_interval``, dynamic intervals and last step), else
    None."""
    loop = runner.train_loop
    if isinstance(loop, EpochBasedTrainLoop):
        unit, step, last = 'epoch', runner.epoch, loop.max_epochs
    elif isinstance(loop, IterBasedTrainLoop):
        unit, step, last = 'iteration', runner.iter, loop.max_iters
    else:
        return None
    if runner.val_loop is None or step < max(loop.val_begin, 1):
        return None
    interval = loop.dynamic_intervals[
        bisect.bisect(loop.dynamic_milestones, step + 1) - 1]
    return (unit, step) if step % interval == 0 or step == last else None


@HOOKS.register_module()
class SafeCheckpointHook(CheckpointHook):
    """:class:`~mmengine.hooks.CheckpointHook` that refuses to save NaN /
    Inf state and removes old (or previous best) checkpoints only after the
    new one is written; with the ``atomic_local`` backend a kill at any
    moment leaves a whole checkpoint. Unknown options (e.g. the typo
    ``max_keep_ckpt``) are refused when the hook is built.

    The checkpoint of a step is written before the step's validation: each
    validation of a training run whose results were all written is recorded
    in ``<work_dir>/last_validation.json``, and a run resumed in the same
    work dir from a step whose validation is not recorded there (the run
    was killed before or during it) runs it again when training starts,
    before its first step. A checkpoint of another work dir is resumed as
    MMEngine resumes it.

    Args:
        check_finite (bool): Refuse to save a non-finite model / optimizer
            state. Defaults to True.
        clean_tmp (bool): Remove the ``.<checkpoint>.*.tmp`` files of killed
            writes when training starts. Defaults to True.
        revalidate (bool): Record finished validations and run a lost one
            again on resume. Defaults to True.
        **kwargs: The arguments of :class:`~mmengine.hooks.CheckpointHook`.
    """

    def __init__(self, *args: Any, check_finite: bool = True,
                 clean_tmp: bool = True, revalidate: bool = True,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.args:  # the hook passes every runner.save_checkpoint argument
            options = sorted(set(inspect.signature(
                CheckpointHook.__init__).parameters) - {'self', 'kwargs'})
            raise TypeError(
                f'{type(self).__name__}: unknown argument(s) '
                f'{sorted(self.args)} (checkpoint hook options: {options})')
        self.check_finite, self.clean_tmp = bool(check_finite), bool(clean_tmp)
        self.revalidate = bool(revalidate)
        self.removed_tmp: List[str] = []  # leftovers removed at the start
        self.revalidated: Optional[Tuple[str, int]] = None  # redone on resume
        self.training = False  # between before_train and after_train

    def before_train(self, runner: Runner) -> None:
        super().before_train(runner)
        self.training = True
        self._remove_tmp(runner)
        if self.revalidate:
            self._validate_again_if_lost(runner)

    def after_train(self, runner: Runner) -> None:
        super().after_train(runner)
        self.training = False

    def after_val(self, runner: Runner) -> None:
        """Record the validation of a training run as finished (every
        hook's ``after_val_epoch`` has written its results)."""
        if self.revalidate and self.training:
            self._record_validation(runner)

    def _record_validation(self, runner: Runner) -> None:
        if is_main_process():
            atomic_write(json.dumps(dict(iteration=runner.iter,
                                         epoch=runner.epoch)),
                         osp.join(runner.work_dir, LAST_VALIDATION))

    def _validate_again_if_lost(self, runner: Runner) -> None:
        """A new run records no validation yet; a resumed one runs the
        validation due at its step if the work dir's record is older."""
        if runner.iter == 0 and runner.epoch == 0:  # a new run
            path = osp.join(runner.work_dir, LAST_VALIDATION)
            if runner.val_loop is not None:
                self._record_validation(runner)  # step 0: none yet
            elif is_main_process() and osp.isfile(path):
                os.remove(path)
            return
        if (due := due_validation(runner)) is None:
            return
        lost = [False]
        if is_main_process():
            try:
                with open(osp.join(runner.work_dir, LAST_VALIDATION)) as f:
                    lost[0] = int(json.load(f)[due[0]]) < due[1]
            except FileNotFoundError:
                pass  # not this work dir's run: as MMEngine, no validation
            except (OSError, ValueError, KeyError, TypeError):
                lost[0] = True  # an unreadable record: validate again
        broadcast_object_list(lost)  # every rank validates, or none
        if not lost[0]:
            return
        self.revalidated = due
        runner.logger.warning(
            f'the validation of {due[0]} {due[1]} (the step this run resumes '
            'from) was interrupted before its results were written; running '
            'it again before training continues')
        runner.val_loop.run()

    def _remove_tmp(self, runner: Runner) -> None:
        if not (self.clean_tmp and is_main_process()):
            return
        suffix = glob.escape(self.filename_tmpl.split('{}')[-1])
        for folder in sorted({osp.abspath(self.out_dir),
                              osp.abspath(runner.work_dir)}):
            for path in glob.glob(osp.join(folder, f'.*{suffix}.*.tmp')) + \
                    glob.glob(osp.join(folder, '.last_checkpoint.*.tmp')) + \
                    glob.glob(osp.join(folder, f'.{LAST_VALIDATION}.*.tmp')):
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
