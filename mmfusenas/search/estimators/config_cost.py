"""The cost of a model config, and its widest variant within a budget."""
import copy
from importlib import import_module
from typing import Callable, Dict, Sequence

import torch
from mmengine.registry import DefaultScope

from .resource_estimator import ResourceEstimator


def config_cost(cfg: dict, res: int, latency: bool = False,
                scope: str = 'mmdet') -> Dict[str, float]:
    """``params_m``, ``gflops`` and, with ``latency``, 1-thread
    ``latency_ms`` (median of 10 after 3 warm-ups) of the model ``cfg``
    (built in ``scope``) on one ``3 x res x res`` image (``'tensor'``
    mode)."""
    import mmfusenas.models  # noqa: F401  (registers mmfusenas.* types)
    torch.manual_seed(0)
    # in the model's scope, without changing the caller's default scope
    with DefaultScope.overwrite_default_scope(scope):
        model = import_module(f'{scope}.registry').MODELS.build(
            copy.deepcopy(cfg))
        costs = ResourceEstimator(
            with_latency=latency, repeats=10, warmup=3, threads=1).estimate(
                model, torch.randn(1, 3, res, res))
    out = dict(params_m=costs['params'] / 1e6, gflops=costs['flops'] / 1e9)
    if latency:
        out['latency_ms'] = costs['latency_ms']
    return out


def largest_width(make_cfg: Callable[[int], dict], widths: Sequence[int],
                  budget: Dict[str, float], res: int,
                  scope: str = 'mmdet') -> int:
    """The largest ``w`` of ``widths`` whose ``make_cfg(w)`` meets every
    cap of ``budget`` (keys of :func:`config_cost`) at ``res`` px."""
    for w in sorted(widths, reverse=True):
        c = config_cost(make_cfg(w), res, scope=scope)
        if all(c[k] <= v + 1e-9 for k, v in budget.items()):
            return w
    raise ValueError(f'no width of {list(widths)} fits the budget '
                     f'{budget}')
