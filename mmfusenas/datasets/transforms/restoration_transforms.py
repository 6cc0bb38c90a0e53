"""Loading, degradation and packing of restoration samples: float64
``[0, 1]`` images under ``low`` (degraded) and ``gt`` (clean); the
synthetic degradations draw from ``results['rng']`` (seeded per item by the
dataset)."""
from typing import Optional, Sequence, Tuple

import cv2
import numpy as np
import torch
from mmcv.transforms import BaseTransform
from mmengine import fileio
from mmengine.structures import BaseDataElement

from mmfusenas.registry import TRANSFORMS
from mmfusenas.utils.fileio import decode_image
from mmfusenas.utils.fileio import read_image as checked_read
from ..deblur_synthesis import (_loadmat, _read_kernel_file, edgetaper,
                                normalize_kernel, pad_kernel, quantize_uint8,
                                synthesize_blurry)
from ..derain_dehaze_dataset import add_haze, rain_streaks

#: keys of ``results`` :class:`PackRestorationInputs` puts in the data sample
PACK_KEYS = ('gt', 'guidance_gt', 'kernel', 'kernel_size', 'crop_pad',
             'noise_sigma', 'stem', 'density', 'length', 'angle', 'strength',
             'beta', 'airlight')


def read_image(path: str,
               color: bool = False,
               backend_args: Optional[dict] = None) -> np.ndarray:
    """``(H, W)`` gray or ``(H, W, 3)`` RGB float64 in ``[0, 1]``."""
    try:
        img = checked_read(path, 'color' if color else 'grayscale',
                           backend_args)
    except OSError as err:  # missing, empty, corrupt or truncated
        raise ValueError(str(err)) from None
    if color:
        img = cv2.cvtColor(img, cv2.COLOR_BGR2RGB)
    return img.astype(np.float64) / 255.0


def _chw(a: np.ndarray) -> torch.Tensor:
    a = a[None] if a.ndim == 2 else a.transpose(2, 0, 1)
    return torch.from_numpy(np.ascontiguousarray(a, dtype=np.float32))


def _draw(rng: np.random.Generator, lo_hi: Sequence[float]) -> float:
    return float(rng.uniform(lo_hi[0], lo_hi[1]))


@TRANSFORMS.register_module()
class LoadRestorationImages(BaseTransform):
    """Read every file of ``results['img_path']`` (key -> path) into
    ``results[key]`` (:func:`read_image`); the sizes must agree.

    Args:
        color (bool): RGB instead of gray. Defaults to False.
        backend_args (dict, optional): :mod:`mmengine.fileio` arguments.
    """

    def __init__(self,
                 color: bool = False,
                 backend_args: Optional[dict] = None) -> None:
        self.color = color
        self.backend_args = backend_args

    def transform(self, results: dict) -> dict:
        paths = results['img_path']
        for key, path in paths.items():
            results[key] = read_image(path, self.color, self.backend_args)
        first, *rest = paths
        for key in rest:
            if results[key].shape != results[first].shape:
                raise ValueError(f'{paths[first]} {results[first].shape} and '
                                 f'{paths[key]} {results[key].shape} differ '
                                 'in size')
        return results


@TRANSFORMS.register_module()
class LoadLevinMat(BaseTransform):
    """Read a Levin et al. ``.mat`` file (``results['mat_path']``): ``x`` to
    ``gt``, the normalised kernel ``f`` to ``kernel`` and, with
    ``use_stored_blur``, ``y`` to ``low``.

    Args:
        use_stored_blur (bool): read ``y`` too. Defaults to False.
        backend_args (dict, optional): :mod:`mmengine.fileio` arguments.
    """

    def __init__(self,
                 use_stored_blur: bool = False,
                 backend_args: Optional[dict] = None) -> None:
        self.use_stored_blur = use_stored_blur
        self.backend_args = backend_args

    def transform(self, results: dict) -> dict:
        path = results['mat_path']
        mat = _loadmat(path, fileio.get(path, backend_args=self.backend_args))
        needed = ('x', 'f', 'y') if self.use_stored_blur else ('x', 'f')
        for key in needed:
            if key not in mat:
                raise KeyError(f'{path} lacks {key!r} (expected x, y, f)')
        results['gt'] = mat['x'].astype(np.float64)
        results['kernel'] = normalize_kernel(mat['f'], path)
        if self.use_stored_blur:
            results['low'] = mat['y'].astype(np.float64)
        return results


@TRANSFORMS.register_module()
class LoadDepthMap(BaseTransform):
    """Read ``results['depth_path']`` (first channel) into ``depth``, divided
    by its maximum; ``disparity=True``: ``d = 1 − D/max``.

    Args:
        disparity (bool): the map is a disparity. Defaults to True.
        backend_args (dict, optional): :mod:`mmengine.fileio` arguments.
    """

    def __init__(self,
                 disparity: bool = True,
                 backend_args: Optional[dict] = None) -> None:
        self.disparity = disparity
        self.backend_args = backend_args

    def transform(self, results: dict) -> dict:
        path = results['depth_path']
        try:
            d = decode_image(
                fileio.get(path, backend_args=self.backend_args), path)
        except OSError:  # missing or undecodable
            raise ValueError(f'{path}: cannot be read as a depth map') \
                from None
        d = d.astype(np.float64)
        if d.ndim == 3:
            d = d[..., 0]
        shape = results['gt'].shape[:2]
        if d.shape != shape:
            raise ValueError(f'{path}: depth {d.shape} and '
                             f"{results['img_path']['gt']} {shape} differ in "
                             'size')
        d = d / max(d.max(), 1e-12)
        results['depth'] = 1 - d if self.disparity else d
        return results


@TRANSFORMS.register_module()
class RestorationCrop(BaseTransform):
    """Crop ``gt`` (and ``low``, ``depth``) to a ``crop_size`` square, at a
    position drawn from ``results['rng']`` or central (``center``)."""

    def __init__(self, crop_size: int, center: bool = False) -> None:
        self.crop_size = crop_size
        self.center = center

    def transform(self, results: dict) -> dict:
        c, shape = self.crop_size, results['gt'].shape[:2]
        if min(shape) < c:
            raise ValueError(f"{results['img_path']['gt']}: {shape} is "
                             f'smaller than crop_size {c}')
        if self.center:
            top, left = (shape[0] - c) // 2, (shape[1] - c) // 2
        else:
            top = int(results['rng'].integers(0, shape[0] - c + 1))
            left = int(results['rng'].integers(0, shape[1] - c + 1))
        for key in ('low', 'gt', 'depth'):
            if key in results:
                results[key] = results[key][top:top + c, left:left + c]
        return results


@TRANSFORMS.register_module()
class SynthesizeBlur(BaseTransform):
    """Blur and noise ``gt`` as the official training loader
    (:func:`~mmfusenas.datasets.deblur_synthesis.synthesize_blurry`, valid
    blur): one of ``kernels`` (flipped 180° with ``flip_prob``), ``σ ~
    U(sigma_range)``. Sets ``low``, ``kernel`` (padded to ``kernel_pad``),
    ``noise_sigma`` and appends ``_k<index>`` to ``stem``.

    Args:
        kernels (Sequence[np.ndarray]): normalised kernels.
        sigma_range (tuple[float, float]): Defaults to (0.01, 0.05).
        kernel_pad (int, optional): Defaults to 37.
        quantize (bool): ``uint8`` truncation. Defaults to True.
        flip_prob (float): Defaults to 0.5.
    """

    def __init__(self,
                 kernels: Sequence[np.ndarray],
                 sigma_range: Tuple[float, float] = (0.01, 0.05),
                 kernel_pad: Optional[int] = 37,
                 quantize: bool = True,
                 flip_prob: float = 0.5) -> None:
        self.kernels = list(kernels)
        self.sigma_range = (float(sigma_range[0]), float(sigma_range[1]))
        self.kernel_pad = kernel_pad
        self.quantize = quantize
        self.flip_prob = flip_prob

    def transform(self, results: dict) -> dict:
        rng = results['rng']
        ki = int(rng.integers(len(self.kernels)))
        k = self.kernels[ki]
        if rng.random() < self.flip_prob:
            k = k[::-1, ::-1]
        sigma = float(rng.uniform(*self.sigma_range))
        results['low'] = synthesize_blurry(results['gt'], k, sigma, rng,
                                           'valid', self.quantize)
        results['kernel'] = pad_kernel(k, self.kernel_pad) \
            if self.kernel_pad else k
        results['noise_sigma'] = sigma
        results['stem'] += f'_k{ki}'
        return results


@TRANSFORMS.register_module()
class LevinBlur(BaseTransform):
    """Blur ``gt`` by ``kernel`` (``'same'``; or take the stored ``low``) and
    add ``σ·N(0, 1)`` as the official ``testlevin``; sets ``low`` and
    ``noise_sigma``.

    Args:
        noise_sigma (float): σ in ``[0, 1]`` units.
        quantize (bool): ``uint8`` truncation. Defaults to False.
    """

    def __init__(self, noise_sigma: float, quantize: bool = False) -> None:
        self.noise_sigma = float(noise_sigma)
        self.quantize = quantize

    def transform(self, results: dict) -> dict:
        rng = results['rng']
        base = results.get('low')
        if base is None:
            base = synthesize_blurry(results['gt'], results['kernel'], 0.0,
                                     rng, 'same', False, 0)
        y = base + self.noise_sigma * rng.standard_normal(base.shape)
        results['low'] = quantize_uint8(y) if self.quantize else y
        results['noise_sigma'] = self.noise_sigma
        return results


@TRANSFORMS.register_module()
class KernelEdgeTaper(BaseTransform):
    """Prepare ``low`` for non-blind deblurring with ``results['kernel']``
    (an array or one kernel file): edge padding by ``⌊k/2⌋`` and edgetaper;
    sets ``crop_pad`` and ``kernel_size``. Samples without kernel pass.

    Args:
        pad (bool): pad and edge-taper. Defaults to True.
        kernel_pad (int, optional): zero-pad the kernel to this size.
        backend_args (dict, optional): :mod:`mmengine.fileio` arguments.
    """

    def __init__(self,
                 pad: bool = True,
                 kernel_pad: Optional[int] = None,
                 backend_args: Optional[dict] = None) -> None:
        self.pad = pad
        self.kernel_pad = kernel_pad
        self.backend_args = backend_args

    def transform(self, results: dict) -> dict:
        k = results.get('kernel')
        if k is None:
            return results
        if isinstance(k, str):
            ks = _read_kernel_file(k, self.backend_args)
            if len(ks) != 1:
                raise ValueError(f'{k} holds {len(ks)} kernels; expected one')
            k = ks[0]
        crop_pad = (0, 0, 0, 0)
        if self.pad:
            y, p = results['low'], (k.shape[0] // 2, k.shape[1] // 2)
            pads = ((p[0], p[0]), (p[1], p[1])) + ((0, 0), ) * (y.ndim - 2)
            results['low'] = edgetaper(np.pad(y, pads, mode='edge'), k)
            crop_pad = (p[0], p[0], p[1], p[1])
        results['kernel'] = pad_kernel(k, self.kernel_pad) \
            if self.kernel_pad else k
        results['kernel_size'] = tuple(k.shape)
        results['crop_pad'] = crop_pad
        return results


@TRANSFORMS.register_module()
class AddRainStreaks(BaseTransform):
    """Add rain streaks to ``gt``: ``low = clip(gt + r)``, ``r`` from
    :func:`~mmfusenas.datasets.rain_streaks` with parameters drawn in the
    ranges; sets ``guidance_gt = r`` and the parameters."""

    def __init__(self,
                 density_range: Tuple[float, float] = (5.0, 20.0),
                 length_range: Tuple[float, float] = (6.0, 20.0),
                 angle_range: Tuple[float, float] = (-30.0, 30.0),
                 strength_range: Tuple[float, float] = (0.3, 0.8)) -> None:
        self.ranges = dict(density=density_range, length=length_range,
                           angle=angle_range, strength=strength_range)

    def transform(self, results: dict) -> dict:
        rng, x = results['rng'], results['gt']
        params = {k: _draw(rng, v) for k, v in self.ranges.items()}
        r = rain_streaks(x.shape[:2], rng, **params)
        results['low'] = np.clip(x + (r[..., None] if x.ndim == 3 else r), 0,
                                 1)
        results['guidance_gt'] = r
        results.update(params)
        return results


@TRANSFORMS.register_module()
class AddHaze(BaseTransform):
    """Add haze to ``gt`` with ``depth`` (:func:`~mmfusenas.datasets.add_haze`,
    ``β``, ``A`` drawn in the ranges); sets ``low``, ``beta``, ``airlight``
    and ``guidance_gt = [t, A]``."""

    def __init__(self,
                 beta_range: Tuple[float, float] = (0.6, 2.0),
                 airlight_range: Tuple[float, float] = (0.7, 1.0)) -> None:
        self.beta_range = beta_range
        self.airlight_range = airlight_range

    def transform(self, results: dict) -> dict:
        rng = results['rng']
        beta = _draw(rng, self.beta_range)
        a = _draw(rng, self.airlight_range)
        y, t = add_haze(results['gt'], results['depth'], beta, a)
        results.update(low=y, beta=beta, airlight=a,
                       guidance_gt=np.stack([t, np.full_like(t, a)], -1))
        return results


@TRANSFORMS.register_module()
class PackRestorationInputs(BaseTransform):
    """Pack a restoration sample for :class:`~mmfusenas.models.HQSRestorer`:
    ``dict(inputs=low (C, H, W) float32, data_samples=BaseDataElement)``
    with the ``keys`` present (``gt`` as ``gt_img``; images as ``(C, H,
    W)`` float32 tensors, ``kernel`` as a tensor)."""

    def __init__(self, keys: Sequence[str] = PACK_KEYS) -> None:
        self.keys = tuple(keys)

    def transform(self, results: dict) -> dict:
        sample = BaseDataElement()
        for key in self.keys:
            if key not in results:
                continue
            value = results[key]
            if key in ('gt', 'guidance_gt'):
                value = _chw(value)
            elif key == 'kernel':
                value = torch.from_numpy(value.astype(np.float32))
            sample.set_field(value, 'gt_img' if key == 'gt' else key)
        return dict(inputs=_chw(results['low']), data_samples=sample)
