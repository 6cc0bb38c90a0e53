"""The fusion losses of TIM (Liu et al., TPAMI 2024, Sec. 4.2).

All losses follow the convention of :mod:`.fusion_losses`: ``forward(fused
(N, 1, H, W), sources (N, M, H, W)) -> scalar * loss_weight``, with a
``loss_name`` property. :class:`IntensityLoss` (:math:`\\ell_{int}`, MSE to
a target built from the sources), :class:`SSIMLoss`
(:math:`\\sum_m w_m (1 - SSIM(F, S_m))`), :class:`SaliencyWeightedLoss`
(:math:`\\ell_T`, histogram-contrast saliency weights per pixel) and
:class:`InfoPreservationLoss` (:math:`\\ell_F`, U2Fusion-style
information-preservation weights). Formulas, options and the differences
from the paper are in ``docs/user_guides/fusion_losses.md``.
"""
from typing import Optional, Sequence

import torch
import torch.nn.functional as F

from mmfusenas.registry import MODELS
from .fusion_losses import _FusionLoss
from .differentiable_ssim import gaussian_moments
from .differentiable_ssim import ssim as ssim_per_channel
from .vgg16_features import VGG16Features

INTENSITY_TARGETS = ('weighted', 'max', 'per_source')
SALIENCY_NORMALIZATIONS = ('ratio', 'softmax')
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
    """``softmax_m((g_m / sum_m g_m) / T)`` over the last axis.

    Normalising the measures first makes the temperature independent of the
    measure's unit and of the image content; all-zero measures give equal
    weights.
    """
    num = measures.shape[-1]
    shares = (measures + eps) / (measures.sum(-1, keepdim=True) + num * eps)
    return torch.softmax(shares / temperature, dim=-1)


# --------------------------------------------------------------------------
# saliency and information measures (no gradient: they weight the losses)
# --------------------------------------------------------------------------
def grey_levels(images: torch.Tensor, levels: int = 256) -> torch.Tensor:
    """Quantise ``[0, 1]`` images to integer grey levels.

    Args:
        images (Tensor): any shape, values in ``[0, 1]`` (clamped).
        levels (int): number of grey levels. Defaults to 256.

    Returns:
        Tensor: ``long`` tensor of ``round(x * (levels - 1))``; NaN maps to
        level 0, +-Inf to the end levels.
    """
    images = images.detach().nan_to_num(0.0, 1.0, 0.0)
    return torch.round(images.clamp(0, 1) * (levels - 1)).long()


def grey_histogram(images: torch.Tensor, levels: int = 256) -> torch.Tensor:
    """Normalised grey-level histogram of every image channel.

    Args:
        images (Tensor): ``(N, C, H, W)`` in ``[0, 1]``.
        levels (int): number of bins / grey levels. Defaults to 256.

    Returns:
        Tensor: ``(N, C, levels)`` histograms summing to 1 (dtype of
        ``images``); NaN for a channel holding a NaN / Inf, so that the
        losses built on it are NaN and the model's finite-loss check
        (:func:`~mmfusenas.utils.distributed.check_finite_losses`) names
        the samples, as it does for the other losses.
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
    r"""Histogram-contrast saliency map of every image channel.

    .. math:: M(i) = \sum_{j=0}^{L-1} H(j)\,|j - i|

    where :math:`H` is the normalised grey-level histogram of the image and
    :math:`i` the grey level of the pixel: the mean absolute grey-level
    distance from the pixel to all pixels of the image (in grey levels,
    ``[0, L-1]``). Vectorised: :math:`M` is computed for all :math:`L`
    levels at once as ``H @ D`` with ``D[j, i] = |j - i|``, then indexed by
    the pixels' levels.

    Args:
        images (Tensor): ``(N, C, H, W)`` in ``[0, 1]``.
        levels (int): number of grey levels. Defaults to 256.

    Returns:
        Tensor: ``(N, C, H, W)`` saliency (no gradient).
    """
    n, c = images.shape[:2]
    hist = grey_histogram(images, levels).reshape(n * c, levels)
    grid = torch.arange(levels, device=images.device, dtype=images.dtype)
    distance = (grid.unsqueeze(1) - grid.unsqueeze(0)).abs()  # |j - i|
    contrast = hist @ distance  # (NC, L): contrast[k, i]
    q = grey_levels(images, levels).reshape(n * c, -1)
    return contrast.gather(1, q).view_as(images)


def saliency_weights(sources: torch.Tensor,
                     normalize: str = 'ratio',
                     temperature: float = 32.0,
                     levels: int = 256,
                     eps: float = 1e-6) -> torch.Tensor:
    r"""Per-pixel source weights from the histogram-contrast saliency.

    * ``'ratio'``: :math:`\omega_m = (M_m + \epsilon) / (\sum_k M_k +
      K\epsilon)` (for two sources :math:`\omega_A = M_A / (M_A + M_B)`);
    * ``'softmax'`` (the paper's wording): :math:`\omega_m =
      \mathrm{softmax}_m(M_m / T)`, :math:`T` in grey levels.

    Both sum to 1 over the sources at every pixel; with :math:`\epsilon` a
    pixel where no source is salient gets equal weights.

    Args:
        sources (Tensor): ``(N, M, H, W)`` in ``[0, 1]``.
        normalize (str): ``'ratio'`` or ``'softmax'``. Defaults to 'ratio'.
        temperature (float): softmax temperature :math:`T` (grey levels).
            Defaults to 32.
        levels (int): number of grey levels. Defaults to 256.
        eps (float): :math:`\epsilon` of the ratio. Defaults to 1e-6.

    Returns:
        Tensor: ``(N, M, H, W)`` weights (no gradient).
    """
    contrast = histogram_contrast(sources, levels)
    if normalize == 'ratio':
        num = sources.shape[1]
        return (contrast + eps) / (contrast.sum(1, keepdim=True) + num * eps)
    if normalize == 'softmax':
        return torch.softmax(contrast / temperature, dim=1)
    raise ValueError(f'normalize must be one of {SALIENCY_NORMALIZATIONS}, '
                     f'got {normalize!r}')


def laplacian_energy(x: torch.Tensor) -> torch.Tensor:
    r"""U2Fusion's gradient measure :math:`\mathrm{mean}(|\nabla x|^2)`.

    :math:`\nabla` is the 3x3 Laplacian ``[[1,1,1],[1,-8,1],[1,1,1]] / 8``
    applied per channel with replicate padding; the squared response is
    averaged over channels and pixels.

    Args:
        x (Tensor): ``(N, C, H, W)``.

    Returns:
        Tensor: ``(N,)``.
    """
    n, c, h, w = x.shape
    # the images of the batch as channels of one depthwise convolution
    # (oneDNN's one-channel convolution is several times slower; same
    # values)
    weight = _LAPLACIAN.to(x).view(1, 1, 3, 3).expand(n * c, 1, 3, 3)
    padded = F.pad(x, (1, 1, 1, 1), mode='replicate')
    grad = F.conv2d(
        padded.reshape(1, n * c, h + 2, w + 2), weight, groups=n * c)
    return grad.reshape(n, c, h, w).square().mean(dim=(1, 2, 3))


def grey_entropy(images: torch.Tensor, levels: int = 256) -> torch.Tensor:
    r"""Shannon entropy :math:`-\sum_i H(i)\log_2 H(i)` of every channel.

    Args:
        images (Tensor): ``(N, C, H, W)`` in ``[0, 1]``.
        levels (int): number of grey levels. Defaults to 256.

    Returns:
        Tensor: ``(N, C)`` entropies in bits.
    """
    hist = grey_histogram(images, levels)
    logs = torch.where(hist > 0,
                       hist.clamp_min(1e-30).log2(), torch.zeros_like(hist))
    return -(hist * logs).sum(-1)


# --------------------------------------------------------------------------
# losses
# --------------------------------------------------------------------------
@MODELS.register_module()
class IntensityLoss(_FusionLoss):
    r"""Intensity loss :math:`\ell_{int}` (mean squared error).

    Targets (``w`` = ``source_weights``, ``1/M`` each by default):

    * ``'weighted'``: :math:`\mathrm{mean}\,(F - \sum_m w_m S_m)^2`;
    * ``'max'``: :math:`\mathrm{mean}\,(F - \max_m S_m)^2` (weights unused);
    * ``'per_source'`` (the paper's :math:`\sum_m \|F - S_m\|^2` form):
      :math:`\sum_m w_m\,\mathrm{mean}\,(F - S_m)^2`. With weights summing
      to 1 it has the gradient of ``'weighted'`` but is offset by the
      (constant) weighted variance of the sources, so its minimum is not 0.

    The squared norm is averaged over pixels and images (not summed), so the
    value does not depend on the image size.

    Args:
        target (str): ``'weighted'``, ``'max'`` or ``'per_source'``.
            Defaults to 'weighted'.
        source_weights (Sequence[float], optional): non-negative weight of
            each source, used as given (not renormalised). Defaults to None
            (``1/M`` each: the mean of the sources).
        loss_weight (float): multiplier of the loss. Defaults to 1.0.
        loss_name (str): log key. Defaults to 'loss_int'.
        output (str): the fusion-network output the loss reads
            (``'fused'`` or a declared branch name, see
            :mod:`mmfusenas.models.fusion.fusion_outputs`). Defaults to
            'fused'.
    """

    def __init__(self,
                 target: str = 'weighted',
                 source_weights: Optional[Sequence[float]] = None,
                 loss_weight: float = 1.0,
                 loss_name: str = 'loss_int',
                 output: str = 'fused') -> None:
        super().__init__(loss_weight, loss_name, output)
        if target not in INTENSITY_TARGETS:
            raise ValueError(f'IntensityLoss: target must be one of '
                             f'{INTENSITY_TARGETS}, got {target!r}')
        self.target = target
        self.source_weights = _check_source_weights(source_weights,
                                                    'IntensityLoss')

    def forward(self, fused: torch.Tensor,
                sources: torch.Tensor) -> torch.Tensor:
        self._check(fused, sources)
        if self.target == 'max':
            loss = F.mse_loss(fused, sources.amax(dim=1, keepdim=True))
            return self.loss_weight * loss
        w = _source_weights(self.source_weights, sources.shape[1], sources,
                            'IntensityLoss')
        if self.target == 'weighted':
            target = (sources * w.view(1, -1, 1, 1)).sum(1, keepdim=True)
            return self.loss_weight * F.mse_loss(fused, target)
        per_source = (fused - sources).square().mean(dim=(0, 2, 3))
        return self.loss_weight * (w * per_source).sum()


@MODELS.register_module()
class SSIMLoss(_FusionLoss):
    r"""Structural loss :math:`\ell_{ssim} = \sum_m w_m (1 - SSIM(F, S_m))`.

    SSIM is :func:`~mmfusenas.models.losses.ssim_map` (Gaussian window,
    ``data_range=1``) averaged over the map and the batch.

    Args:
        source_weights (Sequence[float], optional): non-negative weight of
            each source. Defaults to None (``1/M`` each).
        window_size (int): Gaussian window size. Defaults to 11.
        sigma (float): Gaussian standard deviation. Defaults to 1.5.
        padding (str): ``'valid'`` or ``'reflect'`` (see
            :func:`~mmfusenas.models.losses.ssim_map`). Defaults to
            'valid'.
        loss_weight (float): multiplier of the loss. Defaults to 1.0.
        loss_name (str): log key. Defaults to 'loss_ssim'.
        output (str): the fusion-network output the loss reads
            (``'fused'`` or a declared branch name, see
            :mod:`mmfusenas.models.fusion.fusion_outputs`). Defaults to
            'fused'.
    """

    #: computes the SSIM's local moments (``ssim_map(moments=...)``)
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
    r"""Saliency-weighted intensity + SSIM loss :math:`\ell_T` of TIM.

    .. math::

        \ell^V_{int} &= \sum_m \mathrm{mean}\,\big(\omega_m \odot
                        (F - S_m)\big)^2 \\
        \ell^V_{ssim} &= \sum_m \big(1 - SSIM(\omega_m \odot F,
                         \omega_m \odot S_m)\big) \\
        \ell_T &= \ell^V_{int} + \mu\,\ell^V_{ssim}

    with :math:`\omega_m` the per-pixel weights of :func:`saliency_weights`
    (histogram contrast :math:`M(i) = \sum_j H(j)|j - i|` of each source,
    normalised across the sources). The weights are computed from the
    sources only and carry no gradient.

    Args:
        ssim_weight (float): :math:`\mu`. Defaults to 1.0.
        normalize (str): ``'ratio'`` (:math:`M_m / \sum_k M_k`) or
            ``'softmax'`` (:math:`\mathrm{softmax}_m(M_m / T)`). Defaults
            to 'ratio'.
        temperature (float): :math:`T` of ``'softmax'``, in grey levels.
            Defaults to 32.
        levels (int): grey levels of the histogram. Defaults to 256.
        window_size (int): SSIM Gaussian window size. Defaults to 11.
        sigma (float): SSIM Gaussian standard deviation. Defaults to 1.5.
        padding (str): SSIM padding, ``'valid'`` or ``'reflect'``.
            Defaults to 'valid'.
        loss_weight (float): multiplier of the loss. Defaults to 1.0.
        loss_name (str): log key. Defaults to 'loss_sal'.
        output (str): the fusion-network output the loss reads
            (``'fused'`` or a declared branch name, see
            :mod:`mmfusenas.models.fusion.fusion_outputs`). Defaults to
            'fused'.
    """

    #: computes the SSIM's local moments (``ssim_map(moments=...)``)
    ssim_moments = staticmethod(gaussian_moments)

    def __init__(self,
                 ssim_weight: float = 1.0,
                 normalize: str = 'ratio',
                 temperature: float = 32.0,
                 levels: int = 256,
                 window_size: int = 11,
                 sigma: float = 1.5,
                 padding: str = 'valid',
                 loss_weight: float = 1.0,
                 loss_name: str = 'loss_sal',
                 output: str = 'fused') -> None:
        super().__init__(loss_weight, loss_name, output)
        if normalize not in SALIENCY_NORMALIZATIONS:
            raise ValueError(f'SaliencyWeightedLoss: normalize must be one '
                             f'of {SALIENCY_NORMALIZATIONS}, got '
                             f'{normalize!r}')
        if temperature <= 0:
            raise ValueError(f'SaliencyWeightedLoss: temperature must be > '
                             f'0, got {temperature}')
        self.ssim_weight = ssim_weight
        self.normalize = normalize
        self.temperature = temperature
        self.levels = levels
        self.ssim_cfg = dict(
            window_size=window_size, sigma=sigma, padding=padding)

    def weights(self, sources: torch.Tensor) -> torch.Tensor:
        """``(N, M, H, W)`` saliency weights of ``sources``."""
        return saliency_weights(sources, self.normalize, self.temperature,
                                self.levels)

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
    r"""Information-preservation loss :math:`\ell_F` (U2Fusion-style).

    .. math::

        \ell_F = \frac{1}{N}\sum_n \sum_m \omega_{n,m}\big[
                 \mathrm{mean}\,(F_n - S_{n,m})^2 + \mu\,(1 - SSIM(F_n,
                 S_{n,m}))\big]

    The adaptive weights :math:`\omega_{n,m} = \mathrm{softmax}_m(\hat g_{n,m}
    / T)` come from an information measure :math:`g` of each source image,
    normalised across the sources (:math:`\hat g_{n,m} = g_{n,m} / \sum_k
    g_{n,k}`); they carry no gradient. Measures:

    * ``'gradient'`` (default, no network): U2Fusion's gradient measure
      applied to the image itself, :func:`laplacian_energy`;
    * ``'entropy'``: Shannon entropy of the 256-bin histogram,
      :func:`grey_entropy`;
    * ``'vgg'`` (U2Fusion's feature measure): the sum over relu1_2 ...
      relu5_3 of VGG16 of :func:`laplacian_energy` of the features (the
      paper's ℓ_F, Sec. 4.2, and the default of the TIM configs on real
      data). Needs ``feature_weights``, a LOCAL torchvision VGG16 state dict
      (torchvision's ``vgg16-397923af.pth``); nothing is downloaded. The
      file is read when the weights are first needed (the first training
      loss), so a model built for inference does not need it; a missing
      file raises ``FileNotFoundError`` naming it and torchvision's file
      name and URL. The extractor is frozen and deliberately not a
      sub-module: its weights never reach the fusion model's optimiser,
      state dict or checkpoints (it follows the device of the inputs).

    Args:
        measure (str): ``'gradient'``, ``'entropy'`` or ``'vgg'``. Defaults
            to 'gradient'.
        feature_weights (str, optional): path of the VGG16 weights; required
            by, and only allowed with, ``measure='vgg'``. Defaults to None.
        temperature (float): softmax temperature :math:`T` applied to the
            normalised measures (in ``[0, 1]``). Defaults to 0.5.
        ssim_weight (float): :math:`\mu`. Defaults to 1.0.
        window_size (int): SSIM Gaussian window size. Defaults to 11.
        sigma (float): SSIM Gaussian standard deviation. Defaults to 1.5.
        padding (str): SSIM padding, ``'valid'`` or ``'reflect'``.
            Defaults to 'valid'.
        loss_weight (float): multiplier of the loss. Defaults to 1.0.
        loss_name (str): log key. Defaults to 'loss_info'.
        output (str): the fusion-network output the loss reads
            (``'fused'`` or a declared branch name, see
            :mod:`mmfusenas.models.fusion.fusion_outputs`). Defaults to
            'fused'.
    """

    #: computes the SSIM's local moments (``ssim_map(moments=...)``)
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
        # a tuple keeps the frozen extractor out of the module tree; it is
        # built (and the weights file read) on first use, see `extractor`
        self._extractor = ()

    @property
    def extractor(self) -> VGG16Features:
        """The frozen VGG16 of ``measure='vgg'``, loaded on first use from
        ``feature_weights`` (``FileNotFoundError`` naming the file and
        torchvision's file name / URL when it is missing)."""
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
