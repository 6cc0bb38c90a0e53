"""A Config whose ``pretty_text`` (formatted by yapf, asked for several
times per run by MMEngine's Runner) is formatted once per content.

With ``MMFUSENAS_CONFIG_TEXT=plain`` the text is MMEngine's unformatted one
(the test suite sets it).
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
    """:class:`~mmengine.config.Config` with a memoised :attr:`pretty_text`;
    copies keep the class. Build it with :func:`with_cached_text`."""

    @property
    def pretty_text(self) -> str:
        cfg = self
        if os.environ.get('MMFUSENAS_CONFIG_TEXT', '') == 'plain':
            cfg = copy.copy(self)
            super(Config, cfg).__setattr__('_format_python_code', False)
        key = repr((cfg._format_python_code, cfg.to_dict()))
        if key not in _TEXTS:
            _TEXTS[key] = Config.pretty_text.fget(cfg)
            while len(_TEXTS) > _MAX_TEXTS:
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
