from .fusion_data_preprocessor import FusionDataPreprocessor, crop_to_shape

__all__ = ['FusionDataPreprocessor', 'crop_to_shape']
