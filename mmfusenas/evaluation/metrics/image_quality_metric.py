"""MMEngine metric for enhancement / restoration."""
from typing import Any, Dict, List, Optional, Sequence

import torch
from mmengine.evaluator import BaseMetric

from mmfusenas.registry import METRICS
from ..functional._utils import to_numpy
from ..functional.enhancement import LPIPS, gt_mean_correct, psnr, ssim_uint8
from ._base import get_field, summarise

_VALID = ('PSNR', 'PSNR_uint8', 'SSIM', 'LPIPS')


@METRICS.register_module()
class ImageQualityMetric(BaseMetric):
    """Full-reference quality (low-light enhancement, restoration).

    Data sample keys: ``pred_img`` and ``gt_img``, ``(3, H, W)`` float in
    ``[0, 1]``.

    Metrics (see :mod:`mmfusenas.evaluation.functional.enhancement`):

    - ``PSNR``: :math:`10\\log_{10}(1/MSE)` on the float ``[0, 1]`` images;
    - ``PSNR_uint8``: on ``round(255 x)`` images with peak 255;
    - ``SSIM``: 11x11 Gaussian (:math:`\\sigma=1.5`) on the 8-bit images,
      per channel, averaged;
    - ``LPIPS``: AlexNet LPIPS; requires ``lpips_weights`` (a local file,
      nothing is downloaded).

    With ``gt_mean=True`` every metric is also reported on the GT-mean
    corrected prediction under the key ``<name>_GTmean`` (the plain values
    are kept).

    Args:
        metrics (Sequence[str]): subset of ``PSNR PSNR_uint8 SSIM LPIPS``.
        gt_mean (bool): also report GT-mean corrected values.
        lpips_weights (str, optional): local LPIPS weights file.
        prefix (str, optional): defaults to ``'enh'``.
    """
    default_prefix: Optional[str] = 'enh'

    def __init__(self,
                 metrics: Sequence[str] = ('PSNR', 'SSIM'),
                 gt_mean: bool = False,
                 lpips_weights: Optional[str] = None,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        if isinstance(metrics, str):
            metrics = [metrics]
        bad = [m for m in metrics if m not in _VALID]
        if bad:
            raise KeyError(f'unknown image-quality metric(s) {bad}; valid: '
                           f'{list(_VALID)}')
        self.metric_names = tuple(metrics)
        self.gt_mean = gt_mean
        self.lpips = None
        if 'LPIPS' in self.metric_names:
            if lpips_weights is None:
                raise ValueError(
                    "metric 'LPIPS' needs lpips_weights=<local .pth file>; "
                    'nothing is downloaded')
            self.lpips = LPIPS(lpips_weights)

    def _one(self, pred, gt) -> Dict[str, float]:
        out = {}
        for m in self.metric_names:
            if m == 'PSNR':
                out[m] = psnr(pred, gt, 'float')
            elif m == 'PSNR_uint8':
                out[m] = psnr(pred, gt, 'uint8')
            elif m == 'SSIM':
                out[m] = ssim_uint8(pred, gt)
            elif m == 'LPIPS':
                out[m] = float(
                    self.lpips(torch.from_numpy(pred).float(),
                               torch.from_numpy(gt).float())[0])
        return out

    def process(self, data_batch: Any, data_samples: Sequence[Any]) -> None:
        for sample in data_samples:
            pred = to_numpy(get_field(sample, 'pred_img'), 'pred_img')
            gt = to_numpy(get_field(sample, 'gt_img'), 'gt_img')
            if pred.shape != gt.shape:
                raise ValueError(f'pred_img {tuple(pred.shape)} and gt_img '
                                 f'{tuple(gt.shape)} differ in shape')
            res = self._one(pred, gt)
            if self.gt_mean:
                res.update({
                    f'{k}_GTmean': v
                    for k, v in self._one(gt_mean_correct(pred, gt),
                                          gt).items()
                })
            self.results.append(res)

    def compute_metrics(self, results: List[Dict]) -> Dict[str, float]:
        names = list(self.metric_names)
        if self.gt_mean:
            names += [f'{m}_GTmean' for m in self.metric_names]
        return summarise(results, names, 'image quality')
