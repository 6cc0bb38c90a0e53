"""Operation counting at the ATen level (multiply-accumulates and FLOPs).

:func:`count_flops_of_call` runs one real forward pass inside a
:class:`~torch.utils._python_dispatch.TorchDispatchMode`, which sees every
ATen operator the forward executes (module calls, functional calls, tensor
arithmetic), whatever Python produced them, and needs no tracing.
:class:`FlopCount` holds the result: ``macs``, the multiply-accumulates of
convolutions, matrix products and attention, and ``flops``, ``2 * macs``
plus every other floating-point operation (point-wise ops, reductions,
pooling, interpolation, normalisation). Data movement costs nothing;
floating-point operators without a rule are reported in
:attr:`FlopCount.uncounted` instead of being dropped. The conventions:
``docs/user_guides/estimators.md``.
"""
import math
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Tuple

import torch
import torch.nn as nn
from torch.utils._python_dispatch import TorchDispatchMode

# ------------------------------------------------------------------- rules
# A rule maps (args, kwargs, first output tensor) to (macs, other flops).
Rule = Callable[[tuple, dict, torch.Tensor], Tuple[int, int]]


def _numel(x: Any) -> int:
    return x.numel() if isinstance(x, torch.Tensor) else 0


def _conv(args: tuple, kwargs: dict, out: torch.Tensor) -> Tuple[int, int]:
    # convolution(input, weight, bias, stride, padding, dilation,
    #             transposed, output_padding, groups)
    x, weight, bias = args[0], args[1], args[2]
    transposed = bool(args[6]) if len(args) > 6 else False
    # weight: (C_out, C_in / g, *k) or, transposed, (C_in, C_out / g, *k)
    per_element = math.prod(weight.shape[1:])
    macs = (x.numel() if transposed else out.numel()) * per_element
    return macs, out.numel() if bias is not None else 0


def _matmul(args: tuple, kwargs: dict, out: torch.Tensor) -> Tuple[int, int]:
    # mm / bmm / mv / dot: (..., n, k) @ (..., k, m) -> n * k * m per batch
    inner = args[0].shape[-1] if args[0].dim() else 1
    return out.numel() * inner, 0


def _matmul_bias(args: tuple, kwargs: dict,
                 out: torch.Tensor) -> Tuple[int, int]:
    # addmm / baddbmm / addmv(bias, a, b): the product plus one addition
    # per output element (alpha / beta scalings are not counted)
    macs, _ = _matmul(args[1:], kwargs, out)
    return macs, out.numel()


def _attention(args: tuple, kwargs: dict,
               out: torch.Tensor) -> Tuple[int, int]:
    # q (..., L, E), k (..., S, E), v (..., S, Ev): q k^T, softmax, p v
    q, k, v = args[0], args[1], args[2]
    scores = math.prod(q.shape[:-1]) * k.shape[-2]
    return scores * q.shape[-1] + scores * v.shape[-1], 3 * scores


def _per_output(cost: int) -> Rule:

    def rule(args: tuple, kwargs: dict, out: torch.Tensor) -> Tuple[int, int]:
        return 0, cost * out.numel()

    return rule


def _per_input(cost: int) -> Rule:

    def rule(args: tuple, kwargs: dict, out: torch.Tensor) -> Tuple[int, int]:
        return 0, cost * _numel(args[0])

    return rule


def _free(args: tuple, kwargs: dict, out: torch.Tensor) -> Tuple[int, int]:
    return 0, 0


def _pool(args: tuple, kwargs: dict, out: torch.Tensor) -> Tuple[int, int]:
    # avg / max pooling: every output element visits its window
    kernel = args[1] if len(args) > 1 else kwargs['kernel_size']
    return 0, out.numel() * math.prod(kernel)


def _batch_norm(training_index: Optional[int]) -> Rule:
    """Batch norm: 2 per element to normalise (scale and shift, folded),
    2 more per input element when the statistics come from the batch.

    Args:
        training_index (int, optional): position of the ``training`` flag;
            None for operators that never compute statistics.
    """

    def rule(args: tuple, kwargs: dict, out: torch.Tensor) -> Tuple[int, int]:
        training = training_index is not None and bool(args[training_index])
        return 0, 2 * out.numel() + (2 * args[0].numel() if training else 0)

    return rule


def _batch_norm_legit(args: tuple, kwargs: dict,
                      out: torch.Tensor) -> Tuple[int, int]:
    # _native_batch_norm_legit(input, weight, bias, running_mean,
    # running_var, training, momentum, eps) or its ``no_stats`` overload
    # (input, weight, bias, training, momentum, eps)
    return _batch_norm(5 if len(args) >= 8 else 3)(args, kwargs, out)


def _norm_with_stats(args: tuple, kwargs: dict,
                     out: torch.Tensor) -> Tuple[int, int]:
    # layer / group norm (and batch norm with update) always compute the
    # mean and variance of their input
    return 0, 2 * out.numel() + 2 * args[0].numel()


#: point-wise operators: one FLOP per output element (in-place variants
#: ``add_`` etc. share the rule of ``add``)
POINTWISE_OPS = ('abs', 'add', 'ceil', 'clamp', 'clamp_max', 'clamp_min',
                 'cos', 'div', 'elu', 'erf', 'exp', 'expm1', 'floor', 'fmod',
                 'gelu', 'hardsigmoid', 'hardswish', 'hardtanh', 'leaky_relu',
                 'log', 'log1p', 'log2', 'maximum', 'minimum', 'mish', 'mul',
                 'neg', 'pow', '_prelu_kernel', 'prelu', 'reciprocal', 'relu',
                 'relu6', 'remainder', 'round', 'rrelu_with_noise', 'rsqrt',
                 'rsub', 'sigmoid', 'sign', 'silu', 'sin', 'softplus', 'sqrt',
                 'square', 'sub', 'tanh', 'threshold', 'trunc', 'xlogy')
#: reductions / scans: one FLOP per input element
REDUCTION_OPS = ('amax', 'amin', 'cummax', 'cummin', 'cumprod', 'cumsum',
                 'logsumexp', 'max', 'mean', 'min', 'nansum', 'prod', 'sum')
#: data movement, indexing and tensor creation: no arithmetic
FREE_OPS = ('alias', 'arange', 'as_strided', 'bernoulli', 'cat',
            'channel_shuffle', 'chunk', 'clone', 'constant_pad_nd',
            'contiguous', 'copy', 'detach', 'diagonal', 'empty', 'empty_like',
            'empty_strided', 'expand', 'fill', 'flip', 'full', 'full_like',
            'gather', 'index', 'index_put', 'index_select', 'lift_fresh',
            'lift_fresh_copy', 'linspace', 'masked_fill', 'narrow',
            'new_empty', 'new_empty_strided', 'new_full', 'new_ones',
            'new_zeros', 'normal', 'ones', 'ones_like', 'permute',
            'pixel_shuffle', 'pixel_unshuffle', 'rand', 'rand_like', 'randint',
            'randn', 'randn_like', 'reflection_pad1d', 'reflection_pad2d',
            'reflection_pad3d', 'repeat', 'replication_pad1d',
            'replication_pad2d', 'replication_pad3d', 'reshape', 'roll',
            'scatter', 'select', 'slice', 'split', 'split_with_sizes',
            'squeeze', 'stack', 't', 'transpose', 'tril', 'triu', 'unbind',
            'unfold', 'uniform', 'unsqueeze', '_unsafe_view', 'view', 'where',
            'zero', 'zeros', 'zeros_like', '_to_copy', 'upsample_nearest1d',
            'upsample_nearest2d', 'upsample_nearest3d',
            '_upsample_nearest_exact1d', '_upsample_nearest_exact2d',
            '_upsample_nearest_exact3d')

RULES: Dict[str, Rule] = {
    'convolution': _conv,
    '_convolution': _conv,
    'mm': _matmul,
    'bmm': _matmul,
    'mv': _matmul,
    'dot': _matmul,
    'vdot': _matmul,
    'addmm': _matmul_bias,
    'baddbmm': _matmul_bias,
    'addmv': _matmul_bias,
    '_scaled_dot_product_flash_attention': _attention,
    '_scaled_dot_product_flash_attention_for_cpu': _attention,
    '_scaled_dot_product_efficient_attention': _attention,
    '_scaled_dot_product_cudnn_attention': _attention,
    'native_batch_norm': _batch_norm(5),
    'cudnn_batch_norm': _batch_norm(5),
    'miopen_batch_norm': _batch_norm(5),
    '_native_batch_norm_legit': _batch_norm_legit,
    '_native_batch_norm_legit_no_training': _batch_norm(None),
    '_batch_norm_no_update': _batch_norm(None),
    '_batch_norm_with_update': _norm_with_stats,
    'native_layer_norm': _norm_with_stats,
    'native_group_norm': _norm_with_stats,
    '_softmax': _per_input(3),
    '_log_softmax': _per_input(3),
    'var': _per_input(3),
    'std': _per_input(3),
    'var_mean': _per_input(3),
    'std_mean': _per_input(3),
    'linalg_vector_norm': _per_input(2),
    'addcmul': _per_output(2),
    'addcdiv': _per_output(2),
    'avg_pool1d': _pool,
    'avg_pool2d': _pool,
    'avg_pool3d': _pool,
    'max_pool1d': _pool,
    'max_pool2d': _pool,
    'max_pool3d': _pool,
    'max_pool2d_with_indices': _pool,
    'max_pool3d_with_indices': _pool,
    'adaptive_avg_pool1d': _per_input(1),
    '_adaptive_avg_pool2d': _per_input(1),
    '_adaptive_avg_pool3d': _per_input(1),
    'adaptive_max_pool2d': _per_input(1),
    'adaptive_max_pool3d': _per_input(1),
    # interpolation: 2 * taps - 1 per output element (taps products and
    # their sum)
    'upsample_linear1d': _per_output(3),
    'upsample_bilinear2d': _per_output(7),
    '_upsample_bilinear2d_aa': _per_output(7),
    'upsample_trilinear3d': _per_output(15),
    'upsample_bicubic2d': _per_output(31),
    '_upsample_bicubic2d_aa': _per_output(31),
}
RULES.update({name: _per_output(1) for name in POINTWISE_OPS})
RULES.update({name: _per_input(1) for name in REDUCTION_OPS})
RULES.update({name: _free for name in FREE_OPS})


def _op_name(func: Any) -> str:
    """``'add'`` for ``aten.add.Tensor`` and ``aten.add_.Tensor``."""
    name = func.overloadpacket.__name__
    if name.endswith('_') and not name.endswith('__'):
        name = name[:-1]
    return name


def _first_tensor(out: Any) -> Optional[torch.Tensor]:
    if isinstance(out, torch.Tensor):
        return out
    if isinstance(out, (tuple, list)):
        for item in out:
            if isinstance(item, torch.Tensor):
                return item
    return None


# ------------------------------------------------------------------ result
@dataclass
class OpCost:
    """Cost of a group of operator calls.

    Args:
        macs (int): multiply-accumulates.
        flops (int): floating-point operations (``2 * macs`` + the rest).
        calls (int): counted operator calls.
    """
    macs: int = 0
    flops: int = 0
    calls: int = 0

    def add(self, macs: int, flops: int) -> None:
        self.macs += macs
        self.flops += flops
        self.calls += 1


@dataclass
class FlopCount:
    """Result of :func:`count_flops`.

    Args:
        macs (int): total multiply-accumulates.
        flops (int): total FLOPs (``2 * macs`` + non-MAC operations).
        by_module (dict[str, OpCost]): inclusive cost of every submodule
            that ran, keyed by qualified name (``''`` is the whole module).
        by_operator (dict[str, OpCost]): cost per ATen operator name.
        uncounted (dict[str, int]): floating-point operators that have no
            counting rule, with their number of calls (their cost is not in
            the totals).
    """
    macs: int
    flops: int
    by_module: Dict[str, OpCost] = field(default_factory=dict)
    by_operator: Dict[str, OpCost] = field(default_factory=dict)
    uncounted: Dict[str, int] = field(default_factory=dict)


class _CountingMode(TorchDispatchMode):
    """Counts every ATen call; attributes it to the modules on the stack."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: List[str] = []
        self.by_module: Dict[str, OpCost] = defaultdict(OpCost)
        self.by_operator: Dict[str, OpCost] = defaultdict(OpCost)
        self.uncounted: Dict[str, int] = defaultdict(int)

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        out = func(*args, **kwargs)
        first = _first_tensor(out)
        name = _op_name(func)
        rule = RULES.get(name)
        if rule is None:
            if first is not None and (first.is_floating_point()
                                      or first.is_complex()):
                self.uncounted[name] += 1
            return out
        if first is None or not (first.is_floating_point()
                                 or first.is_complex()):
            return out
        macs, other = rule(args, kwargs, first)
        macs, flops = int(macs), int(2 * macs + other)
        self.by_operator[name].add(macs, flops)
        for module_name in dict.fromkeys(self.stack):
            self.by_module[module_name].add(macs, flops)
        return out


def count_flops_of_call(module: nn.Module, args: tuple,
                        kwargs: dict) -> FlopCount:
    """Count the operations of ``module(*args, **kwargs)`` (one real run).

    Low-level entry of :func:`~mmfusenas.search.estimators.count_flops`,
    which also prepares the inputs and the module mode. Runs under
    ``torch.no_grad()``; the module's train / eval mode is used as is.

    Args:
        module (nn.Module): the module.
        args (tuple): positional inputs.
        kwargs (dict): keyword inputs.

    Returns:
        FlopCount: totals and breakdowns.
    """
    mode = _CountingMode()
    handles = []
    for name, sub in module.named_modules():

        def push(mod, inputs, name=name):
            mode.stack.append(name)

        def pop(mod, inputs, output, name=name):
            # the innermost entry is this module's (hooks run even when the
            # forward raises, so the stack stays balanced)
            if mode.stack and mode.stack[-1] == name:
                mode.stack.pop()

        handles.append(sub.register_forward_pre_hook(push))
        handles.append(sub.register_forward_hook(pop, always_call=True))
    try:
        with torch.no_grad(), mode:
            module(*args, **kwargs)
    finally:
        for handle in handles:
            handle.remove()
    total = mode.by_module.get('', OpCost())
    return FlopCount(
        macs=total.macs,
        flops=total.flops,
        by_module=dict(mode.by_module),
        by_operator=dict(mode.by_operator),
        uncounted=dict(mode.uncounted))
