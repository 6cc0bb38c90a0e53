"""Evaluation: pure functions (``functional``) and MMEngine metrics."""
from . import functional
from .metrics import (DepthSRMetric, FusionMetric, GISRMetric,
                      ImageQualityMetric)

__all__ = ['functional', 'FusionMetric', 'ImageQualityMetric',
           'DepthSRMetric', 'GISRMetric']
