"""Evaluation: pure functions (``functional``) and MMEngine metrics
(``metrics``, imported on first use: the fusion evaluator needs neither
mmdet nor mmcv)."""
from mmfusenas.utils.lazy import lazy_exports

__getattr__ = lazy_exports(
    __name__, {
        '.metrics': [
            'FusionMetric', 'ImageQualityMetric', 'DeblurMetric', 'GISRMetric',
            'RegistrationMetric'
        ],
    })

__all__ = [
    'functional', 'FusionMetric', 'ImageQualityMetric', 'DeblurMetric',
    'GISRMetric', 'RegistrationMetric'
]
