"""Deraining and dehazing data (our design; the official hyper-guidance code
has neither).

:func:`rain_streaks` / :class:`SyntheticRainDataset` add random rain
streaks to crops of any image folder (guidance target: the rain layer);
:func:`add_haze` / :class:`SyntheticHazeDataset` apply the atmospheric
model ``y = t·x + A(1 − t)`` to RGB-D pairs (guidance target ``[t, A]``);
:class:`PairedRestorationDataset` reads real benchmark pairs in the
layouts of Rain100L / Rain100H and RESIDE SOTS. Items are
``dict(inputs=(C, H, W), data_samples=BaseDataElement(gt_img,
guidance_gt, stem))`` for :class:`~mmfusenas.models.HQSRestorer`. Files are
read through :mod:`mmengine.fileio` (``backend_args``).
"""
import os.path as osp
from typing import Callable, Dict, Optional, Sequence, Tuple

import cv2
import numpy as np
from mmengine import fileio
from mmengine.structures import BaseDataElement
from torch.utils.data import Dataset

from mmfusenas.registry import DATASETS
from mmfusenas.utils.fileio import decode_image
from .deblur_dataset import _chw, list_images, read_image

__all__ = ['rain_streaks', 'add_haze', 'SyntheticRainDataset',
           'SyntheticHazeDataset', 'PairedRestorationDataset',
           'RESTORATION_LAYOUTS']


def rain_streaks(shape: Tuple[int, int],
                 rng: np.random.Generator,
                 density: float = 3.0,
                 length: float = 12.0,
                 angle: float = 0.0,
                 strength: float = 0.6,
                 width: int = 1,
                 blur: float = 0.7) -> np.ndarray:
    """A ``(H, W)`` rain layer in ``[0, strength]``.

    ``density`` streaks per 1000 pixels, each a line of about ``length``
    pixels at ``angle`` degrees from vertical (±10° jitter), intensity
    ``U(0.5, 1)·strength``, Gaussian-blurred with σ ``blur``.
    """
    h, w = shape
    layer = np.zeros((h, w), np.float32)
    num = max(1, int(density * h * w / 1000))
    ys, xs = rng.uniform(0, h, num), rng.uniform(0, w, num)
    angles = np.deg2rad(angle + rng.uniform(-10, 10, num))
    lengths = length * rng.uniform(0.6, 1.4, num)
    vals = rng.uniform(0.5, 1.0, num)
    for y0, x0, a, ln, v in zip(ys, xs, angles, lengths, vals):
        dy, dx = np.cos(a) * ln / 2, np.sin(a) * ln / 2
        cv2.line(layer, (int(x0 - dx), int(y0 - dy)),
                 (int(x0 + dx), int(y0 + dy)), float(v), width,
                 cv2.LINE_AA)
    if blur > 0:
        layer = cv2.GaussianBlur(layer, (0, 0), blur)
    return np.clip(layer, 0, 1).astype(np.float64) * strength


def add_haze(x: np.ndarray, depth: np.ndarray, beta: float,
             airlight: float) -> Tuple[np.ndarray, np.ndarray]:
    """``y = t·x + A(1 − t)`` with ``t = exp(−β·depth)``.

    Args:
        x: ``(H, W)`` or ``(H, W, C)`` in ``[0, 1]``.
        depth: ``(H, W)`` depth (any unit; ``β`` is per that unit).
        beta: scattering coefficient.
        airlight: global airlight ``A``.

    Returns:
        tuple: hazy ``y`` and transmission ``t`` (``(H, W)``).
    """
    t = np.exp(-beta * depth)
    tt = t[..., None] if x.ndim == 3 else t
    return x * tt + airlight * (1 - tt), t


def _draw(rng: np.random.Generator, lo_hi: Sequence[float]) -> float:
    return float(rng.uniform(lo_hi[0], lo_hi[1]))


class _CropSynthesis(Dataset):
    """Shared random-crop bookkeeping of the synthetic sets."""

    def __init__(self, crop_size: int, length: int, fixed: bool,
                 seed: int) -> None:
        self.crop_size = crop_size
        self.length = length
        self.fixed = fixed
        self.seed = seed
        self._draws = 0

    def __len__(self) -> int:
        return self.length

    def _rng(self, idx: int) -> np.random.Generator:
        draw = 0 if self.fixed else self._draws
        self._draws += 1
        return np.random.default_rng([self.seed, idx, draw])

    def _crop_box(self, rng, shape, path) -> Tuple[slice, slice]:
        c = self.crop_size
        if min(shape[:2]) < c:
            raise ValueError(f'{path}: {shape[:2]} is smaller than crop_size '
                             f'{c}')
        top = int(rng.integers(0, shape[0] - c + 1))
        left = int(rng.integers(0, shape[1] - c + 1))
        return slice(top, top + c), slice(left, left + c)


@DATASETS.register_module()
class SyntheticRainDataset(_CropSynthesis):
    """Rain streaks added to random crops of any image folder.

    Args:
        img_dirs (str | Sequence[str]): clean image folder(s).
        crop_size (int): crop side. Defaults to 64.
        density_range, length_range, angle_range, strength_range: ranges of
            :func:`rain_streaks`'s parameters drawn per item. Defaults to
            (5, 20) streaks / 1000 px, (6, 20) px, (−30, 30)°, (0.3, 0.8).
        color (bool): RGB (True) or gray. Defaults to True.
        length (int): items per epoch. Defaults to 100.
        fixed (bool): the same draw for an index every time. Defaults to
            False.
        seed (int): base seed. Defaults to 0.
        backend_args (dict, optional): :mod:`mmengine.fileio` backend
            arguments (object storage) for listing and reading the files.
            Defaults to None (inferred from the path).
    """

    def __init__(self,
                 img_dirs: str | Sequence[str],
                 crop_size: int = 64,
                 density_range: Tuple[float, float] = (5.0, 20.0),
                 length_range: Tuple[float, float] = (6.0, 20.0),
                 angle_range: Tuple[float, float] = (-30.0, 30.0),
                 strength_range: Tuple[float, float] = (0.3, 0.8),
                 color: bool = True,
                 length: int = 100,
                 fixed: bool = False,
                 seed: int = 0,
                 backend_args: Optional[dict] = None) -> None:
        super().__init__(crop_size, length, fixed, seed)
        self.backend_args = backend_args
        self.files = list_images(img_dirs, backend_args)
        self.ranges = dict(density=density_range, length=length_range,
                           angle=angle_range, strength=strength_range)
        self.color = color
        self._cache: Dict[str, np.ndarray] = {}
        self.metainfo = dict(task='derain')

    def __getitem__(self, idx: int) -> dict:
        rng = self._rng(idx)
        path = self.files[idx % len(self.files)]
        if path not in self._cache:
            self._cache[path] = read_image(path, self.color,
                                           self.backend_args)
        img = self._cache[path]
        rows, cols = self._crop_box(rng, img.shape, path)
        x = img[rows, cols]
        params = {k: _draw(rng, v) for k, v in self.ranges.items()}
        r = rain_streaks(x.shape[:2], rng, **params)
        y = np.clip(x + (r[..., None] if x.ndim == 3 else r), 0, 1)
        sample = BaseDataElement(
            gt_img=_chw(x), guidance_gt=_chw(r),
            stem=osp.splitext(osp.basename(path))[0], **params)
        return dict(inputs=_chw(y), data_samples=sample)


@DATASETS.register_module()
class SyntheticHazeDataset(_CropSynthesis):
    """Depth-based haze on crops of RGB-D pairs.

    Pairs ``<name><rgb_suffix>.<ext>`` in ``rgb_dir`` with
    ``<name><depth_suffix>.<ext>`` in ``depth_dir`` (the shared
    ``gisr/Middlebury`` layout by default). The depth map is scaled to
    ``[0, 1]`` by its maximum; ``disparity=True`` treats it as inverse depth
    (near = large), ``d = 1 − D/max``. ``t = exp(−β d)``, ``A ~
    U(airlight_range)``; guidance target ``[t, A]`` (2 channels).

    Args:
        rgb_dir (str): RGB folder.
        depth_dir (str): depth folder.
        rgb_suffix (str): Defaults to ``'_output_color'``.
        depth_suffix (str): Defaults to ``'_output_depth'``.
        crop_size (int): Defaults to 64.
        beta_range (tuple): Defaults to (0.6, 2.0).
        airlight_range (tuple): Defaults to (0.7, 1.0).
        disparity (bool): Defaults to True (the 8-bit Middlebury maps).
        length (int): Defaults to 100.
        fixed (bool): Defaults to False.
        seed (int): Defaults to 0.
        backend_args (dict, optional): :mod:`mmengine.fileio` backend
            arguments (object storage) for listing and reading the files.
            Defaults to None (inferred from the path).
    """

    def __init__(self,
                 rgb_dir: str,
                 depth_dir: str,
                 rgb_suffix: str = '_output_color',
                 depth_suffix: str = '_output_depth',
                 crop_size: int = 64,
                 beta_range: Tuple[float, float] = (0.6, 2.0),
                 airlight_range: Tuple[float, float] = (0.7, 1.0),
                 disparity: bool = True,
                 length: int = 100,
                 fixed: bool = False,
                 seed: int = 0,
                 backend_args: Optional[dict] = None) -> None:
        super().__init__(crop_size, length, fixed, seed)
        self.backend_args = backend_args
        rgbs = list_images(rgb_dir, backend_args)
        depths = {osp.splitext(osp.basename(f))[0]: f
                  for f in list_images(depth_dir, backend_args)}
        self.pairs = []
        for f in rgbs:
            stem = osp.splitext(osp.basename(f))[0]
            name = stem[:-len(rgb_suffix)] if rgb_suffix and stem.endswith(
                rgb_suffix) else stem
            d = depths.get(name + depth_suffix)
            if d is None:
                raise FileNotFoundError(
                    f'no depth map {name}{depth_suffix}.* in {depth_dir} for '
                    f'{f}')
            self.pairs.append((f, d, name))
        self.beta_range = beta_range
        self.airlight_range = airlight_range
        self.disparity = disparity
        self._cache: Dict[str, Tuple[np.ndarray, np.ndarray]] = {}
        self.metainfo = dict(task='dehaze')

    def _load(self, idx: int) -> Tuple[np.ndarray, np.ndarray, str]:
        rgb, dpath, name = self.pairs[idx % len(self.pairs)]
        if rgb not in self._cache:
            x = read_image(rgb, True, self.backend_args)
            d = _read_depth(dpath, self.backend_args)
            if d is None:
                raise ValueError(f'{dpath}: cannot be read as a depth map')
            d = d.astype(np.float64)
            if d.ndim == 3:
                d = d[..., 0]
            if d.shape != x.shape[:2]:
                raise ValueError(f'{dpath}: depth {d.shape} and {rgb} '
                                 f'{x.shape[:2]} differ in size')
            d = d / max(d.max(), 1e-12)
            self._cache[rgb] = (x, 1 - d if self.disparity else d)
        return (*self._cache[rgb], name)

    def __getitem__(self, idx: int) -> dict:
        rng = self._rng(idx)
        x_full, d_full, name = self._load(idx)
        rows, cols = self._crop_box(rng, x_full.shape, name)
        x, d = x_full[rows, cols], d_full[rows, cols]
        beta = _draw(rng, self.beta_range)
        a = _draw(rng, self.airlight_range)
        y, t = add_haze(x, d, beta, a)
        guide = np.stack([t, np.full_like(t, a)], -1)
        sample = BaseDataElement(gt_img=_chw(x), guidance_gt=_chw(guide),
                                 stem=name, beta=beta, airlight=a)
        return dict(inputs=_chw(y), data_samples=sample)


def _read_depth(path: str,
                backend_args: Optional[dict] = None) -> Optional[np.ndarray]:
    """A depth map decoded as stored (``IMREAD_UNCHANGED``); None when the
    file is missing or cannot be decoded."""
    try:
        content = fileio.get(path, backend_args=backend_args)
    except FileNotFoundError:
        return None
    try:
        return decode_image(content, path)
    except OSError:
        return None


def _rain100_gt(stem: str) -> Sequence[str]:
    cands = [stem]
    if stem.startswith('rain-'):
        cands.insert(0, 'no' + stem)
    return cands


def _sots_gt(stem: str) -> Sequence[str]:
    return [stem.split('_')[0], stem]


#: layout name -> (input folders, gt folders, gt-stem candidates)
RESTORATION_LAYOUTS: Dict[str, Tuple[Sequence[str], Sequence[str],
                                     Callable[[str], Sequence[str]]]] = {
    'rain100': (('rain', 'rainy'), ('norain', 'gt'), _rain100_gt),
    'sots': (('hazy', ), ('clear', 'gt', 'GT'), _sots_gt),
}


@DATASETS.register_module()
class PairedRestorationDataset(Dataset):
    """Degraded / clean pairs of a benchmark folder (Rain100L/H, SOTS).

    Args:
        data_root (str): the benchmark folder.
        layout (str): ``'rain100'`` or ``'sots'`` (see
            :data:`RESTORATION_LAYOUTS`).
        color (bool): RGB. Defaults to True.
        backend_args (dict, optional): :mod:`mmengine.fileio` backend
            arguments (object storage) for listing and reading the files.
            Defaults to None (inferred from the path).
    """

    def __init__(self,
                 data_root: str,
                 layout: str = 'rain100',
                 color: bool = True,
                 backend_args: Optional[dict] = None) -> None:
        if layout not in RESTORATION_LAYOUTS:
            raise ValueError(f'unknown layout {layout!r}; known: '
                             f'{sorted(RESTORATION_LAYOUTS)}')
        ins, gts, gt_stems = RESTORATION_LAYOUTS[layout]

        def first_dir(names):
            for n in names:
                folder = fileio.join_path(
                    data_root, n, backend_args=backend_args)
                if fileio.isdir(folder, backend_args=backend_args):
                    return folder
            raise FileNotFoundError(
                f'{data_root} ({layout} layout) needs one of the folders '
                f'{list(names)}')

        in_dir, gt_dir = first_dir(ins), first_dir(gts)
        gt_files = {osp.splitext(osp.basename(f))[0]: f
                    for f in list_images(gt_dir, backend_args)}
        self.pairs = []
        for f in list_images(in_dir, backend_args):
            stem = osp.splitext(osp.basename(f))[0]
            match = [gt_files[s] for s in gt_stems(stem) if s in gt_files]
            if not match:
                raise FileNotFoundError(f'no ground truth for {f} in {gt_dir} '
                                        f'(tried {list(gt_stems(stem))})')
            self.pairs.append((f, match[0], stem))
        self.color = color
        self.backend_args = backend_args
        self.metainfo = dict(task='restoration', layout=layout)

    def __len__(self) -> int:
        return len(self.pairs)

    def __getitem__(self, idx: int) -> dict:
        f, g, stem = self.pairs[idx]
        y = read_image(f, self.color, self.backend_args)
        x = read_image(g, self.color, self.backend_args)
        if y.shape != x.shape:
            raise ValueError(f'{f} {y.shape} and {g} {x.shape} differ in '
                             'size')
        return dict(inputs=_chw(y),
                    data_samples=BaseDataElement(gt_img=_chw(x), stem=stem))
