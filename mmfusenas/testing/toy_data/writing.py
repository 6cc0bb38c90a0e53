"""Writing a data set all at once: into a hidden folder beside ``out_dir``,
renamed to ``out_dir`` only when complete, so an interrupted run never
leaves a data set that looks complete."""
import json
import os
import os.path as osp
import shutil
import tempfile
from typing import Callable, Sequence, Tuple, TypeVar

import numpy as np

META_FILE = 'meta.json'
T = TypeVar('T')


def is_int(x) -> bool:
    return isinstance(x, (int, np.integer)) and not isinstance(x, bool)


def written_by(path: str, generators: Sequence[str]) -> bool:
    """Whether ``path/meta.json`` records one of ``generators``."""
    try:
        with open(osp.join(path, META_FILE)) as f:
            return json.load(f).get('generator') in generators
    except (OSError, ValueError, AttributeError):
        return False


def _check_out_dir(out_dir: str, overwrite: bool, generators: Sequence[str],
                   what: str) -> None:
    if osp.lexists(out_dir) and not osp.isdir(out_dir):
        raise FileExistsError(f'{out_dir} exists and is not a directory')
    if not osp.isdir(out_dir) or not os.listdir(out_dir):
        return
    if not written_by(out_dir, generators) and not overwrite:
        raise FileExistsError(
            f'{out_dir} exists, is not empty and is not a {what} (no '
            f'{META_FILE} written by {generators[0]}); choose another '
            'directory or pass overwrite=True (--overwrite) to replace it')
    real = osp.realpath(out_dir)
    cwd = osp.realpath(os.getcwd())
    if real in (osp.realpath(os.sep), osp.realpath(osp.expanduser('~'))) \
            or cwd == real or cwd.startswith(real.rstrip(os.sep) + os.sep):
        raise ValueError(f'refusing to replace {out_dir}: it is the root, '
                         'the home directory or contains the working '
                         'directory')


def write_data_set(out_dir: str, overwrite: bool, generators: Sequence[str],
                   what: str, write: Callable[[str], T]) -> Tuple[str, T]:
    """Run ``write(tmp_dir)`` and swap ``tmp_dir`` in as ``out_dir``.

    A non-empty ``out_dir`` is replaced only if its ``meta.json`` records
    one of ``generators`` (the current first) or with ``overwrite``; never
    the root, the home folder or one holding the working directory. ``what``
    names the data set in errors. Returns the absolute ``out_dir`` and what
    ``write`` returned.
    """
    out_dir = osp.abspath(osp.expanduser(str(out_dir)))
    _check_out_dir(out_dir, overwrite, generators, what)
    parent = osp.dirname(out_dir)
    os.makedirs(parent, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=f'.{osp.basename(out_dir)}.tmp-', dir=parent)
    mask = os.umask(0o022)
    os.umask(mask)
    os.chmod(tmp, 0o777 & ~mask)  # mkdtemp makes it 0700
    try:
        result = write(tmp)
        # swap in atomically: old -> trash, tmp -> out_dir, drop trash
        trash = None
        if osp.isdir(out_dir):
            trash = tempfile.mkdtemp(
                prefix=f'.{osp.basename(out_dir)}.old-', dir=parent)
            os.rename(out_dir, osp.join(trash, 'old'))
        try:
            os.rename(tmp, out_dir)
        except OSError:
            if trash is not None:  # put the previous data set back
                os.rename(osp.join(trash, 'old'), out_dir)
                shutil.rmtree(trash, ignore_errors=True)
            raise
        if trash is not None:
            shutil.rmtree(trash, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out_dir, result
