"""The MMFuseNAS runner: what MMEngine's Runner cannot be told by config.

``runner_type = 'ReliableRunner'`` (``default_runtime.py``) selects it and
:func:`build_runner` builds it, as mmdet's ``tools/train.py`` does. The
checkpoint hook, the ``atomic_local`` backend and the NaN / Inf guard are
registered pieces of their own; :class:`ReliableRunner` adds the parts that
live inside the runner: the work-dir lock, taken before MMEngine writes into
the work dir (:func:`~mmfusenas.utils.workdir_lock.lock_work_dir`); the
checked checkpoint loader (:mod:`mmfusenas.utils.checkpoint`), strict unless
``load_strict = False``, with a finiteness check after ``resume``;
auto-resume from the newest usable checkpoint; ``None`` removing any default
hook; a short first screen (:mod:`.console_brief`), a summarised init log
(:mod:`.init_summary`), the config formatted once (:mod:`.cached_config`)
and one timestamp per runner. It never changes the model it builds.
"""
from typing import Callable, Dict, Optional, Union

from mmengine.config import Config, ConfigDict
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.runner import Runner

from mmfusenas.registry import RUNNERS
from mmfusenas.utils.checkpoint import (auto_resume_checkpoint,
                                        load_checked_state, nonfinite_state,
                                        read_checkpoint, short_list)
from mmfusenas.utils.workdir_lock import lock_work_dir
from .cached_config import with_cached_text
from .console_brief import install_console_brief, run_summary
from .init_summary import side_file_for, summarised_init_dump

#: the default hooks MMEngine itself removes when set to None
_MMENGINE_DEFAULT_HOOKS = ('runtime_info', 'timer', 'sampler_seed', 'logger',
                           'param_scheduler', 'checkpoint')
#: the timestamps of the runners built in this process (:meth:`setup_env`)
_USED_TIMESTAMPS: set = set()


@RUNNERS.register_module()
class ReliableRunner(Runner):
    """:class:`~mmengine.runner.Runner` with strict loading, clear
    checkpoint errors, robust auto-resume and a work-dir lock (see the
    module docstring).

    Takes Runner's arguments; ``load_strict`` and ``work_dir_lock`` are
    top-level config keys (both default to True).
    """

    #: names the file in the messages of :meth:`load_checkpoint`
    _load_what = 'checkpoint'

    def __init__(self, *args, **kwargs) -> None:
        kwargs['cfg'] = with_cached_text(kwargs.get('cfg'))
        cfg = kwargs['cfg'] or {}
        self._load_strict = bool(cfg.get('load_strict', True))
        work_dir = kwargs.get('work_dir', args[1] if len(args) > 1 else None)
        self._work_dir_lock = lock_work_dir(work_dir) if cfg.get(
            'work_dir_lock', True) else None
        try:
            super().__init__(*args, **kwargs)
        except BaseException:
            self.release_work_dir()
            raise
        if self._work_dir_lock and self._work_dir_lock.stale_message:
            self.logger.warning(self._work_dir_lock.stale_message)

    def release_work_dir(self) -> None:
        """Release the work-dir lock (idempotent)."""
        if getattr(self, '_work_dir_lock', None) is not None:
            self._work_dir_lock.release()

    def setup_env(self, env_cfg: Dict) -> None:
        """MMEngine's set-up, then a timestamp no earlier runner of this
        process used: MMEngine names the log folder and the visualizer after
        the second the runner starts, so a run and its resumption started
        within one second would share them. A repeat gets ``_2``, ``_3``..."""
        super().setup_env(env_cfg)
        stamp, k = self._timestamp, 1
        while stamp in _USED_TIMESTAMPS:
            k += 1
            stamp = f'{self._timestamp}_{k}'
        _USED_TIMESTAMPS.add(stamp)
        self._timestamp = stamp

    def build_logger(self, *args, **kwargs):
        """MMEngine's logger; the environment, config and hook-order records
        go to the log file only (:mod:`.console_brief`)."""
        logger = super().build_logger(*args, **kwargs)
        install_console_brief(logger)
        return logger

    def train(self):
        """MMEngine's training after a summary (:func:`.run_summary`); the
        work-dir lock is released however it ends."""
        try:
            self.logger.info(run_summary(self))
            return super().train()
        finally:
            self.release_work_dir()

    def register_default_hooks(
            self, hooks: Optional[Dict[str, Union[Hook, dict]]] = None
    ) -> None:
        """MMEngine's, where ``None`` removes any default hook.

        MMEngine removes only its own keys set to None and asserts on others:
        here ``default_hooks.finite_guard=None`` drops that hook too.
        """
        if hooks is not None:
            hooks = {name: hook for name, hook in hooks.items()
                     if hook is not None or name in _MMENGINE_DEFAULT_HOOKS}
        super().register_default_hooks(hooks)

    def _init_model_weights(self) -> None:
        """MMEngine's weight initialisation with a summarised log."""
        with summarised_init_dump(self._unwrapped(), self.logger,
                                  side_file_for(self.log_dir)):
            super()._init_model_weights()

    def _unwrapped(self):
        """The model without its wrapper (DDP, ...)."""
        return self.model.module if is_model_wrapper(
            self.model) else self.model

    def load_checkpoint(self,
                        filename: str,
                        map_location: Union[str, Callable] = 'cpu',
                        strict: Optional[bool] = None,
                        revise_keys: list = [(r'^module.', '')]):
        """MMEngine's ``load_checkpoint`` through the checked loader.

        A local file is checked and read by
        :func:`~mmfusenas.utils.checkpoint.read_checkpoint`, then (after the
        ``after_load_checkpoint`` hooks) loaded by
        :func:`~mmfusenas.utils.checkpoint.load_checked_state`; every error
        names the file. A URL goes through MMEngine's loader. Strict unless
        ``strict=False`` or the config says ``load_strict = False``.
        """
        strict = self._load_strict if strict is None else bool(strict)
        if '://' in str(filename):
            return super().load_checkpoint(filename, map_location, strict,
                                           revise_keys)
        checkpoint = read_checkpoint(filename, self._load_what, map_location)
        self.call_hook('after_load_checkpoint', checkpoint=checkpoint)
        load_checked_state(self._unwrapped(), checkpoint, filename, strict,
                           self._load_what, revise_keys, self.logger)
        self._has_loaded = True
        self.logger.info(f'Load checkpoint from {filename}')
        return checkpoint

    def resume(self,
               filename: str,
               resume_optimizer: bool = True,
               resume_param_scheduler: bool = True,
               map_location: Union[str, Callable] = 'default') -> None:
        """MMEngine's resume (the file checked by :meth:`load_checkpoint`),
        then a finiteness check of what was loaded.

        Raises:
            FloatingPointError: The loaded model or optimizer state holds
                NaN / Inf; names the checkpoint and the tensors. Raised
                before the first training step.
        """
        self._load_what = '--resume checkpoint'
        try:
            super().resume(filename, resume_optimizer, resume_param_scheduler,
                           map_location)
        finally:
            del self._load_what
        bad = nonfinite_state(self.model,
                              self.optim_wrapper if resume_optimizer else None)
        if bad:
            raise FloatingPointError(
                f'--resume checkpoint {filename}: {len(bad)} loaded '
                f'tensor(s) hold NaN/Inf ({short_list(bad, 10)}); stopping '
                'before the first step. Resume from an earlier checkpoint of '
                'the work dir (docs/user_guides/reliability.md)')

    def load_or_resume(self) -> None:
        """MMEngine's, but auto-resume (``resume`` without ``load_from``)
        takes the newest usable checkpoint, or refuses when every one is
        damaged (:func:`~mmfusenas.utils.checkpoint.auto_resume_checkpoint`).
        """
        if self._has_loaded or not (self._resume and self._load_from is None):
            return super().load_or_resume()
        resume_from = auto_resume_checkpoint(self.work_dir, self.logger)
        if resume_from is not None:
            self.resume(resume_from)


def build_runner(cfg: Union[Config, ConfigDict, dict]) -> Runner:
    """Build the runner ``cfg.runner_type`` names (as mmdet's
    ``tools/train.py`` does), or MMEngine's plain Runner without it."""
    if cfg.get('runner_type') is None:
        return Runner.from_cfg(with_cached_text(cfg))
    return RUNNERS.build(cfg)
