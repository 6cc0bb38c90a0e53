"""Parameters, FLOPs and latency of a whole module at real inputs, and
resource-budget checks that fail fast."""
import contextlib
import itertools
import math
import platform
import statistics
import time
from dataclasses import dataclass, field
from typing import (Any, Dict, Iterable, Iterator, Mapping, Optional, Sequence,
                    Tuple, Union)

import torch
import torch.nn as nn
from torch.utils._pytree import tree_map
from torch.utils.flop_counter import FlopCounterMode

from mmfusenas.registry import TASK_UTILS

Inputs = Union[torch.Tensor, Sequence[Any], Mapping[str, Any]]
Shape = Sequence[int]
InputShapes = Union[Shape, Sequence[Shape], Mapping[str, Shape]]
Device = Union[str, torch.device]


def split_inputs(inputs: Inputs) -> Tuple[tuple, dict]:
    """``(args, kwargs)`` of one tensor, a tuple / list or a mapping."""
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
    """Random inputs in ``[0, 1)``: a shape -> a tensor, a list of shapes
    -> a tuple, a mapping name -> shape -> a dict."""

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


def _to_device(obj: Any, device: torch.device) -> Any:
    """``obj`` with every tensor moved to ``device`` (nested containers)."""
    return tree_map(
        lambda v: v.to(device) if isinstance(v, torch.Tensor) else v, obj)


def detached(obj: Any) -> Any:
    """``obj`` with every tensor detached (nested containers)."""
    return tree_map(
        lambda v: v.detach() if isinstance(v, torch.Tensor) else v, obj)


def module_device(module: nn.Module) -> torch.device:
    """Device of the first parameter or buffer (CPU when there is none)."""
    for tensor in module.parameters():
        return tensor.device
    for tensor in module.buffers():
        return tensor.device
    return torch.device('cpu')


def cpu_model() -> str:
    """The CPU's model name (``/proc/cpuinfo``, else :mod:`platform`)."""
    try:
        with open('/proc/cpuinfo', encoding='utf-8') as f:
            for line in f:
                if line.lower().startswith('model name'):
                    return line.split(':', 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or 'unknown CPU'


def device_name(device: Device = 'cpu') -> str:
    """The CUDA device name, or the CPU model and the thread count."""
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
    """Eval mode + ``torch.no_grad()``; every submodule's mode is restored."""
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


def count_params(module: nn.Module, trainable_only: bool = False) -> int:
    """Parameter elements (shared ones once; ``trainable_only``: only
    ``requires_grad`` ones)."""
    return sum(p.numel() for p in module.parameters()
               if p.requires_grad or not trainable_only)


def count_buffers(module: nn.Module) -> int:
    """Number of buffer elements (persistent or not) of ``module``."""
    return sum(b.numel() for b in module.buffers())


@dataclass
class FlopCount:
    """FLOPs (2 per multiply-add), inclusive FLOPs per qualified submodule
    name (``''``: the whole module) and FLOPs per ATen operator name."""
    flops: int
    by_module: Dict[str, int] = field(default_factory=dict)
    by_operator: Dict[str, int] = field(default_factory=dict)

    @property
    def macs(self) -> int:
        """Multiply-accumulates, ``flops // 2``."""
        return self.flops // 2


def count_flops_of_call(module: nn.Module, args: tuple,
                        kwargs: dict) -> FlopCount:
    """FLOPs of ``module(*args, **kwargs)`` by ``FlopCounterMode`` under
    ``torch.no_grad()``, in the module's current mode (2 per multiply-add of
    convolutions, matrix products and attention)."""
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


def count_flops(module: nn.Module, inputs: Inputs) -> FlopCount:
    """FLOPs and MACs of one inference forward (eval, no gradients)."""
    args, kwargs = split_inputs(_to_device(inputs, module_device(module)))
    with inference_mode(module):
        return count_flops_of_call(module, args, kwargs)


@dataclass(frozen=True)
class LatencyStats:
    """Timings of :func:`measure_latency` (ms)."""
    median_ms: float
    min_ms: float
    max_ms: float
    samples_ms: Tuple[float, ...]

    @classmethod
    def from_samples(cls, samples_ms: Sequence[float]) -> 'LatencyStats':
        """Statistics of a non-empty sequence of pass times (ms)."""
        return cls(statistics.median(samples_ms), min(samples_ms),
                   max(samples_ms), tuple(samples_ms))


def measure_latency(module: nn.Module,
                    inputs: Inputs,
                    repeats: int = 20,
                    warmup: int = 5,
                    device: Optional[Device] = None,
                    threads: Optional[int] = None) -> LatencyStats:
    """Inference latency: median of ``repeats`` timed passes after ``warmup``.

    Eval mode, no gradients; CUDA / MPS are synchronised before each clock
    read.

    Args:
        module (nn.Module): any module, already on its device.
        inputs (Tensor | Sequence | Mapping): see :func:`split_inputs`.
        repeats (int): timed passes (>= 1). Defaults to 20.
        warmup (int): untimed passes before them (>= 0). Defaults to 5.
        device (str | torch.device, optional): must be the module's.
        threads (int, optional): ``torch.set_num_threads`` while measuring.

    Returns:
        LatencyStats: median / min / max and every sample, in ms.
    """
    if not isinstance(repeats, int) or repeats < 1:
        raise ValueError(f'repeats must be an int >= 1, got {repeats!r}')
    if not isinstance(warmup, int) or warmup < 0:
        raise ValueError(f'warmup must be an int >= 0, got {warmup!r}')
    own = module_device(module)
    device = own if device is None else torch.device(device)
    if next(itertools.chain(module.parameters(), module.buffers()),
            None) is not None and (own.type != device.type or
                                   (device.index is not None
                                    and own != device)):
        raise ValueError(f'the module is on {own}, not on the requested '
                         f'device {device}: move it first (module.to(...))')
    args, kwargs = split_inputs(_to_device(inputs, device))
    synchronize = {  # wait for queued kernels before reading the clock
        'cuda': lambda: torch.cuda.synchronize(device),
        'mps': lambda: torch.mps.synchronize()
    }.get(device.type, lambda: None)
    samples = []
    with num_threads(threads), inference_mode(module):
        for _ in range(warmup):
            module(*args, **kwargs)
        synchronize()
        for _ in range(repeats):
            start = time.perf_counter()
            module(*args, **kwargs)
            synchronize()
            samples.append((time.perf_counter() - start) * 1e3)
    return LatencyStats.from_samples(samples)


class ResourceConstraintError(ValueError):
    """A resource budget is exceeded, or cannot be met by any candidate."""


def check_resource_constraints(results: Mapping[str, float],
                               constraints: Mapping[str, float]) -> None:
    """Raise :class:`ResourceConstraintError` listing every bound of
    ``constraints`` (``{name: max}``) that ``results`` break."""
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
    """Fail fast when no architecture of an additive-cost space meets
    ``budget``; returns its cheapest and dearest total cost.

    Args:
        costs (Mapping[str, Tensor | Sequence[float]]): per-candidate costs.
        budget (float): the upper bound.
        fixed_cost (float): cost every architecture pays. Defaults to 0.
        optional_keys (Iterable[str]): keys that may be absent (nested).
        choices (Mapping[str, Sequence[str]], optional): candidate names.
        name (str): what is budgeted, for messages.
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


@TASK_UTILS.register_module()
class ResourceEstimator:
    """Parameters, buffers, MACs / FLOPs and latency of a whole model.

    Args:
        input_shape (optional): shapes of the default inputs
            (:func:`make_inputs`).
        with_flops (bool): count MACs / FLOPs. Defaults to True.
        with_latency (bool): measure the latency. Defaults to True.
        repeats (int): timed passes of the latency. Defaults to 20.
        warmup (int): untimed passes before them. Defaults to 5.
        threads (int, optional): CPU threads while measuring.
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
        """``params``, ``trainable_params``, ``buffers`` and, as enabled,
        ``macs``, ``flops``, ``latency_ms`` of ``model`` on ``inputs``
        (default: random ones of ``input_shape``)."""
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
        """:meth:`estimate`, then :func:`check_resource_constraints`."""
        results = self.estimate(model, inputs)
        check_resource_constraints(results, constraints)
        return results
