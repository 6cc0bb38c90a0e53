"""Parameters, FLOPs and latency of any module at real (multi-)input shapes,
and resource-budget checks that fail fast.

Everything here measures the **whole** module it is given — every
submodule, every functional call and every tensor operation of its forward
— so a model's stems, heads, cells and second stage are all counted (unlike
a check that looks only at a backbone). Inputs may be one tensor, a tuple of
positional inputs (TIM's stage 2 takes ``(inputs, fused)``) or a mapping of
keyword inputs.
"""
import contextlib
import math
import time
from dataclasses import dataclass
from typing import (Any, Dict, Iterable, Iterator, Mapping, Optional, Sequence,
                    Tuple, Union)

import torch
import torch.nn as nn

from mmfusenas.registry import TASK_UTILS
from mmfusenas.utils.results_record import cpu_model
from .flop_counter import FlopCount, count_flops_of_call

Inputs = Union[torch.Tensor, Sequence[Any], Mapping[str, Any]]
Shape = Sequence[int]
InputShapes = Union[Shape, Sequence[Shape], Mapping[str, Shape]]
Device = Union[str, torch.device]


# ------------------------------------------------------------------ inputs
def split_inputs(inputs: Inputs) -> Tuple[tuple, dict]:
    """Turn an inputs spec into ``(args, kwargs)`` of a forward call.

    Args:
        inputs (Tensor | Sequence | Mapping): one tensor (``module(x)``), a
            tuple / list of positional inputs (``module(*inputs)``) or a
            mapping of keyword inputs (``module(**inputs)``).

    Returns:
        tuple[tuple, dict]: positional and keyword inputs.
    """
    if isinstance(inputs, torch.Tensor):
        return (inputs, ), {}
    if isinstance(inputs, Mapping):
        return (), dict(inputs)
    if isinstance(inputs, (tuple, list)):
        return tuple(inputs), {}
    raise TypeError('inputs must be a tensor, a tuple / list of positional '
                    f'inputs or a dict of keyword inputs, got '
                    f'{type(inputs).__name__}')


def _is_shape(obj: Any) -> bool:
    return isinstance(obj, (tuple, list, torch.Size)) and all(
        isinstance(d, int) for d in obj)


def make_inputs(shapes: InputShapes,
                device: Optional[Device] = None,
                dtype: torch.dtype = torch.float32) -> Inputs:
    """Random inputs in ``[0, 1)`` (image-like) of the given shapes.

    Args:
        shapes: one shape (``(1, 2, 64, 64)``) -> a tensor; a list of shapes
            (``[(1, 2, 64, 64), (1, 1, 64, 64)]``) -> a tuple of tensors; a
            mapping name -> shape -> a dict of keyword tensors.
        device (str | torch.device, optional): device of the tensors.
            Defaults to the CPU.
        dtype (torch.dtype): dtype. Defaults to float32.

    Returns:
        Tensor | tuple[Tensor, ...] | dict[str, Tensor]: the inputs.
    """

    def one(shape: Shape) -> torch.Tensor:
        if not _is_shape(shape) or any(d < 1 for d in shape):
            raise ValueError(f'an input shape must be a sequence of '
                             f'positive ints, got {shape!r}')
        return torch.rand(tuple(shape), device=device, dtype=dtype)

    if isinstance(shapes, Mapping):
        return {name: one(shape) for name, shape in shapes.items()}
    if _is_shape(shapes):
        return one(shapes)
    if isinstance(shapes, (tuple, list)) and shapes:
        return tuple(one(shape) for shape in shapes)
    raise ValueError(f'input shapes must be a shape, a list of shapes or a '
                     f'dict name -> shape, got {shapes!r}')


def input_shapes(inputs: Inputs) -> Any:
    """JSON-friendly shapes of an inputs spec (non-tensors as ``repr``)."""

    def one(obj: Any) -> Any:
        return list(obj.shape) if isinstance(obj, torch.Tensor) else repr(obj)

    args, kwargs = split_inputs(inputs)
    if kwargs:
        return {name: one(value) for name, value in kwargs.items()}
    return [one(arg) for arg in args]


def _to_device(obj: Any, device: torch.device) -> Any:
    if isinstance(obj, torch.Tensor):
        return obj.to(device)
    if isinstance(obj, Mapping):
        return {k: _to_device(v, device) for k, v in obj.items()}
    if isinstance(obj, (tuple, list)):
        return type(obj)(_to_device(v, device) for v in obj)
    return obj


# ----------------------------------------------------------------- devices
def module_device(module: nn.Module) -> torch.device:
    """Device of the first parameter or buffer (CPU when there is none)."""
    for tensor in module.parameters():
        return tensor.device
    for tensor in module.buffers():
        return tensor.device
    return torch.device('cpu')


def _resolve_device(module: nn.Module,
                    device: Optional[Device]) -> torch.device:
    own = module_device(module)
    if device is None:
        return own
    device = torch.device(device)
    has_tensors = any(True for _ in module.parameters()) or any(
        True for _ in module.buffers())
    if has_tensors and (own.type != device.type or
                        (device.index is not None and own != device)):
        raise ValueError(f'the module is on {own}, not on the requested '
                         f'device {device}: move it first (module.to(...))')
    return device


def synchronize(device: Device) -> None:
    """Wait for the queued kernels of ``device`` (no-op on the CPU)."""
    device = torch.device(device)
    if device.type == 'cuda':
        torch.cuda.synchronize(device)
    elif device.type == 'mps':
        torch.mps.synchronize()


def device_name(device: Device = 'cpu') -> str:
    """A human-readable name of the hardware a measurement ran on.

    CUDA: ``torch.cuda.get_device_name``; CPU: the model name from
    ``/proc/cpuinfo`` (or :func:`platform.processor`) and the number of
    intra-op threads (``torch.get_num_threads()``), which changes CPU
    latency as much as the chip does.

    Args:
        device (str | torch.device): the device. Defaults to 'cpu'.

    Returns:
        str: e.g. ``'NVIDIA H200'`` or ``'Intel(R) Xeon(R) ... (2 threads)'``.
    """
    device = torch.device(device)
    if device.type == 'cuda':
        return torch.cuda.get_device_name(device)
    if device.type == 'cpu':
        threads = torch.get_num_threads()
        plural = 's' if threads > 1 else ''
        return f'{cpu_model()} ({threads} thread{plural})'
    return device.type


@contextlib.contextmanager
def inference_mode(module: nn.Module) -> Iterator[None]:
    """Eval mode + ``torch.no_grad()``; restores every submodule's mode.

    Measurements run in eval mode so that batch norms use (and do not
    update) their running statistics: measuring has no side effect.
    """
    modes = [(sub, sub.training) for sub in module.modules()]
    module.eval()
    try:
        with torch.no_grad():
            yield
    finally:
        for sub, training in modes:
            sub.training = training


@contextlib.contextmanager
def num_threads(threads: Optional[int]) -> Iterator[None]:
    """Temporarily ``torch.set_num_threads(threads)`` (None: unchanged)."""
    if threads is None:
        yield
        return
    if threads < 1:
        raise ValueError(f'num_threads must be >= 1, got {threads}')
    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


# ------------------------------------------------------------------ counts
def count_params(module: nn.Module, trainable_only: bool = False) -> int:
    """Number of parameter elements of ``module`` and all its submodules.

    A parameter shared by several submodules is counted once. Buffers (BN
    running statistics, fixed filters) are not parameters: see
    :func:`count_buffers`.

    Args:
        module (nn.Module): any module.
        trainable_only (bool): count only parameters with
            ``requires_grad=True``. Defaults to False.

    Returns:
        int: the count.
    """
    return sum(p.numel() for p in module.parameters()
               if p.requires_grad or not trainable_only)


def count_buffers(module: nn.Module) -> int:
    """Number of buffer elements (persistent or not) of ``module``."""
    return sum(b.numel() for b in module.buffers())


def count_flops(module: nn.Module, inputs: Inputs) -> FlopCount:
    """FLOPs and multiply-accumulates of one inference forward pass.

    Runs ``module`` once on ``inputs`` (moved to the module's device) in
    eval mode under ``torch.no_grad()`` inside
    :class:`torch.utils.flop_counter.FlopCounterMode`; see
    :mod:`mmfusenas.search.estimators.flop_counter`. Only convolutions,
    matrix products and attention are counted: ``flops = 2 * macs``.

    Args:
        module (nn.Module): any module.
        inputs (Tensor | Sequence | Mapping): see :func:`split_inputs`.

    Returns:
        FlopCount: ``flops``, ``macs``, ``by_module`` (inclusive FLOPs,
        keyed by qualified name, ``''`` = whole module) and ``by_operator``.
    """
    args, kwargs = split_inputs(_to_device(inputs, module_device(module)))
    with inference_mode(module):
        return count_flops_of_call(module, args, kwargs)


# ----------------------------------------------------------------- latency
@dataclass(frozen=True)
class LatencyStats:
    """Timings of :func:`measure_latency`, in milliseconds.

    Args:
        median_ms (float): median of the timed passes (the figure to use).
        min_ms (float): fastest pass.
        max_ms (float): slowest pass.
        samples_ms (tuple[float, ...]): every timed pass, in order.
    """
    median_ms: float
    min_ms: float
    max_ms: float
    samples_ms: Tuple[float, ...]

    @classmethod
    def from_samples(cls, samples_ms: Sequence[float]) -> 'LatencyStats':
        """Statistics of a non-empty sequence of pass times (ms)."""
        if not len(samples_ms):
            raise ValueError('no latency samples')
        ordered = sorted(samples_ms)
        mid = len(ordered) // 2
        median = ordered[mid] if len(ordered) % 2 else 0.5 * (
            ordered[mid - 1] + ordered[mid])
        return cls(median, ordered[0], ordered[-1], tuple(samples_ms))


def measure_latency(module: nn.Module,
                    inputs: Inputs,
                    repeats: int = 20,
                    warmup: int = 5,
                    device: Optional[Device] = None,
                    threads: Optional[int] = None) -> LatencyStats:
    """Inference latency: the median of ``repeats`` timed forward passes.

    ``warmup`` untimed passes first (allocator, kernel selection, caches),
    then each pass is timed alone with :func:`time.perf_counter`; on CUDA
    (and MPS) the device is synchronised before the clock is read, so the
    time covers the kernels, not just their launch. Runs in eval mode under
    ``torch.no_grad()`` (every submodule's mode is restored afterwards).

    CPU timings depend on ``torch.get_num_threads()`` and on other
    processes sharing the cores: use the median (robust to the slow
    outliers a busy machine produces) and compare numbers measured with the
    same thread count.

    Args:
        module (nn.Module): any module, already on its device.
        inputs (Tensor | Sequence | Mapping): see :func:`split_inputs`;
            moved to the device.
        repeats (int): timed passes (>= 1). Defaults to 20.
        warmup (int): untimed passes before them (>= 0). Defaults to 5.
        device (str | torch.device, optional): the device to run on; must
            be the module's. Defaults to the module's device (the CPU for a
            module without parameters or buffers).
        threads (int, optional): ``torch.set_num_threads`` for the
            measurement (restored afterwards); None keeps the current
            setting. Defaults to None.

    Returns:
        LatencyStats: median / min / max and every sample, in ms.
    """
    if not isinstance(repeats, int) or repeats < 1:
        raise ValueError(f'repeats must be an int >= 1, got {repeats!r}')
    if not isinstance(warmup, int) or warmup < 0:
        raise ValueError(f'warmup must be an int >= 0, got {warmup!r}')
    device = _resolve_device(module, device)
    args, kwargs = split_inputs(_to_device(inputs, device))
    samples = []
    with num_threads(threads), inference_mode(module):
        for _ in range(warmup):
            module(*args, **kwargs)
        synchronize(device)
        for _ in range(repeats):
            start = time.perf_counter()
            module(*args, **kwargs)
            synchronize(device)
            samples.append((time.perf_counter() - start) * 1e3)
    return LatencyStats.from_samples(samples)


# ------------------------------------------------------------- constraints
class ResourceConstraintError(ValueError):
    """A resource budget is exceeded, or cannot be met by any candidate."""


def check_resource_constraints(results: Mapping[str, float],
                               constraints: Mapping[str, float]) -> None:
    """Check measured resources against upper bounds.

    Args:
        results (Mapping[str, float]): e.g. the output of
            :meth:`ResourceEstimator.estimate`.
        constraints (Mapping[str, float]): ``{resource: max value}``, e.g.
            ``dict(params=1e6, latency_ms=20)``.

    Raises:
        KeyError: a constrained resource is not in ``results``.
        ResourceConstraintError: listing every violated bound.
    """
    unknown = [name for name in constraints if name not in results]
    if unknown:
        raise KeyError(f'constraints on {unknown}, which were not measured; '
                       f'measured: {sorted(results)}')
    violated = [
        f'{name} = {results[name]:,.6g} > {bound:,.6g}'
        for name, bound in constraints.items() if results[name] > bound
    ]
    if violated:
        raise ResourceConstraintError('resource budget exceeded: ' +
                                      '; '.join(violated))


def check_space_budget(costs: Mapping[str, Union[torch.Tensor,
                                                 Sequence[float]]],
                       budget: float,
                       fixed_cost: float = 0.0,
                       optional_keys: Iterable[str] = (),
                       choices: Optional[Mapping[str, Sequence[str]]] = None,
                       name: str = 'cost') -> Tuple[float, float]:
    """Fail fast when no architecture of a search space meets a budget.

    Under the additive cost model of the regularisers (an architecture costs
    the fixed part plus, at every choice point, its chosen candidate), the
    cheapest architecture costs ``fixed_cost + Σ_key min_o costs[key][o]``.
    If that already exceeds ``budget`` no choice can satisfy the constraint,
    and a search that samples (or mutates) architectures until one fits
    would loop forever; this raises instead, naming the cheapest candidate
    of each choice point. Call it once before such a loop.

    Choice points in ``optional_keys`` (those nested inside a candidate of
    another choice point, which are only paid when that candidate is
    chosen) add nothing to the lower bound, so the check never rejects a
    feasible budget (it is exact for one-level spaces).

    Args:
        costs (Mapping[str, Tensor | Sequence[float]]): per-candidate cost
            of every choice point, e.g. a latency table.
        budget (float): the upper bound.
        fixed_cost (float): cost every architecture pays (stems, heads,
            cell glue). Defaults to 0.
        optional_keys (Iterable[str]): keys that may be absent from an
            architecture. Defaults to ().
        choices (Mapping[str, Sequence[str]], optional): candidate names of
            each key, to name the cheapest ones in the error.
        name (str): what is budgeted, for messages, e.g. 'latency (ms)'.
            Defaults to 'cost'.

    Returns:
        tuple[float, float]: the cheapest and the most expensive total cost
        of the space.

    Raises:
        ResourceConstraintError: the cheapest architecture exceeds
            ``budget``.
    """
    optional = set(optional_keys)
    unknown = optional - set(costs)
    if unknown:
        raise KeyError(f'optional keys {sorted(unknown)} have no costs')
    if not math.isfinite(budget):
        raise ValueError(f'the {name} budget must be finite, got {budget}')
    cheapest: Dict[str, Tuple[float, int]] = {}
    high = float(fixed_cost)
    for key, table in costs.items():
        values = torch.as_tensor(table, dtype=torch.float64).flatten()
        if not values.numel() or not torch.isfinite(values).all():
            raise ValueError(f'the {name} table of {key!r} must be a '
                             f'non-empty finite vector, got {values.tolist()}')
        high += float(values.max())
        if key not in optional:
            cheapest[key] = (float(values.min()), int(values.argmin()))
    low = float(fixed_cost) + sum(value for value, _ in cheapest.values())
    if low > budget:
        ranked = sorted(cheapest.items(), key=lambda item: -item[1][0])

        def label(key: str, index: int) -> str:
            return repr(choices[key][index]) if choices else f'#{index}'

        parts = ', '.join(f'{key!r} -> {label(key, index)} {value:.6g}'
                          for key, (value, index) in ranked)
        raise ResourceConstraintError(
            f'impossible {name} budget {budget:.6g}: the cheapest '
            f'architecture of the space costs {low:.6g} = fixed part '
            f'{fixed_cost:.6g} + the cheapest candidate of every choice '
            f'point ({parts or "none"}). No choice meets the budget; raise '
            'it, make the fixed part cheaper or add cheaper candidates.')
    return low, high


# ---------------------------------------------------------------- estimator
@TASK_UTILS.register_module()
class ResourceEstimator:
    """Parameters, buffers, MACs / FLOPs and latency of a whole model.

    Example::

        estimator = TASK_UTILS.build(
            dict(type='ResourceEstimator', input_shape=(1, 2, 448, 620)))
        results = estimator.estimate(model.fusion_net)
        estimator.check(model.fusion_net, dict(params=1.5e6, macs=100e9))

    Args:
        input_shape (shape | list[shape] | dict[str, shape], optional):
            shapes of the default inputs (see :func:`make_inputs`): one
            shape, one per positional input, or one per keyword input. Used
            when :meth:`estimate` gets no ``inputs``. Defaults to None.
        with_flops (bool): count MACs / FLOPs. Defaults to True.
        with_latency (bool): measure the latency. Defaults to True.
        repeats (int): timed passes of the latency. Defaults to 20.
        warmup (int): untimed passes before them. Defaults to 5.
        threads (int, optional): CPU threads during the latency
            measurement; None keeps ``torch.get_num_threads()``. Defaults to
            None.
    """

    def __init__(self,
                 input_shape: Optional[InputShapes] = None,
                 with_flops: bool = True,
                 with_latency: bool = True,
                 repeats: int = 20,
                 warmup: int = 5,
                 threads: Optional[int] = None) -> None:
        self.input_shape = input_shape
        self.with_flops = with_flops
        self.with_latency = with_latency
        self.repeats = repeats
        self.warmup = warmup
        self.threads = threads

    def estimate(self,
                 model: nn.Module,
                 inputs: Optional[Inputs] = None) -> Dict[str, float]:
        """Measure ``model`` (every submodule) on ``inputs``.

        Args:
            model (nn.Module): the model (its forward is called with the
                inputs).
            inputs (Tensor | Sequence | Mapping, optional): the inputs;
                defaults to random inputs of ``input_shape``.

        Returns:
            dict[str, float]: ``params``, ``trainable_params``, ``buffers``
            (element counts), ``macs`` and ``flops`` (with_flops) and
            ``latency_ms`` (median; with_latency).
        """
        if inputs is None:
            if self.input_shape is None:
                raise ValueError('ResourceEstimator.estimate needs inputs or '
                                 'an input_shape')
            inputs = make_inputs(self.input_shape, module_device(model))
        results: Dict[str, float] = dict(
            params=count_params(model),
            trainable_params=count_params(model, trainable_only=True),
            buffers=count_buffers(model))
        if self.with_flops:
            count = count_flops(model, inputs)
            results.update(macs=count.macs, flops=count.flops)
        if self.with_latency:
            results['latency_ms'] = measure_latency(
                model,
                inputs,
                repeats=self.repeats,
                warmup=self.warmup,
                threads=self.threads).median_ms
        return results

    def check(self,
              model: nn.Module,
              constraints: Mapping[str, float],
              inputs: Optional[Inputs] = None) -> Dict[str, float]:
        """:meth:`estimate`, then :func:`check_resource_constraints`.

        Returns:
            dict[str, float]: the estimate, when every bound holds.
        """
        results = self.estimate(model, inputs)
        check_resource_constraints(results, constraints)
        return results
