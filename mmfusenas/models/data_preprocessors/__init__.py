from .enhance_data_preprocessor import EnhanceDataPreprocessor
from .fusion_data_preprocessor import FusionDataPreprocessor, crop_to_shape
from .restoration_data_preprocessor import (RestorationDataPreprocessor,
                                            center_pad_kernels)

__all__ = [
    'EnhanceDataPreprocessor', 'FusionDataPreprocessor', 'crop_to_shape',
    'RestorationDataPreprocessor', 'center_pad_kernels'
]
