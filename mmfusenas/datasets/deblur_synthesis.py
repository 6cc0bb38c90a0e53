"""Blur kernels (files or random camera-shake trajectories) and the
synthesis of blurry, noisy observations as the official hyper-guidance
loader does it."""
import os.path as osp
from typing import List, Optional, Sequence, Tuple

import cv2
import mmcv
import numpy as np
from mmengine import fileio
from scipy.signal import fftconvolve

from mmfusenas.utils.fileio import decode_file
from .paired_image_dataset import list_files

__all__ = [
    'normalize_kernel', 'motion_blur_kernel', 'load_kernels', 'pad_kernel',
    'blur', 'pad_for_kernel', 'edgetaper', 'edgetaper_alpha',
    'quantize_uint8', 'synthesize_blurry', 'KERNEL_EXTS'
]

#: kernel file types :func:`load_kernels` reads from a folder
KERNEL_EXTS = ('.png', '.bmp', '.tif', '.dlm', '.txt', '.npy', '.mat')


def normalize_kernel(k: np.ndarray, name: str = 'kernel') -> np.ndarray:
    """Clip to ``>= 0`` and normalise to sum 1 (official loader)."""
    try:
        k = np.asarray(k, np.float64)
    except (TypeError, ValueError) as err:
        raise ValueError(f'{name}: a kernel must be numeric ({err})') from err
    if k.ndim != 2 or min(k.shape) < 1:
        raise ValueError(f'{name}: a kernel must be a non-empty 2-D array, '
                         f'got shape {k.shape}')
    k = np.clip(k, 0, None)
    total = k.sum()
    if not np.isfinite(total) or total <= 0:
        raise ValueError(f'{name}: the kernel has no positive mass')
    return k / total


def motion_blur_kernel(size: int = 19,
                       rng: Optional[np.random.Generator] = None,
                       length: Optional[float] = None) -> np.ndarray:
    """A random camera-shake kernel, ``(size, size)`` float64 summing to 1.

    64 steps of a random-walk heading (std 2 rad over the path) at constant
    speed (path ``length``, default ``U(0.3, 0.9)·size``) plus 0.15 px
    jitter per step, splatted bilinearly around the centroid.
    """
    num_steps, curvature, shake = 64, 2.0, 0.15
    if size < 3:
        raise ValueError(f'motion_blur_kernel: size must be >= 3, got {size}')
    rng = np.random.default_rng() if rng is None else rng
    if length is None:
        length = rng.uniform(0.3, 0.9) * size
    heading = rng.uniform(0, 2 * np.pi) + np.cumsum(
        rng.standard_normal(num_steps) * curvature / np.sqrt(num_steps))
    steps = length / num_steps * np.stack(
        [np.sin(heading), np.cos(heading)], 1)
    steps += shake * rng.standard_normal(steps.shape)
    pos = np.concatenate([np.zeros((1, 2)), np.cumsum(steps, 0)], 0)
    pos -= pos.mean(0)
    half = (size - 1) / 2 - 1.0
    extent = np.abs(pos).max()
    if extent > half:
        pos *= half / extent
    pos += (size - 1) / 2
    k = np.zeros((size, size))
    r0 = np.floor(pos).astype(int)
    frac = pos - r0
    for dr in (0, 1):
        for dc in (0, 1):
            w = (frac[:, 0] if dr else 1 - frac[:, 0]) * \
                (frac[:, 1] if dc else 1 - frac[:, 1])
            np.add.at(k, (r0[:, 0] + dr, r0[:, 1] + dc), w)
    return normalize_kernel(k)


def _loadmat(path: str, content: bytes) -> dict:
    """``scipy.io.loadmat`` of the bytes of ``path``; ValueError naming it
    if they are not a readable ``.mat`` file."""
    from scipy.io import loadmat
    return decode_file(content, path, loadmat)


def _mat_kernels(path: str, content: bytes) -> List[np.ndarray]:
    data = {
        k: v
        for k, v in _loadmat(path, content).items()
        if not k.startswith('__')
    }
    for key in ('f', 'kernel', 'k', 'psf'):
        if key in data and np.asarray(data[key]).ndim == 2 and \
                data[key].dtype != object:
            return [normalize_kernel(data[key], f'{path}:{key}')]
    for key in ('kernels', 'ker', 'psfs'):
        if key in data:
            arr = data[key]
            if arr.dtype == object:  # cell array
                return [
                    normalize_kernel(c, f'{path}:{key}[{i}]')
                    for i, c in enumerate(arr.ravel())
                ]
            if arr.ndim == 3:  # kh x kw x n (MATLAB) stack
                return [
                    normalize_kernel(arr[..., i], f'{path}:{key}[{i}]')
                    for i in range(arr.shape[-1])
                ]
    raise ValueError(f'{path}: no kernel found; expected a 2-D variable '
                     "'f' / 'kernel' / 'k' / 'psf', or a cell array / 3-D "
                     "stack 'kernels'; it has " + str(sorted(data)))


def _read_kernel_file(path: str,
                      backend_args: Optional[dict] = None
                      ) -> List[np.ndarray]:
    """The kernel(s) of one file (``.mat`` may hold several), read through
    :mod:`mmengine.fileio` with ``backend_args``."""
    ext = osp.splitext(path)[1].lower()
    try:
        content = fileio.get(path, backend_args=backend_args)
    except FileNotFoundError:
        raise FileNotFoundError(f'kernel file {path} does not exist') from None
    if ext == '.mat':
        return _mat_kernels(path, content)
    if ext in ('.dlm', '.txt'):
        k = decode_file(content, path, lambda f: np.loadtxt(f, ndmin=2))
        return [normalize_kernel(k, path)]
    if ext == '.npy':
        k = decode_file(content, path,
                        lambda f: np.load(f, allow_pickle=False))
        return [normalize_kernel(k, path)]
    img = mmcv.imfrombytes(
        content,
        flag=cv2.IMREAD_GRAYSCALE | cv2.IMREAD_ANYDEPTH,
        backend='cv2') if content else None
    if img is None:
        raise ValueError(f'{path}: cannot be read as a kernel image')
    return [normalize_kernel(img.astype(np.float64), path)]


def load_kernels(source: str | Sequence[str] | dict,
                 seed: int = 0,
                 backend_args: Optional[dict] = None) -> List[np.ndarray]:
    """Blur kernels from files or generated.

    Args:
        source: a folder (its files with an extension of
            :data:`KERNEL_EXTS`, sorted), a file (``.mat`` may hold
            several), a list of those, or ``dict(type='motion', num=20,
            size=19, **kwargs)`` for :func:`motion_blur_kernel` kernels.
        seed (int): seed of generated kernels. Defaults to 0.
        backend_args (dict, optional): :mod:`mmengine.fileio` arguments.

    Returns:
        list[np.ndarray]: normalised float64 kernels.
    """
    if isinstance(source, dict):
        cfg = dict(source)
        kind = cfg.pop('type', None)
        if kind != 'motion':
            raise ValueError(f"kernel source dict needs type='motion', got "
                             f'{kind!r}')
        num = int(cfg.pop('num', 20))
        sizes = cfg.pop('size', 19)
        rng = np.random.default_rng(seed)
        sizes = [sizes] if isinstance(sizes, int) else list(sizes)
        return [
            motion_blur_kernel(int(sizes[i % len(sizes)]), rng, **cfg)
            for i in range(num)
        ]
    if not isinstance(source, str):
        return [
            k for s in source for k in load_kernels(s, seed, backend_args)
        ]
    if fileio.isdir(source, backend_args=backend_args):
        files = list_files(source, KERNEL_EXTS, backend_args)
        if not files:
            raise FileNotFoundError(f'kernel folder {source} holds no kernel '
                                    f'file ({", ".join(KERNEL_EXTS)})')
        return [k for f in files for k in _read_kernel_file(f, backend_args)]
    if not fileio.isfile(source, backend_args=backend_args):
        raise FileNotFoundError(
            f'kernel source {source} does not exist; give a folder of kernel '
            "files, a .mat file, or dict(type='motion', num=..., size=...) "
            'to generate motion-blur kernels')
    return _read_kernel_file(source, backend_args)


def pad_kernel(k: np.ndarray, size: int = 37) -> np.ndarray:
    """Zero-pad ``k`` to ``size×size`` keeping its centre ``⌊k/2⌋`` at
    ``⌊size/2⌋`` (so its OTF is unchanged)."""
    kh, kw = k.shape
    if kh > size or kw > size:
        raise ValueError(f'kernel {kh}x{kw} is larger than the padded size '
                         f'{size}')
    top, left = size // 2 - kh // 2, size // 2 - kw // 2
    return np.pad(k, ((top, size - kh - top), (left, size - kw - left)))


def blur(x: np.ndarray, k: np.ndarray, mode: str = 'valid') -> np.ndarray:
    """``fftconvolve(x, k, mode)`` per channel (``x`` is ``(H, W)`` or
    ``(H, W, C)``)."""
    if x.ndim == 3:
        return np.stack([blur(x[..., c], k, mode) for c in range(x.shape[2])],
                        -1)
    return fftconvolve(x, k, mode=mode)


def pad_for_kernel(y: np.ndarray, kshape: Tuple[int, int],
                   mode: str = 'edge') -> np.ndarray:
    """Pad a valid-mode blur back to the sharp image's size: ``kh − 1 −
    ⌊kh/2⌋`` rows before, ``⌊kh/2⌋`` after (likewise for columns)."""
    kh, kw = kshape
    pads = [(kh - 1 - kh // 2, kh // 2), (kw - 1 - kw // 2, kw // 2)]
    pads += [(0, 0)] * (y.ndim - 2)
    return np.pad(y, pads, mode=mode)


def edgetaper_alpha(k: np.ndarray, shape: Tuple[int, int]) -> np.ndarray:
    """The blending weights of :func:`edgetaper` (FDN / DPIR)."""
    v = []
    for i in range(2):
        z = np.fft.fft(np.sum(k, 1 - i), shape[i] - 1)
        z = np.real(np.fft.ifft(np.square(np.abs(z)))).astype(np.float32)
        z = np.concatenate([z, z[0:1]], 0)
        v.append(1 - z / np.max(z))
    return np.outer(*v)


def edgetaper(img: np.ndarray, k: np.ndarray, n_tapers: int = 3) -> np.ndarray:
    """Blend the borders with a circularly blurred copy (FDN ``edgetaper``):
    ``img ← α·img + (1 − α)·(k ⊛ img)`` ``n_tapers`` times, ``α`` from the
    kernel's autocorrelation (:func:`edgetaper_alpha`); ``img`` is ``(H,
    W)`` or ``(H, W, C)``."""
    alpha = edgetaper_alpha(k, img.shape[:2])
    kern = k
    if img.ndim == 3:
        kern = k[..., None]
        alpha = alpha[..., None]
    p = [(d - 1) // 2 for d in k.shape]
    pads = [p, p] + (img.ndim - 2) * [(0, 0)]
    for _ in range(n_tapers):
        blurred = fftconvolve(np.pad(img, pads, 'wrap'), kern, mode='valid')
        img = alpha * img + (1 - alpha) * blurred
    return img


def quantize_uint8(y: np.ndarray) -> np.ndarray:
    """Clip to ``[0, 1]`` and truncate to 8-bit levels (returned ``/255``)."""
    return np.floor(np.clip(y, 0, 1) * 255.0) / 255.0


def synthesize_blurry(x: np.ndarray,
                      k: np.ndarray,
                      sigma: float,
                      rng: np.random.Generator,
                      mode: str = 'valid',
                      quantize: bool = True,
                      n_tapers: int = 3) -> np.ndarray:
    """Blurry, noisy, edge-tapered observation of ``x`` (float64, ``x``'s
    size with ``mode='valid'``): blur, noise, optional ``uint8``
    quantisation, edge padding (valid mode only), edgetaper."""
    if mode not in ('valid', 'same'):
        raise ValueError(f"mode must be 'valid' or 'same', got {mode!r}")
    y = blur(x, k, mode)
    y = y + sigma * rng.standard_normal(y.shape)
    if quantize:
        y = quantize_uint8(y)
    if mode == 'valid':
        y = pad_for_kernel(y, k.shape)
    return edgetaper(y, k, n_tapers) if n_tapers else y
