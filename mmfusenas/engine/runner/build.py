"""Build the runner of a config: MMEngine's ``Runner`` (or the one
``runner_type`` names), with its config text formatted once; clean up
after a run that failed before its first iteration."""
import os
import os.path as osp
import shutil
from collections import Counter
from typing import Dict, List, Optional, Set, Union

from mmengine.config import Config, ConfigDict
from mmengine.dist import get_rank
from mmengine.runner import Runner

from mmfusenas.registry import RUNNERS
from mmfusenas.utils.workdir_lock import LOCK_NAME

#: the default hooks MMEngine itself removes when set to None
MMENGINE_DEFAULT_HOOKS = ('runtime_info', 'timer', 'sampler_seed', 'logger',
                          'param_scheduler', 'checkpoint')
_TEXTS: Dict[str, str] = {}  # formatted config texts by content
_BUILT: Counter = Counter()  # runners built in this process, by name


class CachedTextConfig(Config):
    """A Config whose yapf-formatted ``pretty_text`` is formatted once per
    content (``MMFUSENAS_CONFIG_TEXT=plain``: MMEngine's unformatted text)."""

    @property
    def pretty_text(self) -> str:
        plain = os.environ.get('MMFUSENAS_CONFIG_TEXT') == 'plain'
        key = repr((plain, self.to_dict()))
        if key not in _TEXTS:
            if len(_TEXTS) >= 16:
                del _TEXTS[next(iter(_TEXTS))]
            cfg = Config(self.to_dict(), filename=self.filename,
                         format_python_code=False) if plain else self
            _TEXTS[key] = Config.pretty_text.fget(cfg)
        return _TEXTS[key]


def with_cached_text(cfg: Union[Config, dict, None]):
    """``cfg`` as a :class:`CachedTextConfig`; anything but a Config as is."""
    if isinstance(cfg, Config) and not isinstance(cfg, CachedTextConfig):
        cfg = CachedTextConfig(cfg.to_dict(), filename=cfg.filename)
    return cfg


def build_runner(cfg: Union[Config, ConfigDict, dict]) -> Runner:
    """``Runner.from_cfg`` (or ``cfg.runner_type``'s) of ``cfg``, dropping
    every default hook set to None; later runners of one config in a
    process get their own ``experiment_name`` (``<config>_2``, ...)."""
    cfg = with_cached_text(cfg)
    if not cfg.get('experiment_name'):
        name = osp.splitext(osp.basename(cfg.filename or 'run'))[0]
        _BUILT[name] += 1
        if _BUILT[name] > 1:
            cfg.experiment_name = f'{name}_{_BUILT[name]}'
    hooks = cfg.get('default_hooks') or {}
    for name in [n for n, hook in hooks.items()
                 if hook is None and n not in MMENGINE_DEFAULT_HOOKS]:
        hooks.pop(name)
    if cfg.get('runner_type') is None:
        return Runner.from_cfg(cfg)
    return RUNNERS.build(cfg)


def remove_failed_start(work_dir: str, before: Optional[Set[str]],
                        runner: Optional[Runner] = None) -> List[str]:
    """On rank 0, remove what a run that logged no ``train/`` scalar wrote
    into ``work_dir``: the entries not in ``before`` (but the lock file),
    or the whole work dir if ``before`` is None; returns the paths."""
    scalars = runner.message_hub.log_scalars if runner is not None else {}
    if any(key.startswith('train/') for key in scalars) or \
            get_rank() != 0 or not osp.isdir(work_dir):
        return []
    made = [work_dir] if before is None else [
        osp.join(work_dir, name)
        for name in sorted(set(os.listdir(work_dir)) - before - {LOCK_NAME})]
    for path in made:
        if osp.isdir(path):
            shutil.rmtree(path, ignore_errors=True)
        else:
            os.remove(path)
    return made
