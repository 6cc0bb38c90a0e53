"""The MMFuseNAS runner: MMEngine's Runner plus the reliability guarantees.

:class:`ReliableRunner` (``runner_type = 'ReliableRunner'`` in
``default_runtime.py``; the tools build it with :func:`build_runner`) adds
to :class:`mmengine.runner.Runner`: strict checkpoint loading (opt out with
``load_strict = False``), clear checkpoint errors
(:func:`~mmfusenas.utils.checkpoint.check_checkpoint_file`), a NaN / Inf
check of the resumed state, auto-resume from the last good checkpoint, an
exclusive work-dir lock (``work_dir_lock = True``), default hooks switched
off with None, a one-line-per-module initialisation summary
(:mod:`~mmfusenas.engine.runner.init_summary`) and the config formatted
once (:mod:`~mmfusenas.engine.runner.cached_config`). It never changes the
model it builds.
"""
import os
from typing import Callable, Dict, Optional, Union

from mmengine.config import Config, ConfigDict
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.runner import Runner

from mmfusenas.registry import RUNNERS
from mmfusenas.utils.checkpoint import (CorruptCheckpointError,
                                        find_resumable_checkpoint,
                                        load_checked_state,
                                        nonfinite_tensors, read_checkpoint)
from mmfusenas.utils.workdir_lock import WorkDirLock
from .cached_config import with_cached_text
from .console_brief import install_console_brief, run_summary
from .init_summary import side_file_for, summarised_init_dump

# the default hooks MMEngine itself removes when set to None
_MMENGINE_DEFAULT_HOOKS = ('runtime_info', 'timer', 'sampler_seed', 'logger',
                           'param_scheduler', 'checkpoint')
_RANK_ENV_KEYS = ('RANK', 'SLURM_PROCID', 'OMPI_COMM_WORLD_RANK',
                  'PMI_RANK')


#: the timestamps of the runners built in this process (see
#: :meth:`ReliableRunner.setup_env`)
_USED_TIMESTAMPS: set = set()


def _env_rank() -> int:
    """The global rank, read from the launcher's environment (the process
    group does not exist yet when the lock is taken)."""
    for key in _RANK_ENV_KEYS:
        if os.environ.get(key, '').strip().isdigit():
            return int(os.environ[key])
    return 0


@RUNNERS.register_module()
class ReliableRunner(Runner):
    """:class:`~mmengine.runner.Runner` with strict loading, clear
    checkpoint errors, robust auto-resume and a work-dir lock (see the
    module docstring).

    Takes the arguments of :class:`~mmengine.runner.Runner`; the options
    ``load_strict`` and ``work_dir_lock`` are read from ``cfg`` (top-level
    config keys, both default to True).
    """

    def __init__(self, *args, **kwargs) -> None:
        # the config text is formatted once, not at every log / dump /
        # checkpoint (:mod:`.cached_config`)
        kwargs['cfg'] = with_cached_text(kwargs.get('cfg'))
        cfg = kwargs.get('cfg') or {}
        self._load_strict = bool(cfg.get('load_strict', True))
        self._work_dir_lock: Optional[WorkDirLock] = None
        work_dir = kwargs.get('work_dir', args[1] if len(args) > 1 else None)
        if cfg.get('work_dir_lock', True) and work_dir and _env_rank() == 0:
            self._work_dir_lock = WorkDirLock(work_dir).acquire()
        try:
            super().__init__(*args, **kwargs)
        except BaseException:
            self.release_work_dir()
            raise
        lock = self._work_dir_lock
        if lock is not None and lock.stale_owner:
            owner = lock.stale_owner
            self.logger.warning(
                f'work dir lock of an earlier run (pid {owner.get("pid")} on '
                f'{owner.get("host")}, started {owner.get("started")}) was '
                'not released: that run ended abnormally; the lock is taken '
                'over')

    # ------------------------------------------------------------------
    # the work-dir lock
    # ------------------------------------------------------------------
    def release_work_dir(self) -> None:
        """Release the work-dir lock (idempotent)."""
        lock = getattr(self, '_work_dir_lock', None)
        if lock is not None:
            lock.release()

    def setup_env(self, env_cfg: Dict) -> None:
        """MMEngine's environment set-up, then a timestamp no earlier
        runner of this process used.

        MMEngine names the run's log folder and its visualizer instance
        after the second the runner starts; two runners started within one
        second in one process (a short run and its resumption, seeds run
        one after another) would share the visualizer and write their
        scalars into the first run's folder. A repeated timestamp gets a
        suffix ``_2``, ``_3``, ... (the same on every rank: each rank builds
        the same runners in the same order).
        """
        super().setup_env(env_cfg)
        stamp, k = self._timestamp, 1
        while stamp in _USED_TIMESTAMPS:
            k += 1
            stamp = f'{self._timestamp}_{k}'
        _USED_TIMESTAMPS.add(stamp)
        self._timestamp = stamp

    def build_logger(self, *args, **kwargs):
        """MMEngine's logger with a short first screen: the environment,
        config and hook-order records go to the log file only
        (:mod:`.console_brief`)."""
        logger = super().build_logger(*args, **kwargs)
        install_console_brief(logger)
        return logger

    def train(self):
        try:
            # the train loop is the first thing Runner.train builds; built
            # here, its data set can be named before anything else runs
            self._train_loop = self.build_train_loop(self._train_loop)
            self._log_run_summary()
            return super().train()
        finally:
            self.release_work_dir()

    def _log_run_summary(self) -> None:
        model = self.model.module if is_model_wrapper(self.model) \
            else self.model
        loop = self._train_loop
        datasets = []
        loader = getattr(loop, 'dataloader', None)
        if loader is not None:
            datasets.append(('train', loader.dataset))
        train_cfg = self.cfg.get('train_cfg') or {}
        if 'max_iters' in train_cfg:
            iters = getattr(loop, 'max_iters', train_cfg['max_iters'])
            length = f'{iters} iterations'
        else:
            epochs = getattr(loop, 'max_epochs',
                             train_cfg.get('max_epochs', '?'))
            length = f'{epochs} epochs'
        self.logger.info(
            run_summary(self.cfg.filename or '(config dict)', model,
                        datasets, length, self.work_dir))

    def __del__(self) -> None:
        self.release_work_dir()

    def register_default_hooks(
            self, hooks: Optional[Dict[str, Union[Hook, dict]]] = None
    ) -> None:
        """MMEngine's default hooks, where ``None`` removes any of them.

        ``default_hooks.finite_guard=None`` (or any other key of ours set to
        None) drops that hook; MMEngine's own keys (``timer``,
        ``checkpoint``, ...) set to None are removed by MMEngine as before.
        """
        if hooks is not None:
            hooks = {
                name: hook
                for name, hook in hooks.items()
                if hook is not None or name in _MMENGINE_DEFAULT_HOOKS
            }
        super().register_default_hooks(hooks)

    def _init_model_weights(self) -> None:
        """MMEngine's weight initialisation with a summarised log."""
        model = self.model.module if is_model_wrapper(
            self.model) else self.model
        with summarised_init_dump(model, self.logger,
                                  side_file_for(self.log_dir)):
            super()._init_model_weights()

    # ------------------------------------------------------------------
    # loading
    # ------------------------------------------------------------------
    def load_checkpoint(self,
                        filename: str,
                        map_location: Union[str, Callable] = 'cpu',
                        strict: Optional[bool] = None,
                        revise_keys: list = [(r'^module.', '')]):
        """Load a checkpoint into the model, strictly unless the config says
        ``load_strict = False`` (or ``strict=False`` is passed).

        A local file goes through the checked loader
        (:func:`~mmfusenas.utils.checkpoint.read_checkpoint` and
        :func:`~mmfusenas.utils.checkpoint.load_checked_state`); a URL
        through MMEngine's.

        Raises:
            FileNotFoundError / ValueError: The file is missing or unusable
                (the message names it and the problem).
            FloatingPointError: Its weights hold NaN / Inf.
            RuntimeError: Keys or shapes do not match (strict); summarised.
        """
        strict = self._load_strict if strict is None else bool(strict)
        if '://' in str(filename):  # a URL: MMEngine's loader
            return super().load_checkpoint(
                filename,
                map_location=map_location,
                strict=strict,
                revise_keys=revise_keys)
        what = getattr(self, '_load_what', 'checkpoint')
        # the checked loader (file, CRC-32, weights_only, finite tensors,
        # keys and shapes, official files recognised), with MMEngine's
        # after_load_checkpoint hooks between reading and loading
        checkpoint = read_checkpoint(filename, what, map_location)
        self.call_hook('after_load_checkpoint', checkpoint=checkpoint)
        model = self.model.module if is_model_wrapper(
            self.model) else self.model
        load_checked_state(model, checkpoint, filename, strict, what,
                           revise_keys, self.logger)
        self._has_loaded = True
        self.logger.info(f'Load checkpoint from {filename}')
        return checkpoint

    def resume(self,
               filename: str,
               resume_optimizer: bool = True,
               resume_param_scheduler: bool = True,
               map_location: Union[str, Callable] = 'default') -> None:
        """MMEngine's resume, then a finiteness check of what was loaded.

        The file itself is checked by :meth:`load_checkpoint` (truncation,
        CRC-32 of a zip checkpoint's entries).

        Raises:
            FloatingPointError: The loaded model or optimizer state holds
                NaN / Inf; names the checkpoint and the tensors. Raised
                before the first training step.
        """
        self._load_what = '--resume checkpoint'
        try:
            super().resume(
                filename,
                resume_optimizer=resume_optimizer,
                resume_param_scheduler=resume_param_scheduler,
                map_location=map_location)
        finally:
            del self._load_what
        model = self.model.module if is_model_wrapper(
            self.model) else self.model
        bad = nonfinite_tensors(model.state_dict(), 'state_dict')
        if resume_optimizer and getattr(self, 'optim_wrapper', None):
            bad += nonfinite_tensors(self.optim_wrapper.state_dict(),
                                     'optimizer')
        if bad:
            shown = ', '.join(bad[:10]) + (f' and {len(bad) - 10} more'
                                           if len(bad) > 10 else '')
            raise FloatingPointError(
                f'--resume checkpoint {filename}: {len(bad)} loaded '
                f'tensor(s) hold NaN/Inf ({shown}); stopping before the '
                'first step. Resume from an earlier checkpoint of the work '
                'dir (docs/user_guides/reliability.md)')

    def load_or_resume(self) -> None:
        """Load or resume, finding a usable checkpoint for auto-resume."""
        if self._has_loaded:
            return None
        if self._resume and self._load_from is None:
            resume_from, notes = find_resumable_checkpoint(self.work_dir)
            if resume_from is None:
                unusable = [n for n in notes if n.startswith('skipped ')
                            or 'names an unusable checkpoint' in n]
                if unusable:
                    # starting over here would repoint last_checkpoint at
                    # the new run's files: the user must choose that
                    raise CorruptCheckpointError(
                        f'--resume: no usable checkpoint in {self.work_dir}'
                        f'; {len(unusable)} tried and refused:\n  ' +
                        '\n  '.join(unusable) + '\nNothing was trained. '
                        'Resume from an intact copy (--resume FILE), or run '
                        'without --resume to start a new run from scratch '
                        '(its checkpoints then replace last_checkpoint; the '
                        'refused files stay where they are)')
                self.logger.warning(
                    f'--resume: no checkpoint found in {self.work_dir} ('
                    + '; '.join(notes) + '); starting from scratch')
            else:
                for note in notes:
                    self.logger.warning(f'--resume: {note}')
                self.logger.info(f'Auto-resuming from {resume_from}')
                self.resume(resume_from)
                self._has_loaded = True
            return None
        return super().load_or_resume()


def build_runner(cfg: Union[Config, ConfigDict, dict]) -> Runner:
    """Build the runner a config asks for.

    ``cfg.runner_type`` (``'ReliableRunner'`` in ``default_runtime.py``)
    names a runner of :data:`mmfusenas.registry.RUNNERS`; without it,
    MMEngine's plain :class:`~mmengine.runner.Runner` is built.
    """
    if cfg.get('runner_type') is None:
        return Runner.from_cfg(with_cached_text(cfg))
    return RUNNERS.build(cfg)
