"""Differentiable SSIM (Wang et al. 2004) built from torch convolutions.

The window is the 11x11 Gaussian (sigma 1.5) of the reference
implementation, applied as two separable depthwise convolutions; all five
local moments are filtered in one call. With ``padding='valid'`` and
``data_range`` matched to the input scale, :func:`ssim` equals
``mmfusenas.evaluation.functional.ssim(x, y, mode='gaussian')`` (the metric
used by the ``tang`` / ``vifb`` presets), which the tests check on uint8
images.
"""
import torch
import torch.nn.functional as F

from mmfusenas.models.ops.separable_filter import separable_filter

SSIM_PADDINGS = ('valid', 'reflect', 'zeros')


def gaussian_kernel1d(window_size: int = 11,
                      sigma: float = 1.5,
                      dtype: torch.dtype = torch.float32,
                      device=None) -> torch.Tensor:
    """Normalised 1-D Gaussian, the factor of MATLAB's
    ``fspecial('gaussian', window_size, sigma)``.

    Args:
        window_size (int): odd number of taps. Defaults to 11.
        sigma (float): standard deviation in pixels. Defaults to 1.5.
        dtype (torch.dtype): dtype of the result. Defaults to float32.
        device (torch.device, optional): device of the result.

    Returns:
        Tensor: ``(window_size,)`` taps summing to 1.
    """
    if window_size < 1 or window_size % 2 == 0:
        raise ValueError(f'window_size must be a positive odd number, got '
                         f'{window_size}')
    if sigma <= 0:
        raise ValueError(f'sigma must be > 0, got {sigma}')
    x = torch.arange(window_size, dtype=torch.float64) - (window_size - 1) / 2
    g = torch.exp(-x * x / (2.0 * sigma * sigma))
    return (g / g.sum()).to(dtype=dtype, device=device)


def _gaussian_filter(x: torch.Tensor, taps: torch.Tensor,
                     padding: str) -> torch.Tensor:
    """Separable depthwise Gaussian filter of ``(N, C, H, W)`` (compiled
    passes on the CPU, :func:`~mmfusenas.models.ops.separable_filter`);
    the result is NCHW-contiguous."""
    if padding in ('reflect', 'zeros'):
        r = taps.numel() // 2
        x = F.pad(x, (r, r, r, r),
                  mode='reflect' if padding == 'reflect' else 'constant')
    return separable_filter(x, taps, taps)


def ssim_map(x: torch.Tensor,
             y: torch.Tensor,
             window_size: int = 11,
             sigma: float = 1.5,
             data_range: float = 1.0,
             padding: str = 'valid') -> torch.Tensor:
    r"""Local SSIM of two image batches, channel by channel.

    .. math::

        SSIM = \frac{(2\mu_x\mu_y + C_1)(2\sigma_{xy} + C_2)}
                    {(\mu_x^2 + \mu_y^2 + C_1)(\sigma_x^2 + \sigma_y^2 + C_2)},
        \quad C_1 = (0.01 L)^2,\ C_2 = (0.03 L)^2

    with Gaussian-weighted (population) moments.

    Args:
        x (Tensor): ``(N, C, H, W)``.
        y (Tensor): same shape as ``x``.
        window_size (int): Gaussian window size (odd). Defaults to 11.
        sigma (float): Gaussian standard deviation. Defaults to 1.5.
        data_range (float): dynamic range :math:`L` of the inputs (1 for
            images in ``[0, 1]``, 255 for 8-bit values). Defaults to 1.0.
        padding (str): ``'valid'``: the map covers only the positions where
            the window fits (``(H - window_size + 1) x (W - ...)``), as the
            reference implementation and the evaluation metric;
            ``'reflect'``: the inputs are reflect-padded (OpenCV
            ``BORDER_REFLECT_101``), so the map is ``H x W`` and border
            pixels are supervised too; ``'zeros'``: zero padding (the
            ``H x W`` map of the ``pytorch_ssim`` package, used by HBL's
            loss). Defaults to 'valid'.

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
    taps = gaussian_kernel1d(window_size, sigma, x.dtype, x.device)
    channels = x.shape[1]
    if x.device.type == 'cpu':
        # NCHW moments: the filter's compiled passes read NCHW planes
        x, y = x.contiguous(), y.contiguous()
    moments = _gaussian_filter(
        torch.cat([x, y, x * x, y * y, x * y], dim=1), taps, padding)
    mu_x, mu_y, e_xx, e_yy, e_xy = moments.split(channels, dim=1)
    var_x = e_xx - mu_x * mu_x
    var_y = e_yy - mu_y * mu_y
    cov = e_xy - mu_x * mu_y
    c1, c2 = (0.01 * data_range)**2, (0.03 * data_range)**2
    return ((2 * mu_x * mu_y + c1) *
            (2 * cov + c2)) / ((mu_x * mu_x + mu_y * mu_y + c1) *
                               (var_x + var_y + c2))


def ssim(x: torch.Tensor, y: torch.Tensor, **kwargs) -> torch.Tensor:
    """Mean SSIM per image and channel.

    Args:
        x (Tensor): ``(N, C, H, W)``.
        y (Tensor): same shape as ``x``.
        **kwargs: options of :func:`ssim_map`.

    Returns:
        Tensor: ``(N, C)`` mean of the SSIM map.
    """
    return ssim_map(x, y, **kwargs).mean(dim=(2, 3))
