"""Fusion metrics of image files on disk (reading, stem matching, scoring),
shared by ``tools/analysis_tools/eval_fusion.py`` and ``tools/fuse.py
--metrics`` so that both print the same numbers; an undefined metric is
NaN, written as ``null`` by :func:`strict_json`."""
import json
import math
import os
import os.path as osp
import sys
from typing import Dict, List, Optional, Sequence, Tuple

import cv2
import numpy as np
from terminaltables import AsciiTable

from mmfusenas.evaluation.functional.fusion_presets import (
    FUSION_PRESETS, list_names, summed_metrics_note)
from mmfusenas.utils.fileio import read_image

#: image file extensions read from a folder (case-insensitive)
IMG_EXTS = ('.png', '.jpg', '.jpeg', '.bmp', '.tif', '.tiff', '.webp')

#: the kinds of stems :func:`match_stems` leaves out, in report order:
#: kind -> (what the stems are, the folder they are in)
UNMATCHED_KINDS: Dict[str, Tuple[str, str]] = {
    'fused_without_source':
    ('fused image(s) without an IR/VI source pair', 'fused'),
    'source_without_fused':
    ('source pair(s) without a fused image', 'fused'),
    'ir_without_vi': ('IR image(s) without a VI image', 'IR'),
    'vi_without_ir': ('VI image(s) without an IR image', 'VI'),
}


def index_dir(folder: str, what: str) -> Dict[str, str]:
    """``{stem: path}`` of the images of ``folder`` (hidden files skipped
    and listed on stderr); two images with one stem are refused."""
    if not osp.isdir(folder):
        raise FileNotFoundError(f'{what} folder not found: {folder}')
    out = {}
    hidden = []
    for name in sorted(os.listdir(folder)):
        stem, ext = osp.splitext(name)
        if ext.lower() not in IMG_EXTS:
            continue
        if name.startswith('.'):
            hidden.append(name)
            continue
        if stem in out:
            raise ValueError(f'{what} folder {folder} has two images with '
                             f'stem {stem!r}: {osp.basename(out[stem])}, '
                             f'{name}')
        out[stem] = osp.join(folder, name)
    if hidden:
        print(f'note: skipped {len(hidden)} hidden file(s) in {what} folder '
              f'{folder}: {", ".join(hidden)}', file=sys.stderr)
    if not out:
        raise FileNotFoundError(f'{what} folder {folder} holds no images '
                                f'({", ".join(IMG_EXTS)})')
    return out


def read_bgr8(path: str) -> np.ndarray:
    """Read an 8-bit image as BGR; other depths, transparent pixels and
    unusual channel counts are refused (naming the file)."""
    img = read_image(path)
    if img.dtype != np.uint8:
        raise ValueError(
            f'{path} is a {img.dtype} image ({img.dtype.itemsize * 8}-bit '
            'per channel); the fusion metrics are defined on 8-bit images: '
            'convert it explicitly (e.g. scale 16-bit to 0..255) first')
    if img.ndim == 2:
        return cv2.cvtColor(img, cv2.COLOR_GRAY2BGR)
    if img.shape[2] == 4:
        if not (img[..., 3] == 255).all():
            raise ValueError(
                f'{path} has an alpha channel with transparent pixels; '
                'flatten it onto a background explicitly first')
        return np.ascontiguousarray(img[..., :3])
    if img.shape[2] != 3:
        raise ValueError(f'{path} has {img.shape[2]} channels, expected 1, '
                         '3 or 4 (opaque RGBA)')
    return img


def read_gray(path: str, preset: str) -> np.ndarray:
    """:func:`read_bgr8`, then the gray rule of ``preset``."""
    return FUSION_PRESETS[preset]['gray'](read_bgr8(path))


def match_stems(ir: Dict[str, str], vi: Dict[str, str],
                fused: Dict[str, str]) -> Tuple[List[str], Dict[str, list]]:
    """The stems of the complete triples (in ``ir`` order) and
    ``{kind: [stems]}`` for every kind of :data:`UNMATCHED_KINDS`."""
    common = [s for s in ir if s in vi and s in fused]
    unmatched = {
        'fused_without_source':
        [s for s in fused if not (s in ir and s in vi)],
        'source_without_fused':
        [s for s in ir if s in vi and s not in fused],
        'ir_without_vi': [s for s in ir if s not in vi],
        'vi_without_ir': [s for s in vi if s not in ir],
    }
    return common, unmatched


def unmatched_messages(unmatched: Dict[str, list],
                       folders: Dict[str, str]) -> List[str]:
    """One line per non-empty kind of ``unmatched`` (:func:`match_stems`),
    e.g. ``'2 fused image(s) without an IR/VI source pair in DIR: x, y'``;
    ``folders`` maps ``'IR'``, ``'VI'``, ``'fused'`` to directories."""
    lines = []
    for kind, (what, folder) in UNMATCHED_KINDS.items():
        stems = unmatched.get(kind) or []
        if stems:
            lines.append(f'{len(stems)} {what} in {folders[folder]}: '
                         f'{list_names(stems)}')
    return lines


def score_files(paths: Dict[str, str],
                preset: str,
                names: Sequence[str],
                stem: str,
                method: Optional[str] = None,
                device: Optional[str] = None
                ) -> Tuple[Dict[str, float], Dict[str, np.ndarray]]:
    """Read one triple ``{'IR', 'VI', 'fused': path}`` and compute its
    metrics (errors name ``stem``, ``method`` and the files).

    Returns:
        tuple: ``{metric: value}`` (NaN where undefined) and the grey
        images ``{'IR', 'VI', 'fused'}``.
    """
    import torch
    from mmengine.device import get_device

    from mmfusenas.evaluation.functional.fusion import \
        compute_fusion_metrics
    imgs = {k: read_gray(p, preset) for k, p in paths.items()}
    shapes = {k: v.shape for k, v in imgs.items()}
    where = f'stem {stem!r}' + (f' of method {method!r}'
                                if method is not None else '')
    if len(set(shapes.values())) > 1:
        shown = paths if method is not None else {
            k: osp.basename(p) for k, p in paths.items()}
        raise ValueError(
            f'size mismatch for {where} (HxW): ' +
            ', '.join(f'{k} {shown[k]} {s[0]}x{s[1]}'
                      for k, s in shapes.items()))
    try:
        row = compute_fusion_metrics(
            *(torch.from_numpy(imgs[k]).to(device or get_device())
              for k in ('IR', 'VI', 'fused')), preset, names)
    except (ValueError, KeyError, ArithmeticError) as err:
        raise ValueError(
            f'metrics of {where} failed (' +
            ', '.join(f'{k} {p}' for k, p in paths.items()) +
            f'): {type(err).__name__}: {err}') from err
    return row, imgs


def degenerate_cause(imgs: Dict[str, np.ndarray],
                     paths: Dict[str, str]) -> Optional[str]:
    """What makes a triple degenerate, naming the files: its constant
    images (``'fused PATH is constant (all 0)'``), else a fused image equal
    to both sources; None when neither holds."""
    const = [f'{k} {paths[k]} is constant (all {float(v.flat[0]):g})'
             for k, v in imgs.items() if v.min() == v.max()]
    if const:
        return ', '.join(const)
    f = imgs['fused']
    if np.array_equal(f, imgs['IR']) and np.array_equal(f, imgs['VI']):
        return f'the fused image {paths["fused"]} equals both sources'
    return None


def undefined_metrics(row: Dict[str, float],
                      cause: Optional[str]) -> Dict[str, str]:
    """``{metric: reason}`` for the non-finite values of ``row``, e.g.
    ``{'QNCIE': 'nan: fused PATH is constant (all 0)'}``."""
    return {m: f'{v}: {cause or "not finite"}'
            for m, v in row.items() if not math.isfinite(v)}


def degenerate_files_message(causes: Dict[str, str],
                             undefined: Dict[str, Dict[str, str]]
                             ) -> Optional[str]:
    """The sentence naming each pair's degenerate files (``causes``:
    ``{pair: cause}``) and the metrics undefined on them (``undefined``:
    ``{pair: {metric: reason}}``); None when ``causes`` is empty."""
    if not causes:
        return None
    items = [f'{k}: {c}' + (f' (undefined: {", ".join(undefined[k])})'
                           if undefined.get(k) else '')
             for k, c in causes.items()]
    return (f'Degenerate image files for {len(causes)} pair(s): ' +
            list_names(items) + '.')


def strict_json(obj) -> str:
    """``obj`` as indented strict JSON, non-finite floats as ``null``."""

    def clean(x):
        if isinstance(x, dict):
            return {k: clean(v) for k, v in x.items()}
        if isinstance(x, (list, tuple)):
            return [clean(v) for v in x]
        if isinstance(x, float) and not math.isfinite(x):
            return None
        return x

    return json.dumps(clean(obj), indent=2, allow_nan=False)


def mean_metrics(per_image: Dict[str, Dict[str, float]],
                 names: Sequence[str]) -> Dict[str, float]:
    """``{metric: mean over the rows of per_image}`` (float64)."""
    return {
        m: float(np.mean([r[m] for r in per_image.values()]))
        for m in names
    }


def format_metrics_table(per_image: Dict[str, Dict[str, float]],
                         mean: Dict[str, float], preset: str,
                         digits: int = 4) -> str:
    """The table of per-image rows and the mean row, with the note on
    summed metrics beneath."""
    names = list(mean)
    rows = [['image'] + names]
    for stem, r in per_image.items():
        rows.append([stem] + [f'{r[m]:.{digits}f}' for m in names])
    rows.append([f'mean ({len(per_image)})'] +
                [f'{mean[m]:.{digits}f}' for m in names])
    table = AsciiTable(rows, title=f'preset {preset}, {len(per_image)} '
                       'pair(s)')
    table.inner_footing_row_border = True
    note = summed_metrics_note(preset, names)
    return table.table + (f'\n{note}' if note else '')
