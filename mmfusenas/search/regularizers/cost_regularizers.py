"""Operation-sensitive regularisers with their cost tables (TIM Sec. 3.2).

Each builds a per-choice-point cost table once (``prepare``) and returns
``λ·Reg(α)`` at every architecture step; ``budget=`` adds a hard bound
(:meth:`BaseCostRegularizer.check_budget`,
:meth:`BaseCostRegularizer.fit_to_budget`).
"""
import math
from typing import (Callable, Dict, Iterable, List, Mapping, Optional,
                    Sequence, Set, Tuple)

import torch
import torch.nn as nn

from mmfusenas.models.mutables import ArchParams, DiffMixedOp, choice_parents
from mmfusenas.registry import TASK_UTILS
from ..estimators.latency_table import LatencyTable, build_latency_table
from ..estimators.resource_estimator import (Inputs, ResourceConstraintError,
                                             check_space_budget)
from .functional import nested_expected_cost


class BaseCostRegularizer:
    """``loss_weight · Σ_key P_key · Σ_o softmax(α_key)_o · cost_key(o)``.

    Subclasses fill :attr:`costs` (``{key: (num_candidates,) tensor}``) in
    ``prepare`` and call :meth:`_read_nesting`. ``P_key`` is the probability
    that the choices above ``key`` pick the candidate holding it
    (:func:`~mmfusenas.search.regularizers.nested_expected_cost`; 1 with
    ``nested=False``).

    Args:
        loss_weight (float): the trade-off λ. Defaults to 1.0.
        budget (float, optional): hard bound on the derived architecture's
            cost, in the units of :attr:`costs`. Defaults to None.
        nested (bool): weight nested choice points by their path
            probability. Defaults to True.
    """

    #: what the costs measure, for messages
    cost_name = 'cost'

    def __init__(self,
                 loss_weight: float = 1.0,
                 budget: Optional[float] = None,
                 nested: bool = True) -> None:
        self.loss_weight = float(loss_weight)
        self.nested = bool(nested)
        self.costs: Optional[Dict[str, torch.Tensor]] = None
        if budget is not None and not math.isfinite(budget):
            raise ValueError(f'{type(self).__name__}: budget must be '
                             f'finite, got {budget}')
        self.budget = None if budget is None else float(budget)
        self.parents: Dict[str, Optional[tuple]] = {}

    def _read_nesting(self, supernet: nn.Module) -> None:
        """Record which choice encloses which (for ``nested=True``)."""
        self.parents = choice_parents(supernet) if self.nested else {}

    def _require_costs(self) -> Dict[str, torch.Tensor]:
        if self.costs is None:
            raise RuntimeError(
                f'{type(self).__name__} has no cost table yet: call '
                'prepare(supernet, arch_params, example_inputs) once before '
                'the first architecture step')
        return self.costs

    def check_budget(self,
                     arch_params: ArchParams,
                     optional_keys: Iterable[str] = ()
                     ) -> Optional[Tuple[float, float]]:
        """Fail fast when no architecture meets :attr:`budget`.

        Args:
            arch_params (ArchParams): names the candidates in the message.
            optional_keys (Iterable[str]): nested choice points (not in the
                lower bound).

        Returns:
            tuple[float, float] | None: the cheapest and the dearest cost of
            the space (None without a budget).

        Raises:
            ResourceConstraintError: the cheapest architecture exceeds it.
        """
        if self.budget is None:
            return None
        costs = self._require_costs()
        return check_space_budget(
            costs,
            self.budget,
            optional_keys=[k for k in optional_keys if k in costs],
            choices={k: arch_params.choices(k)
                     for k in costs},
            name=f'{type(self).__name__} {self.cost_name}')

    def cost_of(self,
                choices: Mapping[str, str],
                arch_params: ArchParams,
                keys: Optional[Set[str]] = None) -> float:
        """Additive cost of the chosen candidates of ``keys`` (default: every
        key of ``choices``).
        """
        costs = self._require_costs()
        keys = set(choices) if keys is None else keys
        return float(
            sum(
                float(table[arch_params.choices(key).index(choices[key])])
                for key, table in costs.items() if key in keys))

    def fit_to_budget(
        self,
        choices: Mapping[str, str],
        arch_params: ArchParams,
        exclude: Sequence[str] = ('zero', ),
        reachable: Optional[Callable[[Mapping[str, str]], Set[str]]] = None
    ) -> Tuple[Dict[str, str], dict]:
        """The derived choices, greedily switched to meet :attr:`budget`.

        Args:
            choices (Mapping[str, str]): the unconstrained derivation.
            arch_params (ArchParams): the α (their softmax ranks the switches).
            exclude (Sequence[str]): candidates never switched to.
            reachable (callable, optional): ``choices -> keys`` of the choice
                points in the fixed network. Defaults to every key.

        Returns:
            tuple[dict, dict]: the choices and ``meta`` entries (``budget``,
            ``cost``, ``budget_swaps``; empty without a budget).

        Raises:
            ResourceConstraintError: no allowed switch meets the budget.
        """
        if self.budget is None:
            return dict(choices), {}
        costs = self._require_costs()
        choices = dict(choices)
        probs = arch_params.probabilities()

        def paid(current: Dict[str, str]) -> Set[str]:
            return set(current) if reachable is None else set(
                reachable(current))

        total = self.cost_of(choices, arch_params, paid(choices))
        swaps: List[str] = []
        tol = 1e-9 * max(1.0, abs(self.budget))
        while total > self.budget + tol:
            best = None
            for key in sorted(paid(choices)):  # ties: by key
                if key not in costs:
                    continue
                names = arch_params.choices(key)
                for name in names:
                    if name == choices[key] or name in exclude:
                        continue
                    trial = dict(choices, **{key: name})
                    saved = total - self.cost_of(trial, arch_params,
                                                 paid(trial))
                    if saved <= 0:
                        continue
                    lost = probs[key][choices[key]] - probs[key][name]
                    score = lost / saved
                    if best is None or score < best[0]:
                        best = (score, key, name, saved)
            if best is None:
                raise ResourceConstraintError(
                    f'{type(self).__name__}: the derived architecture costs '
                    f'{total:.6g} {self.cost_name} > budget {self.budget:.6g} '
                    'and no allowed candidate switch makes it cheaper '
                    f'(excluded candidates: {list(exclude)})')
            _, key, name, _ = best
            swaps.append(f'{key}: {choices[key]} -> {name}')
            choices[key] = name
            total = self.cost_of(choices, arch_params, paid(choices))
        return choices, dict(
            budget=self.budget, cost=total, budget_swaps=swaps)

    def __call__(self, arch_params: ArchParams) -> torch.Tensor:
        """``λ·Reg(α)``, a scalar differentiable w.r.t. the α of
        ``arch_params`` (the container ``prepare`` saw).
        """
        self._require_costs()
        missing = [k for k in self.costs if k not in arch_params.keys()]
        if missing:
            raise KeyError(f'{type(self).__name__}: the ArchParams has no α '
                           f'for {missing}; is it the container prepare() '
                           'was given?')
        return self.loss_weight * nested_expected_cost(
            arch_params.alphas, self.costs, self.parents)


@TASK_UTILS.register_module()
class LatencyRegularizer(BaseCostRegularizer):
    """TIM's latency regulariser, ``λ · Σ_key Σ_o softmax(α_key)_o ·
    LAT_key(o)``, with the table of
    :func:`~mmfusenas.search.estimators.build_latency_table`.

    Args:
        loss_weight (float): λ. Defaults to 1.0.
        cache_file (str, optional): JSON cache of the table.
        rebuild (bool): re-measure even when the cache matches.
        repeats (int): timed passes per candidate. Defaults to 20.
        warmup (int): untimed passes before them. Defaults to 5.
        threads (int, optional): CPU threads while measuring.
        normalize (bool): divide by the slowest architecture's choice-point
            latency (Reg ≤ 1). Defaults to False.
        budget (float, optional): hard bound (ms, or a fraction with
            ``normalize``).
        nested (bool): see :class:`BaseCostRegularizer`. Defaults to True.
        metric (str): ``'latency'`` or ``'flops'`` (MFLOPs).
    """

    cost_name = 'latency'

    def __init__(self,
                 loss_weight: float = 1.0,
                 cache_file: Optional[str] = None,
                 rebuild: bool = False,
                 repeats: int = 20,
                 warmup: int = 5,
                 threads: Optional[int] = None,
                 normalize: bool = False,
                 budget: Optional[float] = None,
                 nested: bool = True,
                 metric: str = 'latency') -> None:
        super().__init__(loss_weight, budget, nested)
        self.metric = metric
        self.cache_file = cache_file
        self.rebuild = rebuild
        self.repeats = repeats
        self.warmup = warmup
        self.threads = threads
        self.normalize = normalize
        self.table: Optional[LatencyTable] = None

    def prepare(self, supernet: nn.Module, arch_params: ArchParams,
                example_inputs: Inputs) -> None:
        """Build (or load) the table of ``supernet``.

        Raises:
            ValueError: some α have no choice point that ran in the forward.
        """
        table = build_latency_table(
            supernet,
            arch_params,
            example_inputs,
            cache_file=self.cache_file,
            rebuild=self.rebuild,
            repeats=self.repeats,
            warmup=self.warmup,
            threads=self.threads,
            metric=self.metric)
        self._read_nesting(supernet)
        missing = [k for k in arch_params.keys() if k not in table]
        if missing:
            raise ValueError(
                f'LatencyRegularizer: no choice point with the keys '
                f'{missing} ran in the forward of the supernet on the '
                'example inputs, so their α would not be regularised')
        scale = 1.0
        if self.normalize:
            scale = sum(float(v.max()) for v in table.values())
            if scale <= 0:
                raise ValueError('LatencyRegularizer(normalize=True): every '
                                 'measured latency is 0')
        self.table = table
        self.costs = {k: v / scale for k, v in table.items()}


@TASK_UTILS.register_module()
class FlopsRegularizer(LatencyRegularizer):
    """:class:`LatencyRegularizer` with ``metric='flops'``: expected MFLOPs of
    the choice points (deterministic, device-independent).

    Args:
        loss_weight (float): λ. Defaults to 1.0.
        normalize (bool): divide by the dearest architecture's choice-point
            FLOPs. Defaults to True.
        nested (bool): see :class:`BaseCostRegularizer`. Defaults to True.
        cache_file (str, optional): JSON cache. Defaults to None.
        budget (float, optional): hard bound. Defaults to None.
    """

    def __init__(self,
                 loss_weight: float = 1.0,
                 normalize: bool = True,
                 nested: bool = True,
                 cache_file: Optional[str] = None,
                 budget: Optional[float] = None) -> None:
        super().__init__(
            loss_weight,
            cache_file=cache_file,
            normalize=normalize,
            budget=budget,
            nested=nested,
            metric='flops')


@TASK_UTILS.register_module()
class SkipCountRegularizer(BaseCostRegularizer):
    """``λ ·`` the expected number of skip connections of the derived network
    (a key used at n places counts n times). ``loss_weight > 0`` penalises
    skips (DARTS-family practice); a negative one rewards them.

    Args:
        loss_weight (float): λ. Defaults to 1.0.
        skip_names (Sequence[str]): candidate or class names that are skip
            connections.
        budget (float, optional): hard bound on their number.
        nested (bool): see :class:`BaseCostRegularizer`. Defaults to True.
    """

    cost_name = 'skip connections'

    def __init__(
        self,
        loss_weight: float = 1.0,
        skip_names: Sequence[str] = ('skip', 'skip_connect', 'SkipConnect',
                                     'Identity'),
        budget: Optional[float] = None,
        nested: bool = True) -> None:
        super().__init__(loss_weight, budget, nested)
        if isinstance(skip_names, str) or not len(skip_names):
            raise ValueError('skip_names must be a non-empty sequence of '
                             f'names, got {skip_names!r}')
        self.skip_names = tuple(skip_names)

    def prepare(self, supernet: nn.Module, arch_params: ArchParams,
                example_inputs: Inputs) -> None:
        """Count the skip candidates of every choice point (inputs unused).

        Raises:
            ValueError: no candidate is a skip connection.
        """
        costs: Dict[str, torch.Tensor] = {}
        for module in supernet.modules():
            if not isinstance(module, DiffMixedOp):
                continue
            names = arch_params.choices(module.key)
            is_skip = torch.tensor([
                float(
                    name in self.skip_names
                    or type(candidate).__name__ in self.skip_names)
                for name, candidate in zip(names, module.candidates)
            ],
                                   dtype=torch.float64)
            costs[module.key] = costs.get(module.key, 0) + is_skip
        costs = {k: v for k, v in costs.items() if v.any()}
        self._read_nesting(supernet)
        if not costs:
            raise ValueError(
                'SkipCountRegularizer: no candidate of any choice point is a '
                f'skip connection (names or classes {self.skip_names})')
        self.costs = costs
