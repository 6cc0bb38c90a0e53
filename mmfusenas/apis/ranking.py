"""Ranking of fusion methods per metric (``eval_fusion.py --methods-root``,
``benchmarks/bench_fusion_real.py``)."""
from typing import Dict, FrozenSet, Iterable, Optional, Sequence

import numpy as np

#: metrics where a lower value is better
LOWER_BETTER: FrozenSet[str] = frozenset({'Nabf', 'CE', 'MSE'})


def add_ranks(table: Dict[str, dict],
              metrics: Sequence[str],
              lower_better: Optional[Iterable[str]] = None,
              mean_rank: bool = True) -> None:
    """Rank the methods ``{method: {metric: value}}`` of ``table`` per
    metric, in place: each row gets ``'rank'`` (``{metric: rank}``) and,
    with ``mean_rank``, ``'mean_rank'`` (rounded to 3 decimals).

    Rank 1 is the best (``lower_better``, default :data:`LOWER_BETTER`:
    the lowest value); ties share the best rank; a non-finite value ranks
    last; rows with an ``'absent'`` key are left out.
    """
    lower = LOWER_BETTER if lower_better is None else frozenset(lower_better)
    rows = [r for r in table.values() if 'absent' not in r]
    for row in rows:
        row['rank'] = {}
    for metric in metrics:
        values = np.array([float(r[metric]) for r in rows])
        values = np.where(np.isfinite(values),
                          values if metric in lower else -values, np.inf)
        for row, better in zip(rows, values[None, :] < values[:, None]):
            row['rank'][metric] = 1 + int(better.sum())
    if mean_rank:
        for row in rows:
            row['mean_rank'] = round(
                float(np.mean(list(row['rank'].values()))), 3)
