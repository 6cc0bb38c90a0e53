"""The kernel-backed module classes, one file per family of networks;
importing this package fills the table of
:mod:`~cpu_kernels.registry`."""
from .chains import CpuChannelsLastStem, CpuConvChain
from .hbl import CpuHBLConv, CpuHBLNet
from .losses import (CpuFullReferenceQualityObjective,
                     CpuInfoPreservationLoss, CpuSaliencyWeightedLoss,
                     CpuSSIMDistanceLoss, CpuSSIMLoss, ssim_moments)
from .ruas import (CpuRUASConv, CpuRUASDenoiseNet, CpuRUASDistillationCell,
                   CpuRUASIlluminationStage)
from .tim import (CpuECABlock, CpuReflectPadConv2d, CpuResidualUpSample,
                  CpuSKFF)
from . import training  # noqa: F401  (the fast training path's classes)

__all__ = [
    'CpuChannelsLastStem', 'CpuConvChain', 'CpuHBLConv', 'CpuHBLNet',
    'CpuFullReferenceQualityObjective', 'CpuInfoPreservationLoss',
    'CpuSaliencyWeightedLoss', 'CpuSSIMDistanceLoss', 'CpuSSIMLoss',
    'ssim_moments', 'CpuRUASConv', 'CpuRUASDenoiseNet',
    'CpuRUASDistillationCell', 'CpuRUASIlluminationStage', 'CpuECABlock',
    'CpuReflectPadConv2d', 'CpuResidualUpSample', 'CpuSKFF'
]
