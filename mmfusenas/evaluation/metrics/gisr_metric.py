"""MMEngine metric of guided image super-resolution with named presets."""
from typing import Any, Dict, List, Optional, Sequence

from mmengine.evaluator import BaseMetric

from mmfusenas.registry import METRICS
from ..functional.fusion import ssim
from ..functional.gisr import gisr_errors, resolve_gisr_preset
from ._base import get_field, summarise

GISR_METRIC_NAMES = ('RMSE', 'MAE', 'PSNR', 'SSIM')


@METRICS.register_module()
class GISRMetric(BaseMetric):
    """RMSE / MAE / PSNR / SSIM of guided SR under a named convention.

    Each data sample (a dict) carries ``pred_depth`` and ``gt_depth``
    (``(H, W)`` or ``(1, H, W)``, in the dataset's stored unit, see
    :class:`~mmfusenas.datasets.GISRDataset`), and optionally ``bicubic``
    (the de-normalised ``lr_up``): with ``with_bicubic`` the same metrics
    of the bicubic baseline are reported as ``bicubic_<name>``. A sample's
    ``depth_min`` / ``depth_max`` (metres), when given, de-normalise maps
    stored in ``[0, 1]`` first.

    The convention comes from ``preset`` (see
    :data:`~mmfusenas.evaluation.functional.GISR_PRESETS`: ``nyu`` = 6-px
    crop, metres -> cm; ``middlebury`` / ``lu`` = 8-bit levels;
    ``rgbdd`` = mm -> cm; ``none``); ``crop_border``, ``unit_scale`` and
    ``data_range`` override single fields. RMSE/MAE are masked to GT > 0
    when ``mask_invalid``; PSNR/SSIM (for non-depth guided SR) use the
    whole (cropped) map with peak ``data_range`` (SSIM: Gaussian 11x11,
    σ = 1.5). Every metric is computed per image and averaged.

    Args:
        preset (str): convention. Defaults to 'nyu'.
        metrics (Sequence[str]): subset of ``('RMSE', 'MAE', 'PSNR',
            'SSIM')``. Defaults to ('RMSE', 'MAE').
        crop_border (int, optional): override.
        unit_scale (float, optional): override.
        data_range (float, optional): override.
        mask_invalid (bool): Defaults to True.
        with_bicubic (bool): also score the bicubic input. Defaults to
            False.
        prefix (str, optional): defaults to ``'gisr'``.
    """
    default_prefix: Optional[str] = 'gisr'

    def __init__(self,
                 preset: str = 'nyu',
                 metrics: Sequence[str] = ('RMSE', 'MAE'),
                 crop_border: Optional[int] = None,
                 unit_scale: Optional[float] = None,
                 data_range: Optional[float] = None,
                 mask_invalid: bool = True,
                 with_bicubic: bool = False,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        if isinstance(metrics, str):
            metrics = [metrics]
        bad = [m for m in metrics if m not in GISR_METRIC_NAMES]
        if bad:
            raise KeyError(f'unknown GISR metric(s) {bad}; valid: '
                           f'{list(GISR_METRIC_NAMES)}')
        self.metric_names = tuple(metrics)
        self.preset = preset
        self.conv = resolve_gisr_preset(
            preset,
            crop_border=crop_border,
            unit_scale=unit_scale,
            data_range=data_range)
        self.mask_invalid = mask_invalid
        self.with_bicubic = with_bicubic

    def score(self, pred: Any, gt: Any, depth_min: Optional[float] = None,
              depth_max: Optional[float] = None) -> Dict[str, float]:
        """The configured metrics of one map pair."""
        c = self.conv
        out = gisr_errors(pred, gt, c['crop_border'], c['unit_scale'],
                          self.mask_invalid, c['data_range'], depth_min,
                          depth_max)
        if 'SSIM' in self.metric_names:
            b = c['crop_border']
            p = _np2d(pred)
            g = _np2d(gt)
            if b:
                p, g = p[b:-b, b:-b], g[b:-b, b:-b]
            out['SSIM'] = ssim(p, g, data_range=c['data_range'])
        return {m: out[m] for m in self.metric_names}

    def process(self, data_batch: Any, data_samples: Sequence[Any]) -> None:
        for sample in data_samples:
            pred = get_field(sample, 'pred_depth')
            gt = get_field(sample, 'gt_depth')
            rng = [get_field(sample, k, required=False)
                   for k in ('depth_min', 'depth_max')]
            row = self.score(pred, gt, *rng)
            if self.with_bicubic:
                bic = get_field(sample, 'bicubic')
                row.update({
                    f'bicubic_{k}': v
                    for k, v in self.score(bic, gt, *rng).items()
                })
            self.results.append(row)

    def compute_metrics(self, results: List[Dict]) -> Dict[str, float]:
        names = list(self.metric_names)
        if self.with_bicubic:
            names += [f'bicubic_{m}' for m in self.metric_names]
        return summarise(results, names, f'guided SR ({self.preset})')


def _np2d(x):
    import numpy as np
    arr = x.detach().cpu().numpy() if hasattr(x, 'detach') else np.asarray(x)
    return arr.reshape(arr.shape[-2:]).astype(np.float64)
