"""Evaluate fused images against their source pairs.

Example::

    python tools/analysis_tools/eval_fusion.py \\
        ../shared/data/fusion/TNO/ir ../shared/data/fusion/TNO/vi \\
        work_dirs/fused --preset cddfuse --out results.json

Many methods at once::

    python tools/analysis_tools/eval_fusion.py IR_DIR VI_DIR \\
        --methods-root ROOT --preset ivif_zoo --out ranking

scores every ``ROOT/<method>/`` on the stems all methods and the sources
have, prints one table with the rank of each method per metric and its mean
rank, and writes ``ranking.json`` and ``ranking.csv`` (see
:func:`evaluate_methods`).

Pairs are matched by file stem (``01.png`` in IR_DIR, ``01.jpg`` in VI_DIR
and ``01.bmp`` in FUSED_DIR are one triple). Colour images are converted to
gray with the preset's rule (cddfuse: OpenCV ``COLOR_BGR2GRAY`` on the
8-bit image, rounded; tang / vifb: MATLAB ``rgb2gray``). Conventions of each
preset are documented in ``docs/user_guides/evaluation.md``.

Inputs are checked, not converted silently: images must be 8-bit (a 16-bit
image is refused, since the metrics' constants assume 0..255); an RGBA image
is accepted only when its alpha channel is fully opaque; hidden files
(``.name``, e.g. macOS ``._01.png``) are skipped and listed on stderr. The
``--out`` file is checked for writability before anything is computed and
written atomically. A warning on stderr names the stems whose fused image is
constant (e.g. all black from untrained weights) or whose metrics are not
finite (``CC nan``, ``PSNR -inf``); the JSON lists them under ``warning``.
"""
import argparse
import json
import os
import os.path as osp
import sys
from typing import Dict, List

import cv2
import numpy as np
from terminaltables import AsciiTable

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(
    __file__)))))

from mmfusenas.evaluation.functional.fusion import (  # noqa: E402
    EXTRA_METRICS, FUSION_METRICS, FUSION_PRESETS, compute_fusion_metrics,
    degenerate_pairs_message, resolve_metrics)
from mmfusenas.utils.fileio import atomic_write  # noqa: E402
from mmfusenas.utils.progress import track  # noqa: E402

IMG_EXTS = ('.png', '.jpg', '.jpeg', '.bmp', '.tif', '.tiff', '.webp')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Image-fusion metrics with explicit conventions')
    parser.add_argument('ir_dir', help='folder of source A (e.g. infrared)')
    parser.add_argument('vi_dir', help='folder of source B (e.g. visible)')
    parser.add_argument(
        'fused_dir',
        nargs='?',
        help='folder of fused images (not with --methods-root)')
    parser.add_argument(
        '--methods-root',
        metavar='ROOT',
        help='score and rank many methods at once: ROOT/<method>/<stem>.<ext>'
        ' holds each method\'s fused images; every method is scored on the '
        'stems all of them (and the sources) have')
    parser.add_argument(
        '--preset',
        default='cddfuse',
        help=f'convention preset: {", ".join(sorted(FUSION_PRESETS))}')
    parser.add_argument(
        '--metrics',
        nargs='+',
        default=None,
        help=f'metric names (default: the preset\'s list; "all" for the '
        f'preset\'s full list): {" ".join(FUSION_METRICS)}; '
        f'{" ".join(EXTRA_METRICS)} (see docs/user_guides/evaluation.md)')
    parser.add_argument(
        '--out',
        help='write results to this JSON file (with --methods-root: OUT.json '
        'and OUT.csv)')
    parser.add_argument(
        '--digits', type=int, default=4, help='decimals shown in the table')
    return parser.parse_args(argv)


def index_dir(folder: str, what: str) -> Dict[str, str]:
    """Map file stem -> path for the images of ``folder``."""
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
    """Read an 8-bit image as BGR, refusing what would be converted
    silently: other bit depths and RGBA with transparent pixels."""
    img = cv2.imread(path, cv2.IMREAD_UNCHANGED)
    if img is None:
        raise OSError(f'cannot read image {path}')
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
    return FUSION_PRESETS[preset]['gray'](read_bgr8(path))


def check_writable(path: str) -> None:
    """Fail before any work when ``path`` cannot be written."""
    if osp.isdir(path):
        raise IsADirectoryError(f'--out {path} is a folder, expected a '
                                'JSON file name')
    folder = osp.dirname(osp.abspath(path))
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError as err:
        raise OSError(f'--out {path}: cannot create folder {folder}: '
                      f'{err.strerror}') from None
    if not os.access(folder, os.W_OK | os.X_OK) or (
            osp.exists(path) and not os.access(path, os.W_OK)):
        raise PermissionError(f'--out {path} is not writable')


def evaluate(ir_dir: str, vi_dir: str, fused_dir: str, preset: str,
             metrics: List[str] = None) -> dict:
    """Evaluate every stem of ``ir_dir``; returns the JSON-shaped dict."""
    if metrics is not None and list(metrics) == ['all']:
        metrics = 'all'
    names = resolve_metrics(preset, metrics)
    ir, vi, fu = (index_dir(d, w) for d, w in ((ir_dir, 'IR'),
                                              (vi_dir, 'VI'),
                                              (fused_dir, 'fused')))
    missing_vi = [s for s in ir if s not in vi]
    if missing_vi:
        raise FileNotFoundError(f'no VI image in {vi_dir} for stem(s) '
                                f'{missing_vi}')
    missing_f = [s for s in ir if s not in fu]
    if missing_f:
        raise FileNotFoundError(f'no fused image in {fused_dir} for stem(s) '
                                f'{missing_f}')
    per_image, constant = {}, {}
    for stem in track(list(ir), f'evaluating {len(ir)} fused image(s) '
                      f'({preset})'):
        a, b, f = (read_gray(p[stem], preset) for p in (ir, vi, fu))
        shapes = {'IR': a.shape, 'VI': b.shape, 'fused': f.shape}
        if len(set(shapes.values())) > 1:
            raise ValueError(f'size mismatch for stem {stem!r} (HxW): ' +
                             ', '.join(f'{k} {osp.basename(p[stem])} '
                                       f'{s[0]}x{s[1]}'
                                       for (k, s), p in zip(
                                           shapes.items(), (ir, vi, fu))))
        per_image[stem] = compute_fusion_metrics(a, b, f, preset, names)
        if f.min() == f.max():
            constant[stem] = float(f.flat[0])
    mean = {
        m: float(np.mean([r[m] for r in per_image.values()]))
        for m in names
    }
    result = {'preset': preset, 'per_image': per_image, 'mean': mean}
    warning = degenerate_pairs_message(per_image, constant)
    if warning:
        result['warning'] = warning
    return result


def _read_triplet(paths: Dict[str, str], preset: str, stem: str,
                  method: str) -> tuple:
    """The gray A, B, F of one stem; a size mismatch or an unreadable file
    is an error naming the files."""
    imgs = {k: read_gray(p, preset) for k, p in paths.items()}
    shapes = {k: v.shape for k, v in imgs.items()}
    if len(set(shapes.values())) > 1:
        raise ValueError(
            f'size mismatch for stem {stem!r} of method {method!r} (HxW): ' +
            ', '.join(f'{k} {paths[k]} {s[0]}x{s[1]}'
                      for k, s in shapes.items()))
    return imgs['IR'], imgs['VI'], imgs['fused']


def evaluate_methods(ir_dir: str, vi_dir: str, root: str, preset: str,
                     metrics: List[str] = None) -> dict:
    """Score every method folder of ``root`` and rank the methods.

    Each sub-folder of ``root`` is a method; its images are matched to the
    sources by stem. Every method is scored on the stems that the sources
    and **all** methods have; a method missing stems is reported with the
    missing count (and the stems), never scored on fewer pairs than the
    others. Ranks follow :func:`mmfusenas.evaluation.ranking.add_ranks`.

    Returns:
        dict: ``{'preset', 'metrics', 'pairs', 'stems', 'methods':
        {method: {'mean': {...}, 'rank': {...}, 'mean_rank': r,
        'missing': [...]}}, 'per_image': {method: {stem: {...}}}}`` (plus
        ``'warning'`` when a fused image is constant or a metric is not
        finite).
    """
    from mmfusenas.evaluation.ranking import add_ranks
    if metrics is not None and list(metrics) == ['all']:
        metrics = 'all'
    names = resolve_metrics(preset, metrics)
    if not osp.isdir(root):
        raise FileNotFoundError(f'--methods-root folder not found: {root}')
    methods = sorted(d for d in os.listdir(root)
                     if osp.isdir(osp.join(root, d)) and not d.startswith('.'))
    if not methods:
        raise FileNotFoundError(f'--methods-root {root} holds no method '
                                'folders (ROOT/<method>/<stem>.<ext>)')
    ir, vi = index_dir(ir_dir, 'IR'), index_dir(vi_dir, 'VI')
    fused = {m: index_dir(osp.join(root, m), f'method {m!r}')
             for m in methods}
    sources = [s for s in ir if s in vi]
    common = [s for s in sources if all(s in fused[m] for m in methods)]
    if not common:
        raise ValueError(f'no stem is common to the sources and all '
                         f'{len(methods)} methods of {root}')
    missing = {m: [s for s in sources if s not in fused[m]]
               for m in methods}
    per_image = {m: {} for m in methods}
    constant = {}
    jobs = [(m, s) for m in methods for s in common]
    for method, stem in track(jobs, f'scoring {len(methods)} method(s) x '
                              f'{len(common)} pair(s) ({preset})'):
        a, b, f = _read_triplet({'IR': ir[stem], 'VI': vi[stem],
                                 'fused': fused[method][stem]}, preset, stem,
                                method)
        per_image[method][stem] = compute_fusion_metrics(a, b, f, preset,
                                                         names)
        if f.min() == f.max():
            constant[f'{method}/{stem}'] = float(f.flat[0])
    table = {
        m: {n: float(np.mean([r[n] for r in per_image[m].values()]))
            for n in names}
        for m in methods
    }
    add_ranks(table, names)
    summary = {
        m: {'mean': {n: table[m][n] for n in names},
            'rank': table[m]['rank'], 'mean_rank': table[m]['mean_rank'],
            'missing': missing[m]}
        for m in methods
    }
    result = {'preset': preset, 'metrics': list(names),
              'pairs': len(common), 'stems': common, 'methods': summary,
              'per_image': per_image}
    flat = {f'{m}/{s}': r for m in methods for s, r in per_image[m].items()}
    warning = degenerate_pairs_message(flat, constant)
    if warning:
        result['warning'] = warning
    return result


def format_methods_table(result: dict, digits: int = 4) -> str:
    """Methods by mean rank: each metric as ``value (rank)``."""
    names = result['metrics']
    rows = [['method'] + names + ['mean rank']]
    order = sorted(result['methods'],
                   key=lambda m: result['methods'][m]['mean_rank'])
    for m in order:
        r = result['methods'][m]
        rows.append([m] + [f'{r["mean"][n]:.{digits}f} ({r["rank"][n]})'
                           for n in names] + [f'{r["mean_rank"]:.2f}'])
    return AsciiTable(rows, title=f'preset {result["preset"]}, '
                      f'{result["pairs"]} common pair(s); value (rank)'
                      ).table


def methods_csv(result: dict) -> str:
    """One row per method: means, ranks, mean rank, missing count."""
    import csv
    import io
    names = result['metrics']
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator='\n')
    writer.writerow(['method'] + names + [f'rank_{n}' for n in names] +
                    ['mean_rank', 'pairs', 'missing'])
    for m, r in result['methods'].items():
        writer.writerow([m] + [repr(r['mean'][n]) for n in names] +
                        [r['rank'][n] for n in names] +
                        [r['mean_rank'], result['pairs'], len(r['missing'])])
    return buf.getvalue()


def _methods_main(args) -> int:
    out = None
    if args.out:
        out = args.out[:-5] if args.out.endswith('.json') else args.out
        check_writable(out + '.json')
        check_writable(out + '.csv')
    result = evaluate_methods(args.ir_dir, args.vi_dir, args.methods_root,
                              args.preset, args.metrics)
    for m, r in result['methods'].items():
        if r['missing']:
            print(f'warning: method {m!r} lacks {len(r["missing"])} '
                  f'stem(s) of the sources ({", ".join(r["missing"][:10])}'
                  f'{" ..." if len(r["missing"]) > 10 else ""}); every '
                  f'method is scored on the {result["pairs"]} common '
                  'stem(s)', file=sys.stderr)
    print(format_methods_table(result, args.digits))
    if 'warning' in result:
        print(f'warning: {result["warning"]}', file=sys.stderr)
    if out:
        atomic_write(json.dumps(result, indent=2), out + '.json')
        atomic_write(methods_csv(result), out + '.csv')
        print(f'results written to {out}.json and {out}.csv')
    return 0


def format_table(result: dict, digits: int = 4) -> str:
    names = list(result['mean'])
    rows = [['image'] + names]
    for stem, r in result['per_image'].items():
        rows.append([stem] + [f'{r[m]:.{digits}f}' for m in names])
    rows.append(['mean'] + [f'{result["mean"][m]:.{digits}f}'
                            for m in names])
    table = AsciiTable(rows, title=f'preset {result["preset"]}')
    table.inner_footing_row_border = True
    return table.table


def main(argv=None) -> int:
    args = parse_args(argv)
    if (args.methods_root is None) == (args.fused_dir is None):
        print('error: give FUSED_DIR or --methods-root ROOT (one of them)',
              file=sys.stderr)
        return 2
    if args.methods_root is not None:
        try:
            return _methods_main(args)
        except (KeyError, FileNotFoundError, ValueError, OSError) as e:
            msg = e.args[0] if isinstance(e, KeyError) and e.args else str(e)
            print(f'error: {msg}', file=sys.stderr)
            return 2
    try:
        if args.out:
            check_writable(args.out)
        result = evaluate(args.ir_dir, args.vi_dir, args.fused_dir,
                          args.preset, args.metrics)
    except (KeyError, FileNotFoundError, ValueError, OSError) as e:
        msg = e.args[0] if isinstance(e, KeyError) and e.args else str(e)
        print(f'error: {msg}', file=sys.stderr)
        return 2
    print(format_table(result, args.digits))
    if 'warning' in result:
        print(f'warning: {result["warning"]}', file=sys.stderr)
    if args.out:
        atomic_write(json.dumps(result, indent=2), args.out)
        print(f'results written to {args.out}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
