"""Per-choice-point latency look-up tables of a bound supernet.

:func:`build_latency_table` runs the supernet once on example inputs with a
hook on every :class:`~mmfusenas.models.mutables.DiffMixedOp` (a *place*:
one call of a choice point, with its real input), then times every
candidate of every place alone on that input; a key used at several places
costs the sum over its places. :class:`LatencyTable` is cached in a JSON
file and reloaded while the device, the inputs and the space are
unchanged. In two-level spaces a candidate's entry is its *own* latency
(its nested choice points, which have rows of their own, are replaced by
free stand-ins while it is timed), so no operator is counted twice.
"""
import contextlib
import datetime
import hashlib
import json
import os.path as osp
from collections import defaultdict
from dataclasses import dataclass, field
from typing import (Any, Dict, FrozenSet, Iterator, List, Mapping, Optional,
                    Sequence, Tuple)

import torch
import torch.nn as nn
from mmengine.logging import print_log

from mmfusenas.utils.fileio import atomic_write
from mmfusenas.models.mutables import ArchParams, DiffMixedOp
from .resource_estimator import (Inputs, _to_device, check_space_budget,
                                 count_flops, device_name, inference_mode,
                                 input_shapes)
from .resource_estimator import (measure_latency, module_device, num_threads,
                                 split_inputs)

FORMAT = 'mmfusenas-latency-table/1'
#: context fields a cache must match; the first four are short enough to be
#: printed when they differ
CONTEXT_FIELDS = ('device', 'torch', 'dtype', 'inputs', 'choices', 'places',
                  'signature', 'metric')
#: what a table can hold: median latency (ms) or FLOPs (millions)
METRICS = ('latency', 'flops')


class LatencyTable(dict):
    """``{key: per-candidate latency (ms)}`` of a supernet, plus metadata.

    A plain ``dict`` of float64 CPU tensors of shape ``(num_candidates,)``
    in ``ArchParams.choices(key)`` order, keyed in ``ArchParams.keys()``
    order (so it can be passed to
    :func:`~mmfusenas.search.operation_sensitive_reg` as is).

    Attributes:
        fixed_ms (float): latency of the supernet with every choice point
            replaced by a zero-cost stand-in: the part every architecture
            pays (stems, heads, cell glue).
        nested_keys (frozenset[str]): keys whose every place lies inside a
            candidate of another choice point.
        choices (dict[str, tuple[str, ...]]): candidate names of each key.
        context (dict): what the table is valid for (device, torch version,
            dtype, input shapes, candidates, place shapes, signature).
        origin (str): how it was obtained (loaded, or measured and why).
    """

    def __init__(self, latencies: Mapping[str, torch.Tensor], fixed_ms: float,
                 nested_keys: Sequence[str], choices: Mapping[str,
                                                              Sequence[str]],
                 context: dict, origin: str) -> None:
        super().__init__(latencies)
        self.fixed_ms = float(fixed_ms)
        self.nested_keys: FrozenSet[str] = frozenset(nested_keys)
        self.choices = {k: tuple(v) for k, v in choices.items()}
        self.context = context
        self.origin = origin

    def check_budget(self, budget_ms: float) -> Tuple[float, float]:
        """Fail fast when no architecture can run within ``budget_ms``.

        See :func:`~mmfusenas.search.estimators.check_space_budget`
        (additive model: fixed part + one candidate per choice point).

        Returns:
            tuple[float, float]: cheapest and slowest total latency (ms).
        """
        return check_space_budget(
            self,
            budget_ms,
            fixed_cost=self.fixed_ms,
            optional_keys=self.nested_keys,
            choices=self.choices,
            name='latency (ms)')


# --------------------------------------------------------------- recording
@dataclass
class _Call:
    """One call of a choice point during the recorded forward."""
    name: str
    module: DiffMixedOp
    args: tuple
    parent: Optional[int]
    output: Any = None
    children: List[int] = field(default_factory=list)


def _detach(obj: Any) -> Any:
    if isinstance(obj, torch.Tensor):
        return obj.detach()
    if isinstance(obj, (tuple, list)):
        return type(obj)(_detach(v) for v in obj)
    return obj


def _record_calls(supernet: nn.Module, arch_params: ArchParams,
                         example_inputs: Inputs) -> List[_Call]:
    """Run ``supernet`` once and record every call of every choice point.

    Args:
        supernet (nn.Module): a network whose ``DiffMixedOp`` s are bound to
            ``arch_params``.
        arch_params (ArchParams): the container they are bound to.
        example_inputs (Tensor | Sequence | Mapping): inputs of the forward.

    Returns:
        list[_Call]: the calls in execution order (with their inputs,
        outputs and the enclosing call of nested choice points).
    """
    names = {}
    for name, module in supernet.named_modules():
        if isinstance(module, DiffMixedOp):
            if module.key not in arch_params.keys():
                raise ValueError(
                    f'choice point {name!r} (key {module.key!r}) is not '
                    'registered in the given ArchParams: bind the supernet '
                    'with bind_arch_params(supernet, arch_params) first')
            if tuple(module.choice_names) != arch_params.choices(module.key):
                raise ValueError(
                    f'choice point {name!r} lists {module.choice_names} but '
                    f'ArchParams has {list(arch_params.choices(module.key))} '
                    f'for {module.key!r}')
            names[module] = name
    if not names:
        raise ValueError(f'{type(supernet).__name__} has no DiffMixedOp '
                         'choice points: there is nothing to tabulate')
    calls: List[_Call] = []
    stack: List[int] = []
    handles = []

    def enter(module, args):
        parent = stack[-1] if stack else None
        calls.append(_Call(names[module], module, _detach(args), parent))
        if parent is not None:
            calls[parent].children.append(len(calls) - 1)
        stack.append(len(calls) - 1)

    def leave(module, args, output):
        if stack and calls[stack[-1]].module is module:
            calls[stack.pop()].output = _detach(output)

    for module in names:
        handles.append(module.register_forward_pre_hook(enter))
        handles.append(module.register_forward_hook(leave, always_call=True))
    args, kwargs = split_inputs(
        _to_device(example_inputs, module_device(supernet)))
    try:
        with inference_mode(supernet):
            supernet(*args, **kwargs)
    finally:
        for handle in handles:
            handle.remove()
    if not calls:
        raise ValueError('no choice point ran in the forward of '
                         f'{type(supernet).__name__} on the example inputs')
    return calls


class _Replay(nn.Module):
    """Zero-cost stand-in for a choice point: returns its recorded outputs,
    one per call, cycling."""

    def __init__(self, outputs: Sequence[Any]) -> None:
        super().__init__()
        self.outputs = list(outputs)
        self.calls = 0

    def forward(self, *args, **kwargs) -> Any:
        out = self.outputs[self.calls % len(self.outputs)]
        self.calls += 1
        return out

    def extra_repr(self) -> str:
        shapes = [
            tuple(o.shape) if isinstance(o, torch.Tensor) else type(o)
            for o in self.outputs
        ]
        return f'outputs={shapes}'


@contextlib.contextmanager
def _replaced(root: nn.Module,
              replacements: Mapping[str, nn.Module]) -> Iterator[None]:
    """Swap submodules of ``root`` (by qualified name), restore on exit."""
    originals = []
    try:
        for name, new in replacements.items():
            parent_name, _, attr = name.rpartition('.')
            parent = root.get_submodule(parent_name)
            originals.append((parent, attr, getattr(parent, attr)))
            setattr(parent, attr, new)
        yield
    finally:
        for parent, attr, old in reversed(originals):
            setattr(parent, attr, old)


def _replays(calls: List[_Call], indices: Sequence[int],
             strip: str) -> Dict[str, _Replay]:
    """Stand-ins for the calls ``indices``, named relative to ``strip``."""
    outputs: Dict[str, List[Any]] = defaultdict(list)
    for i in indices:
        outputs[calls[i].name[len(strip):]].append(calls[i].output)
    return {name: _Replay(outs) for name, outs in outputs.items()}


def _shape_key(args: tuple) -> Tuple:
    return tuple((tuple(a.shape),
                  str(a.dtype)) if isinstance(a, torch.Tensor) else repr(a)
                 for a in args)


# --------------------------------------------------------------- measuring
@dataclass
class _Cost:
    """A deterministic measurement in the shape of ``LatencyStats``."""
    median_ms: float


def _measure(supernet: nn.Module,
             calls: List[_Call],
             example_inputs: Inputs,
             repeats: int,
             warmup: int,
             metric: str = 'latency') -> Tuple[Dict[int, List[float]], float]:
    """Per-call candidate costs and the fixed-part cost (ms or MFLOPs)."""
    # explicit: a parameter-free candidate (skip) has no device of its own
    device = module_device(supernet)

    def cost_of(module, inputs, repeats, warmup, device):
        if metric == 'flops':
            return _Cost(count_flops(module, inputs).flops / 1e6)
        return measure_latency(
            module, inputs, repeats=repeats, warmup=warmup, device=device)
    timed: Dict[Tuple[str, Tuple], float] = {}
    per_call: Dict[int, List[float]] = {}
    for index, call in enumerate(calls):
        row = []
        for i, candidate in enumerate(call.module.candidates):
            prefix = f'{call.name}.candidates.{i}.'.lstrip('.')
            nested = [
                c for c in call.children if calls[c].name.startswith(prefix)
            ]
            with _replaced(candidate, _replays(calls, nested, prefix)):
                # identical structure at an identical input shape has the
                # same latency: time it once
                signature = (repr(candidate), _shape_key(call.args))
                if signature not in timed:
                    timed[signature] = cost_of(
                        candidate,
                        call.args,
                        repeats=repeats,
                        warmup=warmup,
                        device=device).median_ms
            row.append(timed[signature])
        per_call[index] = row
    outermost = [i for i, call in enumerate(calls) if call.parent is None]
    if any(not calls[i].name for i in outermost):
        # the supernet is itself a choice point: nothing is fixed
        return per_call, 0.0
    with _replaced(supernet, _replays(calls, outermost, '')):
        fixed = cost_of(
            supernet,
            example_inputs,
            repeats=repeats,
            warmup=warmup,
            device=device).median_ms
    return per_call, fixed


def _context(calls: List[_Call],
             arch_params: ArchParams,
             example_inputs: Inputs,
             device: torch.device,
             metric: str = 'latency') -> dict:
    keys = [
        k for k in arch_params.keys() if any(c.module.key == k for c in calls)
    ]
    places: Dict[str, list] = {k: [] for k in keys}
    digest = hashlib.sha1()
    for call in calls:
        places[call.module.key].append(
            [list(a.shape) for a in call.args if isinstance(a, torch.Tensor)])
        digest.update(repr(call.module).encode())
    args, kwargs = split_inputs(example_inputs)
    tensors = [
        t for t in (*args, *kwargs.values()) if isinstance(t, torch.Tensor)
    ]
    return dict(
        device=device_name(device),
        torch=torch.__version__,
        dtype=str(tensors[0].dtype) if tensors else 'none',
        inputs=input_shapes(example_inputs),
        choices={k: list(arch_params.choices(k))
                 for k in keys},
        places=places,
        signature=digest.hexdigest(),
        metric=metric)


def _stale_fields(cached: dict, now: dict) -> List[str]:
    """Human-readable differences between two contexts."""
    diffs = []
    for name in CONTEXT_FIELDS:
        if cached.get(name) != now[name]:
            if name in ('device', 'torch', 'dtype', 'inputs'):
                diffs.append(f'{name}: cached {cached.get(name)!r}, now '
                             f'{now[name]!r}')
            else:
                diffs.append(f'{name} differ')
    return diffs


def _dumps(obj: Any, depth: int = 0) -> str:
    """JSON with one line per entry of the top two levels."""
    if depth >= 2 or not isinstance(obj, dict) or not obj:
        return json.dumps(obj)
    pad = ' ' * (depth + 1)
    body = ',\n'.join(f'{pad}{json.dumps(k)}: {_dumps(v, depth + 1)}'
                      for k, v in obj.items())
    return '{\n' + body + '\n' + ' ' * depth + '}'


def _load(cache_file: str) -> dict:
    try:
        with open(cache_file, encoding='utf-8') as f:
            data = json.load(f)
    except ValueError as err:
        raise ValueError(
            f'latency cache {cache_file} is not valid JSON ({err}); delete '
            'it or pass rebuild=True to overwrite it') from err
    if not isinstance(data, dict) or data.get('format') != FORMAT:
        raise ValueError(
            f'{cache_file} is not a latency table (expected format '
            f'{FORMAT!r}); delete it or pass rebuild=True to overwrite it')
    return data


def build_latency_table(supernet: nn.Module,
                        arch_params: ArchParams,
                        example_inputs: Inputs,
                        cache_file: Optional[str] = None,
                        rebuild: bool = False,
                        repeats: int = 20,
                        warmup: int = 5,
                        threads: Optional[int] = None,
                        metric: str = 'latency') -> LatencyTable:
    """Latency (ms) of every candidate of every choice point of a supernet.

    1. One forward of ``supernet`` on ``example_inputs`` (eval mode, no
       gradients) records the input of every call of every ``DiffMixedOp``.
    2. Each candidate is timed alone on its recorded input
       (:func:`~mmfusenas.search.estimators.measure_latency`: median of
       ``repeats`` passes after ``warmup``), on the supernet's device;
       nested choice points inside a candidate are replaced by zero-cost
       stand-ins (they have rows of their own).
    3. ``table[key][o]`` sums candidate ``o`` over every place of ``key``.
       The supernet is also timed with every choice point stood in for:
       ``table.fixed_ms``.

    With ``cache_file`` the table is written there (atomically) and
    reloaded on the next call when its context matches — device name
    (GPU name, or CPU model and thread count), torch version, dtype, input
    shapes, candidate names, place shapes and a signature of the choice
    points' structure. It is re-measured when ``rebuild=True`` or when any
    of these differ (the log says which).

    Args:
        supernet (nn.Module): the network, its choice points bound to
            ``arch_params``, on the device to measure on.
        arch_params (ArchParams): the architecture parameters.
        example_inputs (Tensor | Sequence | Mapping): inputs of the
            supernet's forward at the shape to optimise for.
        cache_file (str, optional): JSON cache path. Defaults to None (no
            cache).
        rebuild (bool): re-measure even if the cache matches. Defaults to
            False.
        repeats (int): timed passes per candidate. Defaults to 20.
        warmup (int): untimed passes before them. Defaults to 5.
        threads (int, optional): ``torch.set_num_threads`` while measuring
            (part of the CPU device name); None keeps the current setting.
            Defaults to None.
        metric (str): ``'latency'`` (median ms, default) or ``'flops'``
            (millions of FLOPs of one inference pass of each candidate at
            its recorded input, :func:`count_flops`: deterministic and
            device-independent; ``fixed_ms`` then holds the fixed part's
            MFLOPs).

    Returns:
        LatencyTable: ``{key: float64 tensor (num_candidates,)}`` in
        ``arch_params`` order, with ``fixed_ms``, ``nested_keys``,
        ``choices``, ``context`` and ``origin``.
    """
    if metric not in METRICS:
        raise ValueError(f'build_latency_table: metric must be one of '
                         f'{METRICS}, got {metric!r}')
    device = module_device(supernet)
    with num_threads(threads):
        calls = _record_calls(supernet, arch_params, example_inputs)
        context = _context(calls, arch_params, example_inputs, device,
                           metric)
        keys = list(context['choices'])
        nested = [
            k for k in keys
            if all(c.parent is not None for c in calls if c.module.key == k)
        ]
        if cache_file is None:
            origin = 'measured (no cache file)'
        elif rebuild:
            origin = f'measured (rebuild requested; cache {cache_file})'
        elif not osp.isfile(cache_file):
            origin = f'measured (no cache at {cache_file} yet)'
        else:
            data = _load(cache_file)
            diffs = _stale_fields(data.get('context', {}), context)
            if not diffs:
                table = LatencyTable(
                    {
                        k: torch.tensor(
                            data['latency_ms'][k], dtype=torch.float64)
                        for k in keys
                    }, data['fixed_ms'], data['nested_keys'],
                    context['choices'], context, f'loaded from {cache_file}')
                print_log(
                    f'latency table: loaded {len(keys)} choice points from '
                    f'{cache_file} ({context["device"]})',
                    logger='current')
                return table
            origin = (f'measured (stale cache {cache_file}: ' +
                      '; '.join(diffs) + ')')
        print_log(
            f'latency table: {origin}; timing {len(calls)} places of '
            f'{len(keys)} choice points on {context["device"]}',
            logger='current')
        per_call, fixed_ms = _measure(supernet, calls, example_inputs, repeats,
                                      warmup, metric)
    per_place: Dict[str, List[List[float]]] = {k: [] for k in keys}
    for index, call in enumerate(calls):
        per_place[call.module.key].append(per_call[index])
    latencies = {
        k: torch.tensor(rows, dtype=torch.float64).sum(dim=0)
        for k, rows in per_place.items()
    }
    table = LatencyTable(latencies, fixed_ms, nested, context['choices'],
                         context, origin)
    if cache_file is not None:
        data = dict(
            format=FORMAT,
            created=datetime.datetime.now().isoformat(timespec='seconds'),
            context=context,
            settings=dict(repeats=repeats, warmup=warmup),
            unit='ms' if metric == 'latency' else 'MFLOPs',
            fixed_ms=fixed_ms,
            nested_keys=nested,
            latency_ms={
                k: v.tolist()
                for k, v in latencies.items()
            },
            places_ms=per_place)
        atomic_write(_dumps(data) + '\n', cache_file)
    return table
