"""Restoration networks: unrolled HQS with proxy-based hyper-guidance
(``hqs_*``, ``proxy_*``) and HBL's Hadamard networks (``hbl_*``)."""
from .hqs_data_step import (HQSDeconv, circular_conv2d, dpir_rho_schedule,
                            dpir_sigma_schedule, gradient_wiener, hqs_deconv,
                            psf2otf)
from .hqs_restoration_steps import AdditiveDataStep, HazeDataStep
from .hqs_restorer import LOSS_TERMS, HQSRestorer
from .hqs_unrolled_net import (GUIDANCE_MODES, HQSOutputs, UnrolledHQSNet,
                               resolve_rhos)
from .hbl_net import (HBL_DECODER_POSITIONS, HBL_ENCODER_POSITIONS,
                      HBL_UNIT_EDGES, HBLDecoder, HBLEncoder, HBLNet,
                      hbl_genotype_choices, hbl_network_cfg, pad_to_multiple)
from .proxy_nets import DENOISER_DILATIONS, DilatedDenoiser, NoiseLevelProxy

__all__ = [
    'HQSDeconv', 'circular_conv2d', 'dpir_rho_schedule',
    'dpir_sigma_schedule', 'gradient_wiener', 'hqs_deconv', 'psf2otf',
    'LOSS_TERMS',
    'HQSRestorer',
    'GUIDANCE_MODES', 'HQSOutputs', 'UnrolledHQSNet', 'resolve_rhos',
    'DENOISER_DILATIONS', 'DilatedDenoiser', 'NoiseLevelProxy',
    'AdditiveDataStep', 'HazeDataStep', 'HBL_DECODER_POSITIONS',
    'HBL_ENCODER_POSITIONS', 'HBLDecoder', 'HBLEncoder', 'HBLNet',
    'pad_to_multiple', 'HBL_UNIT_EDGES', 'hbl_genotype_choices',
    'hbl_network_cfg'
]
