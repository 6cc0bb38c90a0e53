"""An optimizer-wrapper constructor that logs ``paramwise_cfg`` as a table."""
import logging
from collections import Counter, defaultdict
from typing import Dict

import torch.nn as nn
from mmengine.logging import MMLogger, print_log
from mmengine.optim import DefaultOptimWrapperConstructor, OptimWrapper

from mmfusenas.registry import OPTIM_WRAPPER_CONSTRUCTORS

PREFIX = 'paramwise_options -- '


@OPTIM_WRAPPER_CONSTRUCTORS.register_module()
class SummaryOptimWrapperConstructor(DefaultOptimWrapperConstructor):
    """MMEngine's default constructor (same parameter groups) that logs one
    line per ``paramwise_cfg`` option value (its count and the module
    prefixes of two name components covered, e.g. ``'lr=0.001: 98 params
    (fusion_net.stem 6, ...)'``) instead of one per parameter and option.
    """

    def __call__(self, model: nn.Module) -> OptimWrapper:
        # option 'key=value' -> {module prefix: count}
        groups: Dict[str, Counter] = defaultdict(Counter)

        def collect(record: logging.LogRecord) -> bool:
            msg = record.getMessage()
            if not msg.startswith(PREFIX):
                return True
            name, _, option = msg[len(PREFIX):].partition(':')
            groups[option]['.'.join(name.split('.')[:2])] += 1
            return False

        logger = MMLogger.get_current_instance()
        logger.addFilter(collect)
        try:
            wrapper = super().__call__(model)
        finally:
            logger.removeFilter(collect)
        lines = []
        for option, counts in groups.items():
            parts = [f'{p} {n}' for p, n in list(counts.items())[:6]]
            parts += [f'... {len(counts) - 6} more groups'] * (len(counts) > 6)
            lines.append(f'{option}: {counts.total()} params '
                         f'({", ".join(parts)})')
        if lines:
            total = sum(c.total() for c in groups.values())
            print_log(
                f'paramwise_cfg: {total} per-parameter options in '
                f'{len(lines)} groups:\n  ' + '\n  '.join(lines),
                logger='current')
        return wrapper
