"""Render the measured results (``docs/results/*.json``) into the docs.

Example::

    python tools/misc/results_to_docs.py           # rewrite the tables
    python tools/misc/results_to_docs.py --check   # exit 1 if they drifted

A results file ``docs/results/<name>.json`` is a record written by a
benchmark (e.g. ``benchmarks/bench_fusion_real.py --results-json``)::

    {"command": "...", "commit": "<sha>", "machine": {"cpu_model": ...,
     "cores": n, "threads": n}, "metrics": [...],
     "merged": {"record": path, "command": "...", "commit": "<sha>"}
               (optional: rows taken from an earlier record),
     "result": {dataset: {method: {metric: value, ..., "rank": {...},
                                  "mean_rank": r, "params": n, "flops": n,
                                  "latency_ms": t, "pairs": n}
                                 | {"absent": reason}}}}

``metrics`` names the columns in order (default: the first row's ranked
metrics; ``table_metrics: {table: [...]}`` overrides them for one table)
and ``count`` the key of a row's sample count shown beside the table's
name (default ``pairs``; e.g. ``frames``; nothing is shown when no row has
it); ``row_label`` the first column's title (default ``method``); ``note``
(optional) is printed after the header (e.g. the machine's load);
``decimals`` (default 4) is the number of decimals of float values.

A row whose name has a caveat (``ROW_CAVEATS`` of
:mod:`mmfusenas.benchmark.results_record`, or the record's own ``caveats``:
``{row: text}``) gets a footnote sign after its name (``†``, then ``‡``,
...) in every table that holds it, and the footnote text once per
record, beneath the first table that holds it. A record of fusion metrics
(one with a ``preset``) gets, at the end of its header, the note naming
the columns that add one value per source (e.g.
``SSIM = SSIM(A,F) + SSIM(B,F)``), from
:func:`mmfusenas.evaluation.functional.fusion.summed_metrics_note`.

Every Markdown file under ``docs/``, ``projects/`` and ``benchmarks/`` (and
``README.md``, ``tests/README.md``) may hold blocks
``<!-- results:<name> -->`` ... ``<!-- /results -->``; the text between
the markers is replaced by the rendering of ``docs/results/<name>.json``
(a header with the command and machine (the commit and the machine's load
stay in the record, which the header names), then one table per dataset
with each metric's value and rank). A block whose JSON does not exist yet
renders as a "not measured yet" line. A block naming no marker end, or
nested blocks, is an error naming the file and line. Files are rewritten
atomically and only when their text changes."""
import argparse
import glob
import json
import os.path as osp
import re
import sys
from typing import Dict, List, Optional, Sequence, Tuple

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))

from mmfusenas.benchmark.results_record import (  # noqa: E402
    FOOTNOTE_SIGNS, ROW_CAVEATS)
from mmfusenas.utils.fileio import atomic_write  # noqa: E402

BEGIN = re.compile(r'^<!-- results:([A-Za-z0-9_.-]+) -->\s*$')
END = '<!-- /results -->'

#: cost columns: key -> (header, format)
COST = (('params', 'params', lambda v: f'{v:,}'),
        ('flops', 'GFLOPs', lambda v: f'{v / 1e9:.3f}'),
        ('latency_ms', 'CPU ms', lambda v: f'{v:.1f}'))


def _fmt(value, decimals: int = 4) -> str:
    if isinstance(value, float):
        return f'{value:.{decimals}f}'
    return str(value)


def _summed_note(record: dict) -> Optional[str]:
    """The note on the columns that sum two sources, for a record of
    fusion metrics (one with a ``preset``); ``None`` otherwise."""
    if not record.get('preset'):
        return None
    from mmfusenas.evaluation.fusion_presets import (
        FUSION_PRESETS, summed_metrics_note)
    if record['preset'] not in FUSION_PRESETS:
        return None
    names = list(record.get('metrics') or [])
    for columns in (record.get('table_metrics') or {}).values():
        names += [m for m in columns if m not in names]
    return summed_metrics_note(record['preset'], names)


#: the machine's load in a record's note: history, kept in the record
_LOAD = re.compile(
    r'(?:;\s*|^)load average [0-9.]+(?: / [0-9.]+)*(?: before, [0-9.]+ '
    r'after)?(?: at the end)?(?:[.;]\s*|$)', re.I)


def manual_note(note: str) -> str:
    """``note`` without the machine's load (the record keeps it): what the
    docs show of a record's note."""
    note = _LOAD.sub(lambda m: '.' if m.group(0).startswith(';') else '',
                     note).strip()
    return '' if note == '.' else note


def render(record: dict, name: Optional[str] = None) -> str:
    """Markdown of one results record (see the module doc). The header
    names the command and the machine; the commit and the machine's load
    stay in the record (``docs/results/<name>.json``, named when ``name``
    is given)."""
    machine = record.get('machine', {})
    summed = _summed_note(record)
    note = manual_note(record.get('note') or '')
    where = (f'; record `docs/results/{name}.json`' if name else '')
    lines = [
        f'Measured with `{record["command"]}` on '
        f'{machine.get("cpu_model", "?")} '
        f'({machine.get("cores", "?")} cores, '
        f'{machine.get("threads", "?")} torch thread(s)){where}' + (
            '; value (rank per metric, 1 = best).' if any(
                'rank' in row for table in record['result'].values()
                for row in table.values()) else '.') +
        (f' {note}' if note else '') +
        (f' {summed}' if summed else ''), ''
    ]
    merged = record.get('merged')
    if merged:
        lines[-1:-1] = [
            '', f'The rows of the methods this command did not run are '
            f'those of `{merged["command"]}` (`--merge '
            f'{merged["record"]}`); the ranks are over all rows.'
        ]
    caveats = dict(ROW_CAVEATS, **(record.get('caveats') or {}))
    #: footnote sign of each caveat row of the record, in order of use;
    #: the text is printed once, beneath the first table holding the row
    signs: Dict[str, str] = {}
    decimals = int(record.get('decimals', 4))
    for dataset, table in record['result'].items():
        rows = [r for r in table.values() if 'absent' not in r]
        metrics = list((record.get('table_metrics') or {}).get(dataset)
                       or record.get('metrics')
                       or (rows[0]['rank'] if rows else []))
        count = record.get('count', 'pairs')
        pairs = sorted({r[count] for r in rows if count in r})
        cost = [c for c in COST if any(c[0] in r for r in rows)]
        lines.append(f'**{dataset}** ({"/".join(map(str, pairs))} {count})'
                     if pairs else f'**{dataset}**')
        lines.append('')
        ranked = any('mean_rank' in r for r in rows)
        header = [record.get('row_label', 'method')] + metrics + (
            ['mean rank'] if ranked else []) + [c[1] for c in cost]
        lines.append('| ' + ' | '.join(header) + ' |')
        lines.append('|' + '---|' * len(header))
        new = [n for n in table if n in caveats and n not in signs]
        for name in new:
            k = len(signs)
            signs[name] = FOOTNOTE_SIGNS[k] if k < len(FOOTNOTE_SIGNS) \
                else f'[{k + 1}]'
        for name, r in table.items():
            if 'absent' in r:
                cells = [f'absent: {r["absent"]}'] + [''] * (len(header) - 2)
            else:
                ranks = r.get('rank', {})
                # a metric a row does not have: an empty cell
                cells = [
                    (_fmt(r[m], decimals) if m in r else '') +
                    (f' ({ranks[m]})' if m in ranks else '')
                    for m in metrics
                ] + ([_fmt(r.get('mean_rank', ''))] if ranked else []) + [
                    c[2](r[c[0]]) if c[0] in r else '' for c in cost
                ]
            label = f'{name} {signs[name]}' if name in signs else name
            lines.append('| ' + ' | '.join([label] + cells) + ' |')
        lines.append('')
        for name in new:
            lines += [f'{signs[name]} {name}: {caveats[name]}', '']
    return '\n'.join(lines).rstrip('\n')


def not_measured(name: str) -> str:
    return (f'_Not measured yet: `docs/results/{name}.json` does not exist '
            '(see the commands above)._')


def load_records(results_dir: str) -> Dict[str, dict]:
    """name -> record of every ``results_dir/*.json``.

    Raises:
        ValueError: a file is not valid JSON or lacks ``command``,
            ``commit``, ``machine`` or ``result`` (named).
    """
    records = {}
    for path in sorted(glob.glob(osp.join(results_dir, '*.json'))):
        try:
            with open(path, encoding='utf-8') as f:
                record = json.load(f)
        except json.JSONDecodeError as err:
            raise ValueError(f'{path}: not valid JSON ({err})') from None
        missing = [k for k in ('command', 'commit', 'machine', 'result')
                   if k not in record]
        if missing:
            raise ValueError(f'{path}: missing key(s) {missing}; expected '
                             'a record written by a benchmark\'s '
                             '--results-json')
        records[osp.splitext(osp.basename(path))[0]] = record
    return records


def rewrite(text: str, records: Dict[str, dict], path: str) -> str:
    """``text`` with every results block re-rendered.

    Raises:
        ValueError: a block is not closed, or a block opens inside another
            (the message names ``path`` and the line).
    """
    out: List[str] = []
    lines = text.split('\n')
    i = 0
    while i < len(lines):
        match = BEGIN.match(lines[i])
        out.append(lines[i])
        if not match:
            if lines[i].strip() == END:
                raise ValueError(f'{path}:{i + 1}: {END} without an opening '
                                 '<!-- results:NAME --> marker')
            i += 1
            continue
        name, start = match.group(1), i
        i += 1
        while i < len(lines) and lines[i].strip() != END:
            if BEGIN.match(lines[i]):
                raise ValueError(f'{path}:{i + 1}: results block opened '
                                 f'inside the block of line {start + 1}')
            i += 1
        if i == len(lines):
            raise ValueError(f'{path}:{start + 1}: results block {name!r} '
                             f'has no closing {END}')
        body = render(records[name], name) if name in records else \
            not_measured(name)
        out.extend(['', body, '', lines[i]])
        i += 1
    return '\n'.join(out)


def doc_files(root: str) -> List[str]:
    found = [path for folder in ('docs', 'projects', 'benchmarks')
             for path in sorted(glob.glob(osp.join(root, folder, '**', '*.md'),
                                          recursive=True))]
    return found + [osp.join(root, 'README.md'),
                    osp.join(root, 'tests', 'README.md')]


def update(root: str = ROOT, check: bool = False) -> List[str]:
    """Re-render every results block under ``root``; returns the files
    that changed (with ``check``, that would change; nothing written)."""
    records = load_records(osp.join(root, 'docs', 'results'))
    new_texts: List[Tuple[str, str]] = []
    for path in doc_files(root):
        if not osp.isfile(path):
            continue
        with open(path, encoding='utf-8') as f:
            text = f.read()
        new = rewrite(text, records, osp.relpath(path, root))
        if new != text:
            new_texts.append((path, new))
    if not check:
        for path, new in new_texts:
            atomic_write(new, path)
    return [osp.relpath(p, root) for p, _ in new_texts]


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Render docs/results/*.json into the docs tables')
    parser.add_argument(
        '--check',
        action='store_true',
        help='only report (exit 1) when a docs table differs from its JSON')
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_args(argv)
    try:
        changed = update(check=args.check)
    except ValueError as err:
        print(f'error: {err}', file=sys.stderr)
        return 2
    verb = 'out of date' if args.check else 'rewritten'
    for path in changed:
        print(f'{path}: {verb}')
    if not changed:
        print('docs tables match docs/results/*.json')
    return 1 if (args.check and changed) else 0


if __name__ == '__main__':
    sys.exit(main())
