"""Data sets (paired fusion images with detection / segmentation
annotations, low-light, restoration, guided depth SR), their transforms and
the degradation models of the synthetic ones. The generators of the toy
data sets are :mod:`mmfusenas.testing.toy_data` (run by
``tools/misc/make_toy_*.py``)."""
from .deblur_dataset import (BlurredImageDataset, LevinDataset,
                             SyntheticDeblurDataset)
from .deblur_synthesis import (blur, edgetaper, edgetaper_alpha, load_kernels,
                               motion_blur_kernel, normalize_kernel,
                               pad_for_kernel, pad_kernel, quantize_uint8,
                               synthesize_blurry)
from .derain_dehaze_dataset import (SyntheticHazeDataset, SyntheticRainDataset,
                                    add_haze, rain_streaks)
from .gisr_dataset import GISRDataset
from .lowlight_det_dataset import (DARKFACE_CLASSES, EXDARK_CLASSES,
                                   DarkFaceDataset, ExDarkDataset)
from .lowlight_seg_dataset import ACDCDataset
from .paired_det_dataset import PairedDetDataset
from .paired_image_dataset import PairedImageDataset, detect_layout
from .paired_seg_dataset import (MFNET_CHANNELS, MFNET_CLASSES, MFNET_PALETTE,
                                 PairedSegDataset)
from .restoration_folder_dataset import (
    RESTORATION_LAYOUTS, HazeDataset, LowLightDataset,
    PairedRestorationDataset, RestorationFolderDataset,
    SyntheticRestorationDataset, UnderwaterDataset, detect_paired_layout,
    gt_stems, list_images, restoration_sample)
from .transforms import *  # noqa: F401,F403
from .transforms.restoration_transforms import read_image

__all__ = [
    'PairedImageDataset', 'PairedDetDataset', 'PairedSegDataset',
    'detect_layout', 'MFNET_CLASSES', 'MFNET_PALETTE', 'MFNET_CHANNELS',
    'LoadPairedImages', 'LoadPairedAnnotations', 'PairedRandomCrop',
    'PairedRandomFlip', 'PairedRandomRot90', 'PairedResize',
    'PackFusionInputs', 'PackFusionDetInputs', 'PackFusionSegInputs',
    'LowLightDataset', 'LoadEnhanceImages',
    'PackEnhanceInputs', 'ExDarkDataset', 'DarkFaceDataset', 'ACDCDataset',
    'EXDARK_CLASSES', 'DARKFACE_CLASSES',
    'SyntheticDeblurDataset', 'LevinDataset', 'BlurredImageDataset',
    'RestorationFolderDataset', 'SyntheticRestorationDataset', 'gt_stems',
    'restoration_sample',
    'list_images', 'read_image', 'blur', 'edgetaper',
    'edgetaper_alpha', 'load_kernels', 'motion_blur_kernel',
    'normalize_kernel', 'pad_for_kernel', 'pad_kernel', 'quantize_uint8',
    'synthesize_blurry',
    'RESTORATION_LAYOUTS', 'PairedRestorationDataset',
    'SyntheticHazeDataset', 'SyntheticRainDataset', 'add_haze',
    'rain_streaks', 'HazeDataset', 'UnderwaterDataset',
    'detect_paired_layout', 'GISRDataset'
]
