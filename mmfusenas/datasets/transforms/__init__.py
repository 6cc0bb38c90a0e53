from .annotation_loading import LoadPairedAnnotations
from .enhance_transforms import LoadEnhanceImages, PackEnhanceInputs
from .formatting import PackFusionInputs
from .geometric import (PairedRandomCrop, PairedRandomFlip, PairedRandomRot90,
                        PairedResize)
from .loading import LoadPairedImages
from .task_formatting import PackFusionDetInputs, PackFusionSegInputs

__all__ = [
    'LoadPairedImages', 'LoadPairedAnnotations', 'PairedRandomCrop',
    'PairedRandomFlip', 'PairedRandomRot90', 'PairedResize',
    'PackFusionInputs', 'PackFusionDetInputs', 'PackFusionSegInputs',
    'LoadEnhanceImages', 'PackEnhanceInputs'
]
