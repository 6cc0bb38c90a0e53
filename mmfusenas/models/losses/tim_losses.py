"""The fusion losses of TIM (Liu et al., TPAMI 2024, Sec. 4.2).

``forward(fused (N, 1, H, W), sources (N, M, H, W)) -> scalar``, as in
:mod:`.fusion_losses`; formulas in ``docs/user_guides/fusion_losses.md``.
"""
from typing import Optional, Sequence

import torch
import torch.nn.functional as F

from mmfusenas.registry import MODELS
from .fusion_losses import _FusionLoss
from .differentiable_ssim import gaussian_moments
from .differentiable_ssim import ssim as ssim_per_channel
from .vgg16_features import VGG16Features

INFO_MEASURES = ('gradient', 'entropy', 'vgg')

#: U2Fusion's gradient operator (a Laplacian scaled by 1/8).
_LAPLACIAN = torch.tensor([[1., 1., 1.], [1., -8., 1.], [1., 1., 1.]]) / 8.0


def _source_weights(weights: Optional[Sequence[float]], num_sources: int,
                    like: torch.Tensor, owner: str) -> torch.Tensor:
    """``weights`` as an ``(M,)`` tensor; None -> ``1/M`` each."""
    if weights is None:
        return like.new_full((num_sources, ), 1.0 / num_sources)
    if len(weights) != num_sources:
        raise ValueError(f'{owner}: source_weights has {len(weights)} '
                         f'entries but the batch has {num_sources} sources')
    return like.new_tensor(list(weights))


def _check_source_weights(weights: Optional[Sequence[float]],
                          owner: str) -> Optional[tuple]:
    if weights is None:
        return None
    weights = tuple(float(w) for w in weights)
    if not weights or any(w < 0 for w in weights):
        raise ValueError(f'{owner}: source_weights must be a non-empty '
                         f'sequence of non-negative numbers, got {weights}')
    return weights


def _pairwise_ssim(fused: torch.Tensor, sources: torch.Tensor,
                   **ssim_cfg) -> torch.Tensor:
    """``(N, M)`` mean SSIM of the fused image against every source."""
    return ssim_per_channel(
        fused.expand_as(sources), sources, data_range=1.0, **ssim_cfg)


def _normalised_softmax(measures: torch.Tensor,
                        temperature: float,
                        eps: float = 1e-12) -> torch.Tensor:
    """``softmax_m((g_m / sum_m g_m) / T)`` over the last axis."""
    num = measures.shape[-1]
    shares = (measures + eps) / (measures.sum(-1, keepdim=True) + num * eps)
    return torch.softmax(shares / temperature, dim=-1)


# saliency and information measures (no gradient: they weight the losses)
def grey_levels(images: torch.Tensor, levels: int = 256) -> torch.Tensor:
    """``round(clamp(x, 0, 1) * (levels - 1))`` as ``long`` (NaN -> 0)."""
    images = images.detach().nan_to_num(0.0, 1.0, 0.0)
    return torch.round(images.clamp(0, 1) * (levels - 1)).long()


def grey_histogram(images: torch.Tensor, levels: int = 256) -> torch.Tensor:
    """``(N, C, levels)`` normalised grey-level histograms of the images.

    A channel holding a NaN / Inf gives a NaN histogram, so the losses built on
    it are NaN and ``FiniteStepGuardHook`` names the samples.
    """
    n, c = images.shape[:2]
    q = grey_levels(images, levels).reshape(n * c, -1)
    offsets = torch.arange(n * c, device=q.device).unsqueeze(1) * levels
    counts = torch.bincount((q + offsets).flatten(), minlength=n * c * levels)
    hist = counts.view(n, c, levels).to(images.dtype) / q.shape[1]
    finite = torch.isfinite(images.detach()).flatten(2).all(-1)
    return hist.masked_fill(~finite.unsqueeze(-1), float('nan'))


def histogram_contrast(images: torch.Tensor,
                       levels: int = 256) -> torch.Tensor:
    """Histogram-contrast saliency ``M(i) = sum_j H(j) |j - i|`` per channel.

    Args:
        images (Tensor): ``(N, C, H, W)`` in ``[0, 1]``.
        levels (int): number of grey levels. Defaults to 256.

    Returns:
        Tensor: ``(N, C, H, W)`` saliency in grey levels (no gradient).
    """
    n, c = images.shape[:2]
    hist = grey_histogram(images, levels).reshape(n * c, levels)
    grid = torch.arange(levels, device=images.device, dtype=images.dtype)
    distance = (grid.unsqueeze(1) - grid.unsqueeze(0)).abs()  # |j - i|
    contrast = hist @ distance  # (NC, L): contrast[k, i]
    q = grey_levels(images, levels).reshape(n * c, -1)
    return contrast.gather(1, q).view_as(images)


def saliency_weights(sources: torch.Tensor,
                     levels: int = 256,
                     eps: float = 1e-6) -> torch.Tensor:
    """Per-pixel source weights ``(M_m + eps) / (sum_k M_k + K eps)`` from
    the histogram-contrast saliency ``M`` (sum to 1 over the sources).

    Args:
        sources (Tensor): ``(N, M, H, W)`` in ``[0, 1]``.
        levels (int): number of grey levels. Defaults to 256.
        eps (float): epsilon of the ratio. Defaults to 1e-6.

    Returns:
        Tensor: ``(N, M, H, W)`` weights (no gradient).
    """
    contrast = histogram_contrast(sources, levels)
    num = sources.shape[1]
    return (contrast + eps) / (contrast.sum(1, keepdim=True) + num * eps)


def laplacian_energy(x: torch.Tensor) -> torch.Tensor:
    """U2Fusion's gradient measure ``mean(|Laplacian(x) / 8|^2)``, ``(N,)``.

    The 3x3 Laplacian is applied per channel with replicate padding.
    """
    n, c, h, w = x.shape
    weight = _LAPLACIAN.to(x).view(1, 1, 3, 3).expand(n * c, 1, 3, 3)
    padded = F.pad(x, (1, 1, 1, 1), mode='replicate')
    grad = F.conv2d(
        padded.reshape(1, n * c, h + 2, w + 2), weight, groups=n * c)
    return grad.reshape(n, c, h, w).square().mean(dim=(1, 2, 3))


def grey_entropy(images: torch.Tensor, levels: int = 256) -> torch.Tensor:
    """``(N, C)`` Shannon entropy (bits) of the grey-level histograms."""
    hist = grey_histogram(images, levels)
    logs = torch.where(hist > 0,
                       hist.clamp_min(1e-30).log2(), torch.zeros_like(hist))
    return -(hist * logs).sum(-1)


@MODELS.register_module()
class IntensityLoss(_FusionLoss):
    """Intensity loss ``mean(F - sum_m w_m S_m)^2``.

    Args:
        source_weights (Sequence[float], optional): non-negative weight of
            each source, not renormalised. Defaults to None (``1/M`` each).
        loss_weight (float): multiplier of the loss. Defaults to 1.0.
        loss_name (str): log key. Defaults to 'loss_int'.
        output (str): the network output the loss reads. Defaults to 'fused'.
    """

    def __init__(self,
                 source_weights: Optional[Sequence[float]] = None,
                 loss_weight: float = 1.0,
                 loss_name: str = 'loss_int',
                 output: str = 'fused') -> None:
        super().__init__(loss_weight, loss_name, output)
        self.source_weights = _check_source_weights(source_weights,
                                                    'IntensityLoss')

    def forward(self, fused: torch.Tensor,
                sources: torch.Tensor) -> torch.Tensor:
        self._check(fused, sources)
        w = _source_weights(self.source_weights, sources.shape[1], sources,
                            'IntensityLoss')
        target = (sources * w.view(1, -1, 1, 1)).sum(1, keepdim=True)
        return self.loss_weight * F.mse_loss(fused, target)


@MODELS.register_module()
class SSIMLoss(_FusionLoss):
    """Structural loss ``sum_m w_m (1 - SSIM(F, S_m))`` (data range 1).

    Args:
        source_weights (Sequence[float], optional): non-negative weight of
            each source. Defaults to None (``1/M`` each).
        window_size (int): Gaussian window size. Defaults to 11.
        sigma (float): Gaussian standard deviation. Defaults to 1.5.
        padding (str): see :func:`~.differentiable_ssim.ssim_map`.
            Defaults to 'valid'.
        loss_weight (float): multiplier of the loss. Defaults to 1.0.
        loss_name (str): log key. Defaults to 'loss_ssim'.
        output (str): the network output the loss reads. Defaults to 'fused'.
    """

    ssim_moments = staticmethod(gaussian_moments)

    def __init__(self,
                 source_weights: Optional[Sequence[float]] = None,
                 window_size: int = 11,
                 sigma: float = 1.5,
                 padding: str = 'valid',
                 loss_weight: float = 1.0,
                 loss_name: str = 'loss_ssim',
                 output: str = 'fused') -> None:
        super().__init__(loss_weight, loss_name, output)
        self.source_weights = _check_source_weights(source_weights, 'SSIMLoss')
        self.ssim_cfg = dict(
            window_size=window_size, sigma=sigma, padding=padding)

    def forward(self, fused: torch.Tensor,
                sources: torch.Tensor) -> torch.Tensor:
        self._check(fused, sources)
        w = _source_weights(self.source_weights, sources.shape[1], sources,
                            'SSIMLoss')
        dissim = 1 - _pairwise_ssim(
            fused, sources, moments=self.ssim_moments,
            **self.ssim_cfg).mean(0)
        return self.loss_weight * (w * dissim).sum()


@MODELS.register_module()
class SaliencyWeightedLoss(_FusionLoss):
    """Saliency-weighted intensity + SSIM loss of TIM.

    ``sum_m mean(w_m (F - S_m))^2 + mu sum_m (1 - SSIM(w_m F, w_m S_m))`` with
    ``w`` from :func:`saliency_weights` (no gradient).

    Args:
        ssim_weight (float): ``mu``. Defaults to 1.0.
        levels (int): grey levels of the histogram. Defaults to 256.
        window_size, sigma, padding: SSIM options (11, 1.5, 'valid').
        loss_weight (float): multiplier of the loss. Defaults to 1.0.
        loss_name (str): log key. Defaults to 'loss_sal'.
        output (str): the network output the loss reads. Defaults to 'fused'.
    """

    ssim_moments = staticmethod(gaussian_moments)

    def __init__(self,
                 ssim_weight: float = 1.0,
                 levels: int = 256,
                 window_size: int = 11,
                 sigma: float = 1.5,
                 padding: str = 'valid',
                 loss_weight: float = 1.0,
                 loss_name: str = 'loss_sal',
                 output: str = 'fused') -> None:
        super().__init__(loss_weight, loss_name, output)
        self.ssim_weight = ssim_weight
        self.levels = levels
        self.ssim_cfg = dict(
            window_size=window_size, sigma=sigma, padding=padding)

    def weights(self, sources: torch.Tensor) -> torch.Tensor:
        """``(N, M, H, W)`` saliency weights of ``sources``."""
        return saliency_weights(sources, self.levels)

    def forward(self, fused: torch.Tensor,
                sources: torch.Tensor) -> torch.Tensor:
        self._check(fused, sources)
        w = self.weights(sources)
        loss_int = (w * (fused - sources)).square().mean(dim=(0, 2, 3)).sum()
        sim = ssim_per_channel(
            w * fused, w * sources, data_range=1.0,
            moments=self.ssim_moments, **self.ssim_cfg)
        loss_ssim = (1 - sim.mean(0)).sum()
        return self.loss_weight * (loss_int + self.ssim_weight * loss_ssim)


@MODELS.register_module()
class InfoPreservationLoss(_FusionLoss):
    """Information-preservation loss (U2Fusion-style).

    ``mean_n sum_m w_nm [mean(F_n - S_nm)^2 + mu (1 - SSIM(F_n, S_nm))]`` with
    ``w = softmax_m(g_nm / sum_k g_nk / T)`` from an information measure ``g``:
    ``'gradient'`` (:func:`laplacian_energy`), ``'entropy'``
    (:func:`grey_entropy`) or ``'vgg'`` (Laplacian energy of the VGG16
    relu1_2 ... relu5_3 features). The VGG16 weights are read from the local
    ``feature_weights`` on first use and are kept out of the state dict.

    Args:
        measure (str): ``'gradient'``, ``'entropy'`` or ``'vgg'``. Defaults
            to 'gradient'.
        feature_weights (str, optional): path of the torchvision VGG16 weights;
            required by, and only allowed with, ``measure='vgg'``.
        temperature (float): softmax temperature. Defaults to 0.5.
        ssim_weight (float): ``mu``. Defaults to 1.0.
        window_size, sigma, padding: SSIM options (11, 1.5, 'valid').
        loss_weight (float): multiplier of the loss. Defaults to 1.0.
        loss_name (str): log key. Defaults to 'loss_info'.
        output (str): the network output the loss reads. Defaults to 'fused'.
    """

    ssim_moments = staticmethod(gaussian_moments)

    def __init__(self,
                 measure: str = 'gradient',
                 feature_weights: Optional[str] = None,
                 temperature: float = 0.5,
                 ssim_weight: float = 1.0,
                 window_size: int = 11,
                 sigma: float = 1.5,
                 padding: str = 'valid',
                 loss_weight: float = 1.0,
                 loss_name: str = 'loss_info',
                 output: str = 'fused') -> None:
        super().__init__(loss_weight, loss_name, output)
        if measure not in INFO_MEASURES:
            raise ValueError(f'InfoPreservationLoss: measure must be one of '
                             f'{INFO_MEASURES}, got {measure!r}')
        if (measure == 'vgg') != (feature_weights is not None):
            raise ValueError(
                "InfoPreservationLoss: measure='vgg' needs feature_weights "
                '(a local VGG16 state dict), and feature_weights is only '
                f"used by measure='vgg'; got measure={measure!r}, "
                f'feature_weights={feature_weights!r}')
        if temperature <= 0:
            raise ValueError(f'InfoPreservationLoss: temperature must be > '
                             f'0, got {temperature}')
        self.measure = measure
        self.feature_weights = feature_weights
        self.temperature = temperature
        self.ssim_weight = ssim_weight
        self.ssim_cfg = dict(
            window_size=window_size, sigma=sigma, padding=padding)
        self._extractor = ()

    @property
    def extractor(self) -> VGG16Features:
        """The frozen VGG16 of ``measure='vgg'``, loaded on first use."""
        if self.measure != 'vgg':
            raise ValueError(f'InfoPreservationLoss: measure '
                                 f'{self.measure!r} uses no feature extractor')
        if not self._extractor:
            self._extractor = (VGG16Features(self.feature_weights), )
        return self._extractor[0]

    @torch.no_grad()
    def information(self, sources: torch.Tensor) -> torch.Tensor:
        """``(N, M)`` information measure :math:`g` of every source."""
        n, m = sources.shape[:2]
        if self.measure == 'entropy':
            return grey_entropy(sources)
        flat = sources.reshape(n * m, 1, *sources.shape[-2:])
        if self.measure == 'gradient':
            return laplacian_energy(flat).view(n, m)
        extractor = self.extractor
        extractor.to(device=flat.device)
        feats = extractor(flat.float())
        energy = sum(laplacian_energy(f) for f in feats)
        return energy.to(sources.dtype).view(n, m)

    def weights(self, sources: torch.Tensor) -> torch.Tensor:
        """``(N, M)`` adaptive weights :math:`\\omega` (sum to 1 per row)."""
        return _normalised_softmax(self.information(sources), self.temperature)

    def forward(self, fused: torch.Tensor,
                sources: torch.Tensor) -> torch.Tensor:
        self._check(fused, sources)
        w = self.weights(sources)
        mse = (fused - sources).square().mean(dim=(2, 3))
        dissim = 1 - _pairwise_ssim(
            fused, sources, moments=self.ssim_moments, **self.ssim_cfg)
        per_image = (w * (mse + self.ssim_weight * dissim)).sum(1)
        return self.loss_weight * per_image.mean()
