"""An optimizer-wrapper constructor that logs ``paramwise_cfg`` as a table."""
import logging
from collections import OrderedDict
from typing import Dict, List, Tuple

import torch.nn as nn
from mmengine.logging import MMLogger, print_log
from mmengine.optim import DefaultOptimWrapperConstructor, OptimWrapper

from mmfusenas.registry import OPTIM_WRAPPER_CONSTRUCTORS

PREFIX = 'paramwise_options -- '


class _Collect(logging.Filter):
    """Swallow MMEngine's per-parameter ``paramwise_options`` records."""

    def __init__(self) -> None:
        super().__init__()
        self.options: List[Tuple[str, str]] = []  # (param name, key=value)

    def filter(self, record: logging.LogRecord) -> bool:
        msg = record.getMessage()
        if not msg.startswith(PREFIX):
            return True
        name, _, option = msg[len(PREFIX):].partition(':')
        self.options.append((name, option))
        return False


def summarise_options(options: List[Tuple[str, str]],
                      depth: int = 2) -> List[str]:
    """One line per option value of ``(parameter name, 'key=value')`` pairs:
    the count and the module prefixes (``depth`` name components) covered,
    e.g. ``'lr=0.001: 98 params (fusion_net.stem 6, ...)'``.
    """
    groups: Dict[str, 'OrderedDict[str, int]'] = OrderedDict()
    for name, option in options:
        prefix = '.'.join(name.split('.')[:depth])
        counts = groups.setdefault(option, OrderedDict())
        counts[prefix] = counts.get(prefix, 0) + 1
    lines = []
    for option, counts in groups.items():
        parts = [f'{p} {n}' for p, n in list(counts.items())[:6]]
        if len(counts) > 6:
            parts.append(f'... {len(counts) - 6} more groups')
        lines.append(f'{option}: {sum(counts.values())} params '
                     f'({", ".join(parts)})')
    return lines


@OPTIM_WRAPPER_CONSTRUCTORS.register_module()
class SummaryOptimWrapperConstructor(DefaultOptimWrapperConstructor):
    """MMEngine's default constructor (same parameter groups) that logs one
    summary line per ``paramwise_cfg`` option value instead of one line per
    parameter and option.
    """

    def __call__(self, model: nn.Module) -> OptimWrapper:
        logger = MMLogger.get_current_instance()
        collect = _Collect()
        logger.addFilter(collect)
        try:
            wrapper = super().__call__(model)
        finally:
            logger.removeFilter(collect)
        if collect.options:
            lines = summarise_options(collect.options)
            print_log(
                f'paramwise_cfg: {len(collect.options)} per-parameter '
                f'options in {len(lines)} groups:\n  ' + '\n  '.join(lines),
                logger='current')
        return wrapper
