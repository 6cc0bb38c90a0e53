from .fusion_data_sample import FusionDataSample

__all__ = ['FusionDataSample']
