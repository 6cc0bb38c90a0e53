from .paired_image_dataset import PairedImageDataset, detect_layout
from .transforms import *  # noqa: F401,F403

__all__ = [
    'PairedImageDataset', 'detect_layout', 'LoadPairedImages',
    'PairedRandomCrop', 'PairedRandomFlip', 'PairedRandomRot90',
    'PairedResize', 'PackFusionInputs'
]
