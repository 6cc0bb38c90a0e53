"""MMEngine metric for guided depth super-resolution."""
from typing import Any, Dict, List, Optional, Sequence

from mmengine.evaluator import BaseMetric

from mmfusenas.registry import METRICS
from ..functional.depth import depth_mae, depth_rmse
from ._base import get_field, summarise


@METRICS.register_module()
class DepthSRMetric(BaseMetric):
    """RMSE / MAE of guided depth super-resolution (NYU v2 conventions).

    Data sample keys:

    - ``pred_depth``, ``gt_depth``: ``(1, H, W)`` (or ``(H, W)``) tensors;
      either normalised to ``[0, 1]`` per image, or already in metric units;
    - metainfo ``depth_min`` / ``depth_max`` (floats, metres): the per-image
      normalisation range. When present, both maps are de-normalised,
      :math:`d = x(d_{max}-d_{min}) + d_{min}`; when absent, the maps are
      taken as metric depth.

    A ``crop_border``-pixel frame is removed (6 for NYU v2) and the errors
    are multiplied by ``unit_scale`` (100: metres -> centimetres):
    :math:`RMSE = s\\sqrt{\\overline{(D_p-D_g)^2}}`,
    :math:`MAE = s\\,\\overline{|D_p-D_g|}`.

    Args:
        metrics (Sequence[str]): subset of ``('RMSE', 'MAE')``.
        crop_border (int): border crop in pixels. Defaults to 6.
        unit_scale (float): factor applied to the errors. Defaults to 100.
        prefix (str, optional): defaults to ``'depth'``.
    """
    default_prefix: Optional[str] = 'depth'

    def __init__(self,
                 metrics: Sequence[str] = ('RMSE', 'MAE'),
                 crop_border: int = 6,
                 unit_scale: float = 100.0,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        if isinstance(metrics, str):
            metrics = [metrics]
        bad = [m for m in metrics if m not in ('RMSE', 'MAE')]
        if bad:
            raise KeyError(f"unknown depth metric(s) {bad}; valid: "
                           f"['RMSE', 'MAE']")
        self.metric_names = tuple(metrics)
        self.crop_border = crop_border
        self.unit_scale = unit_scale

    def process(self, data_batch: Any, data_samples: Sequence[Any]) -> None:
        fns = {'RMSE': depth_rmse, 'MAE': depth_mae}
        for sample in data_samples:
            pred = get_field(sample, 'pred_depth')
            gt = get_field(sample, 'gt_depth')
            dmin = get_field(sample, 'depth_min', required=False)
            dmax = get_field(sample, 'depth_max', required=False)
            self.results.append({
                m: fns[m](pred, gt, dmin, dmax, self.crop_border,
                          self.unit_scale)
                for m in self.metric_names
            })

    def compute_metrics(self, results: List[Dict]) -> Dict[str, float]:
        return summarise(results, self.metric_names, 'depth SR')
