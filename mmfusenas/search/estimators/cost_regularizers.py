"""Operation-sensitive regularisers with their cost tables (TIM Sec. 3.2).

TIM's search objective is ``ℓ_α = ℓ_F + λ·Reg(α)``, with ``Reg`` "the
weighted summation of latency based on all operations" or, for
compactness, "the total number of skip connections". Both are
:func:`~mmfusenas.search.operation_sensitive_reg` over a per-choice-point
cost table; the classes here build the table once (:meth:`prepare`) and
evaluate ``λ·Reg(α)`` at every architecture step (:meth:`__call__`).

Interface used by the search algorithms::

    reg = TASK_UTILS.build(dict(type='LatencyRegularizer', loss_weight=0.5,
                                cache_file='work_dirs/latency.json'))
    reg.prepare(supernet, arch_params, example_inputs)   # once
    loss_alpha = loss_fusion + reg(arch_params)          # every α step
"""
from typing import Dict, Optional, Sequence

import torch
import torch.nn as nn

from mmfusenas.models.mutables import ArchParams, DiffMixedOp, choice_parents
from mmfusenas.registry import TASK_UTILS
from ..regularizers import nested_expected_cost, operation_sensitive_reg
from .latency_table import LatencyTable, build_latency_table
from .resource_estimator import Inputs


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
        nested (bool): weight nested choice points by their path
            probability. Defaults to True.
    """

    def __init__(self, loss_weight: float = 1.0, nested: bool = True) -> None:
        self.loss_weight = float(loss_weight)
        self.nested = bool(nested)
        self.costs: Optional[Dict[str, torch.Tensor]] = None
        self.parents: Dict[str, Optional[tuple]] = {}

    def _read_nesting(self, supernet: nn.Module) -> None:
        """Record which choice encloses which (for ``nested=True``)."""
        self.parents = choice_parents(supernet) if self.nested else {}

    def prepare(self, supernet: nn.Module, arch_params: ArchParams,
                example_inputs: Inputs) -> None:
        """Build the cost table; called once before the first α step.

        Args:
            supernet (nn.Module): the network, bound to ``arch_params``.
            arch_params (ArchParams): the architecture parameters.
            example_inputs (Tensor | Sequence | Mapping): inputs of the
                supernet's forward at the shape to optimise for.
        """
        raise NotImplementedError

    def __call__(self, arch_params: ArchParams) -> torch.Tensor:
        """``λ·Reg(α)``: a scalar, differentiable w.r.t. the α.

        Args:
            arch_params (ArchParams): the container :meth:`prepare` saw.

        Returns:
            Tensor: the weighted regulariser (on the device of the α).
        """
        if self.costs is None:
            raise RuntimeError(
                f'{type(self).__name__} has no cost table yet: call '
                'prepare(supernet, arch_params, example_inputs) once before '
                'the first architecture step')
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
        nested (bool): weight nested choice points by the probability of
            the choices above them (:class:`BaseCostRegularizer`).
            Defaults to True.
        metric (str): ``'latency'`` (default) or ``'flops'`` (MFLOPs per
            candidate, deterministic; see :class:`FlopsRegularizer`).
    """

    def __init__(self,
                 loss_weight: float = 1.0,
                 cache_file: Optional[str] = None,
                 rebuild: bool = False,
                 repeats: int = 20,
                 warmup: int = 5,
                 threads: Optional[int] = None,
                 normalize: bool = False,
                 nested: bool = True,
                 metric: str = 'latency') -> None:
        super().__init__(loss_weight, nested)
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
    """

    def __init__(self,
                 loss_weight: float = 1.0,
                 normalize: bool = True,
                 nested: bool = True,
                 cache_file: Optional[str] = None) -> None:
        super().__init__(
            loss_weight,
            cache_file=cache_file,
            normalize=normalize,
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
        nested (bool): weight nested choice points by the probability of
            the choices above them. Defaults to True.
    """

    def __init__(
        self,
        loss_weight: float = 1.0,
        skip_names: Sequence[str] = ('skip', 'skip_connect', 'SkipConnect',
                                     'Identity'),
        nested: bool = True) -> None:
        super().__init__(loss_weight, nested)
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
