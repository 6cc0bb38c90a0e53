"""RUAS losses: the unsupervised scene loss and the denoiser loss.

Liu et al., *Learning with Nested Scene Modeling and Cooperative
Architecture Search for Low-Light Vision* (TPAMI 2022), Sec. 3, and the
CVPR 2021 code (``KarelZhang/RUAS``, ``loss.py``); the formulas of the code
are those of ``docs/methods/ruas.md`` ("Losses").

The losses read intermediate outputs of :class:`~mmfusenas.models.scene.
RUASNet`: each declares the fields it reads in ``inputs`` (see
:class:`~mmfusenas.models.enhancers.ImageEnhancer`) and is called with them
in that order. Every loss returns a scalar already multiplied by
``loss_weight``.
"""
import math
from typing import List, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F

from mmfusenas.registry import MODELS

#: structure priors of :class:`RUASSceneLoss`
SCENE_PRIORS = ('weighted_tv', 'rtv')
#: guide images of :func:`official_weighted_tv`
SMOOTH_GUIDES = ('ycbcr_official', 'rgb')

#: the 12 distinct offsets (dy, dx) of the official smoothness; each appears
#: twice in the code (difference taken in both directions), hence ``2 *``
#: in :func:`official_weighted_tv`
SMOOTH_OFFSETS: Tuple[Tuple[int, int], ...] = ((1, 0), (0, 1), (1, 1), (1, -1),
                                               (2, 0), (0, 2), (2, 1), (2, -1),
                                               (1, 2), (1, -2), (2, 2), (2, -2))

# official ``rgb2yCbCr`` matrix (0.564 where BT.601 has 0.504) and offset
_YCBCR_MAT = ((0.257, -0.148, 0.439), (0.564, -0.291, -0.368),
              (0.098, 0.439, -0.071))
_YCBCR_BIAS = (16.0 / 255.0, 128.0 / 255.0, 128.0 / 255.0)


def official_rgb2ycbcr(x: torch.Tensor) -> torch.Tensor:
    """The official ``rgb2yCbCr`` of the RUAS training code, quirks included.

    The ``(N, 3, H, W)`` tensor is viewed as rows of three consecutive
    values (``.view(-1, 3)`` of NCHW memory, i.e. three neighbours along W
    of one channel, not an RGB triple), right-multiplied by the 3x3 matrix,
    offset and viewed back. The official code views back to
    ``(1, 3, H, W)`` (batch size 1); here to ``(N, 3, H, W)``, identical at
    ``N = 1``.

    Args:
        x (Tensor): ``(N, 3, H, W)`` image.

    Returns:
        Tensor: ``(N, 3, H, W)``.
    """
    if x.dim() != 4 or x.shape[1] != 3:
        raise ValueError(f'official_rgb2ycbcr expects (N, 3, H, W), got '
                         f'{tuple(x.shape)}')
    mat = x.new_tensor(_YCBCR_MAT)
    bias = x.new_tensor(_YCBCR_BIAS)
    return (x.reshape(-1, 3) @ mat + bias).reshape(x.shape)


def _shifted_pair(x: torch.Tensor, dy: int,
                  dx: int) -> Tuple[torch.Tensor, torch.Tensor]:
    """``x[p]`` and ``x[p + (dy, dx)]`` over all valid pixels p."""
    h, w = x.shape[-2:]
    x0, x1 = max(0, -dx), w - max(0, dx)
    a = x[..., :h - dy, x0:x1]
    b = x[..., dy:, x0 + dx:x1 + dx]
    return a, b


def official_weighted_tv(guide: torch.Tensor,
                         t: torch.Tensor,
                         sigma_color: float = -0.005,
                         guide_mode: str = 'ycbcr_official') -> torch.Tensor:
    """The smoothness term of the official RUAS code (``SmoothLoss``).

    For each offset ``o`` of :data:`SMOOTH_OFFSETS`::

        w_o = exp(sigma_color * sum_c (I[p] - I[p + o])^2)    # (N, 1, H', W')
        g_o = mean |t[p] - t[p + o]|                          # one scalar
        term_o = mean(w_o * g_o) = mean(w_o) * g_o

    and the result is ``2 * sum_o term_o`` (the code lists every offset
    twice, with the difference in both directions: 24 terms). Because
    ``g_o`` is a scalar this is a product of means, not a per-pixel
    weighted TV (as coded). ``sigma_color = -1.0 / 2 * sigma * sigma`` with
    ``sigma = 0.1`` is -0.005 in the code (operator precedence; the
    textbook ``-1 / (2 sigma^2)`` would be -50).

    Args:
        guide (Tensor): ``(N, 3, H, W)`` low-light input y.
        t (Tensor): ``(N, C, H, W)`` illumination t_K.
        sigma_color (float): exponent factor. Defaults to -0.005 (official).
        guide_mode (str): ``'ycbcr_official'``: I = :func:`official_rgb2ycbcr`
            (y), as in the training code (``model.py``); ``'rgb'``: I = y,
            as in the search code (``model_search.py``). Defaults to
            'ycbcr_official'.

    Returns:
        Tensor: scalar.
    """
    if guide_mode not in SMOOTH_GUIDES:
        raise ValueError(f'guide_mode must be one of {SMOOTH_GUIDES}, got '
                         f'{guide_mode!r}')
    if guide.shape[0] != t.shape[0] or guide.shape[-2:] != t.shape[-2:]:
        raise ValueError(f'guide {tuple(guide.shape)} and illumination '
                         f'{tuple(t.shape)} do not match')
    if min(t.shape[-2:]) < 3:
        raise ValueError('official_weighted_tv needs H, W >= 3 (offsets up '
                         f'to 2), got {tuple(t.shape[-2:])}')
    img = official_rgb2ycbcr(guide) if guide_mode == 'ycbcr_official' \
        else guide
    terms: List[torch.Tensor] = []
    for dy, dx in SMOOTH_OFFSETS:
        ia, ib = _shifted_pair(img, dy, dx)
        ta, tb = _shifted_pair(t, dy, dx)
        w = torch.exp(sigma_color * (ia - ib).pow(2).sum(1, keepdim=True))
        terms.append(w.mean() * (ta - tb).abs().mean())
    return 2 * torch.stack(terms).sum()


def _gaussian_blur(x: torch.Tensor, sigma: float) -> torch.Tensor:
    """Separable Gaussian blur per channel, radius ``ceil(3 sigma)``,
    replicate padding."""
    radius = max(1, math.ceil(3.0 * sigma))
    coords = torch.arange(-radius, radius + 1, dtype=x.dtype, device=x.device)
    kernel = torch.exp(-coords**2 / (2 * sigma * sigma))
    kernel = kernel / kernel.sum()
    c = x.shape[1]
    kx = kernel.view(1, 1, 1, -1).repeat(c, 1, 1, 1)
    ky = kernel.view(1, 1, -1, 1).repeat(c, 1, 1, 1)
    x = F.pad(x, (radius, radius, radius, radius), mode='replicate')
    return F.conv2d(F.conv2d(x, kx, groups=c), ky, groups=c)


def relative_total_variation(t: torch.Tensor,
                             sigma: float = 3.0,
                             eps: float = 1e-3) -> torch.Tensor:
    """Relative total variation ``||t||_RTV`` (Xu et al., SIGGRAPH Asia 2012).

    The paper's structure prior (TPAMI Eq. 5 context)::

        D_d(p) = sum_q g_sigma(p, q) |d_d t(q)|       (windowed total variation)
        L_d(p) = | sum_q g_sigma(p, q) d_d t(q) |     (windowed inherent variation)
        RTV = mean_{p,c} [ D_x / (L_x + eps) + D_y / (L_y + eps) ]

    with forward differences ``d_x``, ``d_y`` (zero at the last column /
    row) and a Gaussian window of std ``sigma``. The mean over pixels and
    channels (Xu et al. sum) keeps the weight independent of the image
    size.

    Args:
        t (Tensor): ``(N, C, H, W)``.
        sigma (float): window std in pixels, > 0. Defaults to 3.0 (Xu et al.
            use 1-6).
        eps (float): stabiliser of the division, > 0. Defaults to 1e-3
            (Xu et al.).

    Returns:
        Tensor: scalar.
    """
    if sigma <= 0 or eps <= 0:
        raise ValueError(f'sigma and eps must be > 0, got {sigma}, {eps}')
    dx = F.pad(t[..., :, 1:] - t[..., :, :-1], (0, 1, 0, 0))
    dy = F.pad(t[..., 1:, :] - t[..., :-1, :], (0, 0, 0, 1))
    grads = torch.cat([dx, dy], dim=1)
    total = _gaussian_blur(grads.abs(), sigma)
    inherent = _gaussian_blur(grads, sigma).abs()
    return (total / (inherent + eps)).mean() * 2


def official_tv(x: torch.Tensor) -> torch.Tensor:
    """The ``TVLoss`` of the official denoiser loss (as coded)::

        2 * (sum dh^2 / (C (H-1) W) + sum dw^2 / (C H (W-1))) / N

    Args:
        x (Tensor): ``(N, C, H, W)`` with H, W >= 2.

    Returns:
        Tensor: scalar.
    """
    n, c, h, w = x.shape
    if h < 2 or w < 2:
        raise ValueError(f'official_tv needs H, W >= 2, got {(h, w)}')
    dh = (x[..., 1:, :] - x[..., :-1, :]).pow(2).sum()
    dw = (x[..., :, 1:] - x[..., :, :-1]).pow(2).sum()
    return 2 * (dh / (c * (h - 1) * w) + dw / (c * h * (w - 1))) / n


@MODELS.register_module()
class RUASSceneLoss(nn.Module):
    """Unsupervised scene loss ``ℓ_s`` on the illumination t_K.

    ::

        ℓ_s = loss_weight * (fidelity_weight * mean((t_K - y)^2)
                             + prior_weight * prior(t_K))

    * ``prior='weighted_tv'`` (official code): :func:`official_weighted_tv`
      guided by y; with the defaults ``fidelity_weight=0.5``,
      ``prior_weight=1`` this is the official ``LossFunction`` (``0.5 *
      MSE + Smooth``).
    * ``prior='rtv'`` (paper): :func:`relative_total_variation` of t_K, the
      paper's ``||t_K - y||^2 + η ||t_K||_RTV`` (``prior_weight`` = η).

    Paper vs code: the paper writes the squared norm (a sum) and RTV; the
    code uses the mean squared error and the weighted smoothness. Both use
    the mean here, so the two priors differ only in the structure term.

    Reads ``inputs = ('illumination', 'low')``.

    Args:
        prior (str): ``'weighted_tv'`` or ``'rtv'``. Defaults to
            'weighted_tv'.
        fidelity_weight (float): weight of the fidelity term. Defaults to 0.5
            (official).
        prior_weight (float): λ_s / η, weight of the prior. Defaults to 1.0
            (official).
        sigma_color (float): ``'weighted_tv'`` exponent factor. Defaults to
            -0.005 (official).
        guide (str): ``'weighted_tv'`` guide, ``'ycbcr_official'`` (training
            code) or ``'rgb'`` (search code). Defaults to 'ycbcr_official'.
        rtv_sigma (float): ``'rtv'`` window std. Defaults to 3.0.
        rtv_eps (float): ``'rtv'`` stabiliser. Defaults to 1e-3.
        loss_weight (float): overall weight. Defaults to 1.0.
        loss_name (str): log key. Defaults to 'loss_scene'.
    """

    inputs = ('illumination', 'low')

    def __init__(self,
                 prior: str = 'weighted_tv',
                 fidelity_weight: float = 0.5,
                 prior_weight: float = 1.0,
                 sigma_color: float = -0.005,
                 guide: str = 'ycbcr_official',
                 rtv_sigma: float = 3.0,
                 rtv_eps: float = 1e-3,
                 loss_weight: float = 1.0,
                 loss_name: str = 'loss_scene') -> None:
        super().__init__()
        if prior not in SCENE_PRIORS:
            raise ValueError(f'RUASSceneLoss: prior must be one of '
                             f'{SCENE_PRIORS}, got {prior!r}')
        if guide not in SMOOTH_GUIDES:
            raise ValueError(f'RUASSceneLoss: guide must be one of '
                             f'{SMOOTH_GUIDES}, got {guide!r}')
        self.prior = prior
        self.fidelity_weight = fidelity_weight
        self.prior_weight = prior_weight
        self.sigma_color = sigma_color
        self.guide = guide
        self.rtv_sigma = rtv_sigma
        self.rtv_eps = rtv_eps
        self.loss_weight = loss_weight
        self._loss_name = loss_name

    @property
    def loss_name(self) -> str:
        return self._loss_name

    def forward(self, illumination: torch.Tensor,
                low: torch.Tensor) -> torch.Tensor:
        """Args: illumination t_K and low-light input y, ``(N, 3, H, W)``."""
        if illumination.shape != low.shape:
            raise ValueError(f'{self.loss_name}: illumination '
                             f'{tuple(illumination.shape)} and input '
                             f'{tuple(low.shape)} differ')
        fidelity = (illumination - low).pow(2).mean()
        if self.prior == 'weighted_tv':
            prior = official_weighted_tv(low, illumination, self.sigma_color,
                                         self.guide)
        else:
            prior = relative_total_variation(illumination, self.rtv_sigma,
                                             self.rtv_eps)
        return self.loss_weight * (
            self.fidelity_weight * fidelity + self.prior_weight * prior)

    def extra_repr(self) -> str:
        return (f'prior={self.prior!r}, fidelity_weight='
                f'{self.fidelity_weight}, prior_weight={self.prior_weight}')


@MODELS.register_module()
class RUASDenoiseLoss(nn.Module):
    """The official denoiser loss (``DenoiseLossFunction``)::

        loss_weight * (fidelity_weight * mean((u_d - u_K)^2)
                       + tv_weight * official_tv(u_d))

    u_d the denoised image, u_K the scene output (official ``u_list[-1]``,
    ``u_list[-2]``). The paper gives no formula for it.

    Reads ``inputs = ('denoised', 'scene_output')``.

    Args:
        fidelity_weight (float): Defaults to 1e-7 (official).
        tv_weight (float): Defaults to 1.0 (official).
        loss_weight (float): Defaults to 1.0.
        loss_name (str): log key. Defaults to 'loss_denoise'.
    """

    inputs = ('denoised', 'scene_output')

    def __init__(self,
                 fidelity_weight: float = 1e-7,
                 tv_weight: float = 1.0,
                 loss_weight: float = 1.0,
                 loss_name: str = 'loss_denoise') -> None:
        super().__init__()
        self.fidelity_weight = fidelity_weight
        self.tv_weight = tv_weight
        self.loss_weight = loss_weight
        self._loss_name = loss_name

    @property
    def loss_name(self) -> str:
        return self._loss_name

    def forward(self, denoised: torch.Tensor,
                scene_output: torch.Tensor) -> torch.Tensor:
        """Args: u_d and u_K, ``(N, C, H, W)``."""
        if denoised.shape != scene_output.shape:
            raise ValueError(f'{self.loss_name}: denoised '
                             f'{tuple(denoised.shape)} and scene output '
                             f'{tuple(scene_output.shape)} differ')
        fidelity = (denoised - scene_output).pow(2).mean()
        return self.loss_weight * (self.fidelity_weight * fidelity +
                                   self.tv_weight * official_tv(denoised))
