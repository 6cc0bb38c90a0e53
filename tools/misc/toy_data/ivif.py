"""Procedural infrared-visible toy dataset with detection / segmentation GT.

:func:`generate_toy_dataset` renders paired infrared / visible street
scenes (:func:`render_toy_scene`) in the on-disk layout of the real datasets
(``ir/``, ``vi/``, ``masks/``, ``instance_masks/``, COCO ``annotations/``,
``splits/``, ``meta.json``), so every pipeline of the toolbox trains and
tests without downloads. The modalities are complementary: warm objects
show in IR, cold objects and texture in VIS. Image ``i`` has its own
generator seeded from ``(seed, i)``; the same seed yields byte-identical
files. See ``docs/user_guides/toy_data.md``.

Example:
    >>> from toy_data.ivif import generate_toy_dataset
    >>> summary = generate_toy_dataset('data/toy', num=300, seed=0)
"""
import json
import math
import os
import os.path as osp
import shutil
import time
from dataclasses import dataclass, field
from typing import Dict, List, Mapping, Optional, Sequence, Tuple

import cv2
import numpy as np

from mmfusenas.datasets.search_splits import SEARCH_SPLITS, search_halves
from mmfusenas.utils.progress import track
from .writing import META_FILE, is_int, is_num, write_data_set, written_by

#: The ``generator`` recorded in ``meta.json``: this module's path when it
#: was in the package (kept, so the files it writes do not change).
GENERATOR_NAME = 'mmfusenas.toy_data.ivif'
#: Other ``generator`` values recognised as this generator's output (an
#: older path), so data sets written under it are replaced without overwrite.
FORMER_GENERATOR_NAMES: Tuple[str, ...] = ('mmfusenas.datasets.toy_data', )
# 1.1: search_weights / search_arch splits and instance masks as COCO RLE
GENERATOR_VERSION = '1.1.0'

#: Class names in id order; COCO ``category_id`` and mask value = index + 1.
CLASSES: Tuple[str, ...] = ('person', 'car', 'bicycle', 'cone')
CATEGORY_IDS: Dict[str, int] = {name: i + 1 for i, name in enumerate(CLASSES)}
#: Classes that are hot in IR (``supercategory`` 'warm' in the COCO json;
#: the others, at ambient temperature and visible mainly in VIS, 'cold').
WARM_CLASSES: Tuple[str, ...] = ('person', 'car')
BACKGROUND_ID = 0
IGNORE_ID = 255

#: Longest side of each class in pixels at ``size=256`` (scaled with size).
CLASS_SIZE_RANGES: Dict[str, Tuple[float, float]] = dict(
    person=(16., 80.), car=(24., 80.), bicycle=(20., 60.), cone=(12., 36.))
DEFAULT_CLASS_WEIGHTS: Dict[str, float] = dict(
    person=0.35, car=0.25, bicycle=0.2, cone=0.2)

SUBDIRS = ('ir', 'vi', 'masks', 'instance_masks', 'annotations', 'splits')

#: On-disk layouts: ``'toy'`` (the default, above) and ``'multispectral'``,
#: the MultiSpectral detection layout of TIM Sec. 4.3.1 (Takumi et al.):
#: ``ir/``, ``vi/``, ``annotations/{train,test,search_weights,search_arch}
#: .json`` (COCO) with the five MultiSpectral classes, ``splits/`` and
#: ``meta.json``; no masks.
LAYOUTS = ('toy', 'multispectral')
#: The MultiSpectral classes (TIM Table 4) in ``category_id`` order.
MULTISPECTRAL_CLASSES: Tuple[str, ...] = ('color_cone', 'car_stop', 'car',
                                          'person', 'bike')
#: toy class -> MultiSpectral class; 'car_stop' has no toy counterpart (it
#: gets no instance).
TOY_TO_MULTISPECTRAL: Dict[str, str] = dict(
    cone='color_cone', car='car', person='person', bicycle='bike')

_NUM_MAX = 100000  # 5-digit stems
_SIZE_MIN, _SIZE_MAX = 64, 2048
_MAX_OBJECTS = 50

# --------------------------------------------------------------------------
# palettes (RGB albedo in [0, 1])
# --------------------------------------------------------------------------
_SKIN = np.array([[0.85, 0.66, 0.55], [0.72, 0.52, 0.40], [0.55, 0.38, 0.27],
                  [0.36, 0.24, 0.17]], np.float32)
_CLOTHES = np.array(
    [[0.06, 0.06, 0.07], [0.10, 0.12, 0.22], [0.22, 0.22, 0.24],
     [0.28, 0.20, 0.14], [0.12, 0.20, 0.12], [0.45, 0.45, 0.47],
     [0.55, 0.10, 0.10], [0.15, 0.25, 0.55], [0.80, 0.80, 0.78],
     [0.75, 0.65, 0.20]], np.float32)
_DARK_CLOTHES = _CLOTHES[:6]
_CAR_PAINT = np.array(
    [[0.88, 0.88, 0.88], [0.60, 0.60, 0.62], [0.07, 0.07, 0.08],
     [0.60, 0.07, 0.07], [0.10, 0.18, 0.50], [0.33, 0.33, 0.34],
     [0.14, 0.28, 0.14], [0.70, 0.60, 0.35]], np.float32)
_BIKE_PAINT = np.array(
    [[0.90, 0.10, 0.08], [0.10, 0.35, 0.90], [0.95, 0.85, 0.10],
     [0.90, 0.90, 0.90], [0.10, 0.75, 0.30], [0.95, 0.45, 0.05]], np.float32)
_WALLS = np.array([[0.55, 0.52, 0.48], [0.45, 0.25, 0.18], [0.70, 0.65, 0.55],
                   [0.35, 0.35, 0.37], [0.60, 0.58, 0.60]], np.float32)
_BRIGHT = np.array(
    [[0.95, 0.90, 0.20], [0.95, 0.95, 0.95], [0.20, 0.60, 0.95],
     [0.95, 0.30, 0.30], [0.30, 0.90, 0.40], [0.95, 0.55, 0.10]], np.float32)
_STONE = np.array([[0.80, 0.78, 0.74], [0.62, 0.60, 0.58], [0.55, 0.40, 0.22],
                   [0.92, 0.92, 0.90]], np.float32)
_ORANGE = np.array([0.95, 0.38, 0.04], np.float32)
_WHITE = np.array([0.92, 0.92, 0.92], np.float32)
_BLACK = np.array([0.1, 0.1, 0.1], np.float32)
_LAMP = np.array([1.0, 0.92, 0.7], np.float32)  # light of a street lamp
_WINDOW = np.array([0.95, 0.8, 0.45], np.float32)  # light of a lit window
_LEAVES = np.array([0.10, 0.30, 0.08], np.float32)


@dataclass
class ToyScene:
    """One rendered IR/VIS pair with its ground truth.

    Attributes:
        ir (np.ndarray): ``(H, W)`` uint8 thermal image.
        vis (np.ndarray): ``(H, W, 3)`` uint8 colour image, **RGB** order.
        semantic (np.ndarray): ``(H, W)`` uint8 class ids (0 background,
            :data:`CATEGORY_IDS`, 255 ignore = visible part of an instance
            too small to annotate).
        instances (np.ndarray): ``(H, W)`` uint8 instance ids, 0 = none,
            ``k`` = ``objects[k - 1]``.
        objects (list[dict]): one dict per annotated instance, in instance id
            order: ``instance_id``, ``category_id``, ``name``, ``bbox``
            (``[x, y, w, h]`` tight bounds of the visible mask, pixel units),
            ``area`` (visible pixels), ``visible_fraction`` (visible / drawn
            pixels inside the image), ``warm`` (bool).
        info (dict): scene parameters: ``illumination`` ('day' / 'night'),
            ``ambient`` (VIS illumination level), ``horizon`` (row),
            ``num_dropped`` (instances dropped as fully occluded or smaller
            than ``min_visible_area``).
    """

    ir: np.ndarray
    vis: np.ndarray
    semantic: np.ndarray
    instances: np.ndarray
    objects: List[dict] = field(default_factory=list)
    info: dict = field(default_factory=dict)


# --------------------------------------------------------------------------
# small raster helpers
# --------------------------------------------------------------------------
def _image_rng(seed: int, index: int) -> np.random.Generator:
    """Generator of image ``index``: ``SeedSequence(seed).spawn()[index]``."""
    return np.random.Generator(
        np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(index, ))))


def _noise(rng: np.random.Generator,
           h: int,
           w: int,
           cell: float,
           octaves: int = 3) -> np.ndarray:
    """Smooth value noise in ``[0, 1]``: bicubic up-sampled random grids."""
    out = np.zeros((h, w), np.float32)
    amp, total = 1.0, 0.0
    for _ in range(octaves):
        gh = max(2, int(math.ceil(h / cell)) + 1)
        gw = max(2, int(math.ceil(w / cell)) + 1)
        grid = rng.random((gh, gw), dtype=np.float32)
        out += amp * cv2.resize(grid, (w, h), interpolation=cv2.INTER_CUBIC)
        total += amp
        amp *= 0.5
        cell = max(1.0, cell / 2)
    return np.clip(out / total, 0.0, 1.0)


def _canvas(h: int, w: int) -> np.ndarray:
    return np.zeros((max(1, h), max(1, w)), np.uint8)


def _poly(h: int, w: int, pts: Sequence[Tuple[float, float]]) -> np.ndarray:
    c = _canvas(h, w)
    cv2.fillPoly(c, [np.round(np.asarray(pts)).astype(np.int32)], 1)
    return c.astype(bool)


def _ellipse(h: int, w: int, cx: float, cy: float, ax: float,
             ay: float) -> np.ndarray:
    c = _canvas(h, w)
    cv2.ellipse(c, (int(round(cx)), int(round(cy))),
                (max(1, int(round(ax))), max(1, int(round(ay)))), 0, 0, 360, 1,
                -1)
    return c.astype(bool)


def _lines(h: int, w: int, segments: Sequence[Tuple[Tuple[float, float],
                                                    Tuple[float, float]]],
           thickness: int) -> np.ndarray:
    c = _canvas(h, w)
    for (x0, y0), (x1, y1) in segments:
        cv2.line(c, (int(round(x0)), int(round(y0))),
                 (int(round(x1)), int(round(y1))), 1, max(1, int(thickness)))
    return c.astype(bool)


def _ring(h: int, w: int, cx: float, cy: float, r: float,
          thickness: int) -> np.ndarray:
    c = _canvas(h, w)
    cv2.circle(c, (int(round(cx)), int(round(cy))), max(1, int(round(r))), 1,
               max(1, int(thickness)))
    return c.astype(bool)


def _rect(h: int, w: int, x0: float, y0: float, x1: float,
          y1: float) -> np.ndarray:
    c = np.zeros((max(1, h), max(1, w)), bool)
    c[max(0, int(round(y0))):max(0, int(round(y1))),
      max(0, int(round(x0))):max(0, int(round(x1)))] = True
    return c


def _place(x0: int, y0: int, h: int, w: int, H: int, W: int):
    """Slices of the image and of a local ``(h, w)`` canvas at ``(x0, y0)``."""
    xa, ya = max(x0, 0), max(y0, 0)
    xb, yb = min(x0 + w, W), min(y0 + h, H)
    if xa >= xb or ya >= yb:
        return None
    return ((slice(ya, yb), slice(xa, xb)), (slice(ya - y0, yb - y0),
                                             slice(xa - x0, xb - x0)))


@dataclass
class _Part:
    """A rigid part of a sprite: mask plus IR value and VIS albedo / light."""

    mask: np.ndarray
    ir: float
    albedo: Optional[np.ndarray]  # None: keep the background albedo
    emit: Optional[np.ndarray] = None


# --------------------------------------------------------------------------
# shapes (local canvases, (h, w))
# --------------------------------------------------------------------------
def _person_masks(rng: np.random.Generator, h: int,
                  w: int) -> Dict[str, np.ndarray]:
    """Head, torso (+ arms) and legs of an upright walking person."""
    cx = w / 2.0
    r = max(1.0, 0.1 * h)
    head = _ellipse(h, w, cx, r, r * 0.85, r)
    sh_y, hip_y = 0.2 * h, 0.56 * h
    sh_w, hip_w = 0.42 * w, 0.3 * w
    torso = _poly(h, w, [(cx - sh_w, sh_y), (cx + sh_w, sh_y),
                         (cx + hip_w, hip_y), (cx - hip_w, hip_y)])
    arm_t = max(1, round(0.12 * w))
    swing = rng.uniform(-0.12, 0.12) * h
    raise_arm = rng.random() < 0.15
    hand_l = (cx - 0.44 * w, sh_y + (0.05 * h if raise_arm else 0.36 * h))
    if raise_arm:
        hand_l = (cx - 0.4 * w, max(0.0, sh_y - 0.15 * h))
    arms = _lines(h, w, [((cx - sh_w + arm_t / 2, sh_y + arm_t / 2), hand_l),
                         ((cx + sh_w - arm_t / 2, sh_y + arm_t / 2),
                          (cx + 0.44 * w, sh_y + 0.36 * h + swing * 0.3))],
                  arm_t)
    leg_t = max(1, round(0.2 * w))
    stride = rng.uniform(0.0, 0.3) * w
    legs = _lines(h, w,
                  [((cx - 0.14 * w, hip_y), (cx - 0.14 * w - stride, h - 1)),
                   ((cx + 0.14 * w, hip_y),
                    (cx + 0.14 * w + stride * 0.5, h - 1))], leg_t)
    return dict(head=head, torso=torso | arms, legs=legs & ~torso)


def _cone_masks(h: int, w: int) -> Dict[str, np.ndarray]:
    base_y = 0.86 * h
    body = _poly(h, w, [(w / 2.0, 0), (0.88 * w, base_y), (0.12 * w, base_y)])
    stripes = body & (
        _rect(h, w, 0, 0.32 * h, w, 0.44 * h)
        | _rect(h, w, 0, 0.58 * h, w, 0.7 * h))
    base = _rect(h, w, 0, base_y, w, h)
    return dict(body=body & ~stripes, stripes=stripes, base=base)


def _bicycle_masks(h: int, w: int) -> Dict[str, np.ndarray]:
    t = max(1, round(w / 28.0))
    r = min(0.27 * w, 0.5 * h - 1.0)
    wy = h - 1 - r
    rear, front = (r + 0.5, wy), (w - 1.5 - r, wy)
    bb = (0.47 * w, wy)
    seat = (0.38 * w, 0.1 * h)
    head = (0.72 * w, 0.16 * h)
    frame = _lines(h, w, [(rear, bb), (rear, seat), (bb, seat), (bb, head),
                          (seat, head), (head, front)], t)
    bar = _lines(h, w, [(head, (0.7 * w, 0.02 * h)),
                        ((0.64 * w, 0.02 * h), (0.8 * w, 0.02 * h))], t)
    saddle = _lines(h, w, [((seat[0] - 0.07 * w, seat[1]),
                            (seat[0] + 0.06 * w, seat[1]))], t + 1)
    tyres = (
        _ring(h, w, rear[0], rear[1], r, t)
        | _ring(h, w, front[0], front[1], r, t))
    rims = (_ring(h, w, rear[0], rear[1], max(1.0, r - t), 1)
            | _ring(h, w, front[0], front[1], max(1.0, r - t), 1)) & ~tyres
    return dict(tyres=tyres, rims=rims, frame=frame | bar, saddle=saddle)


def _car_masks(rng: np.random.Generator, h: int, w: int,
               side: bool) -> Dict[str, np.ndarray]:
    if side:
        chamfer = 0.12 * h
        body = _poly(h, w, [(chamfer, 0.4 * h), (w - 1 - chamfer, 0.42 * h),
                            (w - 1, 0.55 * h), (w - 1, 0.8 * h), (0, 0.8 * h),
                            (0, 0.52 * h)])
        top0, top1 = rng.uniform(0.25, 0.35) * w, rng.uniform(0.62, 0.72) * w
        cabin = _poly(h, w, [(0.14 * w, 0.42 * h), (top0, 0.04 * h),
                             (top1, 0.04 * h), (0.84 * w, 0.42 * h)])
        windows = _poly(h, w, [(0.2 * w, 0.38 * h), (top0 + 0.03 * w, 0.1 * h),
                               (top1 - 0.03 * w, 0.1 * h),
                               (0.78 * w, 0.38 * h)])
        windows &= ~_rect(h, w, 0.48 * w, 0, 0.52 * w, h)  # B pillar
        rw = max(2.0, 0.19 * h)
        wheels = (
            _ellipse(h, w, 0.2 * w, h - 1 - rw, rw, rw)
            | _ellipse(h, w, 0.8 * w, h - 1 - rw, rw, rw))
        engine = body & _rect(h, w, 0.8 * w, 0, w, 0.78 * h)
        lights = _rect(h, w, w - max(2, 0.05 * w), 0.48 * h, w, 0.58 * h)
    else:  # seen from the front / back
        body = _rect(h, w, 0, 0.42 * h, w, 0.86 * h)
        cabin = _poly(h, w, [(0.08 * w, 0.43 * h), (0.2 * w, 0.04 * h),
                             (0.8 * w, 0.04 * h), (0.92 * w, 0.43 * h)])
        windows = _poly(h, w, [(0.15 * w, 0.38 * h), (0.24 * w, 0.1 * h),
                               (0.76 * w, 0.1 * h), (0.85 * w, 0.38 * h)])
        wheels = (
            _rect(h, w, 0.06 * w, 0.8 * h, 0.24 * w, h)
            | _rect(h, w, 0.76 * w, 0.8 * h, 0.94 * w, h))
        engine = _rect(h, w, 0.3 * w, 0.6 * h, 0.7 * w, 0.84 * h)
        lights = (
            _rect(h, w, 0.04 * w, 0.5 * h, 0.2 * w, 0.6 * h)
            | _rect(h, w, 0.8 * w, 0.5 * h, 0.96 * w, 0.6 * h))
    return dict(
        body=body | cabin,
        windows=windows,
        wheels=wheels,
        engine=engine,
        lights=lights)


# --------------------------------------------------------------------------
# the scene renderer
# --------------------------------------------------------------------------
class _SceneRenderer:
    """Renders one scene from one random generator."""

    def __init__(self, rng: np.random.Generator, size: int, opts: dict):
        self.rng, self.opts, self.k = rng, opts, size / 256.0
        self.H = self.W = H = W = size
        self.albedo = np.zeros((H, W, 3), np.float32)
        self.emit = np.zeros((H, W, 3), np.float32)
        self.temp = np.zeros((H, W), np.float32)
        self.inst = np.zeros((H, W), np.uint8)
        self.drawn_area: List[int] = []
        self.obj_classes: List[str] = []
        self.yy, self.xx = np.mgrid[0:H, 0:W].astype(np.float32)

    # ----------------------------------------------------------- helpers
    def _paste(self,
               parts: List[_Part],
               x0: int,
               y0: int,
               ir_texture: float,
               albedo_texture: float,
               flip: bool = False,
               inst_value: Optional[int] = None) -> int:
        """Draw a sprite of ``parts`` (later ones over earlier ones; IR and
        albedo textured, mirrored if ``flip``) with its top left corner at
        ``(x0, y0)``; ``inst_value`` None keeps the instance ids (IR / VIS
        only clutter behind objects), 0 erases them (occluders). Returns
        the number of its pixels inside the image."""
        rng = self.rng
        h, w = parts[0].mask.shape
        union = np.zeros((h, w), bool)
        albedo_mask = np.zeros((h, w), bool)
        ir = np.zeros((h, w), np.float32)
        albedo = np.zeros((h, w, 3), np.float32)
        emit = np.zeros((h, w, 3), np.float32)
        for p in parts:
            m = p.mask
            union |= m
            ir[m] = p.ir
            if p.albedo is not None:
                albedo[m] = p.albedo
                albedo_mask |= m
            emit[m] = 0.0 if p.emit is None else p.emit
        ir += rng.normal(0.0, ir_texture, (h, w)).astype(np.float32)
        texture = rng.normal(0.0, albedo_texture, (h, w, 1))
        albedo *= np.clip(1.0 + texture.astype(np.float32), 0.5, 1.5)
        if flip:
            union, ir, albedo, albedo_mask, emit = (
                a[:, ::-1] for a in (union, ir, albedo, albedo_mask, emit))
        loc = _place(x0, y0, h, w, self.H, self.W)
        if loc is None:
            return 0
        dst, src = loc
        m = union[src]
        self.temp[dst][m] = ir[src][m]
        self.albedo[dst][albedo_mask[src]] = albedo[src][albedo_mask[src]]
        self.emit[dst][m] = emit[src][m]
        if inst_value is not None:
            self.inst[dst][m] = inst_value
        return int(m.sum())

    def _pick(self, palette: np.ndarray) -> np.ndarray:
        return palette[self.rng.integers(len(palette))]

    def _local_temp(self, x0: int, y0: int, h: int, w: int) -> float:
        loc = _place(x0, y0, h, w, self.H, self.W)
        return float((self.temp if loc is None else self.temp[loc[0]]).mean())

    def _ground_y(self, t: float) -> int:
        """Row of a foot point at relative depth ``t`` in ``(0, 1]``."""
        return int(round(self.horizon + t * (self.H - 1 - self.horizon)))

    def _size_at(self, name: str, t: float) -> float:
        lo, hi = CLASS_SIZE_RANGES[name]
        u = float(np.clip(t + self.rng.normal(0.0, 0.15), 0.0, 1.0))
        return lo * self.k * (hi / lo)**u

    # -------------------------------------------------------- background
    def background(self) -> None:
        rng, H, W, k = self.rng, self.H, self.W, self.k
        self.night = bool(rng.random() < self.opts['night_fraction'])
        self.ambient = float(
            rng.uniform(0.09, 0.22) if self.night else rng.uniform(0.7, 1.0))
        self.horizon = hz = int(rng.uniform(0.28, 0.48) * H)
        yy, xx = self.yy, self.xx
        sky = yy < hz

        # ---- VIS albedo: sky, ground (grass / pavement), road, buildings
        sky_col = np.array(
            [0.06, 0.08, 0.16] if self.night else [0.50, 0.66, 0.90],
            np.float32)
        grad = np.maximum(1.0 - 0.35 * yy / max(hz, 1), 0.5)[..., None]
        clouds = _noise(rng, H, W, 40 * k)[..., None]
        self.albedo[:] = np.where(sky[..., None],
                                  sky_col * (0.8 + 0.4 * clouds) / grad, 0.0)

        grass_sel = _noise(rng, H, W, 48 * k, 2) > rng.uniform(0.45, 0.6)
        fine = _noise(rng, H, W, 3 * k, 2)[..., None]
        grass = np.array([0.16, 0.34, 0.10], np.float32) * (0.5 + fine)
        paving = np.array([0.48, 0.45, 0.40], np.float32) * (
            0.75 + 0.5 * _noise(rng, H, W, 6 * k, 2)[..., None])
        ground = np.where(grass_sel[..., None], grass, paving)

        vx = rng.uniform(0.3, 0.7) * W
        bl, br = (rng.uniform(-0.5, 0.25) * W, rng.uniform(0.75, 1.5) * W)
        d = np.clip((yy - hz) / max(H - 1 - hz, 1), 0.0, 1.0)
        left = vx - 0.02 * W + d * (bl - vx)
        right = vx + 0.02 * W + d * (br - vx)
        road = (~sky) & (xx >= left) & (xx <= right)
        asphalt = rng.uniform(0.22, 0.36)
        road_col = np.float32(asphalt) * (
            0.8 + 0.4 * _noise(rng, H, W, 2 * k, 2))[..., None]
        # lane markings: dashed centre line and solid edge lines
        centre = (left + right) / 2.0
        half = 0.5 + d * 2.2 * k
        phase = (4.0 / (d + 0.08)) % 1.0
        marks = road & (((np.abs(xx - centre) < half) & (phase < 0.5))
                        | (np.abs(xx - left - 3 * half) < half)
                        | (np.abs(xx - right + 3 * half) < half))
        ground = np.where(road[..., None], road_col, ground)
        ground = np.where(marks[..., None], np.float32(0.85), ground)
        self.albedo[:] = np.where(sky[..., None], self.albedo, ground)

        # ---- IR: smooth, mild gradients, low material contrast
        t_sky = rng.uniform(10, 45)
        t_ground = rng.uniform(45, 85) if self.night else rng.uniform(95, 135)
        temp = np.where(sky, t_sky + 10 * (yy / max(hz, 1)), t_ground)
        road_warmth = rng.uniform(3, 12) if self.night else rng.uniform(8, 20)
        temp = temp + np.where(road, road_warmth, 0.0)
        temp = temp - np.where(grass_sel & ~road & ~sky, rng.uniform(2, 8),
                               0.0)
        temp = temp + np.where(marks, -2.0, 0.0)
        temp = temp + (~sky) * 8.0 * d * rng.uniform(-1, 1)

        # buildings (drawn over the sky / horizon band)
        bld_mask = np.zeros((H, W), bool)
        for _ in range(int(rng.integers(2, 6))):
            bw = int(rng.uniform(0.15, 0.4) * W)
            bx0 = int(rng.uniform(-0.1, 0.95) * W)
            by0 = int(max(0, hz - rng.uniform(0.1, 0.5) * H))
            by1 = hz + int(rng.uniform(0, 0.04) * H)
            xa, xb = max(bx0, 0), min(bx0 + bw, W)
            if xa >= xb or by0 >= by1:
                continue
            region = (slice(by0, by1), slice(xa, xb))
            ly, lx = np.mgrid[0:by1 - by0, xa - bx0:xb - bx0]
            wall = self._pick(_WALLS) * (
                0.7 +
                0.6 * _noise(rng, by1 - by0, xb - xa, 8 * k, 2)[..., None])
            px, py = int(rng.integers(8, 15) * k) + 2, int(
                rng.integers(10, 17) * k) + 2
            ww, wh = max(1, int(px * rng.uniform(0.35, 0.6))), max(
                1, int(py * rng.uniform(0.35, 0.6)))
            m = max(1, int(3 * k))
            win = (((lx - m) % px < ww) & ((ly - m) % py < wh) & (lx >= m)
                   & (ly >= m) & (lx < bw - m) & (ly < by1 - by0 - 2 * m))
            cells = rng.random((by1 // py + 2, bw // px + 2))
            lit = win & (
                cells[(ly - m) // py,
                      (lx - m) // px] < (0.35 if self.night else 0.0))
            wall = np.where(win[..., None], np.float32(0.1), wall)
            self.albedo[region] = wall
            glow = rng.uniform(0.4, 0.9)
            self.emit[region] = np.where(lit[..., None], _WINDOW * glow, 0.0)
            t_wall = t_ground - rng.uniform(0, 10)
            temp[region] = t_wall + 3.0 * win + 6.0 * lit
            bld_mask[region] = True

        # trees / bushes along the horizon (texture in VIS, cool in IR)
        for _ in range(int(rng.integers(0, 5))):
            r = rng.uniform(8, 28) * k
            cx, cy = rng.uniform(0, W), hz - rng.uniform(-0.3, 1.0) * r
            blob = _ellipse(H, W, cx, cy, r, r * rng.uniform(0.7, 1.1))
            self.albedo[blob] = _LEAVES * (0.4 + 1.2 * fine[blob])
            temp[blob] = temp[blob] - rng.uniform(2, 6)

        low = _noise(rng, H, W, 64 * k, 2) - 0.5
        self.temp[:] = cv2.GaussianBlur(
            temp.astype(np.float32), (0, 0), 2.5 * k) + 10.0 * low
        self.buildings = bld_mask

        # illumination: ambient + shading; street-light pools at night
        shading = 0.85 + 0.3 * _noise(rng, H, W, 80 * k, 1)
        self.illum = (self.ambient * shading).astype(np.float32)

    # ------------------------------------------------------- street lamps
    def street_lamps(self) -> None:
        rng, k = self.rng, self.k
        n = int(rng.integers(0, 3)) + (1 if self.night else 0)
        for _ in range(n):
            foot = self._ground_y(rng.uniform(0.05, 0.6))
            x = int(rng.uniform(0.03, 0.97) * self.W)
            height = int((foot - self.horizon + 10 * k) * rng.uniform(2, 3.5))
            height = max(height, int(12 * k))
            top = foot - height
            pole_w = max(1, int(round(1.5 * k)))
            depth = (foot - self.horizon) / max(self.H - self.horizon, 1)
            head_r = max(2.0, 2.5 * k * (1 + depth))
            hw = int(2 * head_r + 2)
            h = height + 1
            x0 = x - hw // 2
            pole = _rect(h, hw, hw / 2 - pole_w / 2, head_r,
                         hw / 2 + pole_w / 2 + 0.5, h)
            head = _ellipse(h, hw, hw / 2, head_r, head_r, head_r * 0.7)
            t_loc = self._local_temp(x0, top, h, hw)
            lit = self.night or rng.random() < 0.1
            pole_ir = t_loc + rng.uniform(-2, 2)
            head_ir = rng.uniform(205, 250) if lit else t_loc + 20
            light = _LAMP * rng.uniform(0.8, 1.2) if lit else None
            self._paste([
                _Part(pole, pole_ir, np.array([0.3, 0.3, 0.32], np.float32)),
                _Part(head, head_ir, np.array([0.9, 0.9, 0.8], np.float32),
                      light)
            ], x0, top, 1.0, 0.05)
            if lit:  # pool of light around the pole's foot
                sig = rng.uniform(0.08, 0.2) * self.W
                pool = np.exp(-(((self.xx - x)**2) +
                                ((self.yy - foot)**2) * 2) / (2 * sig**2))
                self.illum += (rng.uniform(0.25, 0.6) * pool).astype(
                    np.float32)

    # ------------------------------------------------------------ clutter
    def clutter(self) -> None:
        """Background distractors: hot in IR only, or bright in VIS only."""
        rng, amount = self.rng, self.opts['clutter']
        n_hot = int(rng.poisson(1.8 * amount))
        n_bright = int(rng.poisson(1.8 * amount))
        for _ in range(n_hot):
            self._hot_distractor(
                rng.choice(['vent', 'pipe', 'animal', 'triangle', 'lines']))
        for _ in range(n_bright):
            self._bright_distractor(
                rng.choice(['statue', 'barrel', 'sign', 'poster']))

    def _hot_distractor(self, kind: str) -> None:
        rng, k = self.rng, self.k
        t = rng.uniform(0.05, 1.0)
        foot = self._ground_y(t)
        s = 12 * k * (60 / 12)**float(np.clip(t + rng.normal(0, 0.15), 0, 1))
        hot = rng.uniform(140, 215)
        if kind == 'vent':  # warm patch on the ground, invisible in VIS
            w, h = int(s * rng.uniform(0.6, 1.2)) + 2, int(s * 0.3) + 2
            m = _ellipse(h, w, w / 2, h / 2, w / 2 - 1, h / 2 - 1)
            parts = [_Part(m, hot - 40, None)]
        elif kind == 'pipe':  # vertical warm pipe / heater: person-like in IR
            h, w = int(s) + 2, max(2, int(s * rng.uniform(0.15, 0.35)))
            m = _ellipse(h, w, w / 2, h / 2, w / 2, h / 2)
            parts = [_Part(m, hot, np.array([0.4, 0.4, 0.42], np.float32))]
        elif kind == 'animal':  # a dog: warm, dark and small in VIS
            w, h = int(s * 0.6) + 3, int(s * 0.4) + 3
            body = _ellipse(h, w, w * 0.45, h * 0.5, w * 0.35, h * 0.25)
            head = _ellipse(h, w, w * 0.85, h * 0.3, w * 0.13, h * 0.18)
            legs = _lines(h, w, [((w * 0.25, h * 0.6), (w * 0.25, h - 1)),
                                 ((w * 0.65, h * 0.6), (w * 0.65, h - 1))],
                          max(1, int(w / 12)))
            brown = np.array([0.22, 0.15, 0.1], np.float32)
            parts = [_Part(body | legs, hot, brown)]
            parts.append(_Part(head, hot + 10, brown))
        elif kind == 'triangle':  # warm heap / hood: cone-like in IR
            h, w = int(s * 0.6) + 2, int(s * 0.45) + 2
            m = _poly(h, w, [(w / 2, 0), (w - 1, h - 1), (0, h - 1)])
            parts = [_Part(m, hot - 20, None)]
        else:  # warm pipes / railings: bicycle-like line work in IR
            w, h = int(s) + 2, int(s * 0.6) + 2
            ends = [(rng.uniform(0, w), rng.uniform(0, h))
                    for _ in range(2 * int(rng.integers(2, 5)))]
            segs = list(zip(ends[::2], ends[1::2]))
            thick = max(1, int(round(k * 1.5)))
            m = _lines(h, w, segs, thick)
            if rng.random() < 0.5:
                m |= _ring(h, w, w * 0.3, h * 0.6, h * 0.35, thick)
            parts = [_Part(m, hot - 30, None)]
        x0 = int(rng.uniform(-0.05, 0.95) * self.W)
        y0 = foot - parts[0].mask.shape[0]
        self._paste(parts, x0, y0, 3.0, 0.05, bool(rng.random() < 0.5))

    def _bright_distractor(self, kind: str) -> None:
        rng, k = self.rng, self.k
        t = rng.uniform(0.05, 1.0)
        foot = self._ground_y(t)
        if kind == 'poster' and self.buildings.any():  # lit panel on a wall
            ys, xs = np.nonzero(self.buildings)
            j = int(rng.integers(len(ys)))
            w = int(rng.uniform(10, 30) * k) + 2
            h = int(rng.uniform(8, 24) * k) + 2
            x0, y0 = int(xs[j]) - w // 2, int(ys[j]) - h // 2
            col, full = self._pick(_BRIGHT), np.ones((h, w), bool)
            fig = self._pick(_BRIGHT)
            pm = _person_masks(rng, h, max(2, w // 3))
            figure = np.zeros((h, w), bool)
            figure[:, w // 3:w // 3 + pm['head'].shape[1]] = (
                pm['head'] | pm['torso'] | pm['legs'])
            glow = rng.uniform(0.3, 0.7) if self.night else None
            t_loc = self._local_temp(x0, y0, h, w)
            self._paste([
                _Part(full, t_loc, col, col * glow if glow else None),
                _Part(figure, t_loc, fig, fig * glow if glow else None)
            ], x0, y0, 1.0, 0.05)
            return
        if kind == 'statue' or kind == 'poster':  # cold person-shaped figure
            h = int(CLASS_SIZE_RANGES['person'][0] * k *
                    (80 / 16)**float(np.clip(t + rng.normal(0, 0.15), 0, 1)))
            h = max(h, 6)
            w = max(3, int(h * rng.uniform(0.32, 0.45)))
            pm = _person_masks(rng, h, w)
            col = self._pick(_STONE)
            m = pm['head'] | pm['torso'] | pm['legs']
        elif kind == 'barrel':  # orange / yellow bin: cone-coloured, cold
            h = int(rng.uniform(10, 30) * k) + 2
            w = int(h * rng.uniform(0.5, 0.8)) + 2
            m = _rect(h, w, 0, 0, w, h)
            col = _BRIGHT[[0, 5, 3][int(rng.integers(3))]]
        else:  # traffic sign on a pole
            h = int(rng.uniform(20, 50) * k) + 2
            w = int(h * 0.4) + 2
            m = _rect(h, w, w / 2 - 0.5, w * 0.8, w / 2 + 1, h)
            if rng.random() < 0.5:
                m |= _poly(h, w, [(w / 2, 0), (w - 1, w * 0.9), (0, w * 0.9)])
            else:
                m |= _ellipse(h, w, w / 2, w / 2, w / 2 - 0.5, w / 2 - 0.5)
            col = self._pick(_BRIGHT)
        x0 = int(rng.uniform(-0.05, 0.95) * self.W)
        y0 = foot - m.shape[0]
        retro = col * rng.uniform(0.2, 0.5) if self.night else None
        t_loc = self._local_temp(x0, y0, *m.shape) + rng.uniform(-3, 3)
        self._paste([_Part(m, t_loc, col, retro)], x0, y0, 1.0, 0.08)

    # ------------------------------------------------------------ objects
    def objects(self) -> None:
        rng = self.rng
        o = self.opts
        n = int(rng.integers(o['min_objects'], o['max_objects'] + 1))
        names = list(CLASSES)
        p = np.array([o['class_weights'][c] for c in names], np.float64)
        p /= p.sum()
        specs = [(names[int(rng.choice(len(names),
                                       p=p))], float(rng.uniform(0.02, 1.0)))
                 for _ in range(n)]
        specs.sort(key=lambda s: s[1])  # far (small t) first: near occludes
        for inst_id, (name, t) in enumerate(specs, start=1):
            self.obj_classes.append(name)
            self.drawn_area.append(getattr(self, '_' + name)(t, inst_id))

    def _xy(self, t: float, h: int, w: int) -> Tuple[int, int]:
        foot = self._ground_y(t)
        x0 = int(self.rng.uniform(0.02, 0.98) * self.W - w / 2)
        return x0, foot - h + 1

    def _person(self, t: float, inst_id: int) -> int:
        rng = self.rng
        h = max(8, int(round(self._size_at('person', t))))
        w = max(4, int(round(h * rng.uniform(0.32, 0.45))))
        pm = _person_masks(rng, h, w)
        upper = (_CLOTHES if rng.random() < 0.3 else _DARK_CLOTHES)
        parts = [
            _Part(pm['legs'], rng.uniform(150, 195),
                  self._pick(_DARK_CLOTHES)),
            _Part(pm['torso'], rng.uniform(165, 205), self._pick(upper)),
            _Part(pm['head'], rng.uniform(205, 240), self._pick(_SKIN)),
        ]
        x0, y0 = self._xy(t, h, w)
        return self._paste(parts, x0, y0, 4.0, 0.08, bool(rng.random() < 0.5),
                           inst_id)

    def _car(self, t: float, inst_id: int) -> int:
        rng = self.rng
        s = self._size_at('car', t)
        side = bool(rng.random() < 0.6)
        if side:
            w = max(10, int(round(s)))
            h = max(5, int(round(w * rng.uniform(0.38, 0.5))))
        else:
            h = max(8, int(round(s * rng.uniform(0.7, 0.85))))
            w = max(8, int(round(h * rng.uniform(1.1, 1.3))))
        cm = _car_masks(rng, h, w, side)
        x0, y0 = self._xy(t, h, w)
        t_loc = self._local_temp(x0, y0, h, w)
        paint = self._pick(_CAR_PAINT)
        lights_on = self.night and rng.random() < 0.5
        front = side or rng.random() < 0.5
        light_col = (
            np.array([0.95, 0.95, 0.85], np.float32)
            if front else np.array([0.8, 0.05, 0.03], np.float32))
        parts = [
            _Part(cm['body'],
                  max(t_loc + rng.uniform(15, 45), rng.uniform(95, 130)),
                  paint),
            _Part(cm['windows'], t_loc - rng.uniform(0, 10),
                  np.array([0.08, 0.1, 0.12], np.float32)),
            _Part(cm['engine'], rng.uniform(170, 225), paint),
            _Part(cm['wheels'], rng.uniform(165, 215),
                  np.array([0.04, 0.04, 0.04], np.float32)),
            _Part(cm['lights'], t_loc + 20, light_col,
                  light_col * rng.uniform(0.8, 1.2) if lights_on else None),
        ]
        return self._paste(parts, x0, y0, 3.0, 0.05, bool(rng.random() < 0.5),
                           inst_id)

    def _bicycle(self, t: float, inst_id: int) -> int:
        rng = self.rng
        w = max(10, int(round(self._size_at('bicycle', t))))
        h = max(6, int(round(w * rng.uniform(0.55, 0.65))))
        bm = _bicycle_masks(h, w)
        x0, y0 = self._xy(t, h, w)
        t_loc = self._local_temp(x0, y0, h, w)
        paint = self._pick(_BIKE_PAINT)
        retro = rng.uniform(0.35, 0.7) if self.night else 0.0
        silver = np.array([0.75, 0.75, 0.78], np.float32)
        parts = [
            _Part(bm['tyres'], t_loc + rng.uniform(-4, 2),
                  np.array([0.07, 0.07, 0.07], np.float32)),
            _Part(bm['rims'], t_loc + rng.uniform(-4, 2), silver,
                  silver * retro if retro else None),
            _Part(bm['frame'], t_loc + rng.uniform(-4, 2), paint,
                  paint * retro * 0.6 if retro else None),
            _Part(bm['saddle'], t_loc + rng.uniform(-2, 3),
                  np.array([0.05, 0.05, 0.05], np.float32)),
        ]
        return self._paste(parts, x0, y0, 1.0, 0.05, bool(rng.random() < 0.5),
                           inst_id)

    def _cone(self, t: float, inst_id: int) -> int:
        rng = self.rng
        h = max(6, int(round(self._size_at('cone', t))))
        w = max(4, int(round(h * rng.uniform(0.55, 0.7))))
        cm = _cone_masks(h, w)
        x0, y0 = self._xy(t, h, w)
        t_loc = self._local_temp(x0, y0, h, w) - rng.uniform(2, 8)
        retro = rng.uniform(0.35, 0.75) if self.night else 0.0
        orange = _ORANGE * rng.uniform(0.9, 1.05)
        parts = [
            _Part(cm['body'], t_loc, orange,
                  orange * retro * 0.5 if retro else None),
            _Part(cm['stripes'], t_loc, _WHITE,
                  _WHITE * retro if retro else None),
            _Part(cm['base'], t_loc, _BLACK if rng.random() < 0.5 else orange),
        ]
        return self._paste(parts, x0, y0, 1.0, 0.05, False, inst_id)

    # ---------------------------------------------------------- occluders
    def occluders(self) -> None:
        rng, k = self.rng, self.k
        if rng.random() >= self.opts['occluder_prob']:
            return
        for _ in range(int(rng.integers(1, 3))):
            if rng.random() < 0.5:  # a foreground pole / tree trunk
                w = max(2, int(rng.uniform(3, 9) * k))
                h = self.H
                m = np.ones((h, w), bool)
                x0, y0 = int(rng.uniform(0, self.W - w)), 0
                col = np.array([0.32, 0.3, 0.28], np.float32)
            else:  # a bush at the bottom edge
                w = int(rng.uniform(30, 90) * k)
                h = int(w * rng.uniform(0.4, 0.7))
                m = _ellipse(h, w, w / 2, h, w / 2, h)
                x0, y0 = int(rng.uniform(-0.1, 0.9) * self.W), self.H - h
                col = np.array([0.10, 0.28, 0.08], np.float32)
            t_loc = self._local_temp(x0, y0, h, w) + rng.uniform(-5, 1)
            self._paste([_Part(m, t_loc, col)], x0, y0, 1.5, 0.2, False, 0)

    # ------------------------------------------------------------ sensors
    def sensors(self) -> Tuple[np.ndarray, np.ndarray]:
        """Apply optics and sensor noise; return uint8 IR and RGB VIS."""
        rng, k, H, W = self.rng, self.k, self.H, self.W
        nz = self.opts['noise']
        # IR: blur, fixed-pattern column / row offsets, temporal noise
        ir = cv2.GaussianBlur(self.temp, (0, 0), rng.uniform(0.7, 1.3) * k)
        if nz > 0:
            cols = rng.normal(0, rng.uniform(1.5, 4.0) * nz, (1, W))
            rows = rng.normal(0, 0.8 * nz, (H, 1))
            ir = ir + (
                cols + rows + rng.normal(0,
                                         rng.uniform(1.5, 3.0) * nz, (H, W)))
        ir_u8 = np.clip(np.rint(ir), 0, 255).astype(np.uint8)
        # VIS: radiance = albedo * illumination + emitted light; shot noise
        rad = self.albedo * self.illum[..., None] + self.emit
        sigma = rng.uniform(0.4, 0.8) * k
        rad = cv2.GaussianBlur(np.clip(rad, 0, 1.5), (0, 0), sigma)
        darkness = self.opts['night_darkness']
        if self.night and darkness != 1.0:
            # a darker night: less light reaches the sensor (so, after the
            # shot noise below, also relatively noisier)
            rad = rad / np.float32(darkness)
        if nz > 0:
            # photons per unit radiance: high gain (few photons) at night
            lo, hi = (180, 400) if self.night else (1500, 3000)
            q = rng.uniform(lo, hi) / nz**2
            rad = rng.poisson(rad * q).astype(np.float32) / np.float32(q)
            rad = rad + rng.normal(0, 1.2 * nz / 255, rad.shape)
        vis_u8 = np.clip(np.rint(rad * 255), 0, 255).astype(np.uint8)
        return ir_u8, vis_u8

    # --------------------------------------------------------------- run
    def render(self) -> ToyScene:
        self.background()
        self.street_lamps()
        self.clutter()
        self.objects()
        self.occluders()
        ir, vis = self.sensors()

        n = len(self.obj_classes)
        areas = np.bincount(self.inst.ravel(), minlength=n + 1)
        cls_lut = np.zeros(256, np.uint8)
        inst_lut = np.zeros(256, np.uint8)
        objects, dropped, new_id = [], 0, 0
        for old_id in range(1, n + 1):
            name = self.obj_classes[old_id - 1]
            area = int(areas[old_id])
            if area < self.opts['min_visible_area']:
                dropped += 1
                cls_lut[old_id] = IGNORE_ID if area else 0
                continue
            new_id += 1
            cls_lut[old_id] = CATEGORY_IDS[name]
            inst_lut[old_id] = new_id
            ys, xs = np.nonzero(self.inst == old_id)
            x0, y0 = int(xs.min()), int(ys.min())
            w, h = int(xs.max()) - x0 + 1, int(ys.max()) - y0 + 1
            drawn = max(self.drawn_area[old_id - 1], 1)
            objects.append(
                dict(
                    instance_id=new_id,
                    category_id=CATEGORY_IDS[name],
                    name=name,
                    bbox=[x0, y0, w, h],
                    area=area,
                    visible_fraction=round(area / drawn, 4),
                    warm=name in WARM_CLASSES))
        info = dict(
            illumination='night' if self.night else 'day',
            ambient=round(self.ambient, 4),
            horizon=self.horizon,
            num_dropped=dropped)
        return ToyScene(ir, vis, cls_lut[self.inst], inst_lut[self.inst],
                        objects, info)


# --------------------------------------------------------------------------
# options
# --------------------------------------------------------------------------
def _check_options(size: int,
                   night_fraction: float = 0.7,
                   min_objects: int = 2,
                   max_objects: int = 8,
                   class_weights: Optional[Mapping[str, float]] = None,
                   clutter: float = 1.0,
                   noise: float = 1.0,
                   occluder_prob: float = 0.35,
                   min_visible_area: int = 12,
                   night_darkness: float = 1.0) -> dict:
    """Validate the scene options (:func:`render_toy_scene`) and fill in
    their defaults; return them as a plain (json-able) dict."""
    if not is_int(size) or not _SIZE_MIN <= size <= _SIZE_MAX:
        raise ValueError(f'size must be an int in [{_SIZE_MIN}, {_SIZE_MAX}]'
                         f', got {size!r}')
    for name, v, lo, hi in [('night_fraction', night_fraction, 0, 1),
                            ('occluder_prob', occluder_prob, 0, 1),
                            ('clutter', clutter, 0, math.inf),
                            ('noise', noise, 0, math.inf),
                            ('night_darkness', night_darkness, 1, math.inf)]:
        if not is_num(v) or not lo <= v <= hi:
            raise ValueError(f'{name} must be a number in [{lo}, {hi}], got '
                             f'{v!r}')
    if not is_int(min_objects) or not is_int(max_objects) or not (
            1 <= min_objects <= max_objects <= _MAX_OBJECTS):
        raise ValueError('need integers 1 <= min_objects <= max_objects <= '
                         f'{_MAX_OBJECTS}, got min_objects={min_objects!r}, '
                         f'max_objects={max_objects!r}')
    if not is_int(min_visible_area) or min_visible_area < 1:
        raise ValueError('min_visible_area must be an int >= 1, got '
                         f'{min_visible_area!r}')
    weights = dict(DEFAULT_CLASS_WEIGHTS)
    if class_weights is not None:
        unknown = set(class_weights) - set(CLASSES)
        if unknown:
            raise ValueError(f'class_weights has unknown classes '
                             f'{sorted(unknown)}; classes are {CLASSES}')
        weights = {c: 0.0 for c in CLASSES}
        for c, v in class_weights.items():
            if not is_num(v) or v < 0:
                raise ValueError(f'class weight of {c!r} must be >= 0, got '
                                 f'{v!r}')
            weights[c] = float(v)
        if sum(weights.values()) <= 0:
            raise ValueError('class_weights must have a positive sum')
    return dict(
        night_fraction=float(night_fraction),
        min_objects=int(min_objects),
        max_objects=int(max_objects),
        class_weights=weights,
        clutter=float(clutter),
        noise=float(noise),
        occluder_prob=float(occluder_prob),
        min_visible_area=int(min_visible_area),
        night_darkness=float(night_darkness))


def render_toy_scene(seed: int = 0,
                     index: int = 0,
                     size: int = 256,
                     **options) -> ToyScene:
    """Render image ``index`` of the toy set of seed ``seed``, exactly as
    :func:`generate_toy_dataset` writes it (with the same options).

    Args:
        seed (int): Dataset seed, ``>= 0``.
        index (int): Image index, ``>= 0``; the image's random generator is
            ``PCG64(SeedSequence(seed, spawn_key=(index,)))``.
        size (int): Side of the square images in pixels (64-2048). Object
            sizes, blur and texture scales are given at 256 and scale with
            ``size / 256``.
        **options: the scene options, by keyword:

            * ``night_fraction`` (float): probability that a scene is
              low-light (ambient 0.09-0.22 of daylight, noisy VIS); 0.7.
            * ``min_objects`` / ``max_objects`` (int): fewest / most objects
              drawn per image (annotated ones may be fewer); 2 / 8.
            * ``class_weights`` (Mapping[str, float]): relative frequency of
              the classes, missing ones get 0; :data:`DEFAULT_CLASS_WEIGHTS`.
            * ``clutter`` (float): mean number of hot-only and of
              bright-only distractors is ``1.8 * clutter`` each; 1.0.
            * ``noise`` (float): multiplier of all sensor noise (0 =
              noise-free, still blurred); 1.0.
            * ``occluder_prob`` (float): probability of 1-2 foreground
              occluders (poles, bushes) drawn over the objects; 0.35.
            * ``min_visible_area`` (int): instances with fewer visible
              pixels are not annotated (255, ignore, in the semantic mask,
              0 in the instance mask); fully occluded ones vanish; 12.
            * ``night_darkness`` (float): ``>= 1``; the visible radiance of
              night scenes is divided by it before the sensor noise (darker,
              relatively noisier night VIS, e.g. to train an enhancement
              stage in front of the fusion); 1.0.

    Returns:
        ToyScene: the images and their ground truth.
    """
    if not is_int(seed) or seed < 0:
        raise ValueError(f'seed must be an int >= 0, got {seed!r}')
    if not is_int(index) or index < 0:
        raise ValueError(f'index must be an int >= 0, got {index!r}')
    opts = _check_options(size, **options)
    return _SceneRenderer(_image_rng(int(seed), int(index)), int(size),
                          opts).render()


# --------------------------------------------------------------------------
# writing
# --------------------------------------------------------------------------
def is_toy_dataset(path: str) -> bool:
    """Whether ``path`` holds a data set written by this generator."""
    return written_by(path, (GENERATOR_NAME, *FORMER_GENERATOR_NAMES))


def val_indices(num: int, val_fraction: float) -> List[int]:
    """Indices in the val split: ``i`` with ``floor((i+1)f) > floor(i f)``.

    Membership of index ``i`` depends only on ``i`` and ``val_fraction``, so
    a smaller data set's split is a prefix of a larger one's; the val split
    has exactly ``floor(num * val_fraction)`` images, spread evenly.
    """
    bins = [math.floor(i * val_fraction + 1e-9) for i in range(num + 1)]
    return [i for i in range(num) if bins[i + 1] > bins[i]]


def _rle(mask: np.ndarray) -> dict:
    """COCO compressed RLE (``counts`` a str) of a boolean ``(H, W)`` mask
    (the instance's visible pixels, as its ``area`` and box)."""
    from pycocotools import mask as mask_utils
    rle = mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))
    return dict(
        size=[int(v) for v in rle['size']],
        counts=rle['counts'].decode('ascii'))


def _coco(images: List[dict], anns: List[dict], seed: int, split: str,
          layout: str) -> dict:
    """The COCO json of a split; in the ``'multispectral'`` layout with the
    MultiSpectral classes (ids 1-5 in :data:`MULTISPECTRAL_CLASSES` order,
    via :data:`TOY_TO_MULTISPECTRAL`) and no masks."""
    if layout == 'multispectral':
        ids = {c: i + 1 for i, c in enumerate(MULTISPECTRAL_CLASSES)}
        anns = [dict(a) for a in anns]
        for a in anns:
            del a['segmentation']
            toy_name = CLASSES[a['category_id'] - 1]
            a['category_id'] = ids[TOY_TO_MULTISPECTRAL[toy_name]]
        categories = [
            dict(id=ids[c], name=c, supercategory='object')
            for c in MULTISPECTRAL_CLASSES
        ]
        name = 'MMFuseNAS procedural IR/VIS toy data in the MultiSpectral ' \
            'layout'
    else:
        warmth = {c: 'warm' if c in WARM_CLASSES else 'cold' for c in CLASSES}
        categories = [
            dict(id=CATEGORY_IDS[c], name=c, supercategory=warmth[c])
            for c in CLASSES
        ]
        name = 'MMFuseNAS procedural IR/VIS toy data'
    return dict(
        info=dict(
            description=f'{name} ({split})',
            version=GENERATOR_VERSION,
            seed=seed),
        licenses=[],
        images=images,
        annotations=anns,
        categories=categories)


def _write_png(path: str, img: np.ndarray) -> None:
    if not cv2.imwrite(path, img):
        raise OSError(f'could not write {path}')


def _write(tmp: str, num: int, seed: int, size: int, val_fraction: float,
           layout: str, opts: dict, progress: bool) -> dict:
    """Write the data set into the folder ``tmp``; returns its meta."""
    for d in SUBDIRS:
        os.makedirs(osp.join(tmp, d))
    val_set = set(val_indices(num, val_fraction))
    images, anns, stems = ({'train': [], 'val': []} for _ in range(3))
    counts = {c: 0 for c in CLASSES}
    num_night = num_dropped = 0
    for i in track(
            range(num), f'writing {num} toy IR/VIS pair(s)', enabled=progress):
        scene = _SceneRenderer(_image_rng(seed, i), size, opts).render()
        stem = f'{i:05d}'
        fname = stem + '.png'
        for d, img in (('ir', scene.ir), ('vi', scene.vis[..., ::-1]),
                       ('masks', scene.semantic), ('instance_masks',
                                                   scene.instances)):
            _write_png(osp.join(tmp, d, fname), np.ascontiguousarray(img))
        split = 'val' if i in val_set else 'train'
        stems[split].append(stem)
        image = dict(id=i + 1, file_name=fname, width=size, height=size)
        images[split].append(dict(image, **scene.info))
        for obj in scene.objects:
            anns[split].append(
                dict(
                    id=i * 1000 + obj['instance_id'],
                    image_id=i + 1,
                    category_id=obj['category_id'],
                    bbox=[float(v) for v in obj['bbox']],
                    area=float(obj['area']),
                    iscrowd=0,
                    segmentation=_rle(scene.instances == obj['instance_id']),
                    instance_id=obj['instance_id'],
                    visible_fraction=obj['visible_fraction']))
            counts[obj['name']] += 1
        num_night += scene.info['illumination'] == 'night'
        num_dropped += scene.info['num_dropped']
    if len(stems['train']) >= 2:
        for name, half in zip(SEARCH_SPLITS, search_halves(stems['train'])):
            stems[name] = half
            ids = {int(stem) + 1 for stem in half}  # image id = index + 1
            images[name] = [im for im in images['train'] if im['id'] in ids]
            anns[name] = [a for a in anns['train'] if a['image_id'] in ids]
    multispectral = layout == 'multispectral'
    for split in stems:
        name = 'test' if multispectral and split == 'val' else split
        ann_file = name if multispectral else f'instances_{split}'
        with open(osp.join(tmp, 'annotations', ann_file + '.json'), 'w') as f:
            json.dump(_coco(images[split], anns[split], seed, name, layout), f)
        with open(osp.join(tmp, 'splits', f'{name}.txt'), 'w') as f:
            f.write(''.join(s + '\n' for s in stems[split]))
    if multispectral:
        for d in ('masks', 'instance_masks'):
            shutil.rmtree(osp.join(tmp, d))
    meta = dict(
        generator=GENERATOR_NAME,
        version=GENERATOR_VERSION,
        seed=seed,
        num=num,
        size=size,
        val_fraction=val_fraction,
        layout=layout,
        classes=[
            dict(id=CATEGORY_IDS[c], name=c, warm=c in WARM_CLASSES)
            for c in CLASSES
        ],
        mask_values=dict(
            background=BACKGROUND_ID, ignore=IGNORE_ID, **CATEGORY_IDS),
        options=opts,
        num_train=len(stems['train']),
        num_val=len(stems['val']),
        num_night=int(num_night),
        num_instances=counts,
        num_dropped=int(num_dropped))
    with open(osp.join(tmp, META_FILE), 'w') as f:
        json.dump(meta, f, indent=2)
        f.write('\n')
    return meta


def generate_toy_dataset(out_dir: str,
                         num: int = 300,
                         seed: int = 0,
                         size: int = 256,
                         val_fraction: float = 0.25,
                         layout: str = 'toy',
                         overwrite: bool = False,
                         progress: bool = False,
                         **options) -> dict:
    """Write a procedural IR/VIS data set with COCO boxes and masks, all at
    once (:func:`~toy_data.writing.write_data_set`).

    Args:
        out_dir (str): Output directory. It may be absent, empty, or a
            previous toy data set (recognised by its ``meta.json``), which is
            replaced. Any other non-empty directory is an error unless
            ``overwrite`` is True.
        num (int): Number of image pairs, 1-100000. Defaults to 300.
        seed (int): Seed, ``>= 0``. Defaults to 0.
        size (int): Image side in pixels (64-2048). Defaults to 256.
        val_fraction (float): Fraction of images in the val split, in
            ``[0, 1)``; exactly ``floor(num * val_fraction)`` images, see
            :func:`val_indices`. Defaults to 0.25.
        layout (str): ``'toy'`` or ``'multispectral'`` (see
            :data:`LAYOUTS`: the val split is called ``test``, the classes
            are renamed by :data:`TOY_TO_MULTISPECTRAL`, no masks are
            written). Defaults to 'toy'.
        overwrite (bool): Replace any other non-empty directory too.
            Defaults to False.
        progress (bool): Show a progress bar. Defaults to False.
        **options: the scene options of :func:`render_toy_scene`.

    Returns:
        dict: summary with ``out_dir``, ``num``, ``seed``, ``size``,
        ``num_train``, ``num_val``, ``num_night``, ``num_instances`` (per
        class), ``num_dropped`` (instances not annotated), ``seconds`` and
        ``version``.
    """
    t0 = time.perf_counter()
    if not is_int(num) or not 1 <= num <= _NUM_MAX:
        raise ValueError(f'num must be an int in [1, {_NUM_MAX}], got {num!r}')
    if not is_int(seed) or seed < 0:
        raise ValueError(f'seed must be an int >= 0, got {seed!r}')
    if not is_num(val_fraction) or not 0.0 <= val_fraction < 1.0:
        raise ValueError(f'val_fraction must be in [0, 1), got '
                         f'{val_fraction!r}')
    if layout not in LAYOUTS:
        raise ValueError(f'layout must be one of {LAYOUTS}, got {layout!r}')
    opts = _check_options(size, **options)
    num, seed, size = int(num), int(seed), int(size)
    out_dir, meta = write_data_set(
        out_dir, overwrite, (GENERATOR_NAME, *FORMER_GENERATOR_NAMES),
        'toy data set', lambda tmp: _write(
            tmp, num, seed, size, float(val_fraction), layout, opts, progress))
    summary = dict(out_dir=out_dir, num=num, seed=seed, size=size)
    summary.update((k, meta[k]) for k in ('num_train', 'num_val', 'num_night',
                                          'num_instances', 'num_dropped'))
    summary.update(
        seconds=round(time.perf_counter() - t0, 3), version=GENERATOR_VERSION)
    return summary
