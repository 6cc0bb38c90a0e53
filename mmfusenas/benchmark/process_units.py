"""Run independent units of work over worker processes, with dependencies.

A benchmark control or a sweep of a tool is a set of *units*, each a
process that writes its result as a JSON file (or whose exit code alone
says whether it succeeded). This module is the one scheduler of such
units: :class:`ProcessUnit` names a unit (its id, the ids it waits for,
its log and result file); :func:`run_process_units` runs them with at most
``jobs`` processes at a time, each once its ``deps`` finished, and stops
the run at the first failing unit with its exit code and the end of its
log; :class:`AdoptedProcess` stands for a still-running worker of an
earlier launch, so an interrupted launcher waits for it instead of running
it twice. Standard library only: tools and benchmarks alike may use it.
"""
import argparse
import json
import os
import os.path as osp
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import (Any, Callable, Dict, List, Mapping, Optional, Sequence)

from mmfusenas.utils.fileio import atomic_write


@dataclass
class ProcessUnit:
    """One unit of work: a process writing a JSON result.

    Args:
        id (str): unique among the units of one run; ``deps`` name units by
            it.
        log (str): file the unit's stdout and stderr go to (created,
            truncated; its folder is created).
        result (str, optional): the JSON file the unit writes when it
            succeeds (write it atomically, e.g. with
            :func:`mmfusenas.utils.fileio.atomic_write`: its existence means
            success). A stale one is removed before the unit starts. None:
            the exit code alone says success, and the unit's result is None.
            Defaults to None.
        deps (Sequence[str]): ids of the units that must finish first.
            Defaults to none.
        name (str, optional): how messages name the unit. Defaults to
            ``'unit <id>'``.
        data (Any): the caller's own description of the unit (what the
            command factory reads). Defaults to None.
    """
    id: str
    log: str
    result: Optional[str] = None
    deps: Sequence[str] = ()
    name: Optional[str] = None
    data: Any = field(default=None, repr=False)

    @property
    def title(self) -> str:
        """The unit as messages name it."""
        return self.name or f'unit {self.id}'


@dataclass
class UnitProgress:
    """What :func:`run_process_units` tells ``on_done`` of a finished unit.

    Args:
        seconds (float): wall time of the unit (from its start, or from its
            adoption for an :class:`AdoptedProcess`).
        elapsed (float): wall time since the run began.
        done (int): units finished so far, this one included.
        total (int): units of the run.
        inline (bool): whether the unit ran in this process.
    """
    seconds: float
    elapsed: float
    done: int
    total: int
    inline: bool


def launch_logged(argv: Sequence[str],
                  log: str,
                  cwd: Optional[str] = None,
                  env: Optional[Mapping[str, str]] = None
                  ) -> subprocess.Popen:
    """Start ``argv`` with its stdout and stderr written to ``log``.

    The log's folder is created and the log truncated; the parent's handle
    is closed at once (the child keeps its own).
    """
    folder = osp.dirname(osp.abspath(log))
    os.makedirs(folder, exist_ok=True)
    with open(log, 'w') as f:
        return subprocess.Popen(
            list(argv), cwd=cwd, env=None if env is None else dict(env),
            stdout=f, stderr=subprocess.STDOUT)


def launch_unit_worker(script: str,
                       unit: Mapping[str, Any],
                       work_dir: str,
                       log: str,
                       cwd: Optional[str] = None,
                       threads: int = 1) -> subprocess.Popen:
    """Start ``script`` as the worker of one unit: its JSON spec ``unit`` is
    written (atomically) to ``<work_dir>/unit.json`` and ``python script
    --unit <that file>`` runs in ``cwd`` with ``threads`` OpenMP / MKL
    threads, its output to ``log`` (:func:`launch_logged`). The script reads
    the spec back and writes the unit's result (the benchmarks'
    ``--unit`` mode).
    """
    os.makedirs(work_dir, exist_ok=True)
    spec = osp.join(work_dir, 'unit.json')
    atomic_write(json.dumps(dict(unit), indent=1), spec)
    env = dict(os.environ, OMP_NUM_THREADS=str(threads),
               MKL_NUM_THREADS=str(threads))
    return launch_logged([sys.executable, osp.abspath(script), '--unit', spec],
                         log, cwd=cwd, env=env)


def pid_alive(pid_file: str) -> Optional[int]:
    """The pid written in ``pid_file`` if that process is alive, else None
    (no file, no integer in it, or no such process)."""
    try:
        with open(pid_file) as f:
            pid = int(f.read())
        os.kill(pid, 0)
        return pid
    except (OSError, ValueError):
        return None


class AdoptedProcess:
    """A worker of an earlier launch, still running, known by its pid file.

    The worker writes its pid to ``pid_file`` and removes it when it ends
    (however it ends, its result is then written or not). :meth:`poll`
    answers like :meth:`subprocess.Popen.poll`: None while the pid is alive,
    then 0 if ``result`` exists, else 1. It is not this process's child:
    :meth:`terminate` leaves it alone.
    """

    def __init__(self, pid_file: str, result: str) -> None:
        self.pid_file = pid_file
        self.result = result

    def poll(self) -> Optional[int]:
        if pid_alive(self.pid_file) is not None:
            return None
        return 0 if osp.isfile(self.result) else 1

    def terminate(self) -> None:
        """Not ours to stop: a no-op."""

    def wait(self) -> None:
        """Not ours to wait for: a no-op."""


def _check_units(units: Sequence[ProcessUnit],
                 known: Sequence[str]) -> None:
    """Unique ids, deps among the units, no circle; raises otherwise."""
    ids = [u.id for u in units]
    dup = sorted(i for i, n in Counter(ids).items() if n > 1)
    if dup:
        raise ValueError(f'unit ids must be unique; repeated: {dup}')
    names = set(ids) | set(known)
    missing = sorted({d for u in units for d in u.deps if d not in names})
    if missing:
        raise RuntimeError(f'units wait for unknown units {missing}')
    done, left = set(known), list(units)
    while left:
        ready = [u for u in left if all(d in done for d in u.deps)]
        if not ready:
            raise RuntimeError('units wait for each other in a circle: '
                               f'{sorted(u.id for u in left)}')
        done.update(u.id for u in ready)
        left = [u for u in left if u.id not in done]


def _tail(path: str, chars: int) -> str:
    try:
        with open(path, errors='replace') as f:
            return f.read()[-chars:]
    except OSError as e:
        return f'(no log: {e})'


def run_process_units(
        units: Sequence[ProcessUnit],
        jobs: int,
        command: Optional[Callable[[ProcessUnit], Sequence[str]]] = None,
        *,
        start: Optional[Callable[[ProcessUnit], Any]] = None,
        inline: Optional[Callable[[ProcessUnit], Any]] = None,
        cwd: Optional[str] = None,
        env: Optional[Mapping[str, str]] = None,
        running: Optional[Mapping[str, Any]] = None,
        on_done: Optional[Callable[[ProcessUnit, Any, UnitProgress],
                                   None]] = None,
        poll_s: float = 0.5,
        tail_chars: int = 3000,
        stop_others: bool = True) -> Dict[str, Any]:
    """Run ``units``; return ``{unit id: result}``.

    ``jobs <= 1`` and ``inline`` given: ``inline(unit)`` (its return value
    is the result) one unit after another in this process. Otherwise each
    unit is a process, at most ``jobs`` at a time, started by
    ``start(unit)`` (anything with ``poll`` / ``terminate`` / ``wait``, e.g.
    a :class:`subprocess.Popen`) or else by :func:`launch_logged` of
    ``command(unit)`` in ``cwd`` with ``env`` and its output to
    ``unit.log``; its result is the JSON of ``unit.result`` (None for a
    unit without a result file). Either way a
    unit starts once the units of its ``deps`` finished, the first ready
    one in list order first, so a list in dependency order runs in list
    order with ``jobs=1``; a unit that seeds itself gives the same result
    in either mode.

    Args:
        units: the units. Ids unique; every dep a unit of the list (or of
            ``running``); no circle — checked before anything starts.
        jobs: processes at a time (``running`` ones count).
        command: per-unit command factory ``unit -> argv``.
        start: per-unit start hook, instead of ``command``.
        inline: ``unit -> result`` in this process, used when ``jobs <= 1``.
        cwd: working folder of the ``command`` processes.
        env: environment of the ``command`` processes (default: this
            process's).
        running: ``{unit id: handle}`` of units of ``units`` already running
            (e.g. :class:`AdoptedProcess`): not started again, awaited.
        on_done: called as ``on_done(unit, result, progress)`` when a unit
            finished (:class:`UnitProgress`).
        poll_s: seconds between polls of the running processes.
        tail_chars: characters of a failed unit's log in the error.
        stop_others: on an error (a failed unit, an interrupt) terminate the
            processes still running; False leaves them running (workers a
            later launch can adopt).

    Raises:
        ValueError: repeated unit ids; neither ``command`` nor ``start``
            for a process run.
        RuntimeError: a dep that is no unit, units waiting in a circle, or a
            unit that failed: ``'<title> failed (exit <code>); log <log>:'``
            and the end of its log. An ``inline`` unit's own exception
            propagates as it is.
    """
    running = dict(running or {})
    units = list(units)
    by_id = {u.id: u for u in units}
    unknown = sorted(set(running) - set(by_id))
    if unknown:
        raise ValueError(f'running units {unknown} are not in the units')
    _check_units(units, ())
    results: Dict[str, Any] = {}
    t_all = time.time()

    def finished(unit: ProcessUnit, result: Any, t0: float,
                 is_inline: bool) -> None:
        results[unit.id] = result
        if on_done is not None:
            now = time.time()
            on_done(unit, result, UnitProgress(
                now - t0, now - t_all, len(results), len(units), is_inline))

    pending = [u for u in units if u.id not in running]
    if jobs <= 1 and inline is not None and not running:
        while pending:
            unit = next(u for u in pending
                        if all(d in results for d in u.deps))
            pending.remove(unit)
            t0 = time.time()
            finished(unit, inline(unit), t0, True)
        return results
    if command is None and start is None:
        raise ValueError('run_process_units: give a command factory or a '
                         'start hook to run units as processes')

    def launch(unit: ProcessUnit) -> Any:
        if unit.result and osp.exists(unit.result):  # stale: no success
            os.remove(unit.result)
        if start is not None:
            return start(unit)
        return launch_logged(command(unit), unit.log, cwd=cwd, env=env)

    now = time.time()
    active = {uid: (by_id[uid], handle, now)
              for uid, handle in running.items()}
    try:
        while pending or active:
            for unit in list(pending):
                if len(active) >= max(jobs, 1):
                    break
                if all(d in results for d in unit.deps):
                    pending.remove(unit)
                    active[unit.id] = (unit, launch(unit), time.time())
            time.sleep(poll_s)
            for uid, (unit, proc, t0) in list(active.items()):
                code = proc.poll()
                if code is None:
                    continue
                del active[uid]
                if code or (unit.result and not osp.isfile(unit.result)):
                    raise RuntimeError(
                        f'{unit.title} failed (exit {code}); log '
                        f'{unit.log}:\n{_tail(unit.log, tail_chars)}')
                result = None
                if unit.result:
                    with open(unit.result) as f:
                        result = json.load(f)
                finished(unit, result, t0, False)
    finally:
        if stop_others:
            for _, proc, _ in active.values():
                proc.terminate()
            for _, proc, _ in active.values():
                proc.wait()
    return results


def _encode_spec(obj: Any) -> Any:
    """``obj`` as JSON data, tuples and :class:`argparse.Namespace` tagged
    so that :func:`_decode_spec` restores them."""
    if isinstance(obj, tuple):
        return {'__tuple__': [_encode_spec(v) for v in obj]}
    if isinstance(obj, argparse.Namespace):
        return {'__namespace__': _encode_spec(vars(obj))}
    if isinstance(obj, list):
        return [_encode_spec(v) for v in obj]
    if isinstance(obj, dict):
        if not all(isinstance(k, str) for k in obj):
            raise TypeError(f'a unit argument has non-string keys: {obj!r}')
        return {k: _encode_spec(v) for k, v in obj.items()}
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    raise TypeError(f'a unit argument of type {type(obj).__name__} cannot '
                    'be passed to a process (JSON data, tuples and '
                    'argparse.Namespace only)')


def _decode_spec(obj: dict) -> Any:
    if '__tuple__' in obj:
        return tuple(obj['__tuple__'])
    if '__namespace__' in obj:
        return argparse.Namespace(**obj['__namespace__'])
    return obj


def call_unit(spec_file: str) -> None:
    """Worker side of :func:`map_in_processes`: load the function named in
    the spec (JSON: a module file, a function name and its arguments), call
    it and write its return value as the unit's JSON result (atomically)."""
    import importlib.util
    with open(spec_file, encoding='utf-8') as f:
        spec = json.load(f, object_hook=_decode_spec)
    module_spec = importlib.util.spec_from_file_location(
        '_process_unit_module', spec['file'])
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    value = getattr(module, spec['function'])(*spec['args'])
    atomic_write(json.dumps(value), spec['result'])


def map_in_processes(fn: Callable[..., Any],
                     arg_tuples: Sequence[Sequence[Any]],
                     jobs: int,
                     work_dir: str,
                     threads: int = 1) -> List[Any]:
    """``[fn(*args) for args in arg_tuples]``, each call a unit of
    :func:`run_process_units` when ``jobs > 1`` (at most ``jobs`` processes,
    ``threads`` OpenMP / MKL threads each), else in this process.

    ``fn`` must be a module-level function of a file (a script's own
    functions included: the worker loads the file under another module name,
    so its ``if __name__ == '__main__'`` block does not run); its arguments
    must be JSON data, tuples or :class:`argparse.Namespace` (written as JSON,
    never pickled) and its return value must be JSON-serialisable (a process
    call returns it as JSON: tuples come back as lists). Unit ``i`` logs to
    ``<work_dir>/unit<i>/unit.log``.

    Raises:
        RuntimeError: a unit failed (its exit code and the end of its log).
        TypeError: an argument that cannot be written as JSON.
    """
    arg_tuples = [tuple(a) for a in arg_tuples]
    if jobs <= 1 or len(arg_tuples) <= 1:
        return [fn(*a) for a in arg_tuples]
    file = osp.abspath(sys.modules[fn.__module__].__file__)
    units = []
    for i, args in enumerate(arg_tuples):
        folder = osp.join(work_dir, f'unit{i}')
        os.makedirs(folder, exist_ok=True)
        result = osp.join(folder, 'result.json')
        spec = osp.join(folder, 'spec.json')
        atomic_write(
            json.dumps(_encode_spec(dict(file=file, function=fn.__name__,
                                         args=args, result=result))), spec)
        units.append(ProcessUnit(str(i), osp.join(folder, 'unit.log'),
                                 result, name=f'{fn.__name__} #{i}',
                                 data=spec))
    # the script's folder is on the worker's path, as when it runs itself
    env = dict(os.environ, OMP_NUM_THREADS=str(threads),
               MKL_NUM_THREADS=str(threads),
               PYTHONPATH=os.pathsep.join(
                   [osp.dirname(file)] +
                   [p for p in os.environ.get('PYTHONPATH', '').split(
                       os.pathsep) if p]))
    code = ('import sys; '
            'from mmfusenas.benchmark.process_units import call_unit; '
            'call_unit(sys.argv[1])')
    results = run_process_units(
        units, jobs, lambda unit: [sys.executable, '-c', code, unit.data],
        env=env)
    return [results[u.id] for u in units]


__all__: List[str] = [
    'ProcessUnit', 'UnitProgress', 'run_process_units', 'launch_logged',
    'launch_unit_worker', 'pid_alive', 'AdoptedProcess', 'map_in_processes',
    'call_unit'
]
