"""Keep freed feature maps for reuse in the CPU allocator (glibc malloc).

PyTorch allocates CPU tensors with ``malloc``. glibc serves a block above
its mmap threshold (128 KiB to start with, raised dynamically up to 32 MiB)
with a fresh ``mmap`` and returns it to the system on ``free``; the next
tensor of that size is fresh pages again, and the kernel zeroes each page
on its first touch. A training step allocates and frees every feature map
and gradient; for the narrow full-resolution maps of a fusion network (a
few MB each, read once or twice per pass) those page faults can cost as
much as the arithmetic (effect on training:
``benchmarks/docs/training_speed.md``).

:func:`configure_cpu_allocator` sets glibc's mmap threshold above the
maps' size and its trim threshold high, so freed maps stay in the heap and
are handed out again. Values do not change (only where the memory comes
from); the process keeps up to ``trim_threshold`` bytes of freed memory
instead of returning it. :class:`~cpu_kernels.hook.CpuKernelsHook` applies
it from its ``cpu_malloc`` argument (e.g. ``DEFAULT_CPU_MALLOC``). Outside glibc (macOS, Windows, musl) it does nothing.
"""
import ctypes
import ctypes.util
import platform
from typing import Optional

__all__ = ['configure_cpu_allocator', 'DEFAULT_CPU_MALLOC']

#: glibc mallopt parameters (malloc.h)
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3

#: thresholds that keep the feature maps of the toy and CPU configs
DEFAULT_CPU_MALLOC = dict(mmap_threshold=32 * 2**20, trim_threshold=2**30)


def configure_cpu_allocator(
        mmap_threshold: int = DEFAULT_CPU_MALLOC['mmap_threshold'],
        trim_threshold: int = DEFAULT_CPU_MALLOC['trim_threshold']) -> bool:
    """Set glibc malloc's mmap and trim thresholds (process-wide).

    Args:
        mmap_threshold (int): blocks of at least this many bytes are still
            served by ``mmap``. Defaults to 32 MiB.
        trim_threshold (int): free memory at the top of the heap beyond
            this many bytes is returned to the system. Defaults to 1 GiB.

    Returns:
        bool: True if glibc took both settings, False where there is no
        glibc (nothing changed).

    Raises:
        ValueError: a threshold that is not a positive int, or one glibc
            refuses (named).
    """
    for name, value in (('mmap_threshold', mmap_threshold),
                        ('trim_threshold', trim_threshold)):
        if isinstance(value, bool) or not isinstance(value, int) \
                or value <= 0:
            raise ValueError(f'cpu_malloc {name} must be a positive number '
                             f'of bytes, got {value!r}')
    libc = _glibc()
    if libc is None:
        return False
    for name, param, value in (
            ('mmap_threshold', _M_MMAP_THRESHOLD, mmap_threshold),
            ('trim_threshold', _M_TRIM_THRESHOLD, trim_threshold)):
        if libc.mallopt(ctypes.c_int(param), ctypes.c_int(
                min(value, 2**31 - 1))) != 1:
            raise ValueError(f'glibc refused cpu_malloc {name}={value} '
                             '(mallopt returned an error)')
    return True


def _glibc() -> Optional[ctypes.CDLL]:
    if platform.system() != 'Linux' or platform.libc_ver()[0] != 'glibc':
        return None
    try:
        return ctypes.CDLL(ctypes.util.find_library('c') or 'libc.so.6')
    except OSError:
        return None
