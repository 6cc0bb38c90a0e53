"""Fusion-metric presets as data: names, conventions, gray rules, messages.

The public evaluators of the field disagree on conventions, so every
convention is a keyword of a metric function in :mod:`.fusion` and a preset
binds them by name: ``cddfuse`` (Zhaozixiang1228/MMIF-CDDFuse), ``tang``
(Linfeng-Tang's MATLAB suite), ``vifb`` (xingchenzhang/VIFB) and
``ivif_zoo`` (RollingPlain/IVIF_ZOO). This module imports neither torch nor
the metrics, so command-line tools can parse their options quickly. See
``docs/user_guides/evaluation.md`` for the formulas and differences.
"""
import math
from typing import Any, Dict, NamedTuple, Optional, Sequence, Tuple

import cv2
import numpy as np

#: Canonical metric keys, in display order.
FUSION_METRICS: Tuple[str, ...] = ('EN', 'SD', 'SF', 'AG', 'MI', 'FMI_pixel',
                                   'FMI_gradient', 'FMI_dct', 'FMI_wavelet',
                                   'VIF', 'Qabf', 'Nabf', 'SCD', 'SSIM',
                                   'MS_SSIM', 'CC', 'PSNR')
#: The metrics of IVIF_ZOO's evaluator that the keys above lack. ``NMI``,
#: ``QNCIE``, ``TE``, ``EI``, ``Qy`` (with the 2-D Gaussian window of its
#: paper) and ``Qcb`` are bound in every preset (their definitions carry
#: no convention the presets differ on); ``CE`` and ``MSE`` only in
#: ``ivif_zoo`` (CE is defined on the raw 0-255 values in float32, MSE on
#: the ``[0, 1]`` scale).
EXTRA_METRICS: Tuple[str, ...] = ('CE', 'NMI', 'QNCIE', 'TE', 'EI', 'Qy',
                                  'Qcb', 'MSE')

#: The preset of every fusion evaluator when none is given
#: (``tools/fuse.py --metrics``, ``tools/analysis_tools/eval_fusion.py``,
#: :class:`~mmfusenas.evaluation.metrics.FusionMetric` and the shipped
#: configs).
DEFAULT_FUSION_PRESET = 'cddfuse'
#: The default metric list of :data:`DEFAULT_FUSION_PRESET`: what
#: ``fuse.py --metrics``, ``eval_fusion.py`` and ``FusionMetric()`` report
#: when no names are given (the other presets keep their own evaluator's
#: list, :data:`FUSION_PRESETS` ``[preset]['default']``).
DEFAULT_FUSION_METRICS: Tuple[str, ...] = ('EN', 'SD', 'SF', 'AG', 'MI',
                                           'SCD', 'VIF', 'Qabf', 'SSIM',
                                           'CC', 'PSNR')
#: IVIF_ZOO's 21 metric names, in its order (``evaluation_one``'s return).
IVIF_ZOO_METRICS: Tuple[str, ...] = (
    'CE', 'NMI', 'QNCIE', 'TE', 'EI', 'Qy', 'Qcb', 'EN', 'MI', 'SF', 'AG',
    'SD', 'CC', 'SCD', 'VIF', 'MSE', 'PSNR', 'Qabf', 'Nabf', 'SSIM',
    'MS_SSIM')


def pil_gray(img: np.ndarray) -> np.ndarray:
    """Gray levels as PIL's ``Image.convert('L')`` gives them.

    ITU-R 601-2 luma in PIL's fixed-point arithmetic: ``(19595 R + 38470 G +
    7471 B + 32768) >> 16``.

    Args:
        img (np.ndarray): ``(H, W)`` gray or ``(H, W, 3)`` **BGR** uint8
            (as OpenCV reads files).

    Returns:
        np.ndarray: ``(H, W)`` uint8.
    """
    img = np.asarray(img)
    if img.ndim == 2:
        return img.astype(np.uint8, copy=False)
    bgr = img.astype(np.uint32)
    return ((19595 * bgr[..., 2] + 38470 * bgr[..., 1] + 7471 * bgr[..., 0]
             + 32768) >> 16).astype(np.uint8)


def cv2_bgr2gray(img: np.ndarray) -> np.ndarray:
    """cddfuse rule: ``round(cvtColor(float32(BGR), COLOR_BGR2GRAY))``."""
    if img.ndim == 2:
        return img.astype(np.float64)
    if img.ndim == 3 and img.shape[2] == 1:
        return img[..., 0].astype(np.float64)
    g = cv2.cvtColor(img.astype(np.float32), cv2.COLOR_BGR2GRAY)
    return np.round(g).astype(np.float64)


def matlab_rgb2gray(img: np.ndarray) -> np.ndarray:
    """tang / vifb rule: MATLAB ``rgb2gray`` on a uint8 BGR (OpenCV order)
    image: ``round(0.298936 R + 0.587043 G + 0.114021 B)``."""
    if img.ndim == 2:
        return img.astype(np.float64)
    if img.ndim == 3 and img.shape[2] == 1:
        return img[..., 0].astype(np.float64)
    b, g, r = (img[..., i].astype(np.float64) for i in range(3))
    y = 0.298936021293775 * r + 0.587043074451121 * g + \
        0.114020904255103 * b
    return np.clip(_matlab_round(y), 0, 255)


def _matlab_round(x: np.ndarray) -> np.ndarray:
    """MATLAB ``round``: half away from zero."""
    return np.sign(x) * np.floor(np.abs(x) + 0.5)


class Binding(NamedTuple):
    """How a preset computes one metric: ``fn(f, **kwargs)`` (no-reference,
    ``nr``) or ``fn(a, b, f, **kwargs)``, divided by ``div`` when set.
    ``fn`` is the *name* of a function of :mod:`.fusion`."""
    fn: str
    kwargs: Dict[str, Any]
    nr: bool = False
    div: Optional[float] = None


def _b(fn: str, nr: bool = False, div: Optional[float] = None,
       **kwargs) -> Binding:
    return Binding(fn, kwargs, nr, div)


_STANDARD: Dict[str, Binding] = {
    'FMI_pixel': _b('fmi', feature='none'),
    'FMI_gradient': _b('fmi', feature='gradient'),
    'FMI_dct': _b('fmi', feature='dct'),
    'FMI_wavelet': _b('fmi', feature='wavelet'),
    'VIF': _b('fusion_vif'),
    'Nabf': _b('nabf'),
    'SCD': _b('scd'),
    'MS_SSIM': _b('fusion_ms_ssim'),
    'CC': _b('cc'),
    'NMI': _b('nmi'),
    'QNCIE': _b('qncie'),
    'TE': _b('tsallis_entropy'),
    'EI': _b('edge_intensity', nr=True),
    'Qy': _b('qy', window='gaussian'),
    'Qcb': _b('qcb'),
}

#: ``{preset: {metric: Binding}}``: the conventions of each preset.
PRESET_BINDINGS: Dict[str, Dict[str, Binding]] = {
    'cddfuse': {
        **_STANDARD,
        'EN': _b('entropy', nr=True),
        'SD': _b('standard_deviation', nr=True),
        'SF': _b('spatial_frequency', nr=True, divisor='mean'),
        'AG': _b('average_gradient', nr=True, divisor='mn'),
        'MI': _b('fusion_mi', base=math.e),
        'Qabf': _b('qabf'),
        'SSIM': _b('fusion_ssim', mode='skimage', data_range=2.0),
        'PSNR': _b('fusion_psnr', peak='max_f'),
    },
    'tang': {
        **_STANDARD,
        'EN': _b('entropy', nr=True),
        'SD': _b('standard_deviation', nr=True, mode='matlab_uint8'),
        'SF': _b('spatial_frequency', nr=True, div=255.0),
        'AG': _b('average_gradient', nr=True, divisor='m1n1'),
        'MI': _b('fusion_mi', base=2.0),
        # analysis_fmi's default feature is 'edge'
        'FMI_pixel': _b('fmi', feature='edge'),
        'Qabf': _b('qabf', scale=1 / 255.0),
        'Nabf': _b('nabf', scale=1 / 255.0),
        'SSIM': _b('fusion_ssim', mode='gaussian', data_range=255.0),
        'PSNR': _b('fusion_psnr', peak='tang'),
    },
    'vifb': {
        **_STANDARD,
        'EN': _b('entropy', nr=True),
        'SD': _b('standard_deviation', nr=True),
        'SF': _b('spatial_frequency', nr=True, divisor='mn'),
        'AG': _b('average_gradient', nr=True, divisor='m1n1'),
        'MI': _b('fusion_mi', base=math.e, quantize='minmax'),
        'Qabf': _b('qabf'),
        'SSIM': _b('fusion_ssim', mode='gaussian', data_range=255.0),
        'PSNR': _b('fusion_psnr', peak='255', mse_mode='vifb'),
    },
    # github.com/RollingPlain/IVIF_ZOO Metric/eval_torch.py (see
    # docs/user_guides/evaluation_ivif_zoo.md for every convention)
    'ivif_zoo': {
        'CE': _b('cross_entropy'),
        'NMI': _b('nmi'),
        'QNCIE': _b('qncie'),
        'TE': _b('tsallis_entropy'),
        'EI': _b('edge_intensity', nr=True),
        'Qy': _b('qy'),
        'Qcb': _b('qcb'),
        'EN': _b('entropy', nr=True, eps=1e-7),
        'MI': _b('fusion_mi', base=2.0),
        'SF': _b('spatial_frequency', nr=True),
        'AG': _b('average_gradient', nr=True),
        'SD': _b('standard_deviation', nr=True),
        'CC': _b('cc'),
        'SCD': _b('scd'),
        'VIF': _b('fusion_vif', window='ivif_zoo'),
        'MSE': _b('fusion_mse'),
        'PSNR': _b('fusion_psnr', peak='tang'),
        'Qabf': _b('qabf'),
        'Nabf': _b('nabf', low_weight=0.0),
        'SSIM': _b('fusion_ssim', mode='gaussian', data_range=1.0),
        'MS_SSIM': _b('ivif_zoo_ms_ssim'),
    },
}

#: ``{preset: dict(gray=rule, default=names[, all=names])}``: each preset's
#: gray rule for colour files and its default metric list.
FUSION_PRESETS: Dict[str, Dict[str, Any]] = {
    'cddfuse': dict(gray=cv2_bgr2gray, default=DEFAULT_FUSION_METRICS),
    'tang': dict(
        gray=matlab_rgb2gray,
        default=('EN', 'SD', 'SF', 'AG', 'MI', 'VIF', 'Qabf', 'Nabf', 'SCD',
                 'SSIM', 'MS_SSIM', 'CC', 'PSNR')),
    'vifb': dict(
        gray=matlab_rgb2gray,
        default=('EN', 'SD', 'SF', 'AG', 'MI', 'Qabf', 'SSIM', 'PSNR')),
    'ivif_zoo': dict(gray=pil_gray, default=IVIF_ZOO_METRICS,
                     all=IVIF_ZOO_METRICS),
}


def resolve_metrics(
        preset: str,
        metrics: Optional[Sequence[str]] = None) -> Tuple[str, ...]:
    """Validate ``preset`` / ``metrics``; ``None`` -> preset default,
    ``'all'`` -> :func:`preset_metric_names`; any metric the preset binds
    by name."""
    if preset not in FUSION_PRESETS:
        raise KeyError(f'unknown fusion preset {preset!r}; choose one of '
                       f'{sorted(FUSION_PRESETS)}')
    if metrics is None:
        return tuple(FUSION_PRESETS[preset]['default'])
    every = preset_metric_names(preset)
    if isinstance(metrics, str):
        metrics = every if metrics == 'all' else [metrics]
    bad = [m for m in metrics if m not in PRESET_BINDINGS[preset]]
    if bad:
        raise KeyError(f'unknown fusion metric(s) {bad} for preset '
                       f'{preset!r}; valid names: '
                       f"{' '.join(every + _extras(preset))} (or 'all')")
    return tuple(metrics)


def _extras(preset: str) -> Tuple[str, ...]:
    every = preset_metric_names(preset)
    return tuple(m for m in EXTRA_METRICS
                 if m in PRESET_BINDINGS[preset] and m not in every)


def preset_metric_names(preset: str) -> Tuple[str, ...]:
    """What ``'all'`` means for a preset: :data:`FUSION_METRICS` for
    ``cddfuse`` / ``tang`` / ``vifb`` (the metrics of
    :data:`EXTRA_METRICS` they bind are selected by name), IVIF_ZOO's 21
    for ``ivif_zoo``."""
    return tuple(FUSION_PRESETS[preset].get('all', FUSION_METRICS))

#: Functions whose value adds one term per source: function name ->
#: formula (``A`` is the first source, e.g. infrared; ``B`` the second, e.g.
#: visible). ``fusion_ms_ssim`` and ``cc`` average their two terms instead.
_SUMMED_FNS: Dict[str, str] = {
    'fusion_mi': 'MI(A,F) + MI(B,F)',
    'scd': 'r(F-B,A) + r(F-A,B)',
    'fusion_vif': 'VIF(A,F) + VIF(B,F)',
    'fusion_ssim': 'SSIM(A,F) + SSIM(B,F)',
    'ivif_zoo_ms_ssim': 'MS_SSIM(A,F) + MS_SSIM(B,F)',
}


def summed_metrics(preset: str,
                   names: Optional[Sequence[str]] = None) -> Dict[str, str]:
    """The metrics of ``names`` whose value is a sum over the two sources.

    Args:
        preset: a key of :data:`FUSION_PRESETS`.
        names: metric names (``None``: every metric the preset binds).

    Returns:
        dict: ``{metric: formula}`` in the order of ``names``, e.g.
        ``{'SSIM': 'SSIM(A,F) + SSIM(B,F)'}`` (A: first source, B: second).
    """
    bindings = PRESET_BINDINGS[preset]
    names = list(bindings) if names is None else names
    return {m: _SUMMED_FNS[bindings[m].fn] for m in names
            if m in bindings and bindings[m].fn in _SUMMED_FNS}


def summed_metrics_note(preset: str,
                        names: Sequence[str]) -> Optional[str]:
    """The note printed under a table of fusion metrics that says which
    columns add one value per source (``None`` when none of ``names``
    does), e.g. ``'MI, SSIM: sums over the two sources (A = first source,
    IR; B = second, VI): MI = MI(A,F) + MI(B,F), SSIM = SSIM(A,F) +
    SSIM(B,F) (at most 2).'``."""
    summed = summed_metrics(preset, names)
    if not summed:
        return None
    return (f'{", ".join(summed)}: sums over the two sources (A = first '
            'source, IR; B = second, VI): ' + ', '.join(
                f'{m} = {v}' + (' (at most 2)' if 'SSIM' in m else '')
                for m, v in summed.items()) + '.')


def list_names(items: Sequence[str], max_listed: int = 10) -> str:
    """``'a, b, c'``; beyond ``max_listed`` items ``'a, b, ... and N
    more'`` (the listing of every fusion warning)."""
    items = list(items)
    more = len(items) - max_listed
    return ', '.join(items[:max_listed]) + (f', ... and {more} more'
                                            if more > 0 else '')


def degenerate_pairs_message(per_image: Dict[str, Dict[str, float]],
                             constant: Dict[str, float],
                             max_listed: int = 10) -> Optional[str]:
    """A warning naming the pairs whose fused image is constant or whose
    metrics are not finite; ``None`` when there are none.

    A constant fused image (e.g. all black from an untrained / randomly
    initialised network) gives ``EN 0``, ``SD 0``, ``CC nan`` and, with some
    presets, ``PSNR -inf``; their means are not a measure of fusion quality.

    Args:
        per_image: ``{name: {metric: value}}``; ``name`` is the file stem or
            sample index reported to the user.
        constant: ``{name: gray level}`` of the pairs whose fused image
            (8-bit, as evaluated) holds one value only.
        max_listed: names listed per category before ``... and N more``.

    Returns:
        str | None: the message.
    """

    def listed(items: list) -> str:
        return list_names(items, max_listed)

    parts = []
    if constant:
        parts.append(
            f'the fused image is constant for {len(constant)} of '
            f'{len(per_image)} pair(s): ' + listed(
                [f'{k} (all {v:g})' for k, v in constant.items()]) +
            ' (untrained / randomly initialised weights?)')
    bad = {
        k: [f'{m} {v}' for m, v in r.items() if not math.isfinite(v)]
        for k, r in per_image.items()
    }
    bad = {k: v for k, v in bad.items() if v}
    if bad:
        parts.append(f'non-finite metrics for {len(bad)} pair(s): ' + listed(
            [f'{k} ({", ".join(v)})' for k, v in bad.items()]))
    if not parts:
        return None
    return '; '.join(parts) + '. Means over these pairs do not measure ' \
        'fusion quality.'
