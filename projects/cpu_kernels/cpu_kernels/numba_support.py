"""What the compiled kernels share: compile-once (numba is imported only
when a kernel module first asks for its kernels), the array view of a
tensor and the profiler label of a kernel call."""
import contextlib
import threading
import warnings
from typing import Any, Callable, ContextManager, List, Optional


def compile_once(slot: List[Any], lock: threading.Lock,
                 build: Callable[[Any], Any], what: str) -> Optional[Any]:
    """``build(numba)`` once per process (thread-safe), kept in ``slot``.

    Returns the built kernels, or None when numba is not installed or the
    build fails (a failure other than a missing numba is warned about,
    naming ``what``: the caller then uses its torch / numpy path).
    """
    if not slot:
        with lock:
            if not slot:
                try:
                    import numba
                    slot.append(build(numba))
                except Exception as e:  # not installed / unusable build
                    if not isinstance(e, ImportError):
                        warnings.warn(f'{what}: setting up the numba kernels '
                                      f'failed ({e!r}); using the path '
                                      'without numba')
                    slot.append(None)
    return slot[0]


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
