"""A :class:`~mmengine.config.Config` whose ``pretty_text`` is formatted once.

MMEngine's :class:`~mmengine.runner.Runner` asks its config for
``pretty_text`` (the config as Python source, formatted by yapf) at least
four times per run: to log it, to dump it into the work dir, in
``RuntimeInfoHook.before_run`` and in **every** ``save_checkpoint`` (the
checkpoint's ``meta['cfg']``). yapf's line-splitting search grows fast with
a config's nesting: for the compound search configs of this toolbox one
formatting takes seconds, more than a short training run itself.

:class:`CachedTextConfig` returns the text formatted for the same content
again without formatting it anew. The text is exactly MMEngine's (the
cache stores what :attr:`Config.pretty_text` returned); a config whose
content changed (another key, another value, another type) is formatted
again, because the cache is keyed by the ``repr`` of its content.
:class:`~mmfusenas.engine.runner.ReliableRunner` uses it for its config.

With the environment variable ``MMFUSENAS_CONFIG_TEXT=plain`` the text is
MMEngine's unformatted one (``Config(..., format_python_code=False)``: the
same Python, one key per line, without yapf's line breaking), which saves
the formatting altogether (the test suite sets it; its own tests of this
module format). It is an environment variable, not a config key: it
decides how the config itself is written (a key would change the text it
formats), and the test suite sets it once for every process it starts
(its workers and the tools they run as subprocesses).
"""
import copy
import os
from collections import OrderedDict
from typing import Union

from mmengine.config import Config

#: formatted texts by the ``repr`` of the config content (most recent last)
_TEXTS: 'OrderedDict[str, str]' = OrderedDict()
_MAX_TEXTS = 16


class CachedTextConfig(Config):
    """:class:`~mmengine.config.Config` with a memoised :attr:`pretty_text`.

    Build it from a config with :func:`with_cached_text`; copies
    (``copy.copy`` / ``copy.deepcopy``, as the runner makes) keep the class.
    """

    @property
    def pretty_text(self) -> str:
        """MMEngine's formatted config text, formatted once per content."""
        cfg = self
        if os.environ.get('MMFUSENAS_CONFIG_TEXT', '') == 'plain':
            cfg = copy.copy(self)
            super(Config, cfg).__setattr__('_format_python_code', False)
        key = repr((cfg._format_python_code, cfg.to_dict()))
        text = _TEXTS.get(key)
        if text is None:
            text = Config.pretty_text.fget(cfg)
            _TEXTS[key] = text
            while len(_TEXTS) > _MAX_TEXTS:
                _TEXTS.popitem(last=False)
        else:
            _TEXTS.move_to_end(key)
        return text


def with_cached_text(cfg: Union[Config, dict, None]):
    """``cfg`` as a :class:`CachedTextConfig` (the same content, shallow
    copied as :meth:`Config.__copy__` does); anything but a
    :class:`~mmengine.config.Config` is returned unchanged."""
    if not isinstance(cfg, Config) or isinstance(cfg, CachedTextConfig):
        return cfg
    other = CachedTextConfig.__new__(CachedTextConfig)
    other.__dict__.update(cfg.__dict__)
    return other
