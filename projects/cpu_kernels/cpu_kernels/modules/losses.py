"""Kernel classes of the SSIM losses: the five local moments of the SSIM
filtered by the compiled separable passes on the CPU
(:func:`~cpu_kernels.separable_filter.separable_filter`; values
equal the convolutions' within float rounding,
``tests/test_projects/test_cpu_kernels/test_separable_filter.py``), forward and backward."""
import torch

from mmfusenas.models.losses import (FullReferenceQualityObjective,
                                     InfoPreservationLoss,
                                     SaliencyWeightedLoss, SSIMDistanceLoss,
                                     SSIMLoss, gaussian_moments)
from ..registry import kernel_module_for
from ..separable_filter import separable_filter

__all__ = [
    'ssim_moments', 'CpuSSIMLoss', 'CpuSaliencyWeightedLoss',
    'CpuInfoPreservationLoss', 'CpuSSIMDistanceLoss',
    'CpuFullReferenceQualityObjective'
]


def ssim_moments(x: torch.Tensor, y: torch.Tensor, taps: torch.Tensor,
                 padding: str) -> torch.Tensor:
    """:func:`~mmfusenas.models.losses.gaussian_moments` through
    :func:`~cpu_kernels.separable_filter.separable_filter` (NCHW
    moments on the CPU: the compiled passes read NCHW planes)."""
    if x.device.type == 'cpu':
        x, y = x.contiguous(), y.contiguous()
    return gaussian_moments(x, y, taps, padding, separable=separable_filter)


@kernel_module_for(SSIMLoss)
class CpuSSIMLoss(SSIMLoss):
    """:class:`~mmfusenas.models.losses.SSIMLoss` with :func:`ssim_moments`."""
    ssim_moments = staticmethod(ssim_moments)


@kernel_module_for(SaliencyWeightedLoss)
class CpuSaliencyWeightedLoss(SaliencyWeightedLoss):
    """:class:`~mmfusenas.models.losses.SaliencyWeightedLoss` with
    :func:`ssim_moments`."""
    ssim_moments = staticmethod(ssim_moments)


@kernel_module_for(InfoPreservationLoss)
class CpuInfoPreservationLoss(InfoPreservationLoss):
    """:class:`~mmfusenas.models.losses.InfoPreservationLoss` with
    :func:`ssim_moments`."""
    ssim_moments = staticmethod(ssim_moments)


@kernel_module_for(SSIMDistanceLoss)
class CpuSSIMDistanceLoss(SSIMDistanceLoss):
    """:class:`~mmfusenas.models.losses.SSIMDistanceLoss` with
    :func:`ssim_moments`."""
    ssim_moments = staticmethod(ssim_moments)


@kernel_module_for(FullReferenceQualityObjective)
class CpuFullReferenceQualityObjective(FullReferenceQualityObjective):
    """:class:`~mmfusenas.models.losses.FullReferenceQualityObjective`
    with :func:`ssim_moments`."""
    ssim_moments = staticmethod(ssim_moments)
