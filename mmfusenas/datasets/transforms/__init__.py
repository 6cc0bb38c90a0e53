from .formatting import PackFusionInputs
from .geometric import (PairedRandomCrop, PairedRandomFlip, PairedRandomRot90,
                        PairedResize)
from .loading import LoadPairedImages

__all__ = [
    'LoadPairedImages', 'PairedRandomCrop', 'PairedRandomFlip',
    'PairedRandomRot90', 'PairedResize', 'PackFusionInputs'
]
