"""A summarised weight-initialisation log: one line per top-level module
(``init_weights: detector: 82 tensors (1.20M params): 60 unchanged, 22
NormalInit``) instead of MMEngine's per-parameter dump, which goes to a side
file (``init_weights.txt`` next to the log)."""
import contextlib
import itertools
import math
from collections import Counter
from typing import Iterator, Optional

import torch.nn as nn
from mmengine.dist import is_main_process

from mmfusenas.utils.fileio import atomic_write

_UNCHANGED = 'The value is the same before and after calling'
_USER_DEFINED = 'Initialized by user-defined `init_weights` in '


def _label(info: str) -> str:
    """``'unchanged'``, ``'<Module>.init_weights'`` or the initialiser."""
    info = info.strip()
    if info.startswith(_UNCHANGED):
        return 'unchanged'
    if info.startswith(_USER_DEFINED):
        return info[len(_USER_DEFINED):].strip(' `') + '.init_weights'
    return info.split(':', 1)[0].strip() or 'unknown'


@contextlib.contextmanager
def summarised_init_dump(model: nn.Module, logger,
                         side_file: Optional[str] = None) -> Iterator[None]:
    """Within the block, ``model.init_weights()`` (an MMEngine
    ``BaseModule``) logs one line per top-level module to ``logger`` and
    writes the full listing to ``side_file`` (None: dropped)."""

    def dump() -> None:
        if not is_main_process():
            return
        table = getattr(model, '_params_init_info', {})
        records = [(name, list(p.shape),
                    str(table.get(p, {}).get('init_info', 'not recorded')))
                   for name, p in model.named_parameters()]
        for top, group in itertools.groupby(  # one block per child
                records, lambda r: r[0].split('.', 1)[0]):
            items = [(shape, info) for _, shape, info in group]
            n = sum(math.prod(s) for s, _ in items)
            size = next((f'{n / v:.2f}{u}' for u, v in (
                ('G', 1e9), ('M', 1e6), ('K', 1e3)) if n >= v), str(n))
            parts = ', '.join(f'{k} {label}' for label, k in Counter(
                _label(info) for _, info in items).most_common())
            logger.info(f'init_weights: {top}: {len(items)} tensors '
                        f'({size} params): {parts}')
        if side_file is not None:
            atomic_write('\n'.join(
                ['Name of parameter - Initialization information'] +
                [f'\n{name} - {shape}:\n{info}'
                 for name, shape, info in records]) + '\n', side_file)
            logger.info(f'init_weights: per-parameter details in '
                        f'{side_file}')

    if not hasattr(model, '_dump_init_info'):
        yield
        return
    # shadows BaseModule._dump_init_info, which init_weights calls
    model.__dict__['_dump_init_info'] = dump
    try:
        yield
    finally:
        model.__dict__.pop('_dump_init_info', None)
