"""Run units of the task protocol side by side until a deadline.

A unit is one input and one seed of ``task_protocol.py``; a campaign's
units are the lines of a queue file, ``ROW SEED ARGS...`` (ARGS: the unit's
own protocol options; ``#`` starts a comment)::

    tim_c8 2 --methods vi --joint tim_c8=configs/tim/retinanet_ivif_msrs_c8.py
    max 1 --methods max

A unit whose record ``RECORDS/ROW/seed_SEED.json`` reads (the checks of
``task_report.py``) is skipped without asking whether its inputs changed
(``--recheck`` runs it: the protocol then takes the record when it was made
with the current config, data, labels and weights, and trains the unit
again, naming what changed, when not); one that does not read is failed,
named. The
others start in queue order, ``--jobs`` at a time (a unit that would train
a row and seed a running unit trains waits for it), each in its own work dir
with its own log (``WORK_ROOT/ROW_SEED``), while at least ``--unit-seconds``
are left before ``--deadline``; a unit still running at the deadline is
stopped and leaves no record. Options after ``--`` go to every unit (e.g.
``--data``, ``--max-iters``)::

    python tools/analysis_tools/task_units.py \\
        docs/results/task_real_msrs_cuda/queue.txt \\
        --records docs/results/task_real_msrs_cuda/fusion_640x480_2000it \\
        --jobs 2 --deadline 540 --unit-seconds 200 -- --data DIR
"""
import argparse
import os
import os.path as osp
import shlex
import signal
import subprocess
import sys
import time
from typing import List, NamedTuple, Optional, Sequence, Tuple

from mmfusenas.evaluation.task_records import read_record, record_path

TOOL = osp.join(osp.dirname(osp.abspath(__file__)), 'task_protocol.py')


class Unit(NamedTuple):
    row: str
    seed: int
    args: Tuple[str, ...]

    @property
    def name(self) -> str:
        return f'{self.row}_{self.seed}'


def unit_rows(args: Sequence[str]) -> Optional[List[str]]:
    """The rows a unit's protocol options record: its ``--methods`` and the
    NAME of each ``--joint NAME=CONFIG``; None without ``--methods`` (the
    protocol's default inputs)."""
    rows, option = [], None
    for word in args:
        if word.startswith('--'):
            option, _, word = word.partition('=')
            if not word:
                continue
        if option == '--methods':
            rows.append(word)
        elif option == '--joint':
            rows.append(word.split('=', 1)[0])
    return rows if '--methods' in (w.partition('=')[0] for w in args) \
        else None


def read_queue(path: str) -> List[Unit]:
    """The units of a queue file (errors name the file and the line)."""
    units = []
    with open(path, encoding='utf-8') as f:
        for number, line in enumerate(f, 1):
            try:
                words = shlex.split(line, comments=True)
            except ValueError as err:  # e.g. an unbalanced quote
                raise ValueError(f'{path}:{number}: {err} in '
                                 f'{line.strip()!r}') from None
            if not words:
                continue
            if len(words) < 2 or not words[1].isdigit():
                raise ValueError(f'{path}:{number}: expected ROW SEED '
                                 f'ARGS..., got {line.strip()!r}')
            rows = unit_rows(words[2:])
            if rows is not None and words[0] not in rows:
                raise ValueError(
                    f'{path}:{number}: row {words[0]!r} is none of the rows '
                    f'its options record ({rows}), so its record would '
                    f'never be found: {line.strip()!r}')
            units.append(Unit(words[0], int(words[1]), tuple(words[2:])))
    names = [u.name for u in units]
    if len(set(names)) != len(names):
        raise ValueError(f'{path}: a unit is queued twice: '
                         f'{sorted({n for n in names if names.count(n) > 1})}')
    return units


def parse_args(argv=None) -> argparse.Namespace:
    argv = list(sys.argv[1:] if argv is None else argv)
    cut = argv.index('--') if '--' in argv else len(argv)
    parser = argparse.ArgumentParser(
        description=__doc__.split('\n\n')[0],
        usage='%(prog)s QUEUE --records DIR [options] [-- PROTOCOL_ARGS]')
    parser.add_argument('queue', help='queue file: ROW SEED ARGS... per line')
    parser.add_argument('--records', required=True,
                        help="the protocol's records folder")
    parser.add_argument('--jobs', type=int, default=1,
                        help='units side by side (default 1)')
    parser.add_argument('--deadline', type=float,
                        help='seconds from now when running units are '
                        'stopped (default: none)')
    parser.add_argument('--unit-seconds', type=float, default=0.0,
                        help='start a unit only while this many seconds are '
                        'left before the deadline (default 0)')
    parser.add_argument('--recheck', action='store_true',
                        help='run recorded units too: the protocol keeps '
                        'a record made with the current inputs and trains '
                        'again where they changed')
    parser.add_argument('--work-root', default=osp.join('work_dirs',
                                                        'task_units'),
                        help='work dirs and logs (default work_dirs/'
                        'task_units)')
    args = parser.parse_args(argv[:cut])
    if args.jobs < 1:
        parser.error(f'--jobs must be >= 1, got {args.jobs}')
    args.protocol_args = argv[cut + 1:]
    return args


def _stop(process: subprocess.Popen) -> None:
    """SIGTERM to the unit's process group, SIGKILL after 10 s."""
    for sig, wait in ((signal.SIGTERM, 10), (signal.SIGKILL, None)):
        try:
            os.killpg(process.pid, sig)
            process.wait(wait)
            return
        except subprocess.TimeoutExpired:
            continue
        except ProcessLookupError:
            return


def recorded(records: str, unit: Unit) -> Tuple[bool, Optional[str]]:
    """Whether ``unit`` has a record in ``records`` that reads
    (:func:`~mmfusenas.evaluation.task_records.read_record`, the checks of
    the report), and why not when its file is there but does not read
    (the file and the reason named)."""
    try:
        return read_record(record_path(records, unit.row,
                                       unit.seed)) is not None, None
    except ValueError as err:
        return False, str(err)


def _shares_a_run(unit: Unit, others) -> bool:
    """Whether ``unit`` trains a row of one of ``others`` at its seed (a
    unit without ``--methods`` trains every default input: any row)."""
    rows = unit_rows(unit.args)
    for other in others:
        theirs = unit_rows(other.args)
        if other.seed == unit.seed and (rows is None or theirs is None or
                                        set(rows) & set(theirs)):
            return True
    return False


def run(args: argparse.Namespace) -> List[dict]:
    """Run the queue; one dict per unit: ``unit``, ``status`` (recorded
    earlier, recorded, failed (rc N), failed (the unreadable record named,
    with why), stopped at the deadline, not started) and ``seconds``."""
    start = time.monotonic()
    end = None if args.deadline is None else start + args.deadline
    os.makedirs(args.work_root, exist_ok=True)
    out, waiting, running = [], [], {}

    for unit in read_queue(args.queue):
        done, damaged = recorded(args.records, unit)
        if damaged:  # neither recorded nor trained over: a person decides
            out.append(dict(unit=unit.name, status=f'failed ({damaged})',
                            seconds=0.0))
            print(f'{unit.name}: {out[-1]["status"]}', flush=True)
        elif done and not args.recheck:
            out.append(dict(unit=unit.name, status='recorded earlier',
                            seconds=0.0))
        else:
            waiting.append(unit)
    try:
        while waiting or running:
            now = time.monotonic()
            while len(running) < args.jobs and (
                    end is None or end - now >= args.unit_seconds):
                # units that would train the same row and seed wait
                free = [u for u in waiting if not _shares_a_run(u, running)]
                if not free:
                    break
                unit = free[0]
                waiting.remove(unit)
                work = osp.join(args.work_root, unit.name)
                cmd = [sys.executable, TOOL, *args.protocol_args,
                       '--records', args.records, '--work-dir', work,
                       '--seeds', str(unit.seed), *unit.args]
                log = open(f'{work}.log', 'w', encoding='utf-8')
                print(f'{unit.name}: started: {shlex.join(cmd)}', flush=True)
                running[unit] = (subprocess.Popen(
                    cmd, stdout=log, stderr=subprocess.STDOUT,
                    start_new_session=True), log, now)
            if not running:
                break
            time.sleep(0.2)
            for unit, (process, log, began) in list(running.items()):
                late = end is not None and time.monotonic() >= end
                if process.poll() is None and not late:
                    continue
                if process.poll() is None:
                    _stop(process)
                    status = 'stopped at the deadline'
                elif process.returncode:
                    status = f'failed (rc {process.returncode})'
                else:
                    done, damaged = recorded(args.records, unit)
                    status = 'recorded' if done else \
                        f'failed ({damaged or "rc 0, no record"})'
                log.close()
                del running[unit]
                out.append(dict(unit=unit.name, status=status,
                                seconds=round(time.monotonic() - began, 1)))
                print(f'{unit.name}: {status} ({out[-1]["seconds"]} s; '
                      f'log {log.name})', flush=True)
    finally:  # interrupted: no unit outlives the queue
        for process, log, _ in running.values():
            _stop(process)
            log.close()
    out += [dict(unit=u.name, status='not started', seconds=0.0)
            for u in waiting]
    return out


def main(argv=None) -> int:
    args = parse_args(argv)
    results = run(args)
    width = max([len(r['unit']) for r in results] + [4])
    print(f'{"unit":<{width}}  status')
    for r in results:
        print(f'{r["unit"]:<{width}}  {r["status"]}')
    return int(any(r['status'].startswith('failed') for r in results))


if __name__ == '__main__':
    sys.exit(main())
