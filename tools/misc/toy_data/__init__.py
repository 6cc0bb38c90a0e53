"""Procedural toy data: generators that write small data sets to disk in the
layouts of the real ones, so every pipeline trains and tests without a
download (``tools/misc/make_toy_*.py`` are their command lines). Not part
of the ``mmfusenas`` package: the tools in ``tools/misc`` import it as
``toy_data`` (their folder is on ``sys.path``); tests, benchmarks and
projects put ``tools/misc`` on ``sys.path`` first.

* ``ivif``: paired infrared / visible street scenes with COCO boxes and
  masks (:func:`generate_toy_dataset`); its scene renderer
  (:func:`render_toy_scene`) draws the images of the others;
* ``lowlight`` / ``lowlight_tasks``: darkened scenes in the LOL layout, or
  with ExDark / DARK FACE boxes or ACDC / Cityscapes label maps;
* ``deblur``: motion-blurred scenes in the Levin layout, rain and haze;
* ``restoration``: haze and underwater pairs from physical models;
* ``rgbd``: RGB-D pairs for guided depth super-resolution.

The data set classes that read them are in :mod:`mmfusenas.datasets`.
"""
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
