"""File helpers shared by models, datasets, engine, search and tools.

:func:`atomic_write` writes through a temporary file in the destination's
folder, ``fsync``-s it and ``os.replace``-s it over the destination, so a
file at the destination is always whole: a run killed while writing leaves
the previous version (or nothing), never a truncated file.
"""
import os
import os.path as osp
import tempfile
from pathlib import Path
from typing import Union


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
