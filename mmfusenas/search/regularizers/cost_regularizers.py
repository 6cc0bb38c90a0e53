"""Operation-sensitive regularisers with their cost tables (TIM Sec. 3.2).

TIM's search objective is ``ℓ_α = ℓ_F + λ·Reg(α)``, with ``Reg`` the
weighted sum of the operations' latencies or the number of skip
connections. :class:`LatencyRegularizer`, :class:`FlopsRegularizer` and
:class:`SkipCountRegularizer` build a per-choice-point cost table once
(``prepare``) and evaluate
:func:`~mmfusenas.search.operation_sensitive_reg` at every architecture
step (``reg(arch_params)``). A ``budget=`` (in the table's units) makes the
regulariser a constraint too: :meth:`BaseCostRegularizer.check_budget`
refuses an impossible budget at the first step and
:meth:`BaseCostRegularizer.fit_to_budget` greedily swaps the derived
genotype's choices until it fits, recording ``budget``, ``cost`` and
``budget_swaps`` in its ``meta``.
"""
from typing import (Callable, Dict, Iterable, List, Mapping, Optional,
                    Sequence, Set, Tuple)

import torch
import torch.nn as nn

from mmfusenas.models.mutables import ArchParams, DiffMixedOp, choice_parents
from mmfusenas.registry import TASK_UTILS
from ..estimators.latency_table import LatencyTable, build_latency_table
from ..estimators.resource_estimator import (Inputs, ResourceConstraintError,
                                             check_space_budget)
from .functional import nested_expected_cost, operation_sensitive_reg


class BaseCostRegularizer:
    """``loss_weight · Σ_key P_key · Σ_o softmax(α_key)_o · cost_key(o)``.

    Subclasses fill :attr:`costs` (``{key: (num_candidates,) tensor}`` in
    ``ArchParams.choices(key)`` order) in :meth:`prepare` and call
    :meth:`_read_nesting` there. ``P_key`` is the probability that every
    choice above ``key`` picks the candidate that holds it (1 for an
    outermost choice point; see
    :func:`~mmfusenas.search.regularizers.nested_expected_cost`): in a
    two-level space the cell-level α then sees the expected cost of the
    operators inside each cell. ``nested=False`` gives the flat sum of
    TIM Sec. 3.2 (every nested operator counted whatever its cell's
    probability).

    Args:
        loss_weight (float): the trade-off λ. Defaults to 1.0.
        budget (float, optional): hard upper bound on the derived
            architecture's cost, in the units of :attr:`costs` (see the
            module docstring). Defaults to None (a penalty only).
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
        if budget is not None:
            budget = float(budget)
            if not budget == budget or budget in (float('inf'),
                                                  float('-inf')):
                raise ValueError(f'{type(self).__name__}: budget must be '
                                 f'finite, got {budget}')
        self.budget = budget
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
            optional_keys (Iterable[str]): nested choice points (paid only
                when their parent candidate is chosen); they add nothing to
                the lower bound, so a feasible budget is never rejected.

        Returns:
            tuple[float, float] | None: the cheapest and the most expensive
            cost of the space (None without a budget).

        Raises:
            ResourceConstraintError: the cheapest architecture exceeds the
                budget.
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
        """Additive cost of an architecture: the chosen candidates of
        ``keys`` (default: every key of ``choices``; keys without costs add
        0)."""
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
        """The derived choices, made to meet :attr:`budget` (see the module
        docstring).

        Args:
            choices (Mapping[str, str]): the unconstrained derivation.
            arch_params (ArchParams): the α (their softmax ranks the swaps).
            exclude (Sequence[str]): candidates never switched to (as in
                derivation). Defaults to ``('zero',)``.
            reachable (callable, optional): ``choices -> keys`` of the choice
                points in the fixed network (nested ones only under chosen
                candidates); only those are paid and switched. Defaults to
                every key.

        Returns:
            tuple[dict, dict]: the choices and ``meta`` entries (``budget``,
            ``cost``, ``budget_swaps``); unchanged choices and an empty
            dict without a budget.

        Raises:
            ResourceConstraintError: no allowed switch brings the cost under
                the budget.
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
        """``λ·Reg(α)``: a scalar, differentiable w.r.t. the α.

        Args:
            arch_params (ArchParams): the container :meth:`prepare` saw.

        Returns:
            Tensor: the weighted regulariser (on the device of the α).
        """
        self._require_costs()
        missing = [k for k in self.costs if k not in arch_params.keys()]
        if missing:
            raise KeyError(f'{type(self).__name__}: the ArchParams has no α '
                           f'for {missing}; is it the container prepare() '
                           'was given?')
        costs = {
            k: v.to(arch_params.alphas[k])
            for k, v in self.costs.items()
        }
        if any(p is not None for p in self.parents.values()):
            return self.loss_weight * nested_expected_cost(
                arch_params.alphas, costs, self.parents)
        alphas = {k: arch_params.alphas[k] for k in self.costs}
        return self.loss_weight * operation_sensitive_reg(alphas, costs)


@TASK_UTILS.register_module()
class LatencyRegularizer(BaseCostRegularizer):
    """TIM's latency regulariser:
    ``λ · Σ_key Σ_o softmax(α_key)_o · LAT_key(o)``.

    ``LAT_key(o)`` is candidate ``o`` of choice point ``key`` timed alone
    at its real input shape, summed over every place of the key
    (:func:`~mmfusenas.search.estimators.build_latency_table`), in ms or,
    with ``normalize=True``, divided by ``Σ_key max_o LAT_key(o)`` (the
    choice-point latency of the slowest architecture), which makes Reg
    dimensionless (at most 1) so that λ carries over between devices and
    input sizes.

    Args:
        loss_weight (float): λ. Defaults to 1.0.
        cache_file (str, optional): JSON cache of the table (see
            :func:`build_latency_table`). Defaults to None.
        rebuild (bool): re-measure even when the cache matches. Defaults to
            False.
        repeats (int): timed passes per candidate. Defaults to 20.
        warmup (int): untimed passes before them. Defaults to 5.
        threads (int, optional): CPU threads while measuring; None keeps
            the current setting. Defaults to None.
        normalize (bool): divide the table by the slowest architecture's
            choice-point latency. Defaults to False.
        budget (float, optional): hard bound on the derived architecture's
            choice-point latency (ms, or a fraction with ``normalize``).
            Defaults to None.
        nested (bool): weight nested choice points by the probability of
            the choices above them (:class:`BaseCostRegularizer`).
            Defaults to True.
        metric (str): ``'latency'`` (default) or ``'flops'`` (MFLOPs per
            candidate, deterministic; see :class:`FlopsRegularizer`).
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
        """Build (or load) the latency table of ``supernet``.

        Raises:
            ValueError: some α of ``arch_params`` have no choice point that
                ran in the supernet's forward (they would go unregularised).
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
    """``λ ·`` expected FLOPs of the derived network's choice points.

    :class:`LatencyRegularizer` with ``metric='flops'``: each candidate's
    cost is the number of FLOPs (in millions) of one inference pass at its
    recorded input shape, summed over the places of its key (nested choice
    points excluded from their cell's own cost). Deterministic and
    device-independent, so a search with it is reproducible bit for bit
    and the table needs no cache.

    Args:
        loss_weight (float): λ. Defaults to 1.0.
        normalize (bool): divide by the most expensive architecture's
            choice-point FLOPs (Reg ≤ 1). Defaults to True.
        nested (bool): see :class:`BaseCostRegularizer`. Defaults to True.
        cache_file (str, optional): JSON cache. Defaults to None.
        budget (float, optional): hard bound on the derived architecture's
            (normalised) choice-point FLOPs. Defaults to None.
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
    """Compactness regulariser: ``λ ·`` expected number of skip connections.

    ``Reg(α) = Σ_key Σ_o softmax(α_key)_o · n_key · [o is a skip]``, with
    ``n_key`` the number of choice-point modules sharing ``key`` (a key
    used at three widths that picks ``skip`` puts three skip connections in
    the network), i.e. the expected number of skip connections of the
    derived network under the mixing weights.

    Sign: with ``loss_weight > 0`` skip connections are **penalised**. That
    is the DARTS-family practice (P-DARTS caps, DARTS+ and "Fair DARTS"
    suppress the parameter-free operators that the relaxed search drifts
    to, because they are easy to optimise, not because they fuse better).
    The paper only says Reg may "control the compactness" via the number of
    skip connections; to reward compactness instead (more skips, fewer
    parameters), give a negative ``loss_weight``.

    Args:
        loss_weight (float): λ. Defaults to 1.0.
        skip_names (Sequence[str]): a candidate is a skip connection when
            its name (in ``ArchParams.choices``) or its module's class name
            is one of these. Defaults to ``('skip', 'skip_connect',
            'SkipConnect', 'Identity')``.
        budget (float, optional): hard bound on the number of skip
            connections of the derived network. Defaults to None.
        nested (bool): weight nested choice points by the probability of
            the choices above them. Defaults to True.
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
        """Count the skip candidates of every choice point of ``supernet``.

        ``example_inputs`` is not needed (the count is structural).

        Raises:
            ValueError: no candidate of any choice point is a skip
                connection (the regulariser would be identically 0; check
                ``skip_names``).
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
