"""A :class:`~mmengine.config.Config` whose ``pretty_text`` is formatted once.

MMEngine's :class:`~mmengine.runner.Runner` asks its config for
``pretty_text`` (formatted by yapf) several times per run: to log it, to
dump it, in ``RuntimeInfoHook.before_run`` and in every
``save_checkpoint``. :class:`CachedTextConfig` (:func:`with_cached_text`)
returns the text formatted for the same content without formatting it
anew; the text is exactly MMEngine's, and a config whose content changed is
formatted again (the cache is keyed by the ``repr`` of its content).
:class:`~mmfusenas.engine.runner.ReliableRunner` uses it for its config.
With ``MMFUSENAS_CONFIG_TEXT=plain`` the text is MMEngine's unformatted
one (``format_python_code=False``); the test suite sets it.
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
