"""``ReliableRunner``: MMEngine's Runner with the work-dir lock, checked
loading, robust auto-resume and a short first screen."""
import copy
import logging
import os
import os.path as osp
from collections import Counter
from typing import Dict, Union

from mmengine.config import Config, ConfigDict
from mmengine.runner import Runner

from mmfusenas.registry import RUNNERS
from mmfusenas.utils.checkpoint import (auto_resume_checkpoint,
                                        load_checked_state, nonfinite_state,
                                        read_checkpoint, short_list)
from mmfusenas.utils.distributed import unwrap
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
#: log filters by whether the handler writes the log file; the same
#: callable each time, so a handler reused by a later runner gets it once
_KEEP = {to_file: (lambda r, d=_DROPPED + (() if to_file else _FILE_ONLY):
                   not str(r.msg).startswith(d)) for to_file in (True, False)}
_STAMPS: Counter = Counter()  # runners of this process by timestamp
_TEXTS: Dict[str, str] = {}  # formatted config texts by content


class CachedTextConfig(Config):
    """A Config whose yapf-formatted ``pretty_text`` is formatted once per
    content (``MMFUSENAS_CONFIG_TEXT=plain``: MMEngine's unformatted text)."""

    @property
    def pretty_text(self) -> str:
        cfg = self
        if os.environ.get('MMFUSENAS_CONFIG_TEXT') == 'plain':
            cfg = copy.copy(self)
            super(Config, cfg).__setattr__('_format_python_code', False)
        key = repr((cfg._format_python_code, cfg.to_dict()))
        if key not in _TEXTS:
            if len(_TEXTS) >= 16:
                del _TEXTS[next(iter(_TEXTS))]
            _TEXTS[key] = Config.pretty_text.fget(cfg)
        return _TEXTS[key]


def with_cached_text(cfg: Union[Config, dict, None]):
    """``cfg`` as a :class:`CachedTextConfig`; anything but a Config as is."""
    if isinstance(cfg, Config) and not isinstance(cfg, CachedTextConfig):
        other, cfg = cfg, CachedTextConfig.__new__(CachedTextConfig)
        cfg.__dict__.update(other.__dict__)  # a shallow copy
    return cfg


@RUNNERS.register_module()
class ReliableRunner(Runner):
    """Runner with a work-dir lock, strict checked loading, robust auto-resume
    and readable logs (config keys ``load_strict``, ``work_dir_lock``)."""

    _load_what = 'checkpoint'  # names the file in loading errors

    def __init__(self, *args, **kwargs) -> None:
        kwargs['cfg'] = with_cached_text(kwargs.get('cfg'))
        cfg = kwargs['cfg'] or {}
        self._load_strict = bool(cfg.get('load_strict', True))
        work_dir = kwargs.get('work_dir', args[1] if len(args) > 1 else None)
        self._work_dir_lock = lock_work_dir(
            work_dir, kwargs.get('launcher', 'none')) if cfg.get(
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

    def setup_env(self, env_cfg: dict) -> None:
        """MMEngine's, with a log-folder timestamp unused in this process."""
        super().setup_env(env_cfg)
        stamp = self._timestamp
        _STAMPS[stamp] += 1
        if _STAMPS[stamp] > 1:  # ``_2``, ``_3``, ...
            self._timestamp = f'{stamp}_{_STAMPS[stamp]}'

    def build_logger(self, *args, **kwargs):
        """MMEngine's logger; the set-up records go to the log file only."""
        logger = super().build_logger(*args, **kwargs)
        for h in logger.handlers:
            h.addFilter(_KEEP[isinstance(h, logging.FileHandler)])
        return logger

    def train(self):
        """MMEngine's after a short summary; releases the work-dir lock."""
        try:
            self.logger.info(self._summary())
            return super().train()
        finally:
            self.release_work_dir()

    def _summary(self) -> str:
        """What is trained, on what, for how long, and where."""
        model, loop = unwrap(self.model), self.train_loop
        train_cfg = self.cfg.get('train_cfg') or {}
        key = 'max_iters' if 'max_iters' in train_cfg else 'max_epochs'
        params = sum(p.numel() for p in model.parameters()) / 1e6
        text = (f'training {type(model).__name__} ({params:.3f} M parameters)'
                f' from {self.cfg.filename or "(config dict)"} for '
                f'{getattr(loop, key, train_cfg.get(key, "?"))} '
                f'{"iterations" if key == "max_iters" else "epochs"}')
        data = getattr(getattr(loop, 'dataloader', None), 'dataset', None)
        if data is not None:
            size = f'{len(data)} samples' if hasattr(
                data, '__len__') else 'size unknown'
            text += (f'\n  train: {type(data).__name__} at '
                     f'{getattr(data, "data_root", None)!s} ({size})')
        return text + (f'\n  work dir: {self.work_dir} (full config, '
                       'environment and hook order: the log file there)')

    def register_default_hooks(self, hooks=None) -> None:
        """MMEngine's; ``None`` removes any default hook (e.g.
        ``default_hooks.finite_guard=None``), not only MMEngine's own."""
        super().register_default_hooks({
            name: hook
            for name, hook in (hooks or {}).items()
            if hook is not None or name in _MMENGINE_DEFAULT_HOOKS
        })

    def _init_model_weights(self) -> None:
        dump = osp.join(self.log_dir, 'init_weights.txt')
        with summarised_init_dump(unwrap(self.model), self.logger, dump):
            super()._init_model_weights()

    def load_checkpoint(self, filename, map_location='cpu', strict=None,
                        revise_keys=[(r'^module.', '')]):
        """MMEngine's, checked (URLs: MMEngine's own); strict unless
        ``strict=False`` or ``load_strict=False``."""
        strict = self._load_strict if strict is None else bool(strict)
        if '://' in str(filename):
            return super().load_checkpoint(filename, map_location, strict,
                                           revise_keys)
        checkpoint = read_checkpoint(filename, self._load_what, map_location)
        self.call_hook('after_load_checkpoint', checkpoint=checkpoint)
        load_checked_state(
            unwrap(self.model), checkpoint, filename, strict, self._load_what,
            revise_keys, self.logger)
        self._has_loaded = True
        self.logger.info(f'Load checkpoint from {filename}')
        return checkpoint

    def resume(self, filename, resume_optimizer=True, *args, **kwargs) -> None:
        """MMEngine's through :meth:`load_checkpoint`; a loaded NaN / Inf
        model or optimizer state raises :class:`FloatingPointError`."""
        self._load_what = '--resume checkpoint'
        try:
            super().resume(filename, resume_optimizer, *args, **kwargs)
        finally:
            del self._load_what
        optim_wrapper = resume_optimizer and self.optim_wrapper
        if bad := nonfinite_state(self.model, optim_wrapper):
            raise FloatingPointError(
                f'--resume checkpoint {filename}: {len(bad)} loaded '
                f'tensor(s) hold NaN/Inf ({short_list(bad, 10)}); stopping '
                'before the first step. Resume from an earlier checkpoint of '
                'the work dir (docs/user_guides/reliability.md)')

    def load_or_resume(self) -> None:
        """MMEngine's; auto-resume takes the newest usable checkpoint."""
        if self._has_loaded or not (self._resume and self._load_from is None):
            return super().load_or_resume()
        if (last := auto_resume_checkpoint(self.work_dir, self.logger)):
            self.resume(last)


def build_runner(cfg: Union[Config, ConfigDict, dict]) -> Runner:
    """Build the runner ``cfg.runner_type`` names, or MMEngine's Runner."""
    if cfg.get('runner_type') is None:
        return Runner.from_cfg(with_cached_text(cfg))
    return RUNNERS.build(cfg)
