"""MMEngine metric for image fusion."""
import logging
from typing import Any, Dict, List, Optional, Sequence, Union

import torch
from mmengine.evaluator import BaseMetric
from mmengine.logging import print_log

from mmfusenas.registry import METRICS
from mmfusenas.utils.fileio import to_uint8
from ..functional.fusion import compute_fusion_metrics
from ..fusion_presets import (DEFAULT_FUSION_PRESET,
                              degenerate_pairs_message,
                              resolve_metrics, summed_metrics_note)
from ._base import get_field, summarise


@METRICS.register_module()
class FusionMetric(BaseMetric):
    """Fusion quality metrics (EN, SD, SF, AG, MI, FMI_*, VIF, Qabf, Nabf,
    SCD, SSIM, MS_SSIM, CC, PSNR; CE, NMI, QNCIE, TE, EI, Qy, Qcb, MSE) with
    a named convention preset.

    Each data sample (a ``FusionDataSample`` or its ``to_dict()``) must hold

    - ``pred_fused``: ``(1, H, W)`` float tensor in ``[0, 1]``, the fused
      luminance / grey image;
    - ``sources``: ``(M, H, W)`` float tensor in ``[0, 1]``, the luminance /
      grey level of each source, ``M = 2``: source A is ``sources[0]``,
      source B ``sources[1]``;
    - metainfo ``stem`` (optional, used to label per-image results).

    ``compute_metrics`` logs a warning naming the samples (stem, else
    index) whose quantised fused image is constant (e.g. all black from
    untrained weights) or whose metrics are not finite (``CC nan``,
    ``PSNR -inf``).

    The samples of a batch are stacked by image size and evaluated together
    in float64 on ``device``. Before the preset's formulas are applied,
    every image is quantised to 8 bits exactly as it is saved,
    ``floor(255 clip(x, 0, 1) + 0.5)`` in float32
    (:func:`mmfusenas.utils.fileio.to_uint8`, as ``FusedImageSaveHook``
    saves them), so that the loop
    reports the numbers the offline CLI
    (``tools/analysis_tools/eval_fusion.py``) gives on the saved grey PNGs
    (a colour PNG's grey is not the fused Y, see
    ``docs/user_guides/evaluation.md``). The
    formulas of each metric and preset are in
    :mod:`mmfusenas.evaluation.functional.fusion` and
    ``docs/user_guides/evaluation.md``.

    Args:
        preset (str): ``'cddfuse'`` (default,
            ``functional.fusion.DEFAULT_FUSION_PRESET``), ``'tang'``,
            ``'vifb'`` or ``'ivif_zoo'`` (IVIF_ZOO's 21 metrics and
            conventions).
        metrics (list[str] | str, optional): metric names, ``'all'``, or
            ``None`` for the preset's default list: for ``cddfuse``
            ``functional.fusion.DEFAULT_FUSION_METRICS``, the list
            ``tools/fuse.py --metrics`` and
            ``tools/analysis_tools/eval_fusion.py`` report by default (and
            the shipped configs use). MI, SCD, VIF and SSIM are sums over
            the two sources (``functional.fusion.summed_metrics``), e.g.
            ``SSIM = SSIM(A,F) + SSIM(B,F)``, at most 2.
        device (str, optional): where the metrics are computed; ``None``:
            CUDA when available, else the CPU.
        collect_device (str): 'cpu' or 'gpu'.
        prefix (str, optional): key prefix; defaults to ``'fusion'``.
    """
    default_prefix: Optional[str] = 'fusion'

    def __init__(self,
                 preset: str = DEFAULT_FUSION_PRESET,
                 metrics: Optional[Union[str, Sequence[str]]] = None,
                 device: Optional[str] = None,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.preset = preset
        self.metric_names = resolve_metrics(preset, metrics)
        self.device = device

    def process(self, data_batch: Any, data_samples: Sequence[Any]) -> None:
        """Stack the samples by image size and evaluate each stack at once."""
        groups: Dict[tuple, list] = {}
        n0 = len(self.results)
        for i, sample in enumerate(data_samples):
            fused = torch.as_tensor(get_field(sample, 'pred_fused'))
            sources = torch.as_tensor(get_field(sample, 'sources'))
            if fused.ndim == 3 and fused.shape[0] == 1:
                fused = fused[0]
            if fused.ndim != 2:
                raise ValueError(f"'pred_fused' must be (1, H, W) or (H, W), "
                                 f'got shape {tuple(fused.shape)}')
            if sources.ndim != 3 or sources.shape[0] != 2:
                raise ValueError(
                    f"'sources' must be (2, H, W) (sources A, B), got shape "
                    f'{tuple(sources.shape)}')
            if tuple(sources.shape[1:]) != tuple(fused.shape):
                raise ValueError(f"'sources' {tuple(sources.shape)} and "
                                 f"'pred_fused' {tuple(fused.shape)} differ "
                                 'in size')
            stem = get_field(sample, 'stem', required=False) or str(n0 + i)
            groups.setdefault(tuple(fused.shape), []).append(
                (i, stem, sources, fused))
        device = self.device or ('cuda'
                                 if torch.cuda.is_available() else 'cpu')
        rows: Dict[int, Dict] = {}
        for items in groups.values():
            src = torch.stack([s for _, _, s, _ in items])
            fus = torch.stack([f for _, _, _, f in items])
            src, fus = src.to(device), fus.to(device)
            q = [to_uint8(x, 'round').to(torch.float64)   # as saved
                 for x in (src[:, 0], src[:, 1], fus)]
            vals = compute_fusion_metrics(*q, self.preset, self.metric_names)
            vals = {m: v.cpu().tolist() for m, v in vals.items()}
            lo, hi = (q[2].amin((1, 2)).cpu().tolist(),
                      q[2].amax((1, 2)).cpu().tolist())
            for j, (i, stem, _, _) in enumerate(items):
                rows[i] = {m: vals[m][j] for m in self.metric_names}
                rows[i]['stem'] = stem
                if lo[j] == hi[j]:
                    rows[i]['fused_constant'] = lo[j]
        self.results.extend(rows[i] for i in sorted(rows))

    def degenerate_message(self, results: List[Dict]) -> Optional[str]:
        """The warning naming the samples of ``results`` whose fused image
        is constant or whose metrics are not finite (``None`` if none); see
        ``functional.fusion.degenerate_pairs_message``."""
        return degenerate_pairs_message(
            {r['stem']: {m: r[m]
                         for m in self.metric_names}
             for r in results},
            {r['stem']: r['fused_constant']
             for r in results if 'fused_constant' in r})

    def compute_metrics(self, results: List[Dict]) -> Dict[str, float]:
        means = summarise(results, self.metric_names,
                          f'fusion metrics (preset {self.preset})',
                          note=summed_metrics_note(self.preset,
                                                   self.metric_names))
        msg = self.degenerate_message(results)
        if msg:
            print_log(f'FusionMetric: {msg}', logger='current',
                      level=logging.WARNING)
        return means
