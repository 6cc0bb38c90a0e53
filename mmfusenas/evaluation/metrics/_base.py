"""Helpers shared by the metric classes."""
from typing import Any, Dict, List, Optional, Sequence

import numpy as np
from mmengine.logging import print_log
from terminaltables import AsciiTable


def get_field(sample: Any, key: str, required: bool = True) -> Any:
    """Read ``key`` from a data-sample dict or ``BaseDataElement``."""
    value = sample.get(key, None)
    if value is None and required:
        keys = sorted(sample.keys()) if isinstance(sample, dict) else sorted(
            list(sample.keys()) + list(sample.metainfo_keys()))
        raise KeyError(f'data sample lacks the required key {key!r}; it has '
                       f'{keys}')
    return value


def summarise(results: List[Dict[str, float]],
              names: Sequence[str],
              title: str,
              digits: int = 4,
              note: Optional[str] = None) -> Dict[str, float]:
    """Mean of every metric over ``results`` and a logged table (with
    ``note``, e.g. what a column sums, on the line beneath it)."""
    means = {}
    for n in names:
        vals = np.array([r[n] for r in results if n in r], np.float64)
        means[n] = float(np.mean(vals)) if vals.size else float('nan')
    table = AsciiTable([['metric'] + list(names),
                        [f'mean (n={len(results)})'] +
                        [f'{means[n]:.{digits}f}' for n in names]],
                       title=title)
    print_log('\n' + table.table + (f'\n{note}' if note else ''),
              logger='current')
    return means
