"""Evaluate fused images against their source pairs.

Example::

    python tools/analysis_tools/eval_fusion.py \\
        ../shared/data/fusion/TNO/ir ../shared/data/fusion/TNO/vi \\
        work_dirs/fused --preset cddfuse --out work_dirs/results.json

Many methods at once::

    python tools/analysis_tools/eval_fusion.py IR_DIR VI_DIR \\
        --methods-root ROOT --preset ivif_zoo --out work_dirs/ranking

scores every ``ROOT/<method>/`` on the stems all methods and the sources
have, prints one table with the rank of each method per metric and its mean
rank, and writes ``work_dirs/ranking.json`` and ``.csv`` (see
:func:`evaluate_methods`).

Pairs are matched by file stem (``01.png`` in IR_DIR, ``01.jpg`` in VI_DIR
and ``01.bmp`` in FUSED_DIR are one triple). Every stem left out is named:
a warning on stderr per kind (fused images without an IR/VI pair, source
pairs without a fused image, IR without VI, VI without IR) with the count
and the stems, and the JSON records ``pairs`` (the number scored) and
``unmatched`` (the stems of each kind); with ``--strict`` any unmatched
stem is an error (exit code 2) instead. Colour images are converted to
gray with the preset's rule (cddfuse: OpenCV ``COLOR_BGR2GRAY`` on the
8-bit image, rounded; tang / vifb: MATLAB ``rgb2gray``). Conventions of each
preset are documented in ``docs/user_guides/evaluation.md``. Reading and
scoring (:mod:`mmfusenas.evaluation.fusion_files`) are also those of
``tools/fuse.py --metrics`` on the PNGs it writes. On the CPU, as many pairs
as the process has cores (at most torch's thread count) are read and scored
at once, each on one thread (``fusion_files.in_order``).

Inputs are checked, not converted silently: images must be 8-bit (a 16-bit
image is refused, since the metrics' constants assume 0..255); an RGBA image
is accepted only when its alpha channel is fully opaque; a truncated or
undecodable file is refused naming it (exit code 2, nothing written);
hidden files (``.name``, e.g. macOS ``._01.png``) are skipped and listed on
stderr. The ``--out`` file is checked for writability before anything is
computed and written atomically. A warning on stderr names the stems whose
fused image is constant (e.g. all black from untrained weights) or whose
metrics are not finite (``CC nan``, ``PSNR -inf``), and the files that make
a pair degenerate (a constant image, a fused image equal to both sources);
the JSON stores it under ``warning``. Degenerate images never stop a run,
under any preset: a metric undefined on them is NaN, and the JSON is strict
(a non-finite value is ``null``, its reason under ``undefined``).
"""
import argparse
import json
import math
import os
import os.path as osp
import sys
from typing import Dict, List, Optional

import numpy as np
from terminaltables import AsciiTable

from mmfusenas.evaluation.fusion_presets import (
    DEFAULT_FUSION_PRESET, EXTRA_METRICS, FUSION_METRICS, FUSION_PRESETS,
    degenerate_pairs_message, list_names, resolve_metrics,
    summed_metrics_note)
from mmfusenas.evaluation.fusion_files import (add_ranks, check_writable,
                                               format_metrics_table, in_order,
                                               mean_metrics, pair_workers,
                                               score_files)
from mmfusenas.utils.fileio import atomic_write
from mmfusenas.utils.progress import track

#: image file extensions read from a folder (case-insensitive)
IMG_EXTS = ('.png', '.jpg', '.jpeg', '.bmp', '.tif', '.tiff', '.webp')

#: the kinds of unmatched stems, in report order: kind -> (what the stems
#: are, the folder they are in)
UNMATCHED_KINDS = {
    'fused_without_source':
    ('fused image(s) without an IR/VI source pair', 'fused'),
    'source_without_fused':
    ('source pair(s) without a fused image', 'fused'),
    'ir_without_vi': ('IR image(s) without a VI image', 'IR'),
    'vi_without_ir': ('VI image(s) without an IR image', 'VI'),
}


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
        default=DEFAULT_FUSION_PRESET,
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
    parser.add_argument(
        '--device',
        help="torch device of the metrics, e.g. 'cpu', 'cuda:0' (default: "
        "'cuda' when available, else 'cpu')")
    parser.add_argument(
        '--strict',
        action='store_true',
        help='exit with an error naming the stems when any stem is '
        'unmatched (a fused image without an IR/VI pair, a source pair '
        'without a fused image, IR without VI or VI without IR; with '
        '--methods-root also a method lacking stems) instead of warning and '
        'scoring the matched pairs')
    return parser.parse_args(argv)


def index_dir(folder: str, what: str) -> Dict[str, str]:
    """``{stem: path}`` of the images of ``folder`` (hidden files skipped
    and listed on stderr); two images with one stem are refused."""
    if not osp.isdir(folder):
        raise FileNotFoundError(f'{what} folder not found: {folder}')
    out, hidden = {}, []
    for name in sorted(os.listdir(folder)):
        stem, ext = osp.splitext(name)
        if ext.lower() not in IMG_EXTS:
            continue
        if name.startswith('.'):
            hidden.append(name)
        elif stem in out:
            raise ValueError(f'{what} folder {folder} has two images with '
                             f'stem {stem!r}: {osp.basename(out[stem])}, '
                             f'{name}')
        else:
            out[stem] = osp.join(folder, name)
    if hidden:
        print(f'note: skipped {len(hidden)} hidden file(s) in {what} folder '
              f'{folder}: {", ".join(hidden)}', file=sys.stderr)
    if not out:
        raise FileNotFoundError(f'{what} folder {folder} holds no images '
                                f'({", ".join(IMG_EXTS)})')
    return out


def unmatched_messages(unmatched: Dict[str, list],
                       folders: Dict[str, str]) -> List[str]:
    """One line per kind of ``unmatched`` stems (:data:`UNMATCHED_KINDS`),
    e.g. ``'2 fused image(s) without an IR/VI source pair in DIR: x, y'``;
    ``folders`` maps ``'IR'``, ``'VI'``, ``'fused'`` to directories."""
    return [f'{len(unmatched[kind])} {what} in {folders[folder]}: '
            f'{list_names(unmatched[kind])}'
            for kind, (what, folder) in UNMATCHED_KINDS.items()
            if unmatched.get(kind)]


def strict_json(obj) -> str:
    """``obj`` as indented strict JSON, non-finite floats as ``null``."""

    def clean(x):
        if isinstance(x, dict):
            return {k: clean(v) for k, v in x.items()}
        if isinstance(x, (list, tuple)):
            return [clean(v) for v in x]
        return None if isinstance(x, float) and not math.isfinite(x) else x

    return json.dumps(clean(obj), indent=2, allow_nan=False)


class Degenerate:
    """The degenerate pairs of a run: constant fused images, the files
    that make a pair degenerate (constant images, a fused image equal to
    both sources) and the metrics undefined on it."""

    def __init__(self):
        self.constant, self.causes, self.undefined = {}, {}, {}
        self.json = {}  # the reasons, nested as per_image is

    def add(self, row: dict, imgs: dict, paths: dict, stem: str,
            method: Optional[str] = None) -> None:
        key = stem if method is None else f'{method}/{stem}'
        f = imgs['fused']
        if f.min() == f.max():
            self.constant[key] = float(f.flat[0])
        cause = ', '.join(
            f'{k} {paths[k]} is constant (all {float(v.flat[0]):g})'
            for k, v in imgs.items() if v.min() == v.max())
        if not cause and np.array_equal(f, imgs['IR']) and np.array_equal(
                f, imgs['VI']):
            cause = f'the fused image {paths["fused"]} equals both sources'
        if cause:
            self.causes[key] = cause
        bad = {m: f'{v}: {cause or "not finite"}'
               for m, v in row.items() if not math.isfinite(v)}
        if bad:
            self.undefined[key] = bad
            node = self.json if method is None else self.json.setdefault(
                method, {})
            node[stem] = bad

    def record(self, result: dict, rows: dict) -> None:
        """Add ``'warning'`` (naming the pairs ``rows`` and the files) and
        ``'undefined'`` (``{metric: reason}`` of each non-finite value,
        nested as ``per_image``) to ``result``."""
        parts = [degenerate_pairs_message(rows, self.constant)]
        if self.causes:
            parts.append(
                f'Degenerate image files for {len(self.causes)} pair(s): ' +
                list_names([f'{k}: {c}' + (
                    f' (undefined: {", ".join(self.undefined[k])})'
                    if self.undefined.get(k) else '')
                    for k, c in self.causes.items()]) + '.')
        if any(parts):
            result['warning'] = ' '.join(p for p in parts if p)
        if self.json:
            result['undefined'] = self.json


def evaluate(ir_dir: str,
             vi_dir: str,
             fused_dir: str,
             preset: str,
             metrics: List[str] = None,
             strict: bool = False,
             device: Optional[str] = None) -> dict:
    """Score the stems that IR_DIR, VI_DIR and FUSED_DIR all have.

    Args:
        ir_dir, vi_dir, fused_dir: the folders (source A, source B, fused).
        preset: the convention preset.
        metrics: metric names, ``['all']`` or ``None`` (the preset's
            default list).
        strict: raise instead of leaving unmatched stems out.
        device: torch device of the metrics (``None``: CUDA when
            available).

    Returns:
        dict: ``{'preset', 'metrics', 'pairs' (the number scored),
        'per_image': {stem: {metric: value}}, 'mean': {...}, 'unmatched':
        {kind: [stems]}}`` (kinds: ``fused_without_source``,
        ``source_without_fused``, ``ir_without_vi``, ``vi_without_ir``),
        plus ``'warning'`` when an image is constant or a metric is not
        finite and ``'undefined': {stem: {metric: reason}}`` for the
        non-finite values (see :class:`Degenerate`).

    Raises:
        ValueError: no stem is common to the three folders, or ``strict``
            and a stem is unmatched (the message names the stems of each
            kind), or a file or its metrics fail (named, see
            :func:`score_files`).
        OSError: a file is truncated or cannot be decoded (named).
    """
    if metrics is not None and list(metrics) == ['all']:
        metrics = 'all'
    names = resolve_metrics(preset, metrics)
    folders = {'IR': ir_dir, 'VI': vi_dir, 'fused': fused_dir}
    ir, vi, fu = (index_dir(d, w) for w, d in folders.items())
    common = [s for s in ir if s in vi and s in fu]
    unmatched = {
        'fused_without_source': [s for s in fu if s not in ir or s not in vi],
        'source_without_fused': [s for s in ir if s in vi and s not in fu],
        'ir_without_vi': [s for s in ir if s not in vi],
        'vi_without_ir': [s for s in vi if s not in ir]}
    lines = unmatched_messages(unmatched, folders)
    if not common:
        raise ValueError(f'no stem is common to {ir_dir}, {vi_dir} and '
                         f'{fused_dir}: ' + '; '.join(lines))
    if strict and lines:
        raise ValueError('unmatched stems (--strict): ' + '; '.join(lines))
    per_image, deg = {}, Degenerate()

    def score(stem):
        paths = {'IR': ir[stem], 'VI': vi[stem], 'fused': fu[stem]}
        return stem, paths, score_files(paths, preset, names, stem,
                                        device=device, workers=1)

    # pairs at once, each on one thread (see fusion_files.in_order)
    scored = in_order(score, common, pair_workers(device))
    for stem, paths, (row, imgs) in track(
            scored, f'evaluating {len(common)} fused image(s) ({preset})',
            total=len(common)):
        per_image[stem] = row
        deg.add(row, imgs, paths, stem)
    result = {'preset': preset, 'metrics': list(names),
              'pairs': len(per_image), 'per_image': per_image,
              'mean': mean_metrics(per_image, names),
              'unmatched': unmatched}
    deg.record(result, per_image)
    return result


def unmatched_warning(result: dict, folders: Dict[str, str]) -> List[str]:
    """The stderr lines of :func:`evaluate`'s unmatched stems: one per
    kind, then how many pairs the means are over."""
    lines = unmatched_messages(result['unmatched'], folders)
    if not lines:
        return []
    return [f'warning: {line}' for line in lines] + [
        f'warning: these stems are not scored; the means are over the '
        f'{result["pairs"]} matched pair(s) (--strict makes unmatched stems '
        'an error)']


def evaluate_methods(ir_dir: str,
                     vi_dir: str,
                     root: str,
                     preset: str,
                     metrics: List[str] = None,
                     strict: bool = False,
                     device: Optional[str] = None) -> dict:
    """Score every method folder of ``root`` and rank the methods.

    Each sub-folder of ``root`` is a method; its images are matched to the
    sources by stem. Every method is scored on the stems that the sources
    and **all** methods have; a method missing stems is reported with the
    missing count (and the stems), never scored on fewer pairs than the
    others; a method's images without a source pair (``extra``) and
    source images without a partner (``unmatched``) are reported too.
    Ranks follow :func:`add_ranks`.

    Args:
        strict: raise instead of leaving any stem out.
        device: as :func:`evaluate`.

    Returns:
        dict: ``{'preset', 'metrics', 'pairs', 'stems', 'methods':
        {method: {'mean': {...}, 'rank': {...}, 'mean_rank': r,
        'missing': [...], 'extra': [...]}}, 'unmatched': {'ir_without_vi':
        [...], 'vi_without_ir': [...]}, 'per_image': {method: {stem:
        {...}}}}`` (plus ``'warning'`` and ``'undefined': {method: {stem:
        {metric: reason}}}`` as :func:`evaluate`).

    Raises:
        ValueError: no stem is common to the sources and all methods, or
            ``strict`` and a stem is left out (named).
    """
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
    extra = {m: [s for s in fused[m] if s not in ir or s not in vi]
             for m in methods}
    unmatched = {'ir_without_vi': [s for s in ir if s not in vi],
                 'vi_without_ir': [s for s in vi if s not in ir]}
    if strict:
        lines = unmatched_messages(unmatched, {'IR': ir_dir, 'VI': vi_dir})
        for m in methods:
            for stems, what in ((missing[m], 'source pair(s) without a '
                                 'fused image'),
                                (extra[m], 'fused image(s) without an IR/VI '
                                 'source pair')):
                if stems:
                    lines.append(f'{len(stems)} {what} in method {m!r}: '
                                 f'{list_names(stems)}')
        if lines:
            raise ValueError('unmatched stems (--strict): ' +
                             '; '.join(lines))
    per_image = {m: {} for m in methods}
    deg = Degenerate()
    jobs = [(m, s) for m in methods for s in common]

    def score(job):
        method, stem = job
        paths = {'IR': ir[stem], 'VI': vi[stem],
                 'fused': fused[method][stem]}
        return job, paths, score_files(paths, preset, names, stem, method,
                                       device, workers=1)

    scored = in_order(score, jobs, pair_workers(device))
    for (method, stem), paths, (row, imgs) in track(
            scored, f'scoring {len(methods)} method(s) x {len(common)} '
            f'pair(s) ({preset})', total=len(jobs)):
        per_image[method][stem] = row
        deg.add(row, imgs, paths, stem, method)
    table = {m: mean_metrics(per_image[m], names) for m in methods}
    add_ranks(table, names)
    summary = {
        m: {'mean': {n: table[m][n] for n in names},
            'rank': table[m]['rank'], 'mean_rank': table[m]['mean_rank'],
            'missing': missing[m], 'extra': extra[m]}
        for m in methods
    }
    result = {'preset': preset, 'metrics': list(names),
              'pairs': len(common), 'stems': common, 'methods': summary,
              'unmatched': unmatched, 'per_image': per_image}
    flat = {f'{m}/{s}': r for m in methods for s, r in per_image[m].items()}
    deg.record(result, flat)
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
    note = summed_metrics_note(result['preset'], names)
    return AsciiTable(rows, title=f'preset {result["preset"]}, '
                      f'{result["pairs"]} common pair(s); value (rank)'
                      ).table + (f'\n{note}' if note else '')


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
                              args.preset, args.metrics, args.strict,
                              args.device)
    for line in unmatched_messages(result['unmatched'], {
            'IR': args.ir_dir, 'VI': args.vi_dir}):
        print(f'warning: {line}; not scored', file=sys.stderr)
    for m, r in result['methods'].items():
        if r['missing']:
            print(f'warning: method {m!r} lacks {len(r["missing"])} '
                  f'stem(s) of the sources ({list_names(r["missing"])}); '
                  f'every method is scored on the {result["pairs"]} common '
                  'stem(s)', file=sys.stderr)
        if r['extra']:
            print(f'warning: method {m!r} has {len(r["extra"])} fused '
                  f'image(s) without an IR/VI source pair '
                  f'({list_names(r["extra"])}); not scored', file=sys.stderr)
    print(format_methods_table(result, args.digits))
    if 'warning' in result:
        print(f'warning: {result["warning"]}', file=sys.stderr)
    if out:
        atomic_write(strict_json(result), out + '.json')
        atomic_write(methods_csv(result), out + '.csv')
        print(f'results written to {out}.json and {out}.csv')
    return 0


def format_table(result: dict, digits: int = 4) -> str:
    """The per-image rows and the mean of :func:`evaluate`, with the note
    naming the columns that sum two sources."""
    return format_metrics_table(result['per_image'], result['mean'],
                                result['preset'], digits)


def _folder_main(args) -> int:
    if args.out:
        check_writable(args.out)
    result = evaluate(args.ir_dir, args.vi_dir, args.fused_dir, args.preset,
                      args.metrics, args.strict, args.device)
    for line in unmatched_warning(result, {'IR': args.ir_dir,
                                           'VI': args.vi_dir,
                                           'fused': args.fused_dir}):
        print(line, file=sys.stderr)
    print(format_table(result, args.digits))
    if 'warning' in result:
        print(f'warning: {result["warning"]}', file=sys.stderr)
    if args.out:
        atomic_write(strict_json(result), args.out)
        print(f'results written to {args.out}')
    return 0


def main(argv=None) -> int:
    args = parse_args(argv)
    if (args.methods_root is None) == (args.fused_dir is None):
        print('error: give FUSED_DIR or --methods-root ROOT (one of them)',
              file=sys.stderr)
        return 2
    try:
        return (_folder_main if args.methods_root is None else
                _methods_main)(args)
    except (KeyError, FileNotFoundError, ValueError, OSError) as e:
        msg = e.args[0] if isinstance(e, KeyError) and e.args else str(e)
        print(f'error: {msg}', file=sys.stderr)
        return 2


if __name__ == '__main__':
    sys.exit(main())
