"""Look-up-table costs (params, FLOPs, latency) of one-shot paths: a cost
model (e.g. ``DCNASCostModel``) lists a path's items (``items(choices)`` ->
``[(key, build, input_shapes)]``); each is measured once and cached."""
from typing import Dict, Mapping, Optional

import torch
from mmengine.logging import print_log

from mmfusenas.registry import MODELS, TASK_UTILS
from .latency_table import load_cache, save_cache
from .resource_estimator import (ResourceConstraintError, ResourceEstimator,
                                 device_name, make_inputs)

FORMAT = 'mmfusenas-path-cost-table/1'
COST_METRICS = ('params', 'macs', 'flops', 'latency_ms')


@TASK_UTILS.register_module()
class PathCostTable:
    """Op-level LUT of a one-shot space; ``cost(choices)`` sums it.

    Args:
        cost_model (dict | object): the cost model (built from ``MODELS``
            when a dict).
        cache_file (str, optional): JSON cache. Defaults to None.
        measure_latency (bool): time items (slow on first use). Defaults
            to True; False stores ``latency_ms = nan``.
        latency_repeats (int): timed passes per item. Defaults to 10.
        latency_warmup (int): untimed passes. Defaults to 2.
        device (str): device to measure on. Defaults to 'cpu'.
        rebuild (bool): ignore a matching cache. Defaults to False.
    """

    def __init__(self,
                 cost_model,
                 cache_file: Optional[str] = None,
                 measure_latency: bool = True,
                 latency_repeats: int = 10,
                 latency_warmup: int = 2,
                 device: str = 'cpu',
                 rebuild: bool = False) -> None:
        self.cost_model = MODELS.build(cost_model) if isinstance(
            cost_model, dict) else cost_model
        self.cache_file = cache_file
        self.estimator = ResourceEstimator(with_latency=measure_latency,
                                           repeats=latency_repeats,
                                           warmup=latency_warmup)
        self.device = device
        # the device (CPU model, threads) only where it changes the values:
        # params / FLOPs alone are shared across machines
        self.context = dict(
            device=device_name(device),
            torch=torch.__version__,
            latency=dict(measured=measure_latency, repeats=latency_repeats),
            model=self.cost_model.context)
        if not measure_latency:
            del self.context['device']
        data, self.origin = load_cache(cache_file, FORMAT, 'path cost table',
                                       self.context, rebuild)
        self.entries: Dict[str, Dict[str, float]] = (data or {}).get(
            'entries', {})
        if cache_file:
            print_log(f'path cost table: {self.origin}', logger='current')

    def cost(self, choices: Mapping[str, str]) -> Dict[str, float]:
        """``{params, macs, flops, latency_ms}`` of a path (measuring and
        caching unseen items)."""
        total = dict.fromkeys(COST_METRICS, 0.0)
        new = False
        for key, build, shapes in self.cost_model.items(choices):
            if key not in self.entries:
                costs = self.estimator.estimate(
                    build().to(self.device).eval(),
                    make_inputs(list(shapes), device=self.device))
                self.entries[key] = {
                    m: float(costs.get(m, 'nan'))
                    for m in COST_METRICS
                }
                new = True
            for m in COST_METRICS:
                total[m] += self.entries[key][m]
        if new and self.cache_file:
            save_cache(self.cache_file, FORMAT, self.context,
                       entries=self.entries)
        return total

    def check_budgets(self, budgets: Mapping[str, float]) -> Dict[str, float]:
        """Fail fast when even the cheapest path breaks a budget
        (``{metric: max}``; negative or None: off); returns its costs."""
        unknown = [k for k in budgets if k not in COST_METRICS]
        if unknown:
            raise KeyError(f'budgets on unknown metrics {unknown}; valid: '
                           f'{list(COST_METRICS)}')
        cheapest = self.cost(self.cost_model.cheapest_choices())
        bad = [
            f'{k} <= {v:,.6g} (the cheapest legal path costs '
            f'{cheapest[k]:,.6g})' for k, v in budgets.items()
            if v is not None and v >= 0 and cheapest[k] > v
        ]
        if bad:
            raise ResourceConstraintError(
                'no path of the space meets the budget: ' + '; '.join(bad))
        return cheapest

    @staticmethod
    def within(costs: Mapping[str, float],
               budgets: Mapping[str, float]) -> bool:
        """Whether ``costs`` meet every active budget."""
        return all(v is None or v < 0 or costs[k] <= v
                   for k, v in budgets.items())
