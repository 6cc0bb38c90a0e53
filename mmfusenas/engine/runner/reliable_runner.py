"""``ReliableRunner`` (``runner_type`` of ``default_runtime.py``): MMEngine's
Runner with the work-dir lock, checked checkpoint loading, robust
auto-resume and a short first screen (docs/user_guides/reliability.md)."""
import copy
import logging
import os
import os.path as osp
from collections import OrderedDict
from typing import Callable, Dict, Optional, Union

from mmengine.config import Config, ConfigDict
from mmengine.hooks import Hook
from mmengine.runner import Runner

from mmfusenas.registry import RUNNERS
from mmfusenas.search.strategies.path_samplers import unwrap
from mmfusenas.utils.checkpoint import (auto_resume_checkpoint,
                                        load_checked_state, nonfinite_state,
                                        read_checkpoint, short_list)
from mmfusenas.utils.workdir_lock import lock_work_dir
from .init_summary import summarised_init_dump

#: the default hooks MMEngine itself removes when set to None
_MMENGINE_DEFAULT_HOOKS = ('runtime_info', 'timer', 'sampler_seed', 'logger',
                           'param_scheduler', 'checkpoint')
#: log records kept off the console (the log file has them)
_FILE_ONLY = ('Config:\n', 'Hooks will be executed in the following',
              '\n' + '-' * 60 + '\nSystem environment:')
#: MMEngine 0.10's CheckpointHook always builds a deprecated FileClient
_DROPPED = ('"FileClient" will be deprecated in future',
            '"HardDiskBackend" is the alias of "LocalBackend"')
_USED_TIMESTAMPS: set = set()
#: formatted config texts by the ``repr`` of their content (most recent last)
_TEXTS: 'OrderedDict[str, str]' = OrderedDict()


class CachedTextConfig(Config):
    """:class:`~mmengine.config.Config` whose ``pretty_text`` (formatted by
    yapf, asked for several times per run by the Runner) is formatted once
    per content (``MMFUSENAS_CONFIG_TEXT=plain``: MMEngine's unformatted
    text); copies keep the class. Build it with :func:`with_cached_text`."""

    @property
    def pretty_text(self) -> str:
        cfg = self
        if os.environ.get('MMFUSENAS_CONFIG_TEXT', '') == 'plain':
            cfg = copy.copy(self)
            super(Config, cfg).__setattr__('_format_python_code', False)
        key = repr((cfg._format_python_code, cfg.to_dict()))
        if key not in _TEXTS:
            _TEXTS[key] = Config.pretty_text.fget(cfg)
            if len(_TEXTS) > 16:
                _TEXTS.popitem(last=False)
        _TEXTS.move_to_end(key)
        return _TEXTS[key]


def with_cached_text(cfg: Union[Config, dict, None]):
    """``cfg`` as a :class:`CachedTextConfig` (shallow copy); anything but a
    :class:`~mmengine.config.Config` is returned unchanged."""
    if not isinstance(cfg, Config) or isinstance(cfg, CachedTextConfig):
        return cfg
    other = CachedTextConfig.__new__(CachedTextConfig)
    other.__dict__.update(cfg.__dict__)
    return other


@RUNNERS.register_module()
class ReliableRunner(Runner):
    """:class:`~mmengine.runner.Runner` with a work-dir lock, strict checked
    loading, auto-resume from the newest usable checkpoint, ``None``
    removing any default hook, and readable logs.

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
        """MMEngine's, with a timestamp (it names the log folder) no earlier
        runner of this process used (``_2``, ``_3``, ...)."""
        super().setup_env(env_cfg)
        stamp, k = self._timestamp, 1
        while stamp in _USED_TIMESTAMPS:
            k += 1
            stamp = f'{self._timestamp}_{k}'
        _USED_TIMESTAMPS.add(stamp)
        self._timestamp = stamp

    def build_logger(self, *args, **kwargs):
        """MMEngine's logger; the set-up records go to the log file only."""
        logger = super().build_logger(*args, **kwargs)
        for handler in logger.handlers:
            if not getattr(handler, '_brief', False):
                dropped = _DROPPED + (() if isinstance(
                    handler, logging.FileHandler) else _FILE_ONLY)
                handler.addFilter(
                    lambda r, d=dropped: not str(r.msg).startswith(d))
                handler._brief = True
        return logger

    def train(self):
        """MMEngine's training after a short summary; the work-dir lock is
        released however it ends."""
        try:
            self.logger.info(self._summary())
            return super().train()
        finally:
            self.release_work_dir()

    def _summary(self) -> str:
        """What is trained, on what, for how long, and where."""
        model, loop = unwrap(self.model), self.train_loop
        train_cfg = self.cfg.get('train_cfg') or {}
        key, unit = ('max_iters', 'iterations') if 'max_iters' in train_cfg \
            else ('max_epochs', 'epochs')
        params = sum(p.numel() for p in model.parameters())
        lines = [f'training {type(model).__name__} ({params / 1e6:.3f} M '
                 f'parameters) from {self.cfg.filename or "(config dict)"} '
                 f'for {getattr(loop, key, train_cfg.get(key, "?"))} {unit}']
        dataset = getattr(getattr(loop, 'dataloader', None), 'dataset', None)
        if dataset is not None:
            try:
                size = f'{len(dataset)} samples'
            except TypeError:
                size = 'size unknown'
            lines.append(f'  train: {type(dataset).__name__} at '
                         f'{getattr(dataset, "data_root", None)!s} ({size})')
        lines.append(f'  work dir: {self.work_dir} (full config, environment '
                     'and hook order: the log file there)')
        return '\n'.join(lines)

    def register_default_hooks(
            self, hooks: Optional[Dict[str, Union[Hook, dict]]] = None
    ) -> None:
        """MMEngine's, where ``None`` removes any default hook (e.g.
        ``default_hooks.finite_guard=None``), not only MMEngine's own."""
        if hooks is not None:
            hooks = {name: hook for name, hook in hooks.items()
                     if hook is not None or name in _MMENGINE_DEFAULT_HOOKS}
        super().register_default_hooks(hooks)

    def _init_model_weights(self) -> None:
        with summarised_init_dump(
                unwrap(self.model), self.logger,
                osp.join(self.log_dir, 'init_weights.txt')):
            super()._init_model_weights()

    def load_checkpoint(self, filename: str,
                        map_location: Union[str, Callable] = 'cpu',
                        strict: Optional[bool] = None,
                        revise_keys: list = [(r'^module.', '')]):
        """MMEngine's ``load_checkpoint`` through the checked
        :func:`~mmfusenas.utils.checkpoint.read_checkpoint` and
        ``load_checked_state`` (URLs through MMEngine's); strict unless
        ``strict=False`` or ``load_strict = False``."""
        strict = self._load_strict if strict is None else bool(strict)
        if '://' in str(filename):
            return super().load_checkpoint(filename, map_location, strict,
                                           revise_keys)
        checkpoint = read_checkpoint(filename, self._load_what, map_location)
        self.call_hook('after_load_checkpoint', checkpoint=checkpoint)
        load_checked_state(unwrap(self.model), checkpoint, filename, strict,
                           self._load_what, revise_keys, self.logger)
        self._has_loaded = True
        self.logger.info(f'Load checkpoint from {filename}')
        return checkpoint

    def resume(self, filename: str, resume_optimizer: bool = True,
               resume_param_scheduler: bool = True,
               map_location: Union[str, Callable] = 'default') -> None:
        """MMEngine's resume through :meth:`load_checkpoint`; a loaded NaN /
        Inf model or optimizer state raises :class:`FloatingPointError`."""
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
        """MMEngine's; auto-resume takes the newest usable checkpoint or
        refuses when every one is damaged."""
        if self._has_loaded or not (self._resume and self._load_from is None):
            return super().load_or_resume()
        resume_from = auto_resume_checkpoint(self.work_dir, self.logger)
        if resume_from is not None:
            self.resume(resume_from)


def build_runner(cfg: Union[Config, ConfigDict, dict]) -> Runner:
    """Build the runner ``cfg.runner_type`` names, or MMEngine's Runner."""
    if cfg.get('runner_type') is None:
        return Runner.from_cfg(with_cached_text(cfg))
    return RUNNERS.build(cfg)
