"""Curves and architecture-weight evolution from MMEngine ``scalars.json``
logs (``ArchLoggingHook`` adds ``arch/<key>/<candidate>`` records).
"""
import json
import os
import os.path as osp
from collections import OrderedDict
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

ARCH_PREFIX = 'arch/'


def load_scalars(path: str) -> List[dict]:
    """Records of a ``scalars.json`` file (or of a run folder holding one).

    Raises:
        FileNotFoundError: no such file.
        ValueError: a line that is not a JSON object.
    """
    if osp.isdir(path):
        import glob
        found = sorted(
            glob.glob(osp.join(path, '**', 'vis_data', 'scalars.json'),
                      recursive=True))
        if not found:
            raise FileNotFoundError(f'no vis_data/scalars.json under {path}')
        path = found[-1]
    if not osp.isfile(path):
        raise FileNotFoundError(f'log file not found: {path}')
    records = []
    with open(path) as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as err:
                raise ValueError(f'{path}:{lineno}: not a JSON record '
                                 f'({err})') from err
            if not isinstance(record, dict):
                raise ValueError(f'{path}:{lineno}: expected a JSON object')
            records.append(record)
    return records


def series(records: Sequence[dict],
           key: str,
           x_key: str = 'step') -> Tuple[np.ndarray, np.ndarray]:
    """``(x, y)`` of every record holding ``key``."""
    xs, ys = [], []
    for i, record in enumerate(records):
        if key in record and isinstance(record[key], (int, float)):
            xs.append(record.get(x_key, i))
            ys.append(record[key])
    return np.asarray(xs, float), np.asarray(ys, float)


def plot_curves(logs: Dict[str, Sequence[dict]],
                keys: Sequence[str],
                out: Optional[str] = None,
                title: Optional[str] = None):
    """Plot ``keys`` of several runs (one subplot per key, runs overlaid).

    Args:
        logs (dict): legend name -> records.
        keys (Sequence[str]): scalar names, e.g. ``loss``.
        out (str, optional): save the figure there.
        title (str, optional): figure title.

    Returns:
        matplotlib.figure.Figure

    Raises:
        KeyError: a key that none of the runs logged.
    """
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    known = sorted({k for recs in logs.values() for r in recs for k in r})
    fig, axes = plt.subplots(
        len(keys), 1, figsize=(7, 2.6 * len(keys)), squeeze=False)
    for ax, key in zip(axes[:, 0], keys):
        drawn = 0
        for name, recs in logs.items():
            x, y = series(recs, key)
            if len(x):
                ax.plot(x, y, label=name, marker='.' if len(x) < 30 else '')
                drawn += 1
        if not drawn:
            raise KeyError(f'no run logged {key!r}; logged keys: {known}')
        ax.set_ylabel(key)
        ax.set_xlabel('iteration')
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    if out:
        os.makedirs(osp.dirname(osp.abspath(out)), exist_ok=True)
        fig.savefig(out, dpi=100)
    return fig


ArchSeries = Tuple[np.ndarray, List[str], np.ndarray]


def arch_series(records: Sequence[dict]) -> 'OrderedDict[str, ArchSeries]':
    """``{key: (steps (T,), candidates (K,), probs (T, K))}`` from the
    ``arch/<key>/<candidate>`` records (NaN where a candidate is missing).
    """
    per_key: 'OrderedDict[str, OrderedDict]' = OrderedDict()
    for record in records:
        names = [k for k in record if k.startswith(ARCH_PREFIX)]
        if not names:
            continue
        step = record.get('step')
        for name in names:
            key, _, cand = name[len(ARCH_PREFIX):].rpartition('/')
            cands = per_key.setdefault(key, OrderedDict())
            cands.setdefault(cand, {})[step] = record[name]
    out = OrderedDict()
    for key, cands in per_key.items():
        steps = sorted({s for vals in cands.values() for s in vals})
        names = list(cands)
        probs = np.full((len(steps), len(names)), np.nan)
        for j, name in enumerate(names):
            for i, step in enumerate(steps):
                probs[i, j] = cands[name].get(step, np.nan)
        out[key] = (np.asarray(steps, float), names, probs)
    return out


def plot_arch_evolution(records: Sequence[dict],
                        out: Optional[str] = None,
                        keys: Optional[Sequence[str]] = None,
                        title: Optional[str] = None):
    """One heat-map strip per choice point: candidates x iterations.

    Args:
        records: scalar records with ``arch/<key>/<candidate>`` entries.
        out (str, optional): save the figure there.
        keys (Sequence[str], optional): only these architecture keys.
        title (str, optional): figure title.

    Raises:
        ValueError: the records hold no ``arch/`` scalars.
    """
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    data = arch_series(records)
    if keys:
        missing = [k for k in keys if k not in data]
        if missing:
            raise KeyError(f'unknown architecture keys {missing}; logged: '
                           f'{list(data)}')
        data = OrderedDict((k, data[k]) for k in keys)
    if not data:
        raise ValueError('no arch/<key>/<candidate> scalars in the log: '
                         'the search config needs an ArchLoggingHook')
    heights = [max(len(names), 1) * 0.28 + 0.6 for _, names, _ in
               data.values()]
    fig, axes = plt.subplots(
        len(data), 1, figsize=(8, sum(heights) + 0.6), squeeze=False,
        gridspec_kw=dict(height_ratios=heights))
    image = None
    for ax, (key, (steps, names, probs)) in zip(axes[:, 0], data.items()):
        extent = (steps[0] - 0.5, steps[-1] + 0.5, len(names) - 0.5, -0.5)
        image = ax.imshow(probs.T, aspect='auto', cmap='viridis', vmin=0,
                          vmax=1, interpolation='nearest', extent=extent)
        ax.set_yticks(range(len(names)))
        ax.set_yticklabels(names, fontsize=7)
        best = names[int(np.nanargmax(probs[-1]))]
        ax.set_title(f'{key}  (last: {best})', fontsize=8, loc='left')
    axes[-1, 0].set_xlabel('iteration')
    fig.colorbar(image, ax=axes[:, 0].tolist(), label='softmax(α)',
                 fraction=0.03)
    if title:
        fig.suptitle(title)
    if out:
        os.makedirs(osp.dirname(osp.abspath(out)), exist_ok=True)
        fig.savefig(out, dpi=100)
    return fig


def train_time(records: Sequence[dict]) -> Dict[str, float]:
    """Mean / slowest / fastest ``time`` of the training records (those with
    ``iter`` or no ``prefix/name`` metric key), as mmdet's ``cal_train_time``.
    """
    times = np.asarray([
        r['time'] for r in records if 'time' in r and (
            'iter' in r or not any('/' in str(k) for k in r))
    ], float)
    if not len(times):
        raise ValueError('no "time" entries of training iterations in the '
                         'log')
    return dict(mean=float(times.mean()), max=float(times.max()),
                min=float(times.min()), std=float(times.std()),
                iters=int(len(times)))
