"""The compile-once pattern of the compiled (numba) metric kernels.

numba is imported only when a module first asks for its kernels, so
importing a kernel module does not pay for numba.
"""
import threading
import warnings
from typing import Any, Callable, List, Optional


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
