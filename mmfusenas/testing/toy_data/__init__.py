"""Procedural toy data sets in the layouts of the real ones, written by
``tools/misc/make_toy_*.py`` (and by the tests and benchmarks, through
:mod:`mmfusenas.testing.toy_data`). :mod:`.ivif` renders the scenes the
others reuse."""
from .deblur import generate_toy_deblur, generate_toy_restoration
from .ivif import generate_toy_dataset, is_toy_dataset, render_toy_scene
from .lowlight import darken, generate_toy_lowlight
from .lowlight_tasks import (TOY_TO_CITYSCAPES, TOY_TO_EXDARK,
                             generate_toy_acdc, generate_toy_darkface,
                             generate_toy_exdark, generate_toy_lowlight_task)
from .restoration import (add_underwater, draw_haze, generate_toy_haze,
                          generate_toy_underwater)
from .rgbd import generate_toy_rgbd

__all__ = [
    'generate_toy_dataset', 'is_toy_dataset', 'render_toy_scene', 'darken',
    'generate_toy_lowlight', 'generate_toy_exdark', 'generate_toy_darkface',
    'generate_toy_acdc', 'generate_toy_lowlight_task', 'TOY_TO_EXDARK',
    'TOY_TO_CITYSCAPES', 'generate_toy_deblur', 'generate_toy_restoration',
    'draw_haze', 'add_underwater', 'generate_toy_haze',
    'generate_toy_underwater', 'generate_toy_rgbd'
]
