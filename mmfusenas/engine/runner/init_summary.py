"""A summarised weight-initialisation log: one line per top-level module
(``init_weights: detector: 82 tensors (1.2M params): 60 unchanged, 22
NormalInit``) instead of MMEngine's per-parameter dump, which goes to a side
file (``init_weights.txt`` next to the log)."""
import contextlib
import math
from collections import Counter
from typing import Dict, Iterator, List, Optional, Tuple

import torch.nn as nn
from mmengine.dist import is_main_process

from mmfusenas.utils.fileio import atomic_write

_UNCHANGED = 'The value is the same before and after calling'
_USER_DEFINED = 'Initialized by user-defined `init_weights` in '


def init_label(info: str) -> str:
    """A short label of an MMEngine ``init_info`` string: ``'unchanged'``,
    ``'<Module>.init_weights'`` or the initialiser (``'KaimingInit'``)."""
    info = str(info).strip()
    if info.startswith(_UNCHANGED):
        return 'unchanged'
    if info.startswith(_USER_DEFINED):
        return info[len(_USER_DEFINED):].strip(' `') + '.init_weights'
    return info.split(':', 1)[0].strip() or 'unknown'


def _human(n: int) -> str:
    for unit, size in (('G', 1e9), ('M', 1e6), ('K', 1e3)):
        if n >= size:
            return f'{n / size:.2f}{unit}'
    return str(n)


def init_summary_lines(records: List[Tuple[str, tuple, str]]) -> List[str]:
    """One line per top-level module of ``(name, shape, init_info)``
    records."""
    groups: Dict[str, List[Tuple[tuple, str]]] = {}
    for name, shape, info in records:
        groups.setdefault(name.split('.', 1)[0], []).append((shape, info))
    lines = []
    for top, items in groups.items():
        params = sum(math.prod(s) for s, _ in items)
        counts = Counter(init_label(info) for _, info in items)
        parts = ', '.join(f'{n} {label}' for label, n in counts.most_common())
        lines.append(f'init_weights: {top}: {len(items)} tensors '
                     f'({_human(params)} params): {parts}')
    return lines


@contextlib.contextmanager
def summarised_init_dump(model: nn.Module, logger,
                         side_file: Optional[str] = None) -> Iterator[None]:
    """Within the block, ``model.init_weights()`` (an MMEngine
    ``BaseModule``) logs :func:`init_summary_lines` to ``logger`` and writes
    the full listing to ``side_file`` (None: dropped)."""
    if not hasattr(model, '_dump_init_info'):
        yield
        return

    def dump() -> None:
        if not is_main_process():
            return
        table = getattr(model, '_params_init_info', {})
        records = [(name, tuple(p.shape),
                    str(table.get(p, {}).get('init_info', 'not recorded')))
                   for name, p in model.named_parameters()]
        for line in init_summary_lines(records):
            logger.info(line)
        if side_file is not None:
            text = ['Name of parameter - Initialization information'] + [
                f'\n{name} - {list(shape)}:\n{info}'
                for name, shape, info in records]
            atomic_write('\n'.join(text) + '\n', side_file)
            logger.info(f'init_weights: per-parameter details in '
                        f'{side_file}')

    # shadows BaseModule._dump_init_info, which init_weights calls
    model.__dict__['_dump_init_info'] = dump
    try:
        yield
    finally:
        model.__dict__.pop('_dump_init_info', None)
