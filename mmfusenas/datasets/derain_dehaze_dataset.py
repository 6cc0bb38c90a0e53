"""Synthetic deraining and dehazing data: rain streaks on crops of any
image folder, and depth-based haze on crops of RGB-D pairs."""
import os.path as osp
from typing import List, Optional, Sequence, Tuple

import cv2
import numpy as np

from mmfusenas.registry import DATASETS
from .restoration_folder_dataset import (SyntheticRestorationDataset,
                                         list_images)

__all__ = ['rain_streaks', 'add_haze', 'SyntheticRainDataset',
           'SyntheticHazeDataset']


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


def _pipeline(color: bool, crop_size: int, degradation: dict,
              backend_args: Optional[dict], *extra: dict) -> List[dict]:
    return [
        dict(type='LoadRestorationImages', color=color,
             backend_args=backend_args), *extra,
        dict(type='RestorationCrop', crop_size=crop_size), degradation,
        dict(type='PackRestorationInputs')
    ]


@DATASETS.register_module()
class SyntheticRainDataset(SyntheticRestorationDataset):
    """Rain streaks (``AddRainStreaks``) added to random crops of any image
    folder; guidance target: the rain layer.

    Args:
        img_dirs (str | Sequence[str]): clean image folder(s).
        crop_size (int): crop side. Defaults to 64.
        color (bool): RGB (True) or gray. Defaults to True.
        length (int): items per epoch. Defaults to 100.
        fixed, seed, backend_args: as
            :class:`~mmfusenas.datasets.SyntheticRestorationDataset`.
    """

    def __init__(self,
                 img_dirs: str | Sequence[str],
                 crop_size: int = 64,
                 color: bool = True,
                 length: int = 100,
                 fixed: bool = False,
                 seed: int = 0,
                 backend_args: Optional[dict] = None) -> None:
        super().__init__(img_dirs,
                         _pipeline(color, crop_size,
                                   dict(type='AddRainStreaks'), backend_args),
                         length, fixed, seed, dict(task='derain'),
                         backend_args)


@DATASETS.register_module()
class SyntheticHazeDataset(SyntheticRestorationDataset):
    """Depth-based haze (:func:`add_haze`) on crops of RGB-D pairs.

    ``<name><rgb_suffix>.<ext>`` in ``rgb_dir`` pairs with
    ``<name><depth_suffix>.<ext>`` in ``depth_dir``. The depth map is scaled
    to ``[0, 1]`` (``disparity=True``: inverse depth, ``d = 1 − D/max``);
    ``t = exp(−β d)``, ``A ~ U(airlight_range)``; guidance target ``[t, A]``.

    Args:
        rgb_dir (str): RGB folder.
        depth_dir (str): depth folder.
        rgb_suffix, depth_suffix (str): name suffixes. Default to
            ``'_output_color'`` / ``'_output_depth'`` (Middlebury).
        crop_size (int): Defaults to 64.
        beta_range, airlight_range (tuple): Default to (0.6, 2.0) /
            (0.7, 1.0).
        disparity (bool): Defaults to True.
        length, fixed, seed, backend_args: as :class:`SyntheticRainDataset`.
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
        self.depth_dir = depth_dir
        self.rgb_suffix = rgb_suffix
        self.depth_suffix = depth_suffix
        haze = dict(type='AddHaze', beta_range=beta_range,
                    airlight_range=airlight_range)
        depth = dict(type='LoadDepthMap', disparity=disparity,
                     backend_args=backend_args)
        super().__init__(rgb_dir,
                         _pipeline(True, crop_size, haze, backend_args,
                                   depth),
                         length, fixed, seed, dict(task='dehaze'),
                         backend_args)

    def load_data_list(self) -> List[dict]:
        data_list = super().load_data_list()
        depths = {osp.splitext(osp.basename(f))[0]: f
                  for f in list_images(self.depth_dir, self.backend_args)}
        suffix = self.rgb_suffix
        for info in data_list:
            stem = info['stem']
            name = stem[:-len(suffix)] if suffix and stem.endswith(
                suffix) else stem
            depth = depths.get(name + self.depth_suffix)
            if depth is None:
                raise FileNotFoundError(
                    f'no depth map {name}{self.depth_suffix}.* in '
                    f"{self.depth_dir} for {info['img_path']['gt']}")
            info.update(depth_path=depth, stem=name)
        return data_list
