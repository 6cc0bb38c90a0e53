"""Loading, cropping, degradation and packing of guided depth SR samples.

The degradation follows the official DCNAS pipeline by default; ``resize``
(``'pil'``: antialiased bicubic, ``'cv2'``: ``INTER_CUBIC``, ``'torch'``:
antialiased ``F.interpolate``), ``norm`` (``'lr_minmax'``, ``'gt_minmax'``
as the official code, ``'fixed'``) and ``noise_std`` are selectable.
"""
import hashlib
import math
from typing import Optional, Sequence, Tuple

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from mmcv.transforms import BaseTransform
from mmengine import fileio
from PIL import Image

from mmfusenas.registry import TRANSFORMS
from mmfusenas.utils.fileio import decode_file, decode_image

IMAGENET_MEAN = np.array((0.485, 0.456, 0.406), np.float32)
IMAGENET_STD = np.array((0.229, 0.224, 0.225), np.float32)
RESIZE_MODES = ('pil', 'cv2', 'torch')
NORM_MODES = ('lr_minmax', 'gt_minmax', 'fixed')


def read_depth(path: str, backend_args: Optional[dict] = None) -> np.ndarray:
    """Depth map ``(H, W)`` float32 in its stored unit (``.npy``, or 8/16-bit
    grey levels); ValueError when unreadable, not single-channel, not
    numeric or not finite."""
    content = fileio.get(path, backend_args=backend_args)
    if path.endswith('.npy'):
        arr = decode_file(content, path,
                          lambda f: np.load(f, allow_pickle=False),
                          'read as a depth map')
        if arr.dtype.kind not in 'uif':
            raise ValueError(f'{path}: depth must be numeric, got dtype '
                             f'{arr.dtype}')
    else:
        try:
            arr = decode_image(content, path)
        except OSError as err:
            raise ValueError(f'depth map: {err}') from None
    arr = np.asarray(arr)
    if arr.ndim == 3 and arr.shape[2] in (3, 4) and not path.endswith(
            '.npy'):
        if not (np.array_equal(arr[..., 0], arr[..., 1])
                and np.array_equal(arr[..., 0], arr[..., 2])):
            raise ValueError(f'{path}: depth must be single-channel, got a '
                             f'colour image {arr.shape}')
        arr = arr[..., 0]
    if arr.ndim != 2:
        raise ValueError(f'{path}: depth must be (H, W), got {arr.shape}')
    arr = np.ascontiguousarray(arr, dtype=np.float32)
    if not np.isfinite(arr).all():
        raise ValueError(f'{path}: depth has non-finite values (NaN / Inf)')
    return arr


def read_rgb(path: str, backend_args: Optional[dict] = None) -> np.ndarray:
    """``(H, W, 3)`` uint8 RGB (``backend_args``: see :func:`read_depth`).
    """
    try:
        img = decode_image(
            fileio.get(path, backend_args=backend_args), path, 'color')
    except OSError as err:
        raise ValueError(f'RGB image: {err}') from None
    return cv2.cvtColor(img, cv2.COLOR_BGR2RGB)


def resize_depth(x: np.ndarray, size: Tuple[int, int],
                 mode: str = 'pil') -> np.ndarray:
    """Bicubic resize of a float ``(H, W)`` map to ``size = (h, w)``."""
    h, w = size
    if mode == 'pil':
        img = Image.fromarray(x.astype(np.float32), mode='F')
        return np.asarray(img.resize((w, h), Image.BICUBIC), np.float32)
    if mode == 'cv2':
        return cv2.resize(x.astype(np.float32), (w, h),
                          interpolation=cv2.INTER_CUBIC)
    if mode == 'torch':
        t = torch.from_numpy(x.astype(np.float32))[None, None]
        out = F.interpolate(
            t, size=(h, w), mode='bicubic', align_corners=False,
            antialias=True)
        return out[0, 0].numpy()
    raise ValueError(f'resize mode must be one of {RESIZE_MODES}, got '
                     f'{mode!r}')


@TRANSFORMS.register_module()
class LoadGISRSample(BaseTransform):
    """Read ``rgb`` (uint8 RGB), ``gt`` (float depth, stored unit) and, with
    ``lr_path``, ``lr_real`` (real LR depth). Without ``depth_path`` (real
    LR inference) there is no ``gt``. ValueError when the RGB and depth
    sizes differ or a sample has neither depth file.

    Args:
        backend_args (dict, optional): :mod:`mmengine.fileio` arguments.
    """

    def __init__(self, backend_args: Optional[dict] = None) -> None:
        self.backend_args = backend_args

    def transform(self, results: dict) -> dict:
        rgb = read_rgb(results['rgb_path'], self.backend_args)
        results['rgb'] = rgb
        if results.get('lr_path'):
            results['lr_real'] = read_depth(results['lr_path'],
                                            self.backend_args)
        if results.get('depth_path') is None:
            if 'lr_real' not in results:
                raise ValueError(
                    f'{results.get("sample_id")}: a GISR sample needs a '
                    'depth_path (HR depth, degraded by the pipeline) or an '
                    'lr_path (real LR depth); got neither')
            return results
        gt = read_depth(results['depth_path'], self.backend_args)
        if rgb.shape[:2] != gt.shape:
            raise ValueError(
                f'{results["sample_id"]}: RGB {rgb.shape[:2]} and depth '
                f'{gt.shape} sizes differ ({results["rgb_path"]}, '
                f'{results["depth_path"]})')
        results['gt'] = gt
        return results


@TRANSFORMS.register_module()
class GISRModCrop(BaseTransform):
    """Centre crop ``rgb`` / ``gt`` to multiples of ``multiple``
    (official: 32)."""

    def __init__(self, multiple: int = 32) -> None:
        self.multiple = multiple

    def transform(self, results: dict) -> dict:
        h, w = results['rgb'].shape[:2]
        m = self.multiple
        nh, nw = h - h % m, w - w % m
        if nh == 0 or nw == 0:
            raise ValueError(f'{results.get("sample_id")}: {h}x{w} is '
                             f'smaller than the mod-crop multiple {m}')
        top, left = (h - nh) // 2, (w - nw) // 2
        if results.get('gt') is not None:
            results['gt'] = results['gt'][top:top + nh, left:left + nw]
        results['rgb'] = results['rgb'][top:top + nh, left:left + nw]
        return results


@TRANSFORMS.register_module()
class GISRRandomCrop(BaseTransform):
    """Same-location random ``patch_size`` crop of ``rgb`` / ``gt`` (HR)."""

    def __init__(self, patch_size: int = 224) -> None:
        self.patch_size = patch_size

    def transform(self, results: dict) -> dict:
        h, w = results['gt'].shape
        p = self.patch_size
        if h < p or w < p:
            raise ValueError(f'{results.get("sample_id")}: {h}x{w} is '
                             f'smaller than patch_size {p}')
        top = np.random.randint(0, h - p + 1)
        left = np.random.randint(0, w - p + 1)
        results['gt'] = results['gt'][top:top + p, left:left + p]
        results['rgb'] = results['rgb'][top:top + p, left:left + p]
        return results


@TRANSFORMS.register_module()
class GISRAugment(BaseTransform):
    """Official geometric augmentation: horizontal flip (p ``hflip``),
    vertical flip only after a horizontal one (p ``vflip`` then, .25
    overall), transpose (p ``transpose``)."""

    def __init__(self,
                 hflip: float = 0.5,
                 vflip: float = 0.5,
                 transpose: float = 0.5) -> None:
        self.hflip, self.vflip, self.transpose_p = hflip, vflip, transpose

    def transform(self, results: dict) -> dict:
        gt, rgb = results['gt'], results['rgb']
        if np.random.rand() < self.hflip:
            gt, rgb = gt[:, ::-1], rgb[:, ::-1]
            if np.random.rand() < self.vflip:
                gt, rgb = gt[::-1], rgb[::-1]
        if np.random.rand() < self.transpose_p:
            gt, rgb = gt.T, rgb.transpose(1, 0, 2)
        results['gt'] = np.ascontiguousarray(gt)
        results['rgb'] = np.ascontiguousarray(rgb)
        return results


@TRANSFORMS.register_module()
class GISRDegrade(BaseTransform):
    """Make the network inputs: ``lr``, ``lr_up`` (normalised), ``rgb``
    (ImageNet-normalised ``(3, H, W)`` float), ``gt_norm`` and the
    normalisation range ``norm_min`` / ``norm_max`` (stored unit).

    Args:
        scale (int): 4, 8 or 16 (any integer > 1).
        resize (str): ``'pil'`` / ``'cv2'`` / ``'torch'`` (module doc).
            Defaults to 'pil'.
        norm (str): ``'lr_minmax'`` / ``'gt_minmax'`` / ``'fixed'``.
            Defaults to 'lr_minmax'.
        depth_range (tuple, optional): ``(lo, hi)`` for ``norm='fixed'``.
        noise_std (float): Gaussian noise on the normalised LR. Defaults
            to 0.
        noise_seed (int, optional): with a seed the noise of a sample is a
            function of (seed, sample id): reproducible evaluation.
        use_real_lr (bool): take ``lr_real`` (RGB-D-D real LR) instead of
            down-sampling when the sample has one. Defaults to True.
    """

    def __init__(self,
                 scale: int = 4,
                 resize: str = 'pil',
                 norm: str = 'lr_minmax',
                 depth_range: Optional[Sequence[float]] = None,
                 noise_std: float = 0.0,
                 noise_seed: Optional[int] = None,
                 use_real_lr: bool = True) -> None:
        if resize not in RESIZE_MODES:
            raise ValueError(f'resize must be one of {RESIZE_MODES}, got '
                             f'{resize!r}')
        if norm not in NORM_MODES:
            raise ValueError(f'norm must be one of {NORM_MODES}, got '
                             f'{norm!r}')
        if norm == 'fixed' and (depth_range is None
                                or len(depth_range) != 2
                                or depth_range[1] <= depth_range[0]):
            raise ValueError("norm='fixed' needs depth_range=(lo, hi) with "
                             f'hi > lo, got {depth_range!r}')
        if int(scale) < 2:
            raise ValueError(f'scale must be an integer >= 2, got {scale}')
        self.scale = int(scale)
        self.resize, self.norm = resize, norm
        self.depth_range = depth_range
        self.noise_std, self.noise_seed = float(noise_std), noise_seed
        self.use_real_lr = use_real_lr

    def _rng(self, sid: str) -> np.random.Generator:
        if self.noise_seed is None:
            return np.random.default_rng()
        digest = hashlib.sha1(f'{self.noise_seed}:{sid}'.encode()).digest()
        return np.random.default_rng(int.from_bytes(digest[:8], 'little'))

    def transform(self, results: dict) -> dict:
        gt = results.get('gt')
        if gt is None:  # inference on real LR depth: no ground truth
            if results.get('lr_real') is None or not self.use_real_lr:
                raise ValueError(
                    f'{results.get("sample_id")}: GISRDegrade needs the HR '
                    'depth (gt) or, with use_real_lr, a real LR depth')
            if self.norm == 'gt_minmax':
                raise ValueError("norm='gt_minmax' needs the ground truth; "
                                 'a real-LR sample has none')
        else:
            gt = gt.astype(np.float32)
        h, w = results['rgb'].shape[:2]
        if self.use_real_lr and results.get('lr_real') is not None:
            lr = results['lr_real'].astype(np.float32)
        else:
            lr = resize_depth(gt, (math.ceil(h / self.scale),
                                   math.ceil(w / self.scale)), self.resize)
        if self.norm == 'lr_minmax':
            lo, hi = float(lr.min()), float(lr.max())
        elif self.norm == 'gt_minmax':
            lo, hi = float(gt.min()), float(gt.max())
        else:
            lo, hi = map(float, self.depth_range)
        span = hi - lo if hi > lo else 1.0
        lr_n = (lr - lo) / span
        if self.noise_std > 0:
            rng = self._rng(str(results.get('sample_id', '')))
            lr_n = lr_n + rng.normal(0, self.noise_std,
                                     lr_n.shape).astype(np.float32)
        results['lr'] = lr_n.astype(np.float32)
        results['lr_up'] = resize_depth(lr_n, (h, w), self.resize)
        if gt is not None:
            results['gt_norm'] = (gt - lo) / span
        results['norm_min'], results['norm_max'] = lo, lo + span
        rgb = results['rgb'].astype(np.float32) / 255.0
        results['rgb'] = ((rgb - IMAGENET_MEAN) / IMAGENET_STD).transpose(
            2, 0, 1).astype(np.float32)
        return results


@TRANSFORMS.register_module()
class PackGISRInputs(BaseTransform):
    """``{'inputs': {'lr_up': (1, H, W), 'rgb': (3, H, W)},
    'data_samples': {'gt', 'gt_norm' (1, H, W), 'norm_min', 'norm_max',
    'sample_id'}}`` (tensors; batch with ``default_collate``). A real-LR
    sample without ground truth has no ``gt`` / ``gt_norm``."""

    def transform(self, results: dict) -> dict:

        def t(x):
            return torch.from_numpy(np.array(x, dtype=np.float32))

        samples = dict(
            norm_min=torch.tensor(results['norm_min'], dtype=torch.float64),
            norm_max=torch.tensor(results['norm_max'], dtype=torch.float64),
            sample_id=str(results.get('sample_id', '')))
        if results.get('gt') is not None:
            samples['gt'] = t(results['gt'])[None]
            samples['gt_norm'] = t(results['gt_norm'])[None]
        return dict(
            inputs=dict(
                lr_up=t(results['lr_up'])[None], rgb=t(results['rgb'])),
            data_samples=samples)
