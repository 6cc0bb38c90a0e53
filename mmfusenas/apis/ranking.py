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
    """Rank per metric among the present methods, in place.

    Rank 1 is the best; ties share the best rank (``1 + the number of
    methods strictly better``). Each present row gets ``'rank'``
    (``{metric: rank}``) and ``'mean_rank'`` (rounded to 3 decimals). Rows
    with an ``'absent'`` key are left out. A non-finite value ranks last.

    Args:
        table (dict): ``{method: {metric: value, ...}}``.
        metrics (Sequence[str]): The metrics to rank.
        lower_better (Iterable[str], optional): Defaults to
            :data:`LOWER_BETTER`.
        mean_rank (bool): also add ``'mean_rank'``; False for a table
            ranked by one metric, where it would repeat the rank.
    """
    lower = LOWER_BETTER if lower_better is None else frozenset(lower_better)
    present = [n for n, r in table.items() if 'absent' not in r]
    for name in present:
        table[name]['rank'] = {}
    for metric in metrics:
        sign = 1 if metric in lower else -1
        values = {}
        for n in present:
            v = float(table[n][metric])
            values[n] = sign * v if np.isfinite(v) else np.inf
        for name in present:
            table[name]['rank'][metric] = 1 + sum(
                v < values[name] for v in values.values())
    if not mean_rank:
        return
    for name in present:
        table[name]['mean_rank'] = round(
            float(np.mean(list(table[name]['rank'].values()))), 3)
