"""An exclusive lock on a work dir, so two runs never share one.

Two training runs writing into one ``--work-dir`` interleave their logs and
checkpoints. :class:`WorkDirLock` takes an exclusive, non-blocking
``fcntl.flock`` on ``<work_dir>/.mmfusenas.lock`` and writes the owner's
pid, host and command line into it. The kernel releases the lock when its
process ends, however it ends, so a lock file left by a dead run is stale
and taken over; a second run on a locked work dir (or a second runner in
the same process) fails at once with :class:`WorkDirLockedError` naming
the owner. Where ``fcntl`` is unavailable (Windows) the lock is advisory
only. :func:`lock_work_dir` takes it for a run (global rank 0 only).
"""
import json
import os
import os.path as osp
import socket
import sys
import time
from typing import Optional

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None

LOCK_NAME = '.mmfusenas.lock'
#: where launchers put the global rank (torchrun, Slurm, Open MPI, MPICH)
_RANK_ENV_KEYS = ('RANK', 'SLURM_PROCID', 'OMPI_COMM_WORLD_RANK', 'PMI_RANK')


class WorkDirLockedError(RuntimeError):
    """Raised when another live run holds the work dir."""


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class WorkDirLock:
    """Exclusive lock on a work dir (see the module docstring).

    Args:
        work_dir (str): The folder to lock; created if missing.

    Example:
        >>> lock = WorkDirLock('work_dirs/exp').acquire()
        >>> ...  # train
        >>> lock.release()
    """

    def __init__(self, work_dir: str) -> None:
        self.work_dir = osp.abspath(work_dir)
        self.path = osp.join(self.work_dir, LOCK_NAME)
        self._fd: Optional[int] = None
        #: the owner record found in a stale lock file, if any
        self.stale_owner: Optional[dict] = None

    @property
    def locked(self) -> bool:
        """Whether this object holds the lock."""
        return self._fd is not None

    @property
    def stale_message(self) -> Optional[str]:
        """What the lock file of a dead run said, for the log (or None)."""
        owner = self.stale_owner
        if not owner:
            return None
        return (f'work dir lock of an earlier run (pid {owner.get("pid")} on '
                f'{owner.get("host")}, started {owner.get("started")}) was '
                'not released: that run ended abnormally; the lock is taken '
                'over')

    def _read_owner(self) -> dict:
        try:
            with open(self.path) as f:
                return json.loads(f.read() or '{}')
        except (OSError, ValueError):
            return {}

    def acquire(self) -> 'WorkDirLock':
        """Take the lock or raise :class:`WorkDirLockedError`.

        Returns:
            WorkDirLock: ``self``, holding the lock.
        """
        if self.locked:
            return self
        os.makedirs(self.work_dir, exist_ok=True)
        previous = self._read_owner()
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o666)
        try:
            if fcntl is not None:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except OSError:
                    owner = self._read_owner()
                    raise WorkDirLockedError(
                        f'work dir {self.work_dir} is in use by another run '
                        f'(pid {owner.get("pid", "?")} on '
                        f'{owner.get("host", "?")}, started '
                        f'{owner.get("started", "?")}: '
                        f'{owner.get("cmd", "?")}). Two runs sharing a work '
                        'dir mix their logs and checkpoints; wait for it to '
                        'finish or pass another --work-dir.') from None
            elif (previous.get('pid') not in (None, os.getpid())
                  and previous.get('host') == socket.gethostname()
                  and _pid_alive(int(previous['pid']))):
                raise WorkDirLockedError(
                    f'work dir {self.work_dir} is in use by pid '
                    f'{previous["pid"]}')
        except BaseException:
            os.close(fd)
            raise
        if previous.get('pid') is not None:
            self.stale_owner = previous
        record = dict(
            pid=os.getpid(),
            host=socket.gethostname(),
            started=time.strftime('%Y-%m-%d %H:%M:%S'),
            cmd=' '.join(sys.argv)[:500])
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(record).encode(), 0)
        self._fd = fd
        return self

    def release(self) -> None:
        """Release the lock (idempotent); the lock file is emptied, not
        removed, so a waiting run never locks a deleted inode."""
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        try:
            os.ftruncate(fd, 0)
        except OSError:
            pass
        if fcntl is not None:
            fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)

    def __enter__(self) -> 'WorkDirLock':
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()

    def __del__(self) -> None:
        try:
            self.release()
        except Exception:  # noqa: BLE001 - interpreter shutdown
            pass


def lock_work_dir(work_dir: Optional[str]) -> Optional[WorkDirLock]:
    """The lock of a run's work dir, held; None without a work dir and on
    ranks but the global rank 0 (read from the launcher's environment: the
    process group does not exist yet when a runner takes the lock)."""
    ranks = [os.environ.get(k, '').strip() for k in _RANK_ENV_KEYS]
    rank = next((int(r) for r in ranks if r.isdigit()), 0)
    if not work_dir or rank != 0:
        return None
    return WorkDirLock(work_dir).acquire()
