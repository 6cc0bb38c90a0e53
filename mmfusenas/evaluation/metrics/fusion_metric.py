"""MMEngine metric for image fusion."""
from typing import Any, Dict, List, Optional, Sequence, Union

from mmengine.evaluator import BaseMetric

from mmfusenas.registry import METRICS
from ..functional._utils import quantize_uint8, to_gray2d
from ..functional.fusion import compute_fusion_metrics, resolve_metrics
from ._base import get_field, summarise


@METRICS.register_module()
class FusionMetric(BaseMetric):
    """Fusion quality metrics (EN, SD, SF, AG, MI, FMI_*, VIF, Qabf, Nabf,
    SCD, SSIM, MS_SSIM, CC, PSNR) with a named convention preset.

    Each data sample (a ``FusionDataSample`` or its ``to_dict()``) must hold

    - ``pred_fused``: ``(1, H, W)`` float tensor in ``[0, 1]``, the fused
      luminance / grey image;
    - ``sources``: ``(M, H, W)`` float tensor in ``[0, 1]``, the luminance /
      grey level of each source, ``M = 2``: source A is ``sources[0]``,
      source B ``sources[1]``;
    - metainfo ``stem`` (optional, used to label per-image results).

    Before the preset's formulas are applied, every image is quantised to
    8 bits exactly as it would be saved, ``clip(round(255 x), 0, 255)``, so
    that the loop reports the numbers the offline CLI
    (``tools/analysis_tools/eval_fusion.py``) gives on the saved PNGs. The
    formulas of each metric and preset are in
    :mod:`mmfusenas.evaluation.functional.fusion` and ``docs/evaluation.md``.

    Args:
        preset (str): ``'cddfuse'``, ``'tang'`` or ``'vifb'``.
        metrics (list[str] | str, optional): metric names, ``'all'``, or
            ``None`` for the preset's default list.
        collect_device (str): 'cpu' or 'gpu'.
        prefix (str, optional): key prefix; defaults to ``'fusion'``.
    """
    default_prefix: Optional[str] = 'fusion'

    def __init__(self,
                 preset: str = 'cddfuse',
                 metrics: Optional[Union[str, Sequence[str]]] = None,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.preset = preset
        self.metric_names = resolve_metrics(preset, metrics)

    def process(self, data_batch: Any, data_samples: Sequence[Any]) -> None:
        for i, sample in enumerate(data_samples):
            fused = to_gray2d(get_field(sample, 'pred_fused'), 'pred_fused')
            sources = get_field(sample, 'sources')
            if sources.ndim != 3 or sources.shape[0] != 2:
                raise ValueError(
                    f"'sources' must be (2, H, W) (sources A, B), got shape "
                    f'{tuple(sources.shape)}')
            a, b = (quantize_uint8(sources[j]) for j in range(2))
            res = compute_fusion_metrics(a, b, quantize_uint8(fused),
                                         self.preset, self.metric_names)
            res['stem'] = get_field(sample, 'stem', required=False) or str(
                len(self.results) + i)
            self.results.append(res)

    def compute_metrics(self, results: List[Dict]) -> Dict[str, float]:
        return summarise(results, self.metric_names,
                         f'fusion metrics (preset {self.preset})')
