"""Readable weight-initialisation logs.

MMEngine's :meth:`~mmengine.model.BaseModule.init_weights` writes one
three-line record per parameter into the log file (``<name> - <shape>:
<how it was initialised>``): hundreds of lines before the first
iteration. :func:`summarised_init_dump` replaces that dump, for one
``init_weights`` call, by

- the full per-parameter listing in a side file (``init_weights.txt`` next
  to the log, written atomically), and
- one log line per top-level module: its parameter count and how many
  tensors each initialiser touched, e.g. ``init_weights: detector: 82
  tensors (1.2M params): 60 unchanged, 22 NormalInit``.
"""
import contextlib
import math
import os.path as osp
from collections import Counter, OrderedDict
from typing import Dict, Iterator, List, Optional, Tuple

import torch.nn as nn

#: how MMEngine describes a parameter no initialiser changed
_UNCHANGED = 'The value is the same before and after calling'
_USER_DEFINED = 'Initialized by user-defined `init_weights` in '


def init_label(info: str) -> str:
    """A short label of one MMEngine ``init_info`` string.

    ``'unchanged'``, ``'<Module>.init_weights'`` for user-defined
    initialisation, else the initialiser's name (the text before its first
    ``:``, e.g. ``'KaimingInit'``).
    """
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


def init_records(model: nn.Module) -> List[Tuple[str, tuple, str]]:
    """``(name, shape, init_info)`` of every parameter, in order (while
    ``model._params_init_info`` exists, i.e. inside ``init_weights``)."""
    table = getattr(model, '_params_init_info', {})
    return [(name, tuple(p.shape), str(table.get(p, {}).get(
        'init_info', 'not recorded'))) for name, p in model.named_parameters()]


def init_summary_lines(records: List[Tuple[str, tuple, str]]) -> List[str]:
    """One line per top-level module (see the module docstring)."""
    groups: Dict[str, List[Tuple[tuple, str]]] = OrderedDict()
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


def _write_side_file(path: str,
                     records: List[Tuple[str, tuple, str]]) -> None:
    from mmfusenas.utils.fileio import atomic_write
    text = ['Name of parameter - Initialization information']
    for name, shape, info in records:
        text.append(f'\n{name} - {list(shape)}:\n{info}')
    atomic_write(('\n'.join(text) + '\n').encode(), path)


@contextlib.contextmanager
def summarised_init_dump(model: nn.Module, logger,
                         side_file: Optional[str] = None) -> Iterator[None]:
    """Within the block, ``model.init_weights()`` logs a summary instead
    of MMEngine's per-parameter dump (module docstring).

    Args:
        model (nn.Module): the top-level model (an MMEngine ``BaseModule``;
            other modules are left alone).
        logger: where the summary lines go (``logger.info``).
        side_file (str, optional): the full listing is written here; None
            drops it (the summary says so).
    """
    if not hasattr(model, '_dump_init_info'):
        yield
        return

    def dump() -> None:
        from mmengine.dist import is_main_process
        if not is_main_process():
            return
        records = init_records(model)
        for line in init_summary_lines(records):
            logger.info(line)
        if side_file is not None:
            _write_side_file(side_file, records)
            logger.info(f'init_weights: per-parameter details in '
                        f'{side_file}')

    # an instance attribute shadows BaseModule._dump_init_info for this
    # call only (init_weights calls self._dump_init_info())
    model.__dict__['_dump_init_info'] = dump
    try:
        yield
    finally:
        model.__dict__.pop('_dump_init_info', None)


def side_file_for(log_dir: Optional[str]) -> Optional[str]:
    """``<log_dir>/init_weights.txt`` (None without a log dir)."""
    return osp.join(log_dir, 'init_weights.txt') if log_dir else None
