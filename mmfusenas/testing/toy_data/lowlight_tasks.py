"""Darkened toy scenes with boxes / label maps in the real low-light layouts.

Every image is the daylight VIS image of a toy scene
(:func:`~.ivif.render_toy_scene`) darkened by
:func:`~.lowlight.darken`, with the toy scene's ground
truth written in the layout of a real data set so that its dataset class
reads it: :func:`generate_toy_exdark` (``ExDarkDataset``, VOC xml),
:func:`generate_toy_darkface` (``DarkFaceDataset``, person boxes as faces)
and :func:`generate_toy_acdc` (``ACDCDataset`` / mmseg ``CityscapesDataset``,
train ids of :data:`TOY_TO_CITYSCAPES`). A box ``[x, y, w, h]`` bounds the
visible pixels; DARK FACE lines store ``x y x+w y+h``, VOC files add 1 to
all four (mmdet subtracts it). Each writer is deterministic and replaces
``out_dir`` only when complete. See
``docs/user_guides/restoration_datasets.md``.
"""
import json
import os
import os.path as osp
import time
import xml.etree.ElementTree as ET
from typing import Callable, Dict, List, Mapping, Optional

import numpy as np
from PIL import Image

from mmfusenas.datasets.search_splits import SEARCH_SPLITS, search_halves
from .ivif import CLASSES as TOY_CLASSES
from .ivif import IGNORE_ID, render_toy_scene
from .lowlight import darken
from .writing import META_FILE, is_int, write_data_set, written_by

#: The ``generator`` recorded in ``meta.json``: this module's path when it
#: was in the package (kept, so the files it writes do not change).
GENERATOR_NAME = 'mmfusenas.toy_data.lowlight_tasks'
#: Other ``generator`` values recognised as this module's output: its
#: former path, so data sets written under it are still replaced without
#: ``overwrite``.
FORMER_GENERATOR_NAMES = ('mmfusenas.datasets.toy_lowlight_tasks', )
GENERATOR_VERSION = '1.1.0'  # 1.1: search_weights / search_arch splits
TASKS = ('exdark', 'darkface', 'acdc', 'cityscapes')
SEG_LAYOUTS = ('acdc', 'cityscapes')

#: toy class -> ExDark class written in the VOC files.
TOY_TO_EXDARK: Dict[str, str] = dict(
    person='People', car='Car', bicycle='Bicycle')
#: default relative frequency of the toy classes in the ExDark toy set.
EXDARK_CLASS_WEIGHTS: Dict[str, float] = dict(
    person=0.4, car=0.35, bicycle=0.25)

#: The 19 Cityscapes train-id classes (label value = index).
CITYSCAPES_CLASSES = ('road', 'sidewalk', 'building', 'wall', 'fence', 'pole',
                      'traffic light', 'traffic sign', 'vegetation',
                      'terrain', 'sky', 'person', 'rider', 'car', 'truck',
                      'bus', 'train', 'motorcycle', 'bicycle')
#: toy semantic value -> Cityscapes train id: background 0 -> 0 road,
#: person 1 -> 11, car 2 -> 13, bicycle 3 -> 18, cone 4 -> 7 traffic sign,
#: ignore 255 -> 255.
TOY_TO_CITYSCAPES: Dict[int, int] = {
    0: 0,
    1: 11,
    2: 13,
    3: 18,
    4: 7,
    IGNORE_ID: 255
}
ACDC_SEQUENCE = 'GOPR0000'
CITYSCAPES_CITY = 'toycity'

_NUM_MAX = 100000


def _check_counts(num_train, num_val, seed) -> None:
    if not is_int(num_train) or not is_int(num_val) or num_train < 1 \
            or num_val < 0 or num_train + num_val > _NUM_MAX:
        raise ValueError('need integers num_train >= 1, num_val >= 0 and '
                         f'num_train + num_val <= {_NUM_MAX}, got '
                         f'num_train={num_train!r}, num_val={num_val!r}')
    if not is_int(seed) or seed < 0:
        raise ValueError(f'seed must be an int >= 0, got {seed!r}')


def is_toy_task_dataset(path: str) -> bool:
    """Whether ``path`` holds a data set written by this module."""
    return written_by(path, (GENERATOR_NAME, *FORMER_GENERATOR_NAMES))


def _save_png(path: str, array: np.ndarray) -> None:
    os.makedirs(osp.dirname(path), exist_ok=True)
    Image.fromarray(array).save(path)


def _write_text(path: str, text: str) -> None:
    os.makedirs(osp.dirname(path), exist_ok=True)
    with open(path, 'w') as f:
        f.write(text)


def _render(seed: int, index: int, size: int,
            class_weights: Mapping[str, float], min_objects: int,
            max_objects: int, darken_kwargs: Mapping):
    """Toy scene ``index`` and its darkened VIS image."""
    scene = render_toy_scene(
        seed,
        index,
        size=size,
        night_fraction=0.0,
        class_weights=class_weights,
        min_objects=min_objects,
        max_objects=max_objects)
    low = darken(scene.vis, np.random.default_rng([seed, index]),
                 **darken_kwargs)
    return scene, low


def _generate(out_dir: str, overwrite: bool, task: str, meta: dict,
              write: Callable[[str], dict]) -> dict:
    """Run ``write(tmp_dir) -> summary``, add ``meta.json`` and swap
    ``tmp_dir`` in (:func:`~.writing.write_data_set`)."""
    t0 = time.perf_counter()

    def write_all(tmp: str):
        summary = write(tmp)
        full = dict(
            generator=GENERATOR_NAME,
            version=GENERATOR_VERSION,
            task=task,
            **meta,
            **summary)
        _write_text(
            osp.join(tmp, META_FILE),
            json.dumps(full, indent=2) + '\n')
        return full, summary

    out_dir, (full, summary) = write_data_set(
        out_dir, overwrite, (GENERATOR_NAME, *FORMER_GENERATOR_NAMES),
        'toy low-light task data set', write_all)
    return dict(
        out_dir=out_dir,
        task=task,
        num_train=full['num_train'],
        num_val=full['num_val'],
        seed=full['seed'],
        size=full['size'],
        **summary,
        seconds=round(time.perf_counter() - t0, 3),
        version=GENERATOR_VERSION)


def _has_halves(lists: Dict[str, List[str]]) -> bool:
    """Whether :func:`_add_search_halves` added the search halves."""
    return all(name in lists for name in SEARCH_SPLITS)


def _add_search_halves(lists: Dict[str, List[str]]) -> None:
    """Add the ``search_weights`` / ``search_arch`` halves of the train
    entries (when there are at least two)."""
    if len(lists['train']) >= 2:
        lists.update(zip(SEARCH_SPLITS, search_halves(lists['train'])))


def _splits(num_train: int, num_val: int) -> List[str]:
    return ['train'] * num_train + ['val'] * num_val


def _voc_xml(stem: str, size: int, objects: List[dict]) -> str:
    root = ET.Element('Annotation')
    ET.SubElement(root, 'filename').text = stem
    sz = ET.SubElement(root, 'size')
    for key, val in (('width', size), ('height', size), ('depth', 3)):
        ET.SubElement(sz, key).text = str(val)
    for obj in objects:
        x, y, w, h = (int(v) for v in obj['bbox'])
        el = ET.SubElement(root, 'object')
        ET.SubElement(el, 'name').text = TOY_TO_EXDARK[obj['name']]
        ET.SubElement(el, 'pose').text = 'Unspecified'
        ET.SubElement(el, 'truncated').text = '0'
        ET.SubElement(el, 'difficult').text = '0'
        box = ET.SubElement(el, 'bndbox')
        for key, val in (('xmin', x + 1), ('ymin', y + 1),
                         ('xmax', x + w + 1), ('ymax', y + h + 1)):
            ET.SubElement(box, key).text = str(val)
    ET.indent(root)
    return ET.tostring(root, encoding='unicode') + '\n'


def generate_toy_exdark(out_dir: str,
                        num_train: int = 16,
                        num_val: int = 4,
                        size: int = 128,
                        seed: int = 0,
                        class_weights: Optional[Mapping[str, float]] = None,
                        min_objects: int = 2,
                        max_objects: int = 8,
                        write_normal: bool = True,
                        darken_kwargs: Optional[Mapping] = None,
                        overwrite: bool = False) -> dict:
    """Write a darkened toy detection set in the ExDark VOC layout.

    See the module docstring for the layout and the box encoding.

    Args:
        out_dir (str): Output folder: absent, empty or a previous data set
            of this module (replaced); anything else needs ``overwrite``.
        num_train (int): Train images, >= 1. Defaults to 16.
        num_val (int): Val images, >= 0. Defaults to 4.
        size (int): Image side, 64-2048. Defaults to 128.
        seed (int): Seed, >= 0. Defaults to 0.
        class_weights (Mapping[str, float], optional): Relative frequency of
            the toy classes ``person``, ``car``, ``bicycle`` (``cone`` has no
            ExDark class and is refused). Defaults to
            :data:`EXDARK_CLASS_WEIGHTS`.
        min_objects (int): Fewest objects drawn per image. Defaults to 2.
        max_objects (int): Most objects drawn per image. Defaults to 8.
        write_normal (bool): Also write the normal-light images to
            ``normal/``. Defaults to True.
        darken_kwargs (Mapping, optional): Options of
            :func:`~.lowlight.darken` (``gain_range``,
            ``gamma``, ``shot_noise``, ``read_noise``). Defaults to None.
        overwrite (bool): Replace a non-empty folder that is not a data set
            of this module. Defaults to False.

    Returns:
        dict: ``out_dir``, ``task``, ``num_train``, ``num_val``, ``seed``,
        ``size``, ``num_instances`` (per ExDark class), ``seconds``,
        ``version``.
    """
    _check_counts(num_train, num_val, seed)
    weights = dict(EXDARK_CLASS_WEIGHTS if class_weights is None else
                   class_weights)
    bad = set(weights) - set(TOY_TO_EXDARK)
    if bad:
        raise ValueError(f'class_weights: toy class(es) {sorted(bad)} have no '
                         f'ExDark class; use {sorted(TOY_TO_EXDARK)}')
    dk = dict(darken_kwargs or {})
    meta = dict(
        seed=int(seed),
        size=int(size),
        num_train=int(num_train),
        num_val=int(num_val),
        options=dict(
            class_weights=weights,
            min_objects=min_objects,
            max_objects=max_objects,
            write_normal=bool(write_normal),
            darken=dk),
        classes=dict(TOY_TO_EXDARK),
        box_encoding='xmin = x + 1, ymin = y + 1, xmax = x + w + 1, '
        'ymax = y + h + 1 (mmdet VOC convention recovers [x, y, x+w, y+h])')

    def write(tmp: str) -> dict:
        counts = {TOY_TO_EXDARK[c]: 0 for c in TOY_CLASSES
                  if c in TOY_TO_EXDARK}
        lists = dict(train=[], val=[])
        for i, split in enumerate(_splits(num_train, num_val)):
            scene, low = _render(seed, i, size, weights, min_objects,
                                 max_objects, dk)
            stem = f'{i:05d}'
            name = stem + '.png'
            _save_png(osp.join(tmp, 'images', name), low)
            if write_normal:
                _save_png(osp.join(tmp, 'normal', name), scene.vis)
            _write_text(
                osp.join(tmp, 'Annotations', name + '.xml'),
                _voc_xml(stem, size, scene.objects))
            for obj in scene.objects:
                counts[TOY_TO_EXDARK[obj['name']]] += 1
            lists[split].append(name)
        _add_search_halves(lists)
        for split, names in lists.items():
            _write_text(
                osp.join(tmp, 'splits', f'{split}.txt'),
                ''.join(n + '\n' for n in names))
        return dict(num_instances=counts)

    return _generate(out_dir, overwrite, 'exdark', meta, write)


def generate_toy_darkface(out_dir: str,
                          num_train: int = 16,
                          num_val: int = 4,
                          size: int = 128,
                          seed: int = 0,
                          min_objects: int = 2,
                          max_objects: int = 8,
                          write_normal: bool = True,
                          darken_kwargs: Optional[Mapping] = None,
                          overwrite: bool = False) -> dict:
    """Write a darkened toy face set in the DARK FACE layout.

    Only people are rendered; the tight box of each annotated person is
    written as a ``face`` line ``x y x+w y+h`` (see the module docstring).

    Args:
        out_dir (str): Output folder (see :func:`generate_toy_exdark`).
        num_train (int): Train images, >= 1. Defaults to 16.
        num_val (int): Val images, >= 0. Defaults to 4.
        size (int): Image side, 64-2048. Defaults to 128.
        seed (int): Seed, >= 0. Defaults to 0.
        min_objects (int): Fewest people drawn per image. Defaults to 2.
        max_objects (int): Most people drawn per image. Defaults to 8.
        write_normal (bool): Also write ``normal/``. Defaults to True.
        darken_kwargs (Mapping, optional): Options of
            :func:`~.lowlight.darken`.
        overwrite (bool): See :func:`generate_toy_exdark`.

    Returns:
        dict: as :func:`generate_toy_exdark`, ``num_instances`` =
        ``{'face': n}``.
    """
    _check_counts(num_train, num_val, seed)
    weights = dict(person=1.0)
    dk = dict(darken_kwargs or {})
    meta = dict(
        seed=int(seed),
        size=int(size),
        num_train=int(num_train),
        num_val=int(num_val),
        options=dict(
            class_weights=weights,
            min_objects=min_objects,
            max_objects=max_objects,
            write_normal=bool(write_normal),
            darken=dk),
        classes=dict(person='face'),
        box_encoding='x1 y1 x2 y2 = x y x+w y+h (continuous pixel box)')

    def write(tmp: str) -> dict:
        num = 0
        lists = dict(train=[], val=[])
        for i, split in enumerate(_splits(num_train, num_val)):
            scene, low = _render(seed, i, size, weights, min_objects,
                                 max_objects, dk)
            stem = f'{i:05d}'
            _save_png(osp.join(tmp, 'image', stem + '.png'), low)
            if write_normal:
                _save_png(osp.join(tmp, 'normal', stem + '.png'), scene.vis)
            lines = [str(len(scene.objects))]
            for obj in scene.objects:
                x, y, w, h = (int(v) for v in obj['bbox'])
                lines.append(f'{x} {y} {x + w} {y + h}')
            _write_text(
                osp.join(tmp, 'label', stem + '.txt'), '\n'.join(lines) + '\n')
            num += len(scene.objects)
            lists[split].append(stem)
        _add_search_halves(lists)
        for split, stems in lists.items():
            _write_text(
                osp.join(tmp, 'splits', f'{split}.txt'),
                ''.join(s + '\n' for s in stems))
        return dict(num_instances=dict(face=num))

    return _generate(out_dir, overwrite, 'darkface', meta, write)


def toy_to_cityscapes(semantic: np.ndarray) -> np.ndarray:
    """Map a toy semantic map to Cityscapes train ids.

    Args:
        semantic (np.ndarray): uint8 toy label map (0-4, 255).

    Returns:
        np.ndarray: uint8 train-id map (:data:`TOY_TO_CITYSCAPES`).

    Raises:
        ValueError: a value outside :data:`TOY_TO_CITYSCAPES`.
    """
    lut = np.full(256, -1, np.int16)
    for src, dst in TOY_TO_CITYSCAPES.items():
        lut[src] = dst
    out = lut[semantic]
    if (out < 0).any():
        bad = sorted(set(np.unique(semantic[out < 0]).tolist()))
        raise ValueError(f'toy label values {bad} have no Cityscapes train '
                         f'id; known: {sorted(TOY_TO_CITYSCAPES)}')
    return out.astype(np.uint8)


def seg_paths(layout: str, split: str, stem: str) -> Dict[str, str]:
    """Relative image / label / normal-light paths of a toy segmentation
    sample.

    Args:
        layout (str): ``'acdc'`` or ``'cityscapes'``.
        split (str): ``'train'`` or ``'val'``.
        stem (str): e.g. ``'00000'``.

    Returns:
        dict: ``img``, ``seg``, ``normal`` paths relative to ``out_dir``.
    """
    if layout == 'acdc':
        seq = ACDC_SEQUENCE
        return dict(
            img=f'rgb_anon/night/{split}/{seq}/{stem}_rgb_anon.png',
            seg=f'gt/night/{split}/{seq}/{stem}_gt_labelTrainIds.png',
            normal=f'rgb_anon/night/{split}_ref/{seq}/{stem}_rgb_ref_anon.png')
    if layout == 'cityscapes':
        city = CITYSCAPES_CITY
        return dict(
            img=f'leftImg8bit/{split}/{city}/{stem}_leftImg8bit.png',
            seg=f'gtFine/{split}/{city}/{stem}_gtFine_labelTrainIds.png',
            normal=f'leftImg8bit_normal/{split}/{city}/{stem}_leftImg8bit.png')
    raise ValueError(f'layout must be one of {SEG_LAYOUTS}, got {layout!r}')


def generate_toy_acdc(out_dir: str,
                      num_train: int = 16,
                      num_val: int = 4,
                      size: int = 128,
                      seed: int = 0,
                      layout: str = 'acdc',
                      class_weights: Optional[Mapping[str, float]] = None,
                      min_objects: int = 2,
                      max_objects: int = 8,
                      write_normal: bool = True,
                      darken_kwargs: Optional[Mapping] = None,
                      overwrite: bool = False) -> dict:
    """Write a darkened toy segmentation set in the ACDC / Cityscapes layout.

    Label maps hold Cityscapes train ids (:data:`TOY_TO_CITYSCAPES`: all
    toy background is ``0`` road, person 11, car 13, bicycle 18, cone 7
    traffic sign, toy ignore pixels stay 255).

    Args:
        out_dir (str): Output folder (see :func:`generate_toy_exdark`).
        num_train (int): Train images, >= 1. Defaults to 16.
        num_val (int): Val images, >= 0. Defaults to 4.
        size (int): Image side, 64-2048. Defaults to 128.
        seed (int): Seed, >= 0. Defaults to 0.
        layout (str): ``'acdc'`` or ``'cityscapes'`` (see the module
            docstring). Defaults to 'acdc'.
        class_weights (Mapping[str, float], optional): Toy class frequencies
            (``person``, ``car``, ``bicycle``, ``cone``); None uses the toy
            defaults.
        min_objects (int): Fewest objects per image. Defaults to 2.
        max_objects (int): Most objects per image. Defaults to 8.
        write_normal (bool): Also write the aligned normal-light images
            (``*_ref`` / ``leftImg8bit_normal``). Defaults to True.
        darken_kwargs (Mapping, optional): Options of
            :func:`~.lowlight.darken`.
        overwrite (bool): See :func:`generate_toy_exdark`.

    Returns:
        dict: ``out_dir``, ``task`` (= ``layout``), ``num_train``,
        ``num_val``, ``seed``, ``size``, ``num_pixels`` (per Cityscapes
        class present, plus ``'ignore'``), ``seconds``, ``version``.
    """
    _check_counts(num_train, num_val, seed)
    if layout not in SEG_LAYOUTS:
        raise ValueError(f'layout must be one of {SEG_LAYOUTS}, got '
                         f'{layout!r}')
    dk = dict(darken_kwargs or {})
    weights = None if class_weights is None else dict(class_weights)
    meta = dict(
        seed=int(seed),
        size=int(size),
        num_train=int(num_train),
        num_val=int(num_val),
        layout=layout,
        options=dict(
            class_weights=weights,
            min_objects=min_objects,
            max_objects=max_objects,
            write_normal=bool(write_normal),
            darken=dk),
        label_mapping={
            TOY_CLASSES[k - 1] if 1 <= k <= len(TOY_CLASSES) else
            ('background' if k == 0 else 'ignore'):
            [v, CITYSCAPES_CLASSES[v] if v < 255 else 'ignore']
            for k, v in TOY_TO_CITYSCAPES.items()
        })

    def write(tmp: str) -> dict:
        counts = np.zeros(256, np.int64)
        train_rel: List[str] = []
        img_suffix = ('_rgb_anon.png'
                      if layout == 'acdc' else '_leftImg8bit.png')
        for i, split in enumerate(_splits(num_train, num_val)):
            scene, low = _render(seed, i, size, weights, min_objects,
                                 max_objects, dk)
            paths = seg_paths(layout, split, f'{i:05d}')
            label = toy_to_cityscapes(scene.semantic)
            _save_png(osp.join(tmp, paths['img']), low)
            _save_png(osp.join(tmp, paths['seg']), label)
            if write_normal:
                _save_png(osp.join(tmp, paths['normal']), scene.vis)
            counts += np.bincount(label.ravel(), minlength=256)
            if split == 'train':  # mmseg split entry: <seq>/<name>
                seq_dir, fname = paths['img'].split('/')[-2:]
                train_rel.append(f'{seq_dir}/{fname[:-len(img_suffix)]}')
        stems = train_rel
        lists = dict(train=stems)
        _add_search_halves(lists)
        for name in SEARCH_SPLITS if _has_halves(lists) else ():
            _write_text(
                osp.join(tmp, 'splits', f'{name}.txt'),
                ''.join(n + '\n' for n in lists[name]))
        num_pixels = {
            (CITYSCAPES_CLASSES[v] if v < 255 else 'ignore'): int(counts[v])
            for v in sorted(set(TOY_TO_CITYSCAPES.values())) if counts[v]
        }
        return dict(num_pixels=num_pixels)

    return _generate(out_dir, overwrite, layout, meta, write)


def generate_toy_lowlight_task(task: str, out_dir: str, **kwargs) -> dict:
    """Dispatch to the writer of ``task`` (one of :data:`TASKS`).

    ``'cityscapes'`` is :func:`generate_toy_acdc` with
    ``layout='cityscapes'``.

    Args:
        task (str): ``'exdark'``, ``'darkface'``, ``'acdc'`` or
            ``'cityscapes'``.
        out_dir (str): Output folder.
        **kwargs: Arguments of the writer.

    Returns:
        dict: the writer's summary.
    """
    if task == 'exdark':
        return generate_toy_exdark(out_dir, **kwargs)
    if task == 'darkface':
        return generate_toy_darkface(out_dir, **kwargs)
    if task in SEG_LAYOUTS:
        return generate_toy_acdc(out_dir, layout=task, **kwargs)
    raise ValueError(f'task must be one of {TASKS}, got {task!r}')
