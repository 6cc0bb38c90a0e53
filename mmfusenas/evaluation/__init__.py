"""Evaluation: pure functions (``functional``) and MMEngine metrics."""
from . import functional
from .metrics import DepthSRMetric, FusionMetric, ImageQualityMetric

__all__ = ['functional', 'FusionMetric', 'ImageQualityMetric',
           'DepthSRMetric']
