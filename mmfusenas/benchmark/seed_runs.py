"""Runs repeated over training seeds: one folder per seed, and the mean and
spread of a metric over the seeds.

The benchmarks that train each row over several seeds (``--seeds``) store
seed ``s`` under ``<out-dir>/seed_<s>/``, run the rows seed by seed (every
row of seed 0 first, so a killed run has whole seeds done), leave out a row
whose run is not there yet (``--report-only``), and report a row's metric as
the mean over the seeds it ran with the spread beside it.
"""
import os
import os.path as osp
from typing import (Any, Callable, Dict, Hashable, Iterable, Mapping,
                    Optional, Sequence, Union)

from mmfusenas.utils.fileio import read_json


def seed_dir(base: str, seed: int) -> str:
    """The folder of one training seed's runs: ``<base>/seed_<seed>``."""
    return osp.join(base, f'seed_{seed}')


def collect_seed_runs(
        seeds: Sequence[int],
        keys: Iterable[Hashable],
        run: Callable[[Hashable, int, Optional[str]], Optional[dict]],
        base_out: Optional[str] = None,
        per_seed_dirs: bool = True,
        label: Callable[[Hashable], str] = str,
        log: Callable[[str], None] = print) -> Dict[int, Dict[Hashable, dict]]:
    """Call ``run(key, seed, out_dir)`` for every seed and key, seed-major.

    Args:
        seeds (Sequence[int]): the training seeds, in order.
        keys (Iterable): the rows run for every seed, in order.
        run (Callable): ``run(key, seed, out_dir)`` -> the stored run, or
            None when it is not there (e.g. a report of unfinished runs).
        base_out (str, optional): the output folder; None: runs store
            nothing, and ``out_dir`` is None.
        per_seed_dirs (bool): give each seed its own folder
            (:func:`seed_dir`, created); False: every seed's ``out_dir`` is
            ``base_out`` (a single-seed run keeps the flat layout).
        label (Callable): a key's name in the log.
        log (Callable): where a left-out run is reported.

    Returns:
        dict: ``{seed: {key: run}}``; a run that returned None is left out
        (and logged).
    """
    keys = list(keys)
    out: Dict[int, Dict[Hashable, dict]] = {}
    for seed in seeds:
        folder = base_out
        if base_out and per_seed_dirs:
            folder = seed_dir(base_out, seed)
            os.makedirs(folder, exist_ok=True)
        out[seed] = {}
        for key in keys:
            done = run(key, seed, folder)
            if done is None:
                log(f'[{label(key)}] seed {seed} not run yet: left out of the '
                    'report')
            else:
                out[seed][key] = done
    return out


def seed_stats(values: Mapping[int, float]) -> dict:
    """The mean and spread of one metric over seeds.

    Args:
        values (Mapping[int, float]): seed -> the metric of its run.

    Returns:
        dict: ``mean``, ``std`` (the population standard deviation, 0 for
        one seed) and ``per_seed`` (``{str(seed): value}``).

    Raises:
        ValueError: ``values`` is empty.
    """
    if not values:
        raise ValueError('seed_stats needs the value of at least one seed')
    vals = [float(v) for v in values.values()]
    mean = sum(vals) / len(vals)
    std = (sum((v - mean)**2 for v in vals) / len(vals))**0.5
    return dict(mean=mean, std=std,
                per_seed={str(s): float(v) for s, v in values.items()})


def read_stored_run(path: Union[str, os.PathLike],
                    options: Any,
                    key: str = 'options',
                    missing_ok_on_mismatch: bool = False) -> Optional[dict]:
    """The JSON run at ``path`` if it records ``options`` under ``key``;
    None if absent (or, with ``missing_ok_on_mismatch``, of other options,
    else ValueError)."""
    if not osp.isfile(path):
        return None
    run = read_json(path)
    if run.get(key) == options:
        return run
    if missing_ok_on_mismatch:
        return None
    raise ValueError(f'{path} was run with other options ({run.get(key)}) '
                     f'than these ({options}); remove it or choose another '
                     'output folder')
