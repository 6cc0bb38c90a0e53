"""MMEngine's CheckpointHook that never loses the last good checkpoint (nor
the validation a kill interrupted)."""
import bisect
import glob
import inspect
import json
import os
import os.path as osp
from typing import Any, List, Optional, Tuple

from mmengine.dist import broadcast_object_list, is_main_process
from mmengine.hooks import CheckpointHook
from mmengine.runner import EpochBasedTrainLoop, IterBasedTrainLoop, Runner

from mmfusenas.registry import HOOKS
from mmfusenas.utils.checkpoint import nonfinite_tensors, short_list
from mmfusenas.utils.fileio import atomic_write

#: in the work dir: iteration and epoch of the last fully written validation
LAST_VALIDATION = 'last_validation.json'


def due_validation(runner: Runner) -> Optional[Tuple[str, int]]:
    """``('iteration', N)`` / ``('epoch', N)`` when MMEngine's train loop
    validates right after the step the runner stands at, else None."""
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
    moment leaves a whole checkpoint. Unknown options are refused.

    Finished validations of a run are recorded in
    ``<work_dir>/last_validation.json``; a run resumed in the same work dir
    from a step whose validation is not recorded runs it again first. The
    temporary files of killed writes are removed when training starts.

    Args:
        check_finite (bool): Refuse to save a non-finite model / optimizer
            state. Defaults to True.
        revalidate (bool): Record finished validations and run a lost one
            again on resume. Defaults to True.
        **kwargs: The arguments of :class:`~mmengine.hooks.CheckpointHook`.
    """

    def __init__(self, *args: Any, check_finite: bool = True,
                 revalidate: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.args:  # the hook passes every runner.save_checkpoint argument
            options = sorted(set(inspect.signature(
                CheckpointHook.__init__).parameters) - {'self', 'kwargs'})
            raise TypeError(
                f'{type(self).__name__}: unknown argument(s) '
                f'{sorted(self.args)} (checkpoint hook options: {options})')
        self.check_finite = bool(check_finite)
        self.revalidate = bool(revalidate)
        self.removed_tmp: List[str] = []  # leftovers removed at the start
        self.revalidated: Optional[Tuple[str, int]] = None  # redone on resume
        self.training = False  # between before_train and after_train

    def before_train(self, runner: Runner) -> None:
        super().before_train(runner)
        self.file_backend = DeferredRemovals(self.file_backend)
        self.training = True
        self._remove_tmp(runner)
        if self.revalidate:
            self._validate_again_if_lost(runner)

    def after_train(self, runner: Runner) -> None:
        super().after_train(runner)
        self.training = False

    def after_val(self, runner: Runner) -> None:
        """Record a finished validation of a training run."""
        if self.revalidate and self.training:
            self._record_validation(runner)

    def _record_validation(self, runner: Runner) -> None:
        if is_main_process():
            atomic_write(json.dumps(dict(iteration=runner.iter,
                                         epoch=runner.epoch)),
                         osp.join(runner.work_dir, LAST_VALIDATION))

    def _validate_again_if_lost(self, runner: Runner) -> None:
        """Rerun the validation due at a resumed step if the record is
        older."""
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
        if not is_main_process():
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

    def before_save_checkpoint(self, runner: Runner, checkpoint: dict) -> None:
        """Refuse a checkpoint whose model or optimizer state holds NaN /
        Inf."""
        if self.check_finite and (bad := nonfinite_tensors({
                k: checkpoint.get(k) for k in ('state_dict', 'optimizer')})):
            meta = checkpoint.get('meta') or {}
            unit = 'epoch' if self.by_epoch else 'iteration'
            raise FloatingPointError(
                f'{type(self).__name__}: refusing to save the checkpoint of '
                f'{unit} {meta.get("epoch" if self.by_epoch else "iter")}: '
                f'{len(bad)} tensor(s) hold NaN/Inf ({short_list(bad, 10)}). '
                'Nothing was written; last_checkpoint still names the last '
                'good checkpoint. See docs/user_guides/reliability.md')

    def after_train_iter(self, runner: Runner, batch_idx: int,
                         data_batch: Any = None, outputs: Any = None) -> None:
        super().after_train_iter(runner, batch_idx, data_batch, outputs)
        self._remove_old()

    def after_train_epoch(self, runner: Runner) -> None:
        super().after_train_epoch(runner)
        self._remove_old()

    def after_val_epoch(self, runner: Runner, metrics: Any = None) -> None:
        super().after_val_epoch(runner, metrics)
        self._remove_old()

    def _remove_old(self) -> None:
        """Remove the checkpoints MMEngine dropped, now that the new one is
        written."""
        keep = {getattr(self, 'last_ckpt', None),
                getattr(self, 'best_ckpt_path', None),
                *getattr(self, 'best_ckpt_path_dict', {}).values()}
        if isinstance(self.file_backend, DeferredRemovals):
            self.file_backend.flush(keep)


class DeferredRemovals:
    """A file backend whose ``remove`` / ``rmtree`` wait for :meth:`flush`
    (MMEngine removes old checkpoints before it saves the new one)."""

    def __init__(self, backend: Any) -> None:
        self.backend, self.pending = backend, []

    def __getattr__(self, name: str) -> Any:
        return getattr(self.backend, name)

    def remove(self, path: str) -> None:
        self.pending.append(path)

    rmtree = remove

    def flush(self, keep: set) -> None:
        """Remove the pending paths, except those in ``keep``."""
        for path in [p for p in dict.fromkeys(self.pending) if p not in keep]:
            if self.backend.isfile(path):
                self.backend.remove(path)
            elif self.backend.isdir(path):
                self.backend.rmtree(path)
        self.pending.clear()
