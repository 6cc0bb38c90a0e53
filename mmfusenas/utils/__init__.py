from .checkpoint import (allow_mmengine_checkpoint_globals,
                         load_legacy_checkpoint)
from .colorspace import rgb_to_gray, rgb_to_ycbcr, ycbcr_to_rgb
from .fileio import atomic_write
from .setup_env import register_all_modules

__all__ = [
    'rgb_to_ycbcr', 'ycbcr_to_rgb', 'rgb_to_gray',
    'allow_mmengine_checkpoint_globals', 'load_legacy_checkpoint',
    'atomic_write', 'register_all_modules'
]
