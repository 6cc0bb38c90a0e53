from .atomic_backend import AtomicLocalBackend, atomic_write
from .hooks import *  # noqa: F401,F403
from .runner import *  # noqa: F401,F403

__all__ = ['AtomicLocalBackend', 'atomic_write']
