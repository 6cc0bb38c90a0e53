from .deblur_metric import DeblurMetric
from .fusion_metric import FusionMetric
from .gisr_metric import GISR_METRIC_NAMES, GISRMetric
from .image_quality_metric import ImageQualityMetric
from .registration_metric import (REGISTRATION_METRIC_NAMES,
                                  RegistrationMetric, flow_errors)
from .voc_metric import VOCMetric

__all__ = [
    'FusionMetric', 'ImageQualityMetric', 'DeblurMetric', 'GISRMetric',
    'GISR_METRIC_NAMES', 'RegistrationMetric', 'REGISTRATION_METRIC_NAMES',
    'flow_errors', 'VOCMetric'
]
