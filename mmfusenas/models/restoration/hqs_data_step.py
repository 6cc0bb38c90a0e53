"""The HQS data step of non-blind deconvolution (closed-form FFT solve).

Half-quadratic splitting of ``min_x ½‖k∗x − y‖² + Φ(x)`` alternates a
denoising step on the prior Φ and the quadratic *data step*
``x̃ = argmin_x ‖k∗x − y‖² + ρ_t ‖x − x_t‖²``, solved in the Fourier domain
with circular boundary conditions and :math:`\\hat K` = :func:`psf2otf`
``(k, H×W)``. :class:`HQSDeconv` is the ``Deconvolution`` layer of the
official hyper-guidance code (Keras / TF1, adapted from IRCNN / DPIR);
``ρ_t`` follows the DPIR / IRCNN schedule of :func:`dpir_rho_schedule` and
is a constant (a buffer), not a learned parameter.
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

    Each kernel is zero-padded to ``shape`` and circularly shifted by
    ``(-⌊kh/2⌋, -⌊kw/2⌋)``, so that its centre pixel ``(⌊kh/2⌋, ⌊kw/2⌋)``
    sits at the origin (the four quadrants go to the image corners); the
    2-D FFT of the result is the OTF. Even sizes are allowed (the centre is
    then the lower-right of the four middle pixels, as in MATLAB / the
    official code).

    Args:
        kernel (Tensor): ``(kh, kw)``, ``(N, kh, kw)`` or ``(N, 1, kh, kw)``
            real kernels.
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
    """Circular convolution ``k ∗ x`` centred at ``(⌊kh/2⌋, ⌊kw/2⌋)``.

    ``(k∗x)[i, j] = Σ_{a,b} k[a, b] · x[(i − a + ⌊kh/2⌋) mod H,
    (j − b + ⌊kw/2⌋) mod W]``, computed as ``Re F⁻¹[psf2otf(k)·F(x)]``.

    Args:
        x (Tensor): ``(N, C, H, W)`` images.
        kernel (Tensor): one kernel per image, ``(N, kh, kw)`` (or one
            ``(kh, kw)`` kernel for all).

    Returns:
        Tensor: ``(N, C, H, W)``.
    """
    otf = psf2otf(kernel.to(x.dtype), x.shape[-2:])
    if otf.shape[0] == 1 and x.shape[0] != 1:
        otf = otf.expand(x.shape[0], -1, -1)
    return torch.fft.ifft2(otf[:, None] * torch.fft.fft2(x)).real


def hqs_deconv(y: Tensor, kernel: Tensor, x: Tensor,
               rho: float | Tensor) -> Tensor:
    """Closed-form solution of ``min_x ‖k∗x − y‖² + ρ‖x − x_t‖²``.

    Args:
        y (Tensor): ``(N, C, H, W)`` observations.
        kernel (Tensor): ``(N, kh, kw)`` kernels (one per image; every
            channel of an image uses its kernel), any size up to ``H×W``.
        x (Tensor): ``(N, C, H, W)`` the current estimate ``x_t``.
        rho (float | Tensor): ``ρ_t > 0`` (a scalar or a tensor
            broadcastable to ``(N, 1, 1, 1)``).

    Returns:
        Tensor: ``(N, C, H, W)`` real part of the solution, in ``y``'s
        dtype. The FFTs run in complex64 for float32 inputs (as the official
        code), complex128 for float64.
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
    """Classical non-blind deconvolution: Wiener filtering with a gradient
    prior (Tikhonov regularisation of the image gradients).

    The closed-form minimiser, with circular boundaries, of

    .. math::

        \\lVert k * x - y \\rVert^2 + w\\,(\\lVert \\nabla_h x \\rVert^2
        + \\lVert \\nabla_v x \\rVert^2),
        \\qquad
        x = \\Re\\,\\mathcal F^{-1}\\Big[
            \\frac{\\overline{\\hat K}\\,\\mathcal F(y)}
                 {|\\hat K|^2 + w(|\\hat D_h|^2 + |\\hat D_v|^2)}\\Big],

    with ``D_h = [1, -1]``, ``D_v = [1, -1]ᵀ`` (forward differences). The
    mean of the image (frequency 0, where the gradient term vanishes) is
    kept as ``F(y)(0) / K̂(0)``. The classical baseline of learned
    deconvolution (one weight ``w``, tuned per noise level on training
    images).

    Args:
        y (Tensor): ``(N, C, H, W)`` observations (edge-tapered for
            non-circular blur).
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
    """``ρ_t = λ·255²/σ_t²`` with ``λ = σ²/3`` (official
    ``get_rho_and_net_index``; ``σ`` the noise level in ``[0, 1]`` units).

    For ``σ = 0.01`` and 5 stages: ``[9.03e-4, 1.753e-3, 3.403e-3,
    6.606e-3, 1.2825e-2]``.
    """
    if noise_sigma <= 0:
        raise ValueError(f'noise_sigma must be > 0, got {noise_sigma}')
    lam = noise_sigma**2 / 3.0
    return [
        lam * 255.0**2 / s**2
        for s in dpir_sigma_schedule(num_stages, sigma_start, sigma_end)
    ]


@MODELS.register_module()
class HQSDeconv(nn.Module):
    """The data step as a layer with a fixed ``ρ`` (a buffer).

    ``forward(y, x, kernel=k)`` returns :func:`hqs_deconv` ``(y, kernel, x,
    ρ)``. No trainable weights.

    Args:
        rho (float): ``ρ_t > 0``.
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
