from .enhance_data_preprocessor import EnhanceDataPreprocessor
from .image_enhancer import ROUNDINGS, ImageEnhancer, to_uint8, to_uint8_rgb

__all__ = [
    'EnhanceDataPreprocessor', 'ImageEnhancer', 'ROUNDINGS', 'to_uint8',
    'to_uint8_rgb'
]
