"""Procedural infrared-visible toy data set with detection / segmentation GT.

:func:`generate_toy_dataset` writes paired IR / VIS street scenes
(:func:`render_toy_scene`: warm objects show in IR, cold ones and texture in
VIS) with COCO boxes and masks; image ``i`` is drawn from its own generator
seeded by ``(seed, i)``. See ``docs/user_guides/toy_data.md``.
"""
import inspect
import json
import math
import os
import os.path as osp
import time
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

import cv2
import numpy as np

from mmfusenas.datasets.search_splits import SEARCH_SPLITS, search_halves
from mmfusenas.utils.fileio import is_finite_number
from mmfusenas.utils.progress import track
from .writing import META_FILE, is_int, write_data_set, written_by

#: The ``generator`` in ``meta.json`` (this module's former package path);
#: data sets recording a former name are replaced without ``overwrite`` too.
GENERATOR_NAME = 'mmfusenas.toy_data.ivif'
FORMER_GENERATOR_NAMES: Tuple[str, ...] = ('mmfusenas.datasets.toy_data', )
# 1.1: search_weights / search_arch splits and instance masks as COCO RLE
GENERATOR_VERSION = '1.1.0'

#: Class names in id order; COCO ``category_id`` and mask value = index + 1.
CLASSES: Tuple[str, ...] = ('person', 'car', 'bicycle', 'cone')
CATEGORY_IDS: Dict[str, int] = {name: i + 1 for i, name in enumerate(CLASSES)}
#: Classes hot in IR (COCO ``supercategory`` 'warm', the others 'cold').
WARM_CLASSES: Tuple[str, ...] = ('person', 'car')
BACKGROUND_ID = 0
IGNORE_ID = 255

#: Longest side of each class in pixels at ``size=256`` (scaled with size).
CLASS_SIZE_RANGES: Dict[str, Tuple[float, float]] = dict(
    person=(16., 80.), car=(24., 80.), bicycle=(20., 60.), cone=(12., 36.))
DEFAULT_CLASS_WEIGHTS: Dict[str, float] = dict(
    person=0.35, car=0.25, bicycle=0.2, cone=0.2)

#: On-disk layouts: ``'toy'`` and ``'multispectral'`` (the MultiSpectral
#: set of Takumi et al. as TIM Sec. 4.3.1 uses it: no masks, ``annotations/
#: {train,test,search_weights,search_arch}.json`` with the MultiSpectral
#: classes of TIM Table 4, in ``category_id`` order).
LAYOUTS = ('toy', 'multispectral')
MULTISPECTRAL_CLASSES: Tuple[str, ...] = ('color_cone', 'car_stop', 'car',
                                          'person', 'bike')
#: toy class -> MultiSpectral class ('car_stop' gets no instance).
TOY_TO_MULTISPECTRAL: Dict[str, str] = dict(
    cone='color_cone', car='car', person='person', bicycle='bike')

_NUM_MAX = 100000  # 5-digit stems
_SIZE_MIN, _SIZE_MAX = 64, 2048
_MAX_OBJECTS = 50
#: Scene options of :func:`render_toy_scene` (in ``meta.json`` order).
SCENE_OPTIONS = dict(
    night_fraction=0.7,  # probability of a low-light scene
    min_objects=2,  # fewest / most objects drawn (annotated: maybe fewer)
    max_objects=8,
    class_weights=None,  # relative frequencies; None: DEFAULT_CLASS_WEIGHTS
    clutter=1.0,  # mean hot-only and bright-only distractors: 1.8 * clutter
    noise=1.0,  # multiplier of all sensor noise (0: none, still blurred)
    occluder_prob=0.35,  # probability of 1-2 foreground occluders
    min_visible_area=12,  # fewer visible pixels: 255 (ignore), unannotated
    night_darkness=1.0)  # >= 1: divides the night VIS radiance before noise


# palettes (RGB albedo in [0, 1])
def _rgb(*v: float) -> np.ndarray:
    """A float32 RGB colour ``(3,)`` or palette ``(n, 3)`` of ``v``."""
    return np.array(v, np.float32).reshape((-1, 3) if len(v) > 3 else (3, ))


_SKIN = _rgb(.85, .66, .55, .72, .52, .40, .55, .38, .27, .36, .24, .17)
_CLOTHES = _rgb(.06, .06, .07, .10, .12, .22, .22, .22, .24, .28, .20, .14,
                .12, .20, .12, .45, .45, .47, .55, .10, .10, .15, .25, .55,
                .80, .80, .78, .75, .65, .20)
_DARK_CLOTHES = _CLOTHES[:6]
_CAR_PAINT = _rgb(.88, .88, .88, .60, .60, .62, .07, .07, .08, .60, .07, .07,
                  .10, .18, .50, .33, .33, .34, .14, .28, .14, .70, .60, .35)
_BIKE_PAINT = _rgb(.90, .10, .08, .10, .35, .90, .95, .85, .10, .90, .90, .90,
                   .10, .75, .30, .95, .45, .05)
_WALLS = _rgb(.55, .52, .48, .45, .25, .18, .70, .65, .55, .35, .35, .37, .60,
              .58, .60)
_BRIGHT = _rgb(.95, .90, .20, .95, .95, .95, .20, .60, .95, .95, .30, .30, .30,
               .90, .40, .95, .55, .10)
_STONE = _rgb(.80, .78, .74, .62, .60, .58, .55, .40, .22, .92, .92, .90)
_ORANGE = _rgb(0.95, 0.38, 0.04)
_WHITE = _rgb(0.92, 0.92, 0.92)
_BLACK = _rgb(0.1, 0.1, 0.1)
_LAMP = _rgb(1.0, 0.92, 0.7)  # light of a street lamp
_WINDOW = _rgb(0.95, 0.8, 0.45)  # light of a lit window
_LEAVES = _rgb(0.10, 0.30, 0.08)


@dataclass
class ToyScene:
    """One rendered IR/VIS pair with its ground truth.

    ``ir`` is ``(H, W)`` uint8, ``vis`` ``(H, W, 3)`` uint8 **RGB**;
    ``semantic`` holds class ids (0 background, 255 ignore: too small to
    annotate) and ``instances`` ids ``k`` of ``objects[k - 1]`` (dicts with
    ``instance_id``, ``category_id``, ``name``, ``bbox`` ``[x, y, w, h]``
    and ``area`` of the visible mask, ``visible_fraction``, ``warm``);
    ``info`` has ``illumination``, ``ambient``, ``horizon``, ``num_dropped``.
    """

    ir: np.ndarray
    vis: np.ndarray
    semantic: np.ndarray
    instances: np.ndarray
    objects: List[dict] = field(default_factory=list)
    info: dict = field(default_factory=dict)


def _image_rng(seed: int, index: int) -> np.random.Generator:
    """Generator of image ``index``: ``SeedSequence(seed).spawn()[index]``."""
    return np.random.Generator(
        np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(index, ))))


def _noise(rng: np.random.Generator, h: int, w: int, cell: float,
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


def _pt(x: float, y: float) -> Tuple[int, int]:
    return int(round(x)), int(round(y))


def _draw(h: int, w: int, draw, *args) -> np.ndarray:
    """Boolean ``(h, w)`` mask drawn by ``draw(uint8 canvas, *args)``."""
    c = np.zeros((max(1, h), max(1, w)), np.uint8)
    draw(c, *args)
    return c.astype(bool)


def _poly(h: int, w: int, pts: Sequence[Tuple[float, float]]) -> np.ndarray:
    return _draw(h, w, cv2.fillPoly,
                 [np.round(np.asarray(pts)).astype(np.int32)], 1)


def _ellipse(h: int, w: int, cx: float, cy: float, ax: float,
             ay: float) -> np.ndarray:
    axes = tuple(max(1, int(round(a))) for a in (ax, ay))
    return _draw(h, w, cv2.ellipse, _pt(cx, cy), axes, 0, 0, 360, 1, -1)


def _lines(h: int, w: int, segments, thickness: int) -> np.ndarray:
    """Mask of the segments ``((x0, y0), (x1, y1))``."""
    c = np.zeros((max(1, h), max(1, w)), np.uint8)
    for p0, p1 in segments:
        cv2.line(c, _pt(*p0), _pt(*p1), 1, max(1, int(thickness)))
    return c.astype(bool)


def _ring(h: int, w: int, cx: float, cy: float, r: float,
          thickness: int) -> np.ndarray:
    return _draw(h, w, cv2.circle, _pt(cx, cy), max(1, int(round(r))), 1,
                 max(1, int(thickness)))


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
    hand_l = ((cx - 0.4 * w, max(0.0, sh_y - 0.15 * h)) if raise_arm else
              (cx - 0.44 * w, sh_y + 0.36 * h))
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


def _cone_masks(h: int, w: int) -> Tuple[np.ndarray, ...]:
    """Body, white stripes and base of a traffic cone."""
    base_y = 0.86 * h
    body = _poly(h, w, [(w / 2.0, 0), (0.88 * w, base_y), (0.12 * w, base_y)])
    stripes = body & (
        _rect(h, w, 0, 0.32 * h, w, 0.44 * h)
        | _rect(h, w, 0, 0.58 * h, w, 0.7 * h))
    base = _rect(h, w, 0, base_y, w, h)
    return body & ~stripes, stripes, base


def _bicycle_masks(h: int, w: int) -> Tuple[np.ndarray, ...]:
    """Tyres, rims, frame and saddle of a bicycle seen from the side."""
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
    tyres = _ring(h, w, *rear, r, t) | _ring(h, w, *front, r, t)
    r = max(1.0, r - t)
    rims = (_ring(h, w, *rear, r, 1) | _ring(h, w, *front, r, 1)) & ~tyres
    return tyres, rims, frame | bar, saddle


def _car_masks(rng: np.random.Generator, h: int, w: int,
               side: bool) -> Tuple[np.ndarray, ...]:
    """Body, windows, wheels, engine and lights, from the side or front."""
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
    return body | cabin, windows, wheels, engine, lights


class _SceneRenderer:
    """Renders one scene from one random generator."""

    def __init__(self, rng: np.random.Generator, size: int, opts: dict):
        self.rng, self.opts, self.k = rng, opts, size / 256.0
        self.H = self.W = H = W = size
        self.albedo, self.emit = np.zeros((2, H, W, 3), np.float32)
        self.temp = np.zeros((H, W), np.float32)
        self.inst = np.zeros((H, W), np.uint8)
        self.drawn_area: List[int] = []  # pixels of each object drawn
        self.obj_classes: List[str] = []
        self.yy, self.xx = np.mgrid[0:H, 0:W].astype(np.float32)

    def _paste(self, parts, x0, y0, ir_tex, alb_tex, flip=False, inst=None):
        """Draw the sprite ``parts`` (later over earlier; textured, mirrored
        if ``flip``) at top left ``(x0, y0)``, setting the instance ids to
        ``inst`` unless None; return its number of pixels in the image."""
        rng = self.rng
        h, w = parts[0].mask.shape
        union, albedo_mask = np.zeros((2, h, w), bool)
        ir = np.zeros((h, w), np.float32)
        albedo, emit = np.zeros((2, h, w, 3), np.float32)
        for p in parts:
            m = p.mask
            union |= m
            ir[m] = p.ir
            if p.albedo is not None:
                albedo[m] = p.albedo
                albedo_mask |= m
            emit[m] = 0.0 if p.emit is None else p.emit
        ir += rng.normal(0.0, ir_tex, (h, w)).astype(np.float32)
        texture = rng.normal(0.0, alb_tex, (h, w, 1))
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
        if inst is not None:
            self.inst[dst][m] = inst
        return int(m.sum())

    def _pick(self, palette: np.ndarray) -> np.ndarray:
        return palette[self.rng.integers(len(palette))]

    def _local_temp(self, x0: int, y0: int, h: int, w: int) -> float:
        loc = _place(x0, y0, h, w, self.H, self.W)
        return float((self.temp if loc is None else self.temp[loc[0]]).mean())

    def _ground_y(self, t: float) -> int:
        """Row of a foot point at relative depth ``t`` in ``(0, 1]``."""
        return int(round(self.horizon + t * (self.H - 1 - self.horizon)))

    def _size_at(self, name, t: float) -> float:
        """Size of class ``name`` (or range ``(lo, hi)``) at depth ``t``."""
        lo, hi = CLASS_SIZE_RANGES[name] if name in CLASSES else name
        u = float(np.clip(t + self.rng.normal(0.0, 0.15), 0.0, 1.0))
        return lo * self.k * (hi / lo)**u

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
        grass = _rgb(0.16, 0.34, 0.10) * (0.5 + fine)
        paving = _rgb(0.48, 0.45, 0.40) * (
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
        grass_cool = np.where(grass_sel & ~road & ~sky, rng.uniform(2, 8), 0.)
        temp = (
            temp + np.where(road, road_warmth, 0.0) - grass_cool +
            np.where(marks, -2.0, 0.0) + (~sky) * 8.0 * d * rng.uniform(-1, 1))
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
            h, x0 = height + 1, x - hw // 2
            pole = _rect(h, hw, hw / 2 - pole_w / 2, head_r,
                         hw / 2 + pole_w / 2 + 0.5, h)
            head = _ellipse(h, hw, hw / 2, head_r, head_r, head_r * 0.7)
            t_loc = self._local_temp(x0, top, h, hw)
            lit = self.night or rng.random() < 0.1
            pole_ir = t_loc + rng.uniform(-2, 2)
            head_ir = rng.uniform(205, 250) if lit else t_loc + 20
            light = _LAMP * rng.uniform(0.8, 1.2) if lit else None
            parts = [
                _Part(pole, pole_ir, _rgb(0.3, 0.3, 0.32)),
                _Part(head, head_ir, _rgb(0.9, 0.9, 0.8), light)
            ]
            self._paste(parts, x0, top, 1.0, 0.05)
            if lit:  # pool of light around the pole's foot
                sig = rng.uniform(0.08, 0.2) * self.W
                pool = np.exp(-(((self.xx - x)**2) +
                                ((self.yy - foot)**2) * 2) / (2 * sig**2))
                self.illum += (rng.uniform(0.25, 0.6) * pool).astype(
                    np.float32)

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
        s = self._size_at((12, 60), t)
        hot = rng.uniform(140, 215)
        if kind == 'vent':  # warm patch on the ground, invisible in VIS
            w, h = int(s * rng.uniform(0.6, 1.2)) + 2, int(s * 0.3) + 2
            m = _ellipse(h, w, w / 2, h / 2, w / 2 - 1, h / 2 - 1)
            parts = [_Part(m, hot - 40, None)]
        elif kind == 'pipe':  # vertical warm pipe / heater: person-like in IR
            h, w = int(s) + 2, max(2, int(s * rng.uniform(0.15, 0.35)))
            m = _ellipse(h, w, w / 2, h / 2, w / 2, h / 2)
            parts = [_Part(m, hot, _rgb(0.4, 0.4, 0.42))]
        elif kind == 'animal':  # a dog: warm, dark and small in VIS
            w, h = int(s * 0.6) + 3, int(s * 0.4) + 3
            body = _ellipse(h, w, w * 0.45, h * 0.5, w * 0.35, h * 0.25)
            head = _ellipse(h, w, w * 0.85, h * 0.3, w * 0.13, h * 0.18)
            legs = _lines(h, w, [((w * 0.25, h * 0.6), (w * 0.25, h - 1)),
                                 ((w * 0.65, h * 0.6), (w * 0.65, h - 1))],
                          max(1, int(w / 12)))
            brown = _rgb(0.22, 0.15, 0.1)
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
            h = max(int(self._size_at('person', t)), 6)
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

    def objects(self) -> None:
        rng, o = self.rng, self.opts
        n = int(rng.integers(o['min_objects'], o['max_objects'] + 1))
        p = np.array([o['class_weights'][c] for c in CLASSES], np.float64)
        p /= p.sum()
        specs = [(CLASSES[int(rng.choice(len(CLASSES),
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
        body, windows, wheels, engine, lights = _car_masks(rng, h, w, side)
        x0, y0 = self._xy(t, h, w)
        t_loc = self._local_temp(x0, y0, h, w)
        paint = self._pick(_CAR_PAINT)
        lights_on = self.night and rng.random() < 0.5
        front = side or rng.random() < 0.5
        light_col = _rgb(0.95, 0.95, 0.85) if front else _rgb(0.8, 0.05, 0.03)
        parts = [
            _Part(body, max(t_loc + rng.uniform(15, 45), rng.uniform(95, 130)),
                  paint),
            _Part(windows, t_loc - rng.uniform(0, 10), _rgb(0.08, 0.1, 0.12)),
            _Part(engine, rng.uniform(170, 225), paint),
            _Part(wheels, rng.uniform(165, 215), _rgb(0.04, 0.04, 0.04)),
            _Part(lights, t_loc + 20, light_col,
                  light_col * rng.uniform(0.8, 1.2) if lights_on else None),
        ]
        return self._paste(parts, x0, y0, 3.0, 0.05, bool(rng.random() < 0.5),
                           inst_id)

    def _bicycle(self, t: float, inst_id: int) -> int:
        rng = self.rng
        w = max(10, int(round(self._size_at('bicycle', t))))
        h = max(6, int(round(w * rng.uniform(0.55, 0.65))))
        tyres, rims, frame, saddle = _bicycle_masks(h, w)
        x0, y0 = self._xy(t, h, w)
        t_loc = self._local_temp(x0, y0, h, w)
        paint = self._pick(_BIKE_PAINT)
        retro = rng.uniform(0.35, 0.7) if self.night else 0.0
        silver = _rgb(0.75, 0.75, 0.78)
        parts = [
            _Part(tyres, t_loc + rng.uniform(-4, 2), _rgb(0.07, 0.07, 0.07)),
            _Part(rims, t_loc + rng.uniform(-4, 2), silver,
                  silver * retro if retro else None),
            _Part(frame, t_loc + rng.uniform(-4, 2), paint,
                  paint * retro * 0.6 if retro else None),
            _Part(saddle, t_loc + rng.uniform(-2, 3), _rgb(0.05, 0.05, 0.05)),
        ]
        return self._paste(parts, x0, y0, 1.0, 0.05, bool(rng.random() < 0.5),
                           inst_id)

    def _cone(self, t: float, inst_id: int) -> int:
        rng = self.rng
        h = max(6, int(round(self._size_at('cone', t))))
        w = max(4, int(round(h * rng.uniform(0.55, 0.7))))
        body, stripes, base = _cone_masks(h, w)
        x0, y0 = self._xy(t, h, w)
        t_loc = self._local_temp(x0, y0, h, w) - rng.uniform(2, 8)
        retro = rng.uniform(0.35, 0.75) if self.night else 0.0
        orange = _ORANGE * rng.uniform(0.9, 1.05)
        parts = [
            _Part(body, t_loc, orange,
                  orange * retro * 0.5 if retro else None),
            _Part(stripes, t_loc, _WHITE, _WHITE * retro if retro else None),
            _Part(base, t_loc, _BLACK if rng.random() < 0.5 else orange),
        ]
        return self._paste(parts, x0, y0, 1.0, 0.05, False, inst_id)

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
                col = _rgb(0.32, 0.3, 0.28)
            else:  # a bush at the bottom edge
                w = int(rng.uniform(30, 90) * k)
                h = int(w * rng.uniform(0.4, 0.7))
                m = _ellipse(h, w, w / 2, h, w / 2, h)
                x0, y0 = int(rng.uniform(-0.1, 0.9) * self.W), self.H - h
                col = _rgb(0.10, 0.28, 0.08)
            t_loc = self._local_temp(x0, y0, h, w) + rng.uniform(-5, 1)
            self._paste([_Part(m, t_loc, col)], x0, y0, 1.5, 0.2, False, 0)

    def sensors(self) -> Tuple[np.ndarray, np.ndarray]:
        """Apply optics and sensor noise; return uint8 IR and RGB VIS."""
        rng, k, H, W = self.rng, self.k, self.H, self.W
        nz = self.opts['noise']
        # IR: blur, fixed-pattern column / row offsets, temporal noise
        ir = cv2.GaussianBlur(self.temp, (0, 0), rng.uniform(0.7, 1.3) * k)
        if nz > 0:
            cols = rng.normal(0, rng.uniform(1.5, 4.0) * nz, (1, W))
            rows = rng.normal(0, 0.8 * nz, (H, 1))
            temporal = rng.normal(0, rng.uniform(1.5, 3.0) * nz, (H, W))
            ir = ir + (cols + rows + temporal)
        ir_u8 = np.clip(np.rint(ir), 0, 255).astype(np.uint8)
        # VIS: radiance = albedo * illumination + emitted light; shot noise
        rad = self.albedo * self.illum[..., None] + self.emit
        sigma = rng.uniform(0.4, 0.8) * k
        rad = cv2.GaussianBlur(np.clip(rad, 0, 1.5), (0, 0), sigma)
        darkness = self.opts['night_darkness']
        if self.night and darkness != 1.0:
            # less light reaches the sensor: relatively more shot noise
            rad = rad / np.float32(darkness)
        if nz > 0:
            # photons per unit radiance: high gain (few photons) at night
            lo, hi = (180, 400) if self.night else (1500, 3000)
            q = rng.uniform(lo, hi) / nz**2
            rad = rng.poisson(rad * q).astype(np.float32) / np.float32(q)
            rad = rad + rng.normal(0, 1.2 * nz / 255, rad.shape)
        vis_u8 = np.clip(np.rint(rad * 255), 0, 255).astype(np.uint8)
        return ir_u8, vis_u8

    def render(self) -> ToyScene:
        self.background()
        self.street_lamps()
        self.clutter()
        self.objects()
        self.occluders()
        ir, vis = self.sensors()

        areas = np.bincount(
            self.inst.ravel(), minlength=len(self.obj_classes) + 1)
        cls_lut, inst_lut = np.zeros((2, 256), np.uint8)
        objects, dropped, new_id = [], 0, 0
        for old_id, name in enumerate(self.obj_classes, start=1):
            area = int(areas[old_id])
            if area < self.opts['min_visible_area']:
                dropped += 1
                cls_lut[old_id] = IGNORE_ID if area else 0
                continue
            new_id += 1
            cls_lut[old_id] = cid = CATEGORY_IDS[name]
            inst_lut[old_id] = new_id
            ys, xs = np.nonzero(self.inst == old_id)
            x0, y0 = int(xs.min()), int(ys.min())
            w, h = int(xs.max()) - x0 + 1, int(ys.max()) - y0 + 1
            obj = dict(instance_id=new_id, category_id=cid, name=name)
            obj.update(bbox=[x0, y0, w, h], area=area)
            frac = round(area / max(self.drawn_area[old_id - 1], 1), 4)
            objects.append(
                dict(obj, visible_fraction=frac, warm=name in WARM_CLASSES))
        info = dict(illumination='night' if self.night else 'day')
        info.update(ambient=round(self.ambient, 4), horizon=self.horizon)
        info['num_dropped'] = dropped
        return ToyScene(ir, vis, cls_lut[self.inst], inst_lut[self.inst],
                        objects, info)


def _check_options(seed: int, size: int, **options) -> dict:
    """Validate ``seed``, ``size`` and the scene options; return all the
    options (:data:`SCENE_OPTIONS` filled in) as a json-able dict."""
    if not is_int(seed) or seed < 0:
        raise ValueError(f'seed must be an int >= 0, got {seed!r}')
    unknown = set(options) - set(SCENE_OPTIONS)
    if unknown:
        raise TypeError(f'unknown scene options {sorted(unknown)}')
    o = dict(SCENE_OPTIONS, **options)
    if not is_int(size) or not _SIZE_MIN <= size <= _SIZE_MAX:
        raise ValueError(f'size must be an int in [{_SIZE_MIN}, {_SIZE_MAX}]'
                         f', got {size!r}')
    for name, lo, hi in [('night_fraction', 0, 1), ('occluder_prob', 0, 1),
                         ('clutter', 0, math.inf), ('noise', 0, math.inf),
                         ('night_darkness', 1, math.inf)]:
        if not is_finite_number(o[name]) or not lo <= o[name] <= hi:
            raise ValueError(f'{name} must be a number in [{lo}, {hi}], got '
                             f'{o[name]!r}')
        o[name] = float(o[name])
    lo, hi = o['min_objects'], o['max_objects']
    if not is_int(lo) or not is_int(hi) or not 1 <= lo <= hi <= _MAX_OBJECTS:
        raise ValueError('need integers 1 <= min_objects <= max_objects <= '
                         f'{_MAX_OBJECTS}, got min_objects={lo!r}, '
                         f'max_objects={hi!r}')
    area = o['min_visible_area']
    if not is_int(area) or area < 1:
        raise ValueError(f'min_visible_area must be an int >= 1, got {area!r}')
    o.update(
        min_objects=int(lo), max_objects=int(hi), min_visible_area=int(area))
    cw = o['class_weights']
    if cw is not None:
        unknown = set(cw) - set(CLASSES)
        if unknown:
            raise ValueError(f'class_weights has unknown classes '
                             f'{sorted(unknown)}; classes are {CLASSES}')
        for c, v in cw.items():
            if not is_finite_number(v) or v < 0:
                raise ValueError(f'class weight of {c!r} must be >= 0, got '
                                 f'{v!r}')
        if not any(v > 0 for v in cw.values()):
            raise ValueError('class_weights must have a positive sum')
    else:
        cw = DEFAULT_CLASS_WEIGHTS
    o['class_weights'] = {c: float(cw.get(c, 0.0)) for c in CLASSES}
    return o


def render_toy_scene(seed: int = 0, index: int = 0, size: int = 256,
                     **options) -> ToyScene:
    """Render image ``index`` of the toy set of seed ``seed`` as
    :func:`generate_toy_dataset` writes it with the same options.

    Object sizes, blur and texture scales are given at ``size`` 256 and
    scale with ``size / 256``; ``options`` are the :data:`SCENE_OPTIONS`.
    """
    if not is_int(index) or index < 0:
        raise ValueError(f'index must be an int >= 0, got {index!r}')
    opts = _check_options(seed, size, **options)
    return _SceneRenderer(_image_rng(int(seed), int(index)), int(size),
                          opts).render()


def is_toy_dataset(path: str) -> bool:
    """Whether ``path`` holds a data set written by this generator."""
    return written_by(path, (GENERATOR_NAME, *FORMER_GENERATOR_NAMES))


def val_indices(num: int, val_fraction: float) -> List[int]:
    """Indices in the val split: ``i`` with ``floor((i+1)f) > floor(i f)``
    (``floor(num * f)`` of them, spread evenly; a prefix of a larger set's).
    """
    bins = [math.floor(i * val_fraction + 1e-9) for i in range(num + 1)]
    return [i for i in range(num) if bins[i + 1] > bins[i]]


def _rle(mask: np.ndarray) -> dict:
    """COCO compressed RLE (``counts`` a str) of a boolean mask."""
    from pycocotools import mask as mask_utils
    rle = mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))
    size = [int(v) for v in rle['size']]
    return dict(size=size, counts=rle['counts'].decode('ascii'))


def _coco(images: List[dict], anns: List[dict], seed: int, split: str,
          layout: str) -> dict:
    """The COCO json of a split (multispectral: its classes, no masks)."""
    name = 'MMFuseNAS procedural IR/VIS toy data'
    if layout == 'multispectral':
        ids = {c: i + 1 for i, c in enumerate(MULTISPECTRAL_CLASSES)}
        anns = [dict(a) for a in anns]
        for a in anns:
            del a['segmentation']
            toy_name = CLASSES[a['category_id'] - 1]
            a['category_id'] = ids[TOY_TO_MULTISPECTRAL[toy_name]]
        cats = [(ids[c], c, 'object') for c in MULTISPECTRAL_CLASSES]
        name += ' in the MultiSpectral layout'
    else:
        cats = [(CATEGORY_IDS[c], c, 'warm' if c in WARM_CLASSES else 'cold')
                for c in CLASSES]
    info = dict(description=f'{name} ({split})', version=GENERATOR_VERSION)
    coco = dict(info=dict(info, seed=seed), licenses=[], images=images)
    cats = [dict(id=i, name=c, supercategory=s) for i, c, s in cats]
    return dict(coco, annotations=anns, categories=cats)


def _write_png(path: str, img: np.ndarray) -> None:
    if not cv2.imwrite(path, img):
        raise OSError(f'could not write {path}')


def _write(tmp: str, num: int, seed: int, size: int, val_fraction: float,
           layout: str, opts: dict, progress: bool) -> dict:
    """Write the data set into the folder ``tmp``; returns its meta."""
    multispectral = layout == 'multispectral'
    png_dirs = ['ir', 'vi']  # multispectral: no masks
    if not multispectral:
        png_dirs += ['masks', 'instance_masks']
    for d in png_dirs + ['annotations', 'splits']:
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
        pngs = (scene.ir, scene.vis[..., ::-1], scene.semantic,
                scene.instances)
        for d, img in zip(png_dirs, pngs):
            _write_png(osp.join(tmp, d, fname), np.ascontiguousarray(img))
        split = 'val' if i in val_set else 'train'
        stems[split].append(stem)
        image = dict(id=i + 1, file_name=fname, width=size, height=size)
        images[split].append(dict(image, **scene.info))
        for obj in scene.objects:
            k, bbox = obj['instance_id'], [float(v) for v in obj['bbox']]
            ann = dict(id=i * 1000 + k, image_id=i + 1)  # COCO key order
            ann.update(category_id=obj['category_id'], bbox=bbox)
            ann.update(area=float(obj['area']), iscrowd=0)
            ann.update(segmentation=_rle(scene.instances == k), instance_id=k)
            ann['visible_fraction'] = obj['visible_fraction']
            anns[split].append(ann)
            counts[obj['name']] += 1
        num_night += scene.info['illumination'] == 'night'
        num_dropped += scene.info['num_dropped']
    if len(stems['train']) >= 2:
        for name, half in zip(SEARCH_SPLITS, search_halves(stems['train'])):
            stems[name] = half
            ids = {int(stem) + 1 for stem in half}  # image id = index + 1
            images[name] = [im for im in images['train'] if im['id'] in ids]
            anns[name] = [a for a in anns['train'] if a['image_id'] in ids]
    for split in stems:
        name = 'test' if multispectral and split == 'val' else split
        ann_file = name if multispectral else f'instances_{split}'
        with open(osp.join(tmp, 'annotations', ann_file + '.json'), 'w') as f:
            json.dump(_coco(images[split], anns[split], seed, name, layout), f)
        with open(osp.join(tmp, 'splits', f'{name}.txt'), 'w') as f:
            f.write(''.join(s + '\n' for s in stems[split]))
    meta = dict(generator=GENERATOR_NAME, version=GENERATOR_VERSION)
    meta.update(seed=seed, num=num, size=size, val_fraction=val_fraction)
    meta['layout'] = layout
    meta['classes'] = [
        dict(id=CATEGORY_IDS[c], name=c, warm=c in WARM_CLASSES)
        for c in CLASSES
    ]
    masks = dict(background=BACKGROUND_ID, ignore=IGNORE_ID)
    meta['mask_values'] = dict(masks, **CATEGORY_IDS)
    meta.update(options=opts, num_train=len(stems['train']))
    meta.update(num_val=len(stems['val']), num_night=int(num_night))
    meta.update(num_instances=counts, num_dropped=int(num_dropped))
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
    once (:func:`~.writing.write_data_set`).

    Args:
        out_dir (str): Output folder: absent, empty or a previous toy data
            set (replaced); any other is an error unless ``overwrite``.
        num (int): Number of image pairs, 1-100000. Defaults to 300.
        seed (int): Seed, ``>= 0``. Defaults to 0.
        size (int): Image side in pixels (64-2048). Defaults to 256.
        val_fraction (float): Fraction in the val split (:func:`val_indices`),
            in ``[0, 1)``. Defaults to 0.25.
        layout (str): One of :data:`LAYOUTS`. Defaults to 'toy'.
        overwrite (bool): Replace any non-empty folder. Defaults to False.
        progress (bool): Show a progress bar. Defaults to False.
        **options: the scene options of :func:`render_toy_scene`.

    Returns:
        dict: ``out_dir``, ``num``, ``seed``, ``size``, ``meta.json``'s
        counts (``num_train`` ... ``num_dropped``), ``seconds``, ``version``.
    """
    t0 = time.perf_counter()
    if not is_int(num) or not 1 <= num <= _NUM_MAX:
        raise ValueError(f'num must be an int in [1, {_NUM_MAX}], got {num!r}')
    if not is_finite_number(val_fraction) or not 0.0 <= val_fraction < 1.0:
        raise ValueError(f'val_fraction must be in [0, 1), got '
                         f'{val_fraction!r}')
    if layout not in LAYOUTS:
        raise ValueError(f'layout must be one of {LAYOUTS}, got {layout!r}')
    opts = _check_options(seed, size, **options)
    num, seed, size = int(num), int(seed), int(size)
    out_dir, meta = write_data_set(
        out_dir, overwrite, (GENERATOR_NAME, *FORMER_GENERATOR_NAMES),
        'toy data set', lambda tmp: _write(
            tmp, num, seed, size, float(val_fraction), layout, opts, progress))
    summary = dict(out_dir=out_dir, num=num, seed=seed, size=size)
    summary.update((k, v) for k, v in meta.items() if k.startswith('num_'))
    seconds = round(time.perf_counter() - t0, 3)
    return dict(summary, seconds=seconds, version=GENERATOR_VERSION)


#: the arguments of :func:`generate_toy_dataset` that a set's ``meta.json``
#: records beside its scene ``options`` and generator ``version``
TOY_DATA_KEYS = ('num', 'seed', 'size', 'val_fraction', 'layout')
_TOY_DEFAULTS = {k: p.default for k, p in inspect.signature(
    generate_toy_dataset).parameters.items() if k in TOY_DATA_KEYS}


def toy_data_mismatch(meta: dict, request: dict) -> Dict[str, tuple]:
    """``{key: (recorded, requested)}`` for every entry of a toy IR/VIS
    set's ``meta.json`` that differs from what
    ``generate_toy_dataset(root, **request)`` would write: the pairs, seed,
    size, val fraction, layout, every scene option (``options.<name>``, the
    defaults of the ones not requested filled in) and the generator
    version. Empty: the set is the one requested.

    Raises:
        TypeError: ``request`` names an argument the generator's
            ``meta.json`` does not record.
    """
    unknown = set(request) - set(TOY_DATA_KEYS) - set(SCENE_OPTIONS)
    if unknown:
        raise TypeError(f'toy data: unknown arguments {sorted(unknown)}')
    want = {k: request.get(k, _TOY_DEFAULTS.get(k)) for k in TOY_DATA_KEYS}
    want['version'] = GENERATOR_VERSION
    out = {k: (meta.get(k), v) for k, v in want.items() if meta.get(k) != v}
    opts = dict(SCENE_OPTIONS, **{k: v for k, v in request.items()
                                  if k in SCENE_OPTIONS})
    weights = opts['class_weights'] or DEFAULT_CLASS_WEIGHTS
    opts['class_weights'] = {c: float(weights.get(c, 0.0)) for c in CLASSES}
    stored = meta.get('options') or {}
    out.update((f'options.{k}', (stored.get(k), v)) for k, v in opts.items()
               if stored.get(k) != v)
    return out


def toy_data_set(root: str, **request) -> Optional[dict]:
    """Make ``root`` (a ``--data-dir``) the toy IR/VIS set of
    ``generate_toy_dataset(root, **request)``: generated where there is no
    ``meta.json`` (its summary returned), reused where the ``meta.json``
    records that request (:func:`toy_data_mismatch`; None returned).

    Raises:
        ValueError: ``root`` holds a toy set made otherwise (the keys that
            differ named, with both values): it is neither reused nor
            replaced (it may be the data of other runs).
    """
    meta_file = osp.join(root, META_FILE)
    if not osp.isfile(meta_file):
        return generate_toy_dataset(root, **request)
    with open(meta_file) as f:
        stale = toy_data_mismatch(json.load(f), request)
    if stale:
        raise ValueError(
            f'--data-dir {root} holds a toy set made with other ' + ', '.join(
                f'{k} {a!r} (this run: {b!r})'
                for k, (a, b) in sorted(stale.items())) +
            '; choose another --data-dir (or remove that one to generate '
            'it there), or run with the options it was made with')
    return None
