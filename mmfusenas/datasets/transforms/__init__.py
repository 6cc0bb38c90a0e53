from .annotation_loading import LoadPairedAnnotations
from .enhance_transforms import LoadEnhanceImages, PackEnhanceInputs
from .formatting import PackFusionInputs
from .gisr_transforms import (GISRAugment, GISRDegrade, GISRModCrop,
                              GISRRandomCrop, LoadGISRSample,
                              PackGISRInputs, read_depth, read_rgb,
                              resize_depth)
from .geometric import (PairedRandomCrop, PairedRandomFlip, PairedRandomRot90,
                        PairedResize)
from .loading import LoadPairedImages
from .misalignment import (RandomElasticAffineWarp, invert_flow,
                           random_affine_elastic_field, remap_array)
from .restoration_transforms import (AddHaze, AddRainStreaks, KernelEdgeTaper,
                                     LevinBlur, LoadDepthMap, LoadLevinMat,
                                     LoadRestorationImages,
                                     PackRestorationInputs, RestorationCrop,
                                     SynthesizeBlur, read_image)
from .task_formatting import PackFusionDetInputs, PackFusionSegInputs

__all__ = [
    'LoadPairedImages', 'LoadPairedAnnotations', 'PairedRandomCrop',
    'PairedRandomFlip', 'PairedRandomRot90', 'PairedResize',
    'PackFusionInputs', 'PackFusionDetInputs', 'PackFusionSegInputs',
    'LoadEnhanceImages', 'PackEnhanceInputs', 'GISRAugment', 'GISRDegrade',
    'GISRModCrop', 'GISRRandomCrop', 'LoadGISRSample', 'PackGISRInputs',
    'read_depth', 'read_rgb', 'resize_depth', 'RandomElasticAffineWarp',
    'invert_flow', 'random_affine_elastic_field', 'remap_array', 'AddHaze',
    'AddRainStreaks', 'KernelEdgeTaper', 'LevinBlur', 'LoadDepthMap',
    'LoadLevinMat', 'LoadRestorationImages', 'PackRestorationInputs',
    'RestorationCrop', 'SynthesizeBlur', 'read_image'
]
