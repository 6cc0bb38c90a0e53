from .fusion_losses import MaxGradientLoss, MaxIntensityLoss, sobel_magnitude
from .differentiable_ssim import (gaussian_kernel1d, gaussian_moments, ssim,
                                  ssim_map)
from .quality_objectives import (ClassifierQualityObjective,
                                 FullReferenceQualityObjective,
                                 NoReferenceQualityObjective, ResNet18)
from .restoration_losses import (HBL_VGG_GROUPS, HBL_VGG_LAYERS, ColorAngleLoss,
                                 LaplacianLoss, LPIPSLoss, PixelL1Loss,
                                 PixelMSELoss, SSIMDistanceLoss,
                                 TotalVariationLoss, VGGLayerMixtureLoss,
                                 alexnet_layers, color_angle, vgg19_layers)
from .registration_losses import (FlowEPELoss, FlowSmoothnessLoss,
                                  LocalNCCLoss, NGFLoss)
from .ruas_losses import (RUASDenoiseLoss, RUASSceneLoss, official_rgb2ycbcr,
                          official_tv, official_weighted_tv)
from .tim_losses import (InfoPreservationLoss, IntensityLoss,
                         SaliencyWeightedLoss, SSIMLoss, grey_entropy,
                         grey_histogram, histogram_contrast, laplacian_energy,
                         saliency_weights)
from .vgg16_features import VGG16Features

__all__ = [
    'MaxIntensityLoss', 'MaxGradientLoss', 'sobel_magnitude', 'IntensityLoss',
    'SSIMLoss', 'SaliencyWeightedLoss', 'InfoPreservationLoss',
    'histogram_contrast', 'saliency_weights', 'grey_histogram', 'grey_entropy',
    'laplacian_energy', 'ssim', 'ssim_map', 'gaussian_kernel1d',
    'gaussian_moments',
    'VGG16Features', 'RUASSceneLoss', 'RUASDenoiseLoss', 'official_rgb2ycbcr',
    'official_tv', 'official_weighted_tv',
    'HBL_VGG_GROUPS', 'HBL_VGG_LAYERS', 'ColorAngleLoss', 'LaplacianLoss',
    'LPIPSLoss', 'PixelL1Loss', 'PixelMSELoss', 'SSIMDistanceLoss',
    'TotalVariationLoss', 'VGGLayerMixtureLoss', 'alexnet_layers',
    'color_angle', 'vgg19_layers', 'ClassifierQualityObjective',
    'FullReferenceQualityObjective', 'NoReferenceQualityObjective',
    'ResNet18', 'FlowEPELoss', 'FlowSmoothnessLoss', 'LocalNCCLoss',
    'NGFLoss'
]
