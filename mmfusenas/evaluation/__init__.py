"""Evaluation: pure functions (``functional``) and MMEngine metrics."""
from . import functional
from .metrics import (DeblurMetric, DepthSRMetric, FusionMetric, GISRMetric,
                      ImageQualityMetric, RegistrationMetric)

__all__ = ['functional', 'FusionMetric', 'ImageQualityMetric',
           'DepthSRMetric', 'DeblurMetric', 'GISRMetric', 'RegistrationMetric']
