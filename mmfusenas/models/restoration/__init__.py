"""Restoration networks: unrolled HQS with proxy-based hyper-guidance."""
from .hqs_data_step import (HQSDeconv, circular_conv2d, dpir_rho_schedule,
                            dpir_sigma_schedule, hqs_deconv, psf2otf)
from .hqs_restoration_steps import AdditiveDataStep, HazeDataStep
from .hqs_restorer import (LOSS_TERMS, HQSRestorer,
                           RestorationDataPreprocessor, center_pad_kernels)
from .hqs_unrolled_net import (GUIDANCE_MODES, HQSOutputs, UnrolledHQSNet,
                               resolve_rhos)
from .proxy_nets import DENOISER_DILATIONS, DilatedDenoiser, NoiseLevelProxy

__all__ = [
    'HQSDeconv', 'circular_conv2d', 'dpir_rho_schedule',
    'dpir_sigma_schedule', 'hqs_deconv', 'psf2otf', 'LOSS_TERMS',
    'HQSRestorer', 'RestorationDataPreprocessor', 'center_pad_kernels',
    'GUIDANCE_MODES', 'HQSOutputs', 'UnrolledHQSNet', 'resolve_rhos',
    'DENOISER_DILATIONS', 'DilatedDenoiser', 'NoiseLevelProxy',
    'AdditiveDataStep', 'HazeDataStep'
]
