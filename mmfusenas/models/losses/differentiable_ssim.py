"""Differentiable SSIM (Wang et al. 2004) from separable Gaussian convs.

With ``padding='valid'`` :func:`ssim` equals
``mmfusenas.evaluation.functional.ssim(mode='gaussian')``. :func:`ssim_map`
takes the moment computation as ``moments``; the SSIM losses pass their
``ssim_moments`` attribute, which a subclass may replace.
"""
from typing import Callable

import torch
import torch.nn.functional as F

SSIM_PADDINGS = ('valid', 'reflect', 'zeros')


def gaussian_kernel1d(window_size: int = 11,
                      sigma: float = 1.5,
                      dtype: torch.dtype = torch.float32,
                      device=None) -> torch.Tensor:
    """Normalised 1-D Gaussian, the factor of MATLAB's
    ``fspecial('gaussian')``."""
    if window_size < 1 or window_size % 2 == 0:
        raise ValueError(f'window_size must be a positive odd number, got '
                         f'{window_size}')
    if sigma <= 0:
        raise ValueError(f'sigma must be > 0, got {sigma}')
    x = torch.arange(window_size, dtype=torch.float64) - (window_size - 1) / 2
    g = torch.exp(-x * x / (2.0 * sigma * sigma))
    return (g / g.sum()).to(dtype=dtype, device=device)


def separable_conv2d(x: torch.Tensor, horizontal: torch.Tensor,
                     vertical: torch.Tensor) -> torch.Tensor:
    """Valid separable correlation of every plane: ``horizontal`` along the
    rows, then ``vertical`` along the columns; contiguous output.
    """
    c = x.shape[1]
    h_w = horizontal.to(x).view(1, 1, 1, -1).expand(c, 1, 1, -1)
    v_w = vertical.to(x).view(1, 1, -1, 1).expand(c, 1, -1, 1)
    return F.conv2d(F.conv2d(x, h_w, groups=c), v_w, groups=c).contiguous()


def pad_for_ssim(x: torch.Tensor, radius: int, padding: str) -> torch.Tensor:
    """``x`` padded by ``radius`` on every side as ``padding`` asks
    (``'reflect'``, ``'zeros'``; ``'valid'`` leaves it as it is)."""
    if padding in ('reflect', 'zeros'):
        x = F.pad(x, (radius, ) * 4,
                  mode='reflect' if padding == 'reflect' else 'constant')
    return x


def gaussian_moments(x: torch.Tensor,
                     y: torch.Tensor,
                     taps: torch.Tensor,
                     padding: str,
                     separable: Callable = separable_conv2d) -> torch.Tensor:
    """``(N, 5C, H', W')`` local means of ``x``, ``y``, ``xx``, ``yy``, ``xy``.

    Args:
        x (Tensor): ``(N, C, H, W)``.
        y (Tensor): same shape as ``x``.
        taps (Tensor): the 1-D Gaussian.
        padding (str): see :func:`ssim_map`.
        separable (Callable): the valid separable filter. Defaults to
            :func:`separable_conv2d`.
    """
    stack = torch.cat([x, y, x * x, y * y, x * y], dim=1)
    stack = pad_for_ssim(stack, taps.numel() // 2, padding)
    return separable(stack, taps, taps)


#: the signature of :func:`gaussian_moments` (``ssim_map``'s ``moments``)
MomentsFn = Callable[[torch.Tensor, torch.Tensor, torch.Tensor, str],
                     torch.Tensor]


def ssim_map(x: torch.Tensor,
             y: torch.Tensor,
             window_size: int = 11,
             sigma: float = 1.5,
             data_range: float = 1.0,
             padding: str = 'valid',
             moments: MomentsFn = gaussian_moments) -> torch.Tensor:
    """Local SSIM of two image batches, channel by channel.

    Args:
        x (Tensor): ``(N, C, H, W)``.
        y (Tensor): same shape as ``x``.
        window_size (int): odd Gaussian window size. Defaults to 11.
        sigma (float): Gaussian standard deviation. Defaults to 1.5.
        data_range (float): dynamic range of the inputs. Defaults to 1.0.
        padding (str): ``'valid'`` (only where the window fits, as the
            reference), ``'reflect'`` or ``'zeros'`` (``H x W`` map, zeros as
            ``pytorch_ssim``). Defaults to 'valid'.
        moments (Callable): computes the local moments. Defaults to
            :func:`gaussian_moments`.

    Returns:
        Tensor: ``(N, C, H', W')`` SSIM map.
    """
    if x.shape != y.shape or x.dim() != 4:
        raise ValueError(f'ssim_map expects two (N, C, H, W) tensors of the '
                         f'same shape, got {tuple(x.shape)} and '
                         f'{tuple(y.shape)}')
    if padding not in SSIM_PADDINGS:
        raise ValueError(f'padding must be one of {SSIM_PADDINGS}, got '
                         f'{padding!r}')
    if padding == 'valid' and min(x.shape[-2:]) < window_size:
        raise ValueError(
            f"SSIM with padding='valid' needs images of at least "
            f'{window_size}x{window_size}, got {tuple(x.shape[-2:])}; use '
            "padding='reflect' or a smaller window_size")
    if torch.is_autocast_enabled(x.device.type):
        # float32 under autocast: the denominator's square in the backward
        # (~1e-14 where both images are flat) is zero in float16
        with torch.autocast(x.device.type, enabled=False):
            return ssim_map(x.float(), y.float(), window_size, sigma,
                            data_range, padding, moments)
    taps = gaussian_kernel1d(window_size, sigma, x.dtype, x.device)
    channels = x.shape[1]
    mu_x, mu_y, e_xx, e_yy, e_xy = moments(x, y, taps, padding).split(
        channels, dim=1)
    var_x = e_xx - mu_x * mu_x
    var_y = e_yy - mu_y * mu_y
    cov = e_xy - mu_x * mu_y
    c1, c2 = (0.01 * data_range)**2, (0.03 * data_range)**2
    return ((2 * mu_x * mu_y + c1) *
            (2 * cov + c2)) / ((mu_x * mu_x + mu_y * mu_y + c1) *
                               (var_x + var_y + c2))


def ssim(x: torch.Tensor, y: torch.Tensor, **kwargs) -> torch.Tensor:
    """``(N, C)`` mean SSIM per image and channel (options of
    :func:`ssim_map`)."""
    return ssim_map(x, y, **kwargs).mean(dim=(2, 3))
