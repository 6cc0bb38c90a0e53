from .ruas_denoise import RUASDenoiseNet, RUASNoiseEstimator
from .ruas_illumination import (RUASIlluminationNet, RUASIlluminationStage,
                                local_max)
from .ruas_net import RUASNet, RUASOutputs

__all__ = [
    'RUASDenoiseNet', 'RUASNoiseEstimator', 'RUASIlluminationNet',
    'RUASIlluminationStage', 'local_max', 'RUASNet', 'RUASOutputs'
]
