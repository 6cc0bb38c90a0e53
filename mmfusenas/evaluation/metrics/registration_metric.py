"""MMEngine metric of deformable registration against a known field."""
from typing import Any, Dict, List, Optional, Sequence

import torch
from mmengine.evaluator import BaseMetric

from mmfusenas.registry import METRICS
from ._base import get_field, summarise

REGISTRATION_METRIC_NAMES = ('EPE', 'EPE_none', 'ACC1', 'ACC_half')


def flow_errors(pred: Any, gt: Any, border: int = 0) -> Dict[str, float]:
    """Errors of a predicted field against the ground truth.

    Args:
        pred, gt: ``(2, H, W)`` fields in pixels (x, y).
        border (int): pixels ignored on each side (where the warped image
            was extrapolated). Defaults to 0.

    Returns:
        dict: ``EPE`` (mean end-point error), ``EPE_none`` (that of the
        identity, i.e. the mean misalignment left without registration),
        ``ACC1`` / ``ACC_half`` (fraction of pixels within 1 / 0.5 px).
    """
    pred, gt = (torch.as_tensor(x).detach().double() for x in (pred, gt))
    if pred.shape != gt.shape or pred.dim() != 3 or pred.shape[0] != 2:
        raise ValueError('flow_errors: pred and gt must be (2, H, W) of one '
                         f'shape, got {tuple(pred.shape)} and '
                         f'{tuple(gt.shape)}')
    if border:
        pred = pred[:, border:-border, border:-border]
        gt = gt[:, border:-border, border:-border]
    epe = (pred - gt).pow(2).sum(0).sqrt()
    return dict(
        EPE=float(epe.mean()),
        EPE_none=float(gt.pow(2).sum(0).sqrt().mean()),
        ACC1=float((epe < 1).double().mean()),
        ACC_half=float((epe < 0.5).double().mean()))


@METRICS.register_module()
class RegistrationMetric(BaseMetric):
    """End-point error of ``pred_flow`` against ``gt_flow`` per image,
    averaged (pixels at the resolution of the packed images).

    Each data sample carries ``pred_flow`` (``ImageRegistrator.predict``)
    and ``gt_flow`` (:class:`~mmfusenas.datasets.transforms.
    RandomElasticAffineWarp`); ``EPE_none`` is the error of no registration
    (the identity field), the reference every result should beat.

    Args:
        metrics (Sequence[str]): subset of :data:`REGISTRATION_METRIC_NAMES`.
            Defaults to all.
        border (int): pixels ignored on each side. Defaults to 0.
        prefix (str, optional): defaults to ``'registration'``.
    """
    default_prefix: Optional[str] = 'registration'

    def __init__(self,
                 metrics: Sequence[str] = REGISTRATION_METRIC_NAMES,
                 border: int = 0,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        if isinstance(metrics, str):
            metrics = [metrics]
        bad = [m for m in metrics if m not in REGISTRATION_METRIC_NAMES]
        if bad:
            raise KeyError(f'unknown registration metric(s) {bad}; valid: '
                           f'{list(REGISTRATION_METRIC_NAMES)}')
        if border < 0:
            raise ValueError(f'border must be >= 0, got {border}')
        self.metric_names = tuple(metrics)
        self.border = int(border)

    def process(self, data_batch: Any, data_samples: Sequence) -> None:
        for sample in data_samples:
            errors = flow_errors(
                get_field(sample, 'pred_flow').cpu(),
                get_field(sample, 'gt_flow').cpu(), self.border)
            self.results.append({k: errors[k] for k in self.metric_names})

    def compute_metrics(self, results: List[Dict]) -> Dict[str, float]:
        return summarise(results, self.metric_names, 'registration')
