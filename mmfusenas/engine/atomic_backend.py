"""A local file backend whose writes are atomic.

MMEngine's ``LocalBackend.put`` opens the destination and writes into it, so a
run killed while saving leaves a truncated checkpoint that looks complete.
``AtomicLocalBackend`` writes into a temporary file in the same folder and
``os.replace``-s it over the destination, so a file at the destination is
always whole. Select it for checkpoints with
``default_hooks.checkpoint.backend_args = dict(backend='atomic_local')``
(our ``default_runtime.py`` does).
"""
import os
import os.path as osp
import tempfile
from pathlib import Path
from typing import Union

from mmengine.fileio import register_backend
from mmengine.fileio.backends import LocalBackend


def atomic_write(data: Union[bytes, str],
                 filepath: Union[str, Path],
                 encoding: str = 'utf-8') -> None:
    """Write ``data`` to ``filepath`` via a temporary file and a rename.

    Args:
        data (bytes | str): content; ``str`` is encoded with ``encoding``.
        filepath (str | Path): destination; parent folders are created.
        encoding (str): text encoding. Defaults to 'utf-8'.
    """
    filepath = str(filepath)
    folder = osp.dirname(osp.abspath(filepath))
    os.makedirs(folder, exist_ok=True)
    if isinstance(data, str):
        data = data.encode(encoding)
    fd, tmp = tempfile.mkstemp(
        dir=folder, prefix=f'.{osp.basename(filepath)}.', suffix='.tmp')
    try:
        with os.fdopen(fd, 'wb') as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, filepath)
    except BaseException:
        if osp.exists(tmp):
            os.remove(tmp)
        raise


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
