"""FLOPs of one forward pass by :class:`torch.utils.flop_counter.
FlopCounterMode` (2 per multiply-add of convolutions, matrix products and
attention; other ops cost nothing). Conventions:
``docs/user_guides/estimators.md``."""
from dataclasses import dataclass, field
from typing import Dict

import torch
import torch.nn as nn
from torch.utils.flop_counter import FlopCounterMode


@dataclass
class FlopCount:
    """Result of :func:`count_flops_of_call`.

    Args:
        flops (int): total FLOPs (2 per multiply-add).
        by_module (dict[str, int]): inclusive FLOPs of every submodule
            that did counted work, keyed by qualified name (``''`` is the
            whole module).
        by_operator (dict[str, int]): FLOPs per ATen operator name, e.g.
            ``'convolution'``, ``'addmm'``.
    """
    flops: int
    by_module: Dict[str, int] = field(default_factory=dict)
    by_operator: Dict[str, int] = field(default_factory=dict)

    @property
    def macs(self) -> int:
        """Multiply-accumulates, ``flops // 2``."""
        return self.flops // 2


def count_flops_of_call(module: nn.Module, args: tuple,
                        kwargs: dict) -> FlopCount:
    """Count the FLOPs of one run of ``module(*args, **kwargs)`` under
    ``torch.no_grad()``, in the module's current mode (the low-level entry
    of :func:`~mmfusenas.search.estimators.count_flops`)."""
    counter = FlopCounterMode(display=False)
    with torch.no_grad(), counter:
        module(*args, **kwargs)
    counts = counter.get_flop_counts()
    # FlopCounterMode names the root by its class, submodules 'Root.a.b'
    root = type(module).__name__
    by_module = {
        name[len(root) + 1:]: sum(ops.values())
        for name, ops in counts.items() if name.startswith(root + '.')
    }
    total = by_module[''] = counter.get_total_flops()
    by_operator = {
        op.__name__: flops
        for op, flops in counts.get('Global', {}).items()
    }
    return FlopCount(total, by_module, by_operator)
