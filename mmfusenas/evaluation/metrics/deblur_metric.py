"""MMEngine metric of non-blind deblurring (Levin protocol)."""
from typing import Any, Dict, List, Optional, Sequence

from mmengine.evaluator import BaseMetric

from mmfusenas.registry import METRICS
from ..functional._utils import to_numpy
from ..functional.deblur import shift_max_psnr_ssim
from ._base import get_field, summarise


@METRICS.register_module()
class DeblurMetric(BaseMetric):
    """PSNR / SSIM of restored images, border-cropped, optionally shift-max.

    Data sample keys: ``pred_img`` and ``gt_img`` (``(C, H, W)`` in ``[0,
    1]``) and, for ``border='kernel'``, ``kernel_size`` (or ``kernel``).

    Args:
        border (int | str): cropped border; ``'kernel'`` (official) uses
            ``⌊k/2⌋`` of the sample's kernel (the larger side). Defaults to
            ``'kernel'``.
        shift_max (bool): official "maximum over integer shifts up to the
            border" convention (True) or the plain cropped metric (False).
            Defaults to True.
        ssim_mode (str): ``'skimage'`` (official ``compare_ssim``) or
            ``'gaussian'``. Defaults to ``'skimage'``.
        prefix (str, optional): defaults to ``'deblur'``.
    """
    default_prefix: Optional[str] = 'deblur'

    def __init__(self,
                 border: int | str = 'kernel',
                 shift_max: bool = True,
                 ssim_mode: str = 'skimage',
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        if not (border == 'kernel' or (isinstance(border, int)
                                       and border >= 0)):
            raise ValueError(f"border must be 'kernel' or an int >= 0, got "
                             f'{border!r}')
        self.border = border
        self.shift_max = shift_max
        self.ssim_mode = ssim_mode

    def _border(self, sample) -> int:
        if self.border != 'kernel':
            return self.border
        size = sample.get('kernel_size')
        if size is None:
            size = tuple(get_field(sample, 'kernel').shape[-2:])
        return max(int(s) for s in size) // 2

    def process(self, data_batch: Any, data_samples: Sequence[Any]) -> None:
        for sample in data_samples:
            pred = to_numpy(get_field(sample, 'pred_img'), 'pred_img')
            gt = to_numpy(get_field(sample, 'gt_img'), 'gt_img')
            if pred.shape != gt.shape:
                raise ValueError(f'pred_img {tuple(pred.shape)} and gt_img '
                                 f'{tuple(gt.shape)} differ in shape')
            b = self._border(sample)
            p, s, _ = shift_max_psnr_ssim(
                pred, gt, b, None if self.shift_max else 0,
                ssim_mode=self.ssim_mode)
            self.results.append(dict(PSNR=p, SSIM=s))

    def compute_metrics(self, results: List[Dict]) -> Dict[str, float]:
        return summarise(results, ['PSNR', 'SSIM'], 'deblurring')
