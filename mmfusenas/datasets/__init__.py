from .lowlight_dataset import LowLightDataset, detect_lowlight_layout
from .paired_det_dataset import PairedDetDataset
from .paired_image_dataset import PairedImageDataset, detect_layout
from .paired_seg_dataset import (MFNET_CHANNELS, MFNET_CLASSES, MFNET_PALETTE,
                                 PairedSegDataset)
from .transforms import *  # noqa: F401,F403

__all__ = [
    'PairedImageDataset', 'PairedDetDataset', 'PairedSegDataset',
    'detect_layout', 'MFNET_CLASSES', 'MFNET_PALETTE', 'MFNET_CHANNELS',
    'LoadPairedImages', 'LoadPairedAnnotations', 'PairedRandomCrop',
    'PairedRandomFlip', 'PairedRandomRot90', 'PairedResize',
    'PackFusionInputs', 'PackFusionDetInputs', 'PackFusionSegInputs',
    'LowLightDataset', 'detect_lowlight_layout', 'LoadEnhanceImages',
    'PackEnhanceInputs'
]
