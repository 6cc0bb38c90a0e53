"""Results records (``docs/results/<name>.json``): the command, commit,
machine and result of a measurement the docs quote, rendered into the docs
by ``tools/misc/results_to_docs.py``."""
import json
import os
import os.path as osp
import platform
import subprocess
from typing import Any, Dict, Optional

from mmfusenas.utils.fileio import atomic_write

#: caveats of table rows by row name, footnoted in every rendered table
#: (a record may add its own under ``caveats``)
ROW_CAVEATS: Dict[str, str] = {
    'TarDAL+':
    '`tardal_plus.pt` writes a dark edge map, not a fused image (mean grey '
    '27 of 255 on TNO 19), under the only published convention for this '
    "file (the TarDAL script's running BatchNorm statistics; an independent "
    'rebuild of that script gives the same image): its scores do not '
    "measure fusion. Not among `bench_fusion_real.py`'s default methods "
    '(`--methods TarDAL+` runs it).',
}

#: footnote signs, in order of first use in a table
FOOTNOTE_SIGNS = ('†', '‡', '§', '¶')

#: the records' folder: its changes (earlier records) do not make code dirty
RESULTS_DIR = 'docs/results'


def git_commit(root: str) -> str:
    """HEAD of the repository at ``root`` (``-dirty`` with uncommitted
    changes to tracked files outside :data:`RESULTS_DIR`; ``'unknown'``
    outside a checkout)."""
    try:
        head = subprocess.run(['git', 'rev-parse', 'HEAD'], cwd=root,
                              capture_output=True, text=True,
                              check=True).stdout.strip()
        dirty = subprocess.run(['git', 'status', '--porcelain',
                                '--untracked-files=no', '--', '.',
                                f':(exclude){RESULTS_DIR}'], cwd=root,
                               capture_output=True, text=True,
                               check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return 'unknown'
    return head + ('-dirty' if dirty else '')


def check_record_path(path: str) -> None:
    """Fail before a measurement when its record could not be written."""
    if osp.isdir(path):
        raise IsADirectoryError(
            f'results record {path} is a folder; expected a JSON file name')
    folder = osp.dirname(osp.abspath(path))
    if not osp.isdir(folder):
        raise FileNotFoundError(
            f'results record {path}: folder {folder} does not exist')
    if not os.access(folder, os.W_OK):
        raise PermissionError(f'results record {path}: {folder} is not '
                              'writable')


def write_results_record(path: str, command: str, root: str, result: dict,
                         threads: Optional[int] = None,
                         **extra: Any) -> dict:
    """Write a results record to ``path`` atomically and return it.

    Args:
        path (str): the JSON file.
        command (str): the command line that reproduces the result.
        root (str): the repository whose commit is recorded.
        result (dict): ``{table: {row: {column: value}}}``.
        threads (int, optional): torch threads (default: the current).
        **extra: further keys (e.g. ``metrics``, the columns in order).
    """
    import torch

    from mmfusenas.search.estimators.resource_estimator import cpu_model
    if threads is None:
        threads = torch.get_num_threads()
    machine = dict(cpu_model=cpu_model(), cores=os.cpu_count(),
                   threads=threads, system=platform.system())
    record = dict(command=command, commit=git_commit(root), machine=machine,
                  **extra, result=result)
    atomic_write(json.dumps(record, indent=2) + '\n', path)
    return record
