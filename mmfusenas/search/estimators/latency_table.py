"""Per-choice-point latency (or FLOPs) tables of a bound supernet, and the
JSON cache (valid while its context matches) shared with the path-cost
table."""
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

from mmfusenas.utils.fileio import atomic_write, read_json
from mmfusenas.models.mutables import ArchParams, DiffMixedOp
from .resource_estimator import (Inputs, _to_device, check_space_budget,
                                 count_flops, detached, device_name,
                                 inference_mode, measure_latency,
                                 module_device, num_threads, split_inputs)

FORMAT = 'mmfusenas-latency-table/1'
#: what a table can hold: median latency (ms) or FLOPs (millions)
METRICS = ('latency', 'flops')


class LatencyTable(dict):
    """``{key: per-candidate latency (ms)}`` (float64 tensors in
    ``ArchParams`` order); ``fixed_ms`` is the supernet without its choice
    points, ``nested_keys`` the keys that only occur nested, ``origin`` how
    the table was obtained."""

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
        """:func:`check_space_budget` of the table (cheapest, slowest ms)."""
        return check_space_budget(
            self,
            budget_ms,
            fixed_cost=self.fixed_ms,
            optional_keys=self.nested_keys,
            choices=self.choices,
            name='latency (ms)')


@dataclass
class _Call:
    name: str
    module: DiffMixedOp
    args: tuple
    parent: Optional[int]
    output: Any = None
    children: List[int] = field(default_factory=list)


def _record_calls(supernet: nn.Module, arch_params: ArchParams,
                  example_inputs: Inputs) -> List[_Call]:
    """Every choice-point call of one forward, in execution order."""
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
        calls.append(_Call(names[module], module, detached(args), parent))
        if parent is not None:
            calls[parent].children.append(len(calls) - 1)
        stack.append(len(calls) - 1)

    def leave(module, args, output):
        if stack and calls[stack[-1]].module is module:
            calls[stack.pop()].output = detached(output)

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
    """Zero-cost stand-in: returns the recorded outputs, cycling."""

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
    originals = {name: root.get_submodule(name) for name in replacements}
    try:
        for name, new in replacements.items():
            root.set_submodule(name, new)
        yield
    finally:
        for name, old in originals.items():
            root.set_submodule(name, old)


def _replays(calls: List[_Call], indices: Sequence[int],
             strip: str) -> Dict[str, _Replay]:
    """Stand-ins for the calls ``indices``, named relative to ``strip``."""
    outputs: Dict[str, List[Any]] = defaultdict(list)
    for i in indices:
        outputs[calls[i].name[len(strip):]].append(calls[i].output)
    return {name: _Replay(outs) for name, outs in outputs.items()}


def _measure(supernet: nn.Module,
             calls: List[_Call],
             example_inputs: Inputs,
             repeats: int,
             warmup: int,
             metric: str = 'latency') -> Tuple[List[List[float]], float]:
    """Per-call candidate costs and the fixed-part cost (ms or MFLOPs)."""
    # explicit: a parameter-free candidate (skip) has no device of its own
    device = module_device(supernet)

    def cost_of(module, inputs):
        if metric == 'flops':
            return count_flops(module, inputs).flops / 1e6
        return measure_latency(
            module, inputs, repeats=repeats, warmup=warmup,
            device=device).median_ms

    timed: Dict[Tuple, float] = {}
    per_call: List[List[float]] = []
    for call in calls:
        row = []
        for i, candidate in enumerate(call.module.candidates):
            prefix = f'{call.name}.candidates.{i}.'.lstrip('.')
            nested = [
                c for c in call.children if calls[c].name.startswith(prefix)
            ]
            with _replaced(candidate, _replays(calls, nested, prefix)):
                # identical structure at an identical input shape has the
                # same latency: time it once
                signature = (repr(candidate), *(
                    (tuple(a.shape), str(a.dtype)) if isinstance(
                        a, torch.Tensor) else repr(a) for a in call.args))
                if signature not in timed:
                    timed[signature] = cost_of(candidate, call.args)
            row.append(timed[signature])
        per_call.append(row)
    outermost = [i for i, call in enumerate(calls) if call.parent is None]
    if any(not calls[i].name for i in outermost):
        # the supernet is itself a choice point: nothing is fixed
        return per_call, 0.0
    with _replaced(supernet, _replays(calls, outermost, '')):
        return per_call, cost_of(supernet, example_inputs)


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

    def shape(v):
        return list(v.shape) if isinstance(v, torch.Tensor) else repr(v)

    # the device (CPU model, threads) only where it changes the values: a
    # FLOPs table is shared across machines
    context = dict(
        device=device_name(device),
        torch=torch.__version__,
        dtype=str(tensors[0].dtype) if tensors else 'none',
        inputs={k: shape(v)
                for k, v in kwargs.items()} if kwargs else
        [shape(a) for a in args],
        choices={k: list(arch_params.choices(k))
                 for k in keys},
        places=places,
        signature=digest.hexdigest(),
        metric=metric)
    if metric != 'latency':
        del context['device']
    return context


def _dumps(obj: Any, depth: int = 0) -> str:
    """JSON with one line per entry of the top two levels."""
    if depth >= 2 or not isinstance(obj, dict) or not obj:
        return json.dumps(obj)
    pad = ' ' * (depth + 1)
    body = ',\n'.join(f'{pad}{json.dumps(k)}: {_dumps(v, depth + 1)}'
                      for k, v in obj.items())
    return '{\n' + body + '\n' + ' ' * depth + '}'


def load_cache(path: Optional[str], fmt: str, what: str, context: dict,
               rebuild: bool = False) -> Tuple[Optional[dict], str]:
    """The JSON cache ``path`` of format ``fmt`` if its context equals
    ``context`` (else None), and how the values are obtained."""
    if path is None:
        return None, 'measured (no cache file)'
    if rebuild:
        return None, f'measured (rebuild requested; cache {path})'
    if not osp.isfile(path):
        return None, f'measured (no cache at {path} yet)'
    data = read_json(path)
    if not isinstance(data, dict) or data.get('format') != fmt:
        raise ValueError(f'{path} is not a {what} (expected format {fmt!r});'
                         ' delete it or pass rebuild=True to overwrite it')
    cached = data.get('context', {})
    diffs = [
        f'{name}: cached {cached.get(name)!r}, now {now!r}'
        if name in ('device', 'torch', 'dtype', 'inputs') else
        f'{name} differ' for name, now in context.items()
        if cached.get(name) != now
    ]
    if diffs:
        return None, f'measured (stale cache {path}: {"; ".join(diffs)})'
    return data, f'loaded from {path}'


def save_cache(path: str, fmt: str, context: dict, **payload: Any) -> None:
    """Write a JSON cache of format ``fmt`` (atomic)."""
    data = dict(
        format=fmt,
        created=datetime.datetime.now().isoformat(timespec='seconds'),
        context=context,
        **payload)
    atomic_write(_dumps(data) + '\n', path)


def build_latency_table(supernet: nn.Module,
                        arch_params: ArchParams,
                        example_inputs: Inputs,
                        cache_file: Optional[str] = None,
                        rebuild: bool = False,
                        repeats: int = 20,
                        warmup: int = 5,
                        threads: Optional[int] = None,
                        metric: str = 'latency') -> LatencyTable:
    """Latency (ms) or MFLOPs of every candidate of every choice point.

    Each candidate is measured alone on the inputs one forward recorded
    (nested choice points stood in for at zero cost), summed over the
    places of its key.

    Args:
        supernet (nn.Module): the bound network, on the device to measure.
        arch_params (ArchParams): the architecture parameters.
        example_inputs (Tensor | Sequence | Mapping): forward inputs.
        cache_file (str, optional): JSON cache path.
        rebuild (bool): re-measure even if the cache matches.
        repeats (int): timed passes per candidate. Defaults to 20.
        warmup (int): untimed passes before them. Defaults to 5.
        threads (int, optional): ``torch.set_num_threads`` while measuring.
        metric (str): ``'latency'`` (median ms) or ``'flops'`` (MFLOPs).

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
        data, origin = load_cache(cache_file, FORMAT, 'latency table',
                                  context, rebuild)
        print_log(
            f'latency table: {origin}; {len(calls)} places of {len(keys)} '
            f'choice points on {device_name(device)}',
            logger='current')
        if data is not None:
            return LatencyTable(
                {
                    k: torch.tensor(data['latency_ms'][k], dtype=torch.float64)
                    for k in keys
                }, data['fixed_ms'], data['nested_keys'], context['choices'],
                context, origin)
        per_call, fixed_ms = _measure(supernet, calls, example_inputs, repeats,
                                      warmup, metric)
    per_place: Dict[str, List[List[float]]] = {k: [] for k in keys}
    for call, row in zip(calls, per_call):
        per_place[call.module.key].append(row)
    latencies = {
        k: torch.tensor(rows, dtype=torch.float64).sum(dim=0)
        for k, rows in per_place.items()
    }
    if cache_file is not None:
        save_cache(
            cache_file,
            FORMAT,
            context,
            settings=dict(repeats=repeats, warmup=warmup),
            unit='ms' if metric == 'latency' else 'MFLOPs',
            fixed_ms=fixed_ms,
            nested_keys=nested,
            latency_ms={
                k: v.tolist()
                for k, v in latencies.items()
            },
            places_ms=per_place)
    return LatencyTable(latencies, fixed_ms, nested, context['choices'],
                        context, origin)
