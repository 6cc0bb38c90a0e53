"""A local file backend whose writes are atomic.

MMEngine's ``LocalBackend.put`` opens the destination and writes into it, so a
run killed while saving leaves a truncated checkpoint that looks complete.
``AtomicLocalBackend`` writes into a temporary file in the same folder and
``os.replace``-s it over the destination, so a file at the destination is
always whole. Select it for checkpoints with
``default_hooks.checkpoint.backend_args = dict(backend='atomic_local')``
(our ``default_runtime.py`` does).
"""
from pathlib import Path
from typing import Union

from mmengine.fileio import register_backend
from mmengine.fileio.backends import LocalBackend

from mmfusenas.utils.fileio import atomic_write


@register_backend('atomic_local')
class AtomicLocalBackend(LocalBackend):
    """:class:`LocalBackend` with atomic :meth:`put` and :meth:`put_text`."""

    def put(self, obj: bytes, filepath: Union[str, Path]) -> None:
        atomic_write(obj, filepath)

    def put_text(self,
                 obj: str,
                 filepath: Union[str, Path],
                 encoding: str = 'utf-8') -> None:
        atomic_write(obj, filepath, encoding)
