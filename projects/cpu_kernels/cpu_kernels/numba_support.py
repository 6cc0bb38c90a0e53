"""The array view of a tensor and the profiler label of the compiled
kernels (numba is imported by :func:`mmfusenas.utils.numba_kernels.compile_once`
when a kernel module first asks for its kernels)."""
import contextlib
from typing import ContextManager


def kernel_array(t):
    """The numpy array sharing a CPU tensor's memory, for a compiled kernel
    to read or write (``.data`` of a tensor that requires grad: the kernels
    run outside autograd, and no ``detach`` operator is recorded)."""
    return (t.data if t.requires_grad else t).numpy()


def kernel_scope(name: str) -> ContextManager:
    """A ``torch.profiler`` label for a compiled kernel call (its time is
    no ATen operator's, so a profile would not show it otherwise):
    ``record_function('mmfusenas::<name>')`` while a profiler runs, a no-op
    context otherwise (no cost outside profiling)."""
    import torch
    if torch.autograd.profiler._is_profiler_enabled:
        return torch.autograd.profiler.record_function(f'mmfusenas::{name}')
    return contextlib.nullcontext()
