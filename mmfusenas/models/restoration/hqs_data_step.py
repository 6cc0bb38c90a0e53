"""The HQS data step of non-blind deconvolution (closed-form FFT solve).

``x = argmin_x |k * x - y|^2 + rho |x - x_t|^2`` with circular boundaries;
:class:`HQSDeconv` is the ``Deconvolution`` layer of the official
hyper-guidance code (IRCNN / DPIR), ``rho`` from :func:`dpir_rho_schedule`.
"""
import math
from typing import Optional, Sequence

import torch
import torch.nn as nn
from torch import Tensor

from mmfusenas.registry import MODELS

__all__ = ['psf2otf', 'circular_conv2d', 'hqs_deconv', 'gradient_wiener',
           'dpir_rho_schedule', 'dpir_sigma_schedule', 'HQSDeconv']


def _check_kernels(kernel: Tensor, who: str) -> Tensor:
    if kernel.dim() == 2:
        kernel = kernel[None]
    if kernel.dim() == 4 and kernel.shape[1] == 1:
        kernel = kernel[:, 0]
    if kernel.dim() != 3:
        raise ValueError(f'{who}: kernels must be (kh, kw), (N, kh, kw) or '
                         f'(N, 1, kh, kw), got {tuple(kernel.shape)}')
    return kernel


def psf2otf(kernel: Tensor, shape: Sequence[int]) -> Tensor:
    """Optical transfer function of point-spread functions (MATLAB psf2otf).

    Args:
        kernel (Tensor): ``(kh, kw)``, ``(N, kh, kw)`` or ``(N, 1, kh, kw)``.
        shape (Sequence[int]): ``(H, W)``, at least the kernel size.

    Returns:
        Tensor: ``(N, H, W)`` complex64 (complex128 for float64 kernels).
    """
    kernel = _check_kernels(kernel, 'psf2otf')
    h, w = int(shape[0]), int(shape[1])
    kh, kw = kernel.shape[-2:]
    if kh > h or kw > w:
        raise ValueError(f'psf2otf: kernel {kh}x{kw} is larger than the '
                         f'image {h}x{w}')
    padded = kernel.new_zeros(kernel.shape[0], h, w)
    padded[:, :kh, :kw] = kernel
    padded = torch.roll(padded, shifts=(-(kh // 2), -(kw // 2)), dims=(1, 2))
    return torch.fft.fft2(padded)


def circular_conv2d(x: Tensor, kernel: Tensor) -> Tensor:
    """Circular convolution ``k * x`` centred at ``(kh // 2, kw // 2)``.

    Args:
        x (Tensor): ``(N, C, H, W)`` images.
        kernel (Tensor): ``(N, kh, kw)`` kernels, or one ``(kh, kw)``.

    Returns:
        Tensor: ``(N, C, H, W)``.
    """
    otf = psf2otf(kernel.to(x.dtype), x.shape[-2:])
    if otf.shape[0] == 1 and x.shape[0] != 1:
        otf = otf.expand(x.shape[0], -1, -1)
    return torch.fft.ifft2(otf[:, None] * torch.fft.fft2(x)).real


def hqs_deconv(y: Tensor, kernel: Tensor, x: Tensor,
               rho: float | Tensor) -> Tensor:
    """Closed-form solution of ``min_x |k * x - y|^2 + rho |x - x_t|^2``.

    Args:
        y (Tensor): ``(N, C, H, W)`` observations.
        kernel (Tensor): ``(N, kh, kw)`` kernels, one per image.
        x (Tensor): ``(N, C, H, W)`` the current estimate ``x_t``.
        rho (float | Tensor): ``rho > 0``, broadcastable to ``(N, 1, 1, 1)``.

    Returns:
        Tensor: ``(N, C, H, W)`` in ``y``'s dtype.
    """
    if y.dim() != 4 or x.shape != y.shape:
        raise ValueError(f'hqs_deconv: y and x must be equal (N, C, H, W) '
                         f'tensors, got {tuple(y.shape)} and '
                         f'{tuple(x.shape)}')
    kernel = _check_kernels(kernel, 'hqs_deconv')
    if kernel.shape[0] not in (1, y.shape[0]):
        raise ValueError(f'hqs_deconv: {kernel.shape[0]} kernels for '
                         f'{y.shape[0]} images')
    otf = psf2otf(kernel.to(y.dtype), y.shape[-2:])[:, None]
    rho = torch.as_tensor(rho, dtype=y.dtype, device=y.device)
    if rho.dim() == 1:
        rho = rho.view(-1, 1, 1, 1)
    numerator = otf.conj() * torch.fft.fft2(y) + rho * torch.fft.fft2(x)
    denominator = otf.abs().square() + rho
    return torch.fft.ifft2(numerator / denominator).real


def gradient_wiener(y: Tensor, kernel: Tensor,
                    weight: float | Tensor) -> Tensor:
    """Wiener deconvolution with a gradient (Tikhonov) prior.

    Closed-form minimiser of ``|k * x - y|^2 + w (|D_h x|^2 + |D_v x|^2)``
    with circular boundaries and forward differences; the image mean is kept.

    Args:
        y (Tensor): ``(N, C, H, W)`` observations.
        kernel (Tensor): ``(N, kh, kw)`` (or one ``(kh, kw)``) kernels.
        weight (float | Tensor): ``w > 0``.

    Returns:
        Tensor: ``(N, C, H, W)``, ``y``'s dtype.
    """
    if y.dim() != 4:
        raise ValueError(f'gradient_wiener: y must be (N, C, H, W), got '
                         f'{tuple(y.shape)}')
    w = float(weight)
    if not w > 0:
        raise ValueError(f'gradient_wiener: weight must be > 0, got {w}')
    kernel = _check_kernels(kernel, 'gradient_wiener')
    if kernel.shape[0] not in (1, y.shape[0]):
        raise ValueError(f'gradient_wiener: {kernel.shape[0]} kernels for '
                         f'{y.shape[0]} images')
    shape = y.shape[-2:]
    otf = psf2otf(kernel.to(y.dtype), shape)[:, None]
    dh = y.new_tensor([[[0., 1., -1.]]])
    dv = dh.transpose(1, 2)
    grad = psf2otf(dh, shape).abs().square() + \
        psf2otf(dv, shape).abs().square()
    return torch.fft.ifft2(otf.conj() * torch.fft.fft2(y) /
                           (otf.abs().square() + w * grad)).real


def dpir_sigma_schedule(num_stages: int,
                        sigma_start: float = 49.0,
                        sigma_end: float = 13.0) -> list:
    """``σ_t``: ``num_stages`` log-spaced values from ``sigma_start`` to
    ``sigma_end`` (0–255 scale), the DPIR / IRCNN denoiser-strength rule."""
    if num_stages < 1:
        raise ValueError(f'num_stages must be >= 1, got {num_stages}')
    if sigma_start <= 0 or sigma_end <= 0:
        raise ValueError('sigma_start and sigma_end must be > 0, got '
                         f'{sigma_start}, {sigma_end}')
    if num_stages == 1:
        return [float(sigma_start)]
    a, b = math.log10(sigma_start), math.log10(sigma_end)
    return [
        10**(a + (b - a) * i / (num_stages - 1)) for i in range(num_stages)
    ]


def dpir_rho_schedule(noise_sigma: float,
                      num_stages: int,
                      sigma_start: float = 49.0,
                      sigma_end: float = 13.0) -> list:
    """``rho_t = lambda 255^2 / sigma_t^2``, ``lambda = sigma^2 / 3``
    (DPIR)."""
    if noise_sigma <= 0:
        raise ValueError(f'noise_sigma must be > 0, got {noise_sigma}')
    lam = noise_sigma**2 / 3.0
    return [
        lam * 255.0**2 / s**2
        for s in dpir_sigma_schedule(num_stages, sigma_start, sigma_end)
    ]


@MODELS.register_module()
class HQSDeconv(nn.Module):
    """The data step as a layer with a fixed ``rho`` (a buffer).

    ``forward(y, x, kernel=k)`` returns ``hqs_deconv(y, k, x, rho)``.

    Args:
        rho (float): ``rho > 0``.
    """

    def __init__(self, rho: float) -> None:
        super().__init__()
        if not rho > 0:
            raise ValueError(f'HQSDeconv: rho must be > 0, got {rho}')
        self.register_buffer('rho', torch.tensor(float(rho)))

    def forward(self, y: Tensor, x: Optional[Tensor] = None,
                kernel: Optional[Tensor] = None) -> Tensor:
        if kernel is None:
            raise ValueError('HQSDeconv needs the blur kernels (kernel=)')
        return hqs_deconv(y, kernel, y if x is None else x, self.rho)

    def extra_repr(self) -> str:
        return f'rho={float(self.rho):.6g}'
