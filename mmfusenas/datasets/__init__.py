from .gisr_dataset import GISRDataset
from .toy_rgbd import generate_toy_rgbd
from .lowlight_dataset import LowLightDataset, detect_lowlight_layout
from .lowlight_det_dataset import (DARKFACE_CLASSES, EXDARK_CLASSES,
                                   DarkFaceDataset, ExDarkDataset)
from .lowlight_seg_dataset import ACDCDataset
from .paired_det_dataset import PairedDetDataset
from .paired_image_dataset import PairedImageDataset, detect_layout
from .paired_seg_dataset import (MFNET_CHANNELS, MFNET_CLASSES, MFNET_PALETTE,
                                 PairedSegDataset)
from .toy_lowlight_tasks import (TOY_TO_CITYSCAPES, TOY_TO_EXDARK,
                                 generate_toy_acdc, generate_toy_darkface,
                                 generate_toy_exdark,
                                 generate_toy_lowlight_task)
from .transforms import *  # noqa: F401,F403

__all__ = [
    'PairedImageDataset', 'PairedDetDataset', 'PairedSegDataset',
    'detect_layout', 'MFNET_CLASSES', 'MFNET_PALETTE', 'MFNET_CHANNELS',
    'LoadPairedImages', 'LoadPairedAnnotations', 'PairedRandomCrop',
    'PairedRandomFlip', 'PairedRandomRot90', 'PairedResize',
    'PackFusionInputs', 'PackFusionDetInputs', 'PackFusionSegInputs',
    'LowLightDataset', 'detect_lowlight_layout', 'LoadEnhanceImages',
    'PackEnhanceInputs', 'ExDarkDataset', 'DarkFaceDataset', 'ACDCDataset',
    'EXDARK_CLASSES', 'DARKFACE_CLASSES', 'generate_toy_exdark',
    'generate_toy_darkface', 'generate_toy_acdc',
    'generate_toy_lowlight_task', 'TOY_TO_EXDARK', 'TOY_TO_CITYSCAPES',
    'GISRDataset', 'generate_toy_rgbd'
]
