"""RUAS losses (Liu et al., TPAMI 2022): the scene loss and the denoiser loss.

Formulas in ``docs/methods/ruas.md`` ("Losses"). Each loss declares the
:class:`~mmfusenas.models.scene.RUASNet` fields it reads in ``inputs``.
"""
from typing import List, Tuple

import torch

from mmfusenas.registry import MODELS
from .restoration_losses import _NamedLoss

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
    """The official RUAS ``rgb2yCbCr``, quirks included.

    The NCHW memory is viewed as rows of three values (``.view(-1, 3)``), not
    RGB triples, as the official code does. ``(N, 3, H, W) -> (N, 3, H, W)``.
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

    ``2 * sum_o mean(exp(sigma_color * sum_c (I[p] - I[p+o])^2)) * mean|t[p] -
    t[p+o]|`` over the offsets of :data:`SMOOTH_OFFSETS` (a product of means,
    as coded).

    Args:
        guide (Tensor): ``(N, 3, H, W)`` low-light input y.
        t (Tensor): ``(N, C, H, W)`` illumination.
        sigma_color (float): exponent factor. Defaults to -0.005 (official).
        guide_mode (str): ``'ycbcr_official'`` (I = :func:`official_rgb2ycbcr`
            of y, training code) or ``'rgb'`` (I = y, search code).

    Returns:
        Tensor: scalar.
    """
    if guide_mode not in SMOOTH_GUIDES:
        raise ValueError(f'guide_mode must be one of {SMOOTH_GUIDES}, got '
                         f'{guide_mode!r}')
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


def official_tv(x: torch.Tensor) -> torch.Tensor:
    """The official denoiser ``TVLoss`` (as coded), a scalar.

    ``2 * (sum dh^2 / (C (H-1) W) + sum dw^2 / (C H (W-1))) / N``.
    """
    n, c, h, w = x.shape
    if h < 2 or w < 2:
        raise ValueError(f'official_tv needs H, W >= 2, got {(h, w)}')
    dh = (x[..., 1:, :] - x[..., :-1, :]).pow(2).sum()
    dw = (x[..., :, 1:] - x[..., :, :-1]).pow(2).sum()
    return 2 * (dh / (c * (h - 1) * w) + dw / (c * h * (w - 1))) / n


@MODELS.register_module()
class RUASSceneLoss(_NamedLoss):
    """Unsupervised scene loss on ``inputs = ('illumination', 'low')``.

    ``loss_weight * (fidelity_weight * mean((t - y)^2) + prior_weight *
    official_weighted_tv(y, t))``; the defaults are the official
    ``LossFunction``.

    Args:
        prior (str): ``'weighted_tv'`` (the only prior).
        fidelity_weight (float): Defaults to 0.5 (official).
        prior_weight (float): Defaults to 1.0 (official).
        guide (str): ``'ycbcr_official'`` or ``'rgb'``. Defaults to
            'ycbcr_official'.
        loss_weight (float): Defaults to 1.0.
        loss_name (str): log key. Defaults to 'loss_scene'.
    """

    inputs = ('illumination', 'low')

    def __init__(self,
                 prior: str = 'weighted_tv',
                 fidelity_weight: float = 0.5,
                 prior_weight: float = 1.0,
                 guide: str = 'ycbcr_official',
                 loss_weight: float = 1.0,
                 loss_name: str = 'loss_scene') -> None:
        super().__init__(loss_weight, loss_name)
        if prior != 'weighted_tv':
            raise ValueError(f"RUASSceneLoss: prior must be 'weighted_tv', "
                             f'got {prior!r}')
        if guide not in SMOOTH_GUIDES:
            raise ValueError(f'RUASSceneLoss: guide must be one of '
                             f'{SMOOTH_GUIDES}, got {guide!r}')
        self.prior = prior
        self.fidelity_weight = fidelity_weight
        self.prior_weight = prior_weight
        self.guide = guide

    def forward(self, illumination: torch.Tensor,
                low: torch.Tensor) -> torch.Tensor:
        """Args: illumination t_K and low-light input y, ``(N, 3, H, W)``."""
        if illumination.shape != low.shape:
            raise ValueError(f'{self.loss_name}: illumination '
                             f'{tuple(illumination.shape)} and input '
                             f'{tuple(low.shape)} differ')
        fidelity = (illumination - low).pow(2).mean()
        prior = official_weighted_tv(
            low, illumination, guide_mode=self.guide)
        return self.loss_weight * (
            self.fidelity_weight * fidelity + self.prior_weight * prior)

    def extra_repr(self) -> str:
        return (f'prior={self.prior!r}, fidelity_weight='
                f'{self.fidelity_weight}, prior_weight={self.prior_weight}')


@MODELS.register_module()
class RUASDenoiseLoss(_NamedLoss):
    """The official denoiser loss, reading ``('denoised', 'scene_output')``.

    ``loss_weight * (fidelity_weight * mean((u_d - u_K)^2) + tv_weight *
    official_tv(u_d))``.

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
        super().__init__(loss_weight, loss_name)
        self.fidelity_weight = fidelity_weight
        self.tv_weight = tv_weight

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
