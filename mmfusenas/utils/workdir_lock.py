"""One run per work dir: an ``fcntl.flock`` on ``<work_dir>/.mmfusenas.lock``
naming its owner (nothing is locked without ``fcntl``)."""
import json
import os
import os.path as osp
import socket
import sys
import time
from contextlib import suppress
from typing import Optional

from .distributed import launcher_rank

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None

LOCK_NAME = '.mmfusenas.lock'


class WorkDirLockedError(RuntimeError):
    """Raised when another live run holds the work dir."""


class WorkDirLock:
    """Lock on ``work_dir``; ``stale_owner``: what a dead run left, if any."""

    def __init__(self, work_dir: str) -> None:
        self.work_dir = osp.abspath(work_dir)
        self.path = osp.join(self.work_dir, LOCK_NAME)
        self._file = None
        self.stale_owner: Optional[dict] = None

    @property
    def locked(self) -> bool:
        return self._file is not None

    @property
    def stale_message(self) -> Optional[str]:
        """What the lock file of a dead run said, for the log (or None)."""
        owner = self.stale_owner
        return owner and (
            f'work dir lock of an earlier run (pid {owner.get("pid")} on '
            f'{owner.get("host")}, started {owner.get("started")}) was not '
            'released: that run ended abnormally; the lock is taken over')

    def _read_owner(self) -> dict:
        with suppress(OSError, ValueError), open(self.path) as f:
            return json.loads(f.read() or '{}')
        return {}

    def acquire(self) -> 'WorkDirLock':
        """Take the lock or raise :class:`WorkDirLockedError` (the owner)."""
        if self.locked:
            return self
        os.makedirs(self.work_dir, exist_ok=True)
        file = open(self.path, 'a+')
        try:
            if fcntl is not None:
                fcntl.flock(file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            file.close()
            owner = {**dict.fromkeys(('pid', 'host', 'started', 'cmd'), '?'),
                     **self._read_owner()}
            raise WorkDirLockedError(
                'work dir {} is in use by another run (pid {pid} on {host}, '
                'started {started}: {cmd}); wait for it to finish or pass '
                'another --work-dir.'.format(self.work_dir, **owner)) from None
        previous = self._read_owner()
        self.stale_owner = previous if 'pid' in previous else None
        file.truncate(0)
        json.dump(dict(pid=os.getpid(), host=socket.gethostname(),
                       started=time.strftime('%Y-%m-%d %H:%M:%S'),
                       cmd=' '.join(sys.argv)[:500]), file)
        file.flush()
        self._file = file
        return self

    def release(self) -> None:
        """Release the lock; the file is emptied, not removed (inode kept)."""
        file, self._file = self._file, None
        if file is not None:
            with file, suppress(OSError):  # closing it releases the flock
                file.truncate(0)

    def __enter__(self) -> 'WorkDirLock':
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()


def lock_work_dir(work_dir: Optional[str],
                  launcher: str = 'none') -> Optional[WorkDirLock]:
    """The held lock of a run's work dir (None if none or not rank 0)."""
    if not work_dir or launcher_rank(launcher):
        return None
    return WorkDirLock(work_dir).acquire()
