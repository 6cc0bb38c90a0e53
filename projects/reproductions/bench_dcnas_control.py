"""DCNAS search-vs-random control on *retrained* models: do the searched
genotypes beat random legal genotypes of the same budget?

Usage::

    python projects/reproductions/bench_dcnas_control.py \
        --searched work_dirs/bench_dcnas_search/seed{0,1,2}_evolution.yaml \
        [--random 8] [--budget 3e5] [--random-seed 1000] \
        [--iters 300] [--train-seeds 0 1] [--jobs 2] [--nice 10] \
        [--device cpu] [--toy data/toy_rgbd] \
        [--shared-data ../shared/data/gisr] \
        [--supernet work_dirs/sn_s0/iter_600.pth --images 32] \
        [--out-dir work_dirs/bench_dcnas_control]

1. ``--random`` genotypes are drawn uniformly from the toy DCNAS space
   (every gene independently uniform), keeping only **legal** ones (LUT
   params ``<= --budget``, the budget the searches ran under) and counting
   functionally identical paths once (``DCNASNet.canonical_path``); the
   draws are deterministic (``--random-seed``) and written as
   ``random{i}.yaml``.
2. Every genotype (the searched ones and the random ones) is retrained
   from scratch with :func:`retrain_and_evaluate`
   (toy train + the 40 shared RGB-D-D pairs, ``--iters`` iterations, batch
   8, 64² patches, Adam 1e-3, x0.5 at 80 %), for every training seed of
   ``--train-seeds``: the seed fixes the initial weights and the data
   order, which is the same for every genotype. Each run is a separate
   process (at most ``--jobs`` at a time, ``nice -n --nice``) writing
   ``runs/<name>_t<seed>_i<iters>.json``; finished runs are reused, so an
   interrupted benchmark resumes, when they record the same ``options``
   (:func:`control_options`: the genotype file's sha256, ``--lr``,
   ``--batch``, ``--patch``, ``--toy``, ``--shared-data``, ``--device``);
   a run of other options is an error naming them (``--report-only``: left
   out), and so is a live worker of an earlier launch training with other
   options (``<out>.options.json``). ``--device cuda`` trains every run on
   the GPU (several processes share it; the models are small), ``cpu`` is
   the default and the original code path. The initial weights and the
   data order are drawn on the CPU whatever the device, so a training seed
   means the same start on both; only the arithmetic differs. Each run's
   JSON records its device and torch version, and the report names the
   devices of every training seed.
3. Evaluation on data neither the search nor the retraining saw: RMSE on
   the toy ``test`` split (``rgbdd`` preset, cm) and on the complete shared
   Middlebury / Lu test sets (8-bit levels).
4. Report: each genotype's params / FLOPs (64²) / RMSE (mean over training
   seeds), each searched genotype's **rank percentile** among the random
   ones (100 = better than every random genotype, 50 = the median; ties
   count half) per test set and per training seed, and the criterion
   "above the median random in every search seed". Diagnoses: Spearman ρ
   of params vs RMSE among the random genotypes, each searched genotype's
   residual against a least-squares line RMSE ~ params fitted to the
   random ones (negative = better than its size predicts), and with
   ``--supernet`` the Kendall τ between the supernet score (mean L1 with
   supernet weights on ``--images`` search-val images, lower is better)
   and the retrained RMSE over all genotypes (is the one-shot score a
   proxy of retrained quality?).

``--report-only`` launches nothing and reports the finished runs (a
genotype whose runs are not all finished is left out and named).

Paths: genotype files and ``--out-dir`` are read as given (run from the
repository root, as the run JSONs name the genotypes by those relative
paths); the default ``--toy`` and ``--shared-data`` resolve from the
repository root (``data/toy_rgbd``, ``../shared/data/gisr``). Missing data
fails before anything is launched.

Ends with ``RESULT {json}``.


Modes (``--mode NAME``; ``--mode NAME --help`` lists its options):

* ``control`` (default): this text;
* ``search``: DCNAS search quality on the toy supernet: predictor ranking
  (RankNet vs (its text: ``DOC_SEARCH``);
* ``retrain``: Retrained searched DCNAS model vs bicubic and a same-size hand-
  designed (its text: ``DOC_RETRAIN``);
* ``real``: DCNAS trained on real RGB-D pairs, tested on Middlebury and Lu
  (its text: ``DOC_REAL``);
"""
import argparse
import hashlib
import itertools
import json
import os
import os.path as osp
import random
import shlex
import sys
import time

import numpy as np
import torch
from mmengine.config import Config
from mmengine.dataset import ConcatDataset, default_collate
from mmengine.registry import init_default_scope
from mmengine.runner import Runner
from torch.utils.data import DataLoader

from mmfusenas.utils.cache_keys import portable_sha256  # noqa: E402
from mmfusenas.datasets import GISRDataset
from mmfusenas.engine.runner import with_cached_text
from mmfusenas.evaluation.metrics import GISRMetric
from mmfusenas.benchmark.control_stats import rank_pct
from mmfusenas.evaluation.fusion_files import add_ranks
from mmfusenas.models.gisr import (
    DCNASNet, GuidedDepthSR, dcnas_keys)
from mmfusenas.models.mutables import (
    Genotype, encode_choices, one_shot_space, random_choices)
from mmfusenas.search.estimators import (
    PathCostTable, count_flops, count_params, measure_latency)
from mmfusenas.search.strategies import EvolutionSearcher
from mmfusenas.search.predictors import (
    BGRUPredictor, kendall_tau, predict_scores, spearman_rho, train_predictor)
from mmfusenas.search.strategies import path_loss
from mmfusenas.utils.distributed import unwrap
from mmfusenas.benchmark.cli_modes import run_mode
from mmfusenas.utils.fileio import atomic_write, read_json
from mmfusenas.utils.state_dict_conversion import file_sha256
from mmfusenas.benchmark.results_record import (
    check_record_path, write_results_record)
from mmfusenas.benchmark.process_units import (
    AdoptedProcess, ProcessUnit, pid_alive, run_process_units)
from mmfusenas.benchmark.seed_runs import (
    collect_seed_runs, read_stored_run, seed_stats)

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))

TESTS = ('toy', 'Middlebury', 'Lu')


def toy_space(num_features=8, num_blocks=2):
    """The toy supernet's one-shot space (``configs/dcnas/_base_/
    supernet_toy.py``: C=8, B=2)."""
    return one_shot_space(
        DCNASNet(None, num_features=num_features, num_blocks=num_blocks))


def random_legal_genotypes(n, budget, seed, num_features=8, num_blocks=2):
    """``n`` distinct uniformly drawn legal paths (LUT params <= budget;
    functionally identical paths count once), independent of the searches:
    the same ``seed`` gives the same paths whatever was searched."""
    from mmengine.config import ConfigDict
    space = toy_space(num_features, num_blocks)
    table = toy_cost_table(ConfigDict(num_features=num_features,
                                      num_blocks=num_blocks))
    budgets = dict(params=budget)
    table.check_budgets(budgets)
    searcher = EvolutionSearcher(space, lambda p: 0.0, table.cost, budgets,
                                 seed=seed, max_tries_factor=1000,
                                 canonical_fn=DCNASNet.canonical_path)
    out = []
    searcher.random_legal(n, out)
    if len(out) < n:
        raise RuntimeError(f'only {len(out)} of {n} random legal paths '
                           f'found under params <= {budget:,.0f}')
    return out, [table.cost(p) for p in out]


def net_of(genotype_file):
    geno = Genotype.load(genotype_file)
    return DCNASNet(geno.choices,
                    num_features=geno.network.get('num_features', 16))


def path_key(path: str) -> str:
    """A data folder as a stored run records it: from the repository root
    on (``<repository>/data/toy_rgbd``; beside it:
    ``<repository>/../shared/data/gisr``) where it lies in the checkout or
    in the folder holding it, else its absolute path: the same key from
    every checkout."""
    path = osp.abspath(path)
    parent = osp.dirname(ROOT)
    if path == ROOT or path.startswith(ROOT + osp.sep):
        return '<repository>' + path[len(ROOT):]
    if parent != osp.dirname(parent) and path.startswith(parent + osp.sep):
        return '<repository>/..' + path[len(parent):]
    return path


def control_options(args, genotype: str) -> dict:
    """What a control run's RMSEs depend on besides its seed and
    ``--iters`` (both in its file name): the genotype file's sha256 and
    ``--lr``, ``--batch``, ``--patch``, ``--toy``, ``--shared-data``
    (:func:`path_key`) and ``--device``; stored as the run's ``options``."""
    return dict(genotype_sha256=file_sha256(genotype), lr=float(args.lr),
                batch=int(args.batch), patch=int(args.patch),
                toy=path_key(args.toy),
                shared_data=path_key(args.shared_data),
                device=str(args.device))


def _options_file(out: str) -> str:
    """The options of the worker now training ``out`` (removed when it
    ends, like its pid file)."""
    return out[:-5] + '.options.json'


def stored_control_run(out: str, options: dict,
                       report_only: bool = False):
    """The finished run ``out`` if it records ``options``
    (:func:`control_options`); None if there is none.

    Raises:
        ValueError: the run records other options (the keys that differ
            named); with ``report_only`` it is left out (and named) instead.
    """
    try:
        return read_stored_run(out, options)
    except ValueError as err:
        try:
            theirs = read_json(out).get('options') or {}
        except ValueError as damaged:  # not JSON: the file named
            if report_only:
                print(f'{damaged}: left out')
                return None
            raise
        keys = sorted(k for k in set(theirs) | set(options)
                      if theirs.get(k) != options.get(k))
        hint = (' (the genotype file changed since, e.g. a new search wrote '
                'it: restore it or use another --out-dir)'
                if 'genotype_sha256' in keys else '')
        if report_only:
            print(f'{out} was run with other {keys}{hint}: left out')
            return None
        raise ValueError(f'{err}; they differ in {keys}{hint}') from None


def run_one(args):
    """Worker: retrain one genotype with one seed, write its JSON."""
    from mmengine.registry import init_default_scope
    init_default_scope('mmfusenas')
    pid_file = args.out[:-5] + '.pid'
    options = control_options(args, args.run_one)
    atomic_write(json.dumps(options), _options_file(args.out))
    atomic_write(str(os.getpid()), pid_file)
    try:
        _run_one(args, options)
    finally:
        os.remove(pid_file)
        os.remove(_options_file(args.out))


def _run_one(args, options=None):
    torch.manual_seed(args.seed)
    net = net_of(args.run_one)
    res = retrain_and_evaluate(net, args.toy, args.iters, args.batch,
                               args.patch, 4, args.lr, seed=args.seed,
                               device=args.device, shared=args.shared_data)
    row = dict(genotype=args.run_one, seed=args.seed, iters=args.iters,
               options=options or control_options(args, args.run_one),
               params=count_params(net), train_s=res['train_s'],
               device=str(resolve_device(args.device)),
               torch=torch.__version__)
    for k in TESTS:
        row[k] = res[k]['RMSE']
        row[f'bicubic_{k}'] = res[k]['bicubic_RMSE']
        if not np.isfinite(row[k]):
            raise FloatingPointError(f'{args.run_one} seed {args.seed}: '
                                     f'non-finite {k} RMSE')
    atomic_write(json.dumps(row), args.out)
    print(json.dumps(row))


def worker_cmd(geno, seed, out, args):
    """The command line of one retraining (``--run-one`` worker)."""
    return ['nice', '-n', str(args.nice), sys.executable,
            osp.abspath(__file__), '--run-one', geno, '--seed', str(seed),
            '--out', out, '--iters', str(args.iters), '--batch',
            str(args.batch), '--patch', str(args.patch), '--lr',
            str(args.lr), '--toy', args.toy, '--device', args.device,
            '--shared-data', args.shared_data]


def launch_all(jobs, args):
    """Run ``jobs`` = [(name, genotype_file, seed, out_json)] as separate
    processes, at most ``args.jobs`` at a time; skip finished ones of the
    same :func:`control_options` and wait for (and count as running) the
    ones a live worker of an earlier launch still runs (``<out>.pid``). A
    failed retraining stops the launch with its exit code and the end of
    its log (``<out>.log``); the other workers go on (a later launch adopts
    them).

    Raises:
        ValueError: before anything is launched, a finished run or a live
            worker of other options (:func:`stored_control_run`).
    """
    options = {out: control_options(args, geno) for _, geno, _, out in jobs}
    todo = [j for j in jobs
            if stored_control_run(j[3], options[j[3]]) is None]
    adopted = {}
    for _, _, _, out in todo:
        pid = pid_alive(out[:-5] + '.pid')
        if pid is None:
            continue
        running = None
        if osp.isfile(_options_file(out)):
            with open(_options_file(out)) as f:
                running = json.load(f)
        if running is not None and running != options[out]:
            keys = sorted(k for k in set(running) | set(options[out])
                          if running.get(k) != options[out].get(k))
            raise ValueError(
                f'a worker of an earlier launch (pid {pid}) is training '
                f'{out} with other {keys} ({running}, not '
                f'{options[out]}): wait for it to end, stop it, or use '
                'another --out-dir')
        adopted[out] = AdoptedProcess(out[:-5] + '.pid', out)
    env = dict(os.environ, OMP_NUM_THREADS='1',
               PYTHONPATH=os.pathsep.join(
                   [ROOT] + [p for p in os.environ.get(
                       'PYTHONPATH', '').split(os.pathsep) if p]))
    print(f'{len(jobs) - len(todo)} runs reused, '
          f'{len(adopted)} still running from an earlier launch, '
          f'{len(todo) - len(adopted)} to do', flush=True)
    # the adopted workers hold their process slots from the start
    units = [ProcessUnit(out, out[:-5] + '.log', out,
                         name=f'retraining {name} (seed {seed})',
                         data=(name, geno, seed, out))
             for name, geno, seed, out in todo]
    run_process_units(
        units, args.jobs, lambda u: worker_cmd(*u.data[1:], args), env=env,
        running=adopted, poll_s=2, stop_others=False,
        on_done=lambda u, _, took: print(
            f'done {u.data[0]} seed {u.data[2]} in {took.seconds:.0f} s',
            flush=True))


def supernet_scores(files, checkpoint, images, score_root):
    """Mean L1 with supernet weights on ``images`` search-val images."""
    from mmfusenas.search.strategies import path_loss
    from mmfusenas.utils.distributed import unwrap
    _, runner = scoring_runner(
        osp.join(ROOT, 'configs/dcnas/supernet_toy_x4.py'),
        'work_dirs/bench_dcnas_control/scoring', score_root, images)
    runner.load_checkpoint(checkpoint)
    model = unwrap(runner.model)
    batches = [next(iter(runner.val_dataloader))]
    return {n: path_loss(model, Genotype.load(f).choices, batches)
            for n, f in files.items()}


def main_control(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--searched', nargs='*', default=[
        f'work_dirs/bench_dcnas_search/seed{s}_evolution.yaml'
        for s in range(3)], help='searched genotypes (one per search seed)')
    p.add_argument('--random', type=int, default=8)
    p.add_argument('--budget', type=float, default=3e5)
    p.add_argument('--random-seed', type=int, default=1000)
    p.add_argument('--iters', type=int, default=300)
    p.add_argument('--train-seeds', type=int, nargs='+', default=[0, 1])
    p.add_argument('--jobs', type=int, default=2)
    p.add_argument('--nice', type=int, default=10)
    p.add_argument('--batch', type=int, default=8)
    p.add_argument('--patch', type=int, default=64)
    p.add_argument('--lr', type=float, default=1e-3)
    p.add_argument('--toy', default=osp.join(ROOT, 'data', 'toy_rgbd'),
                   help='toy RGB-D folder (default: data/toy_rgbd of the '
                   'repository)')
    p.add_argument('--shared-data', default=SHARED,
                   help='folder with RGBDD_subset40/, Middlebury/, Lu/ '
                   '(default: ../shared/data/gisr beside the repository)')
    p.add_argument('--device', default='cpu',
                   help='cpu (default) or cuda[:N]: where every retraining '
                   'runs (--jobs processes share one GPU)')
    p.add_argument('--supernet', default=None,
                   help='toy supernet checkpoint: also score every genotype '
                   'with supernet weights (ranking-quality diagnosis)')
    p.add_argument('--images', type=int, default=32)
    p.add_argument('--score-root', default='data/toy_rgbd/search_val')
    p.add_argument('--out-dir', default='work_dirs/bench_dcnas_control')
    p.add_argument('--report-only', action='store_true',
                   help='launch nothing: report the finished runs (a '
                   'genotype counts when every training seed finished)')
    # worker mode (one retraining, used by the launcher)
    p.add_argument('--run-one', default=None, help=argparse.SUPPRESS)
    p.add_argument('--seed', type=int, default=0, help=argparse.SUPPRESS)
    p.add_argument('--out', default=None, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.run_one:
        return run_one(args)
    if not args.report_only:  # fail before launching anything
        resolve_device(args.device)
        check_data(args.toy, args.shared_data)
    for f in args.searched:
        if not osp.isfile(f):
            raise FileNotFoundError(
                f'--searched {f} not found: run benchmarks/'
                'bench_dcnas_control.py --mode search --skip-predictor '
                'first (it writes seed{s}_evolution.yaml)')
        c = Genotype.load(f).network.get('num_features', 16)
        if c != 8:
            raise ValueError(f'--searched {f} has num_features={c}; the '
                             'random genotypes are of the toy space (C=8)')
    os.makedirs(osp.join(args.out_dir, 'runs'), exist_ok=True)
    files = {f'searched{i}': f for i, f in enumerate(args.searched)}
    paths, costs = random_legal_genotypes(args.random, args.budget,
                                          args.random_seed)
    same = {DCNASNet.canonical_path(Genotype.load(f).choices) ==
            DCNASNet.canonical_path(p) for f in args.searched for p in paths}
    if True in same:
        raise ValueError('a random draw equals a searched genotype: pick '
                         'another --random-seed')
    for i, (path, cost) in enumerate(zip(paths, costs)):
        f = osp.join(args.out_dir, f'random{i}.yaml')
        Genotype(choices=path, network=dict(
            type='DCNASNet', num_features=8, arch=path), meta=dict(
                kind='random_legal', seed=args.random_seed,
                budgets=dict(params=args.budget),
                costs=cost)).dump(f)
        files[f'random{i}'] = f
    jobs = [(n, f, s, osp.join(args.out_dir, 'runs', f'{n}_t{s}_'
                               f'i{args.iters}.json'))
            for s in args.train_seeds for n, f in files.items()]
    if not args.report_only:
        launch_all(jobs, args)
    runs = {}
    for n, f, s, out in jobs:
        row = stored_control_run(out, control_options(args, f),
                                 args.report_only)
        if row is None:
            if not osp.isfile(out):
                print(f'{n} (training seed {s}) not finished: left out')
            files.pop(n, None)
            continue
        runs[(n, s)] = row
    runs = {k: v for k, v in runs.items() if k[0] in files}
    if not runs:
        print('no finished runs (of these options): nothing to report')
        return runs
    if not args.searched:
        print('no --searched genotypes: the random ones are trained, '
              'nothing to rank')
        return runs
    return report(args, files, runs)


def report(args, files, runs):
    seeds = args.train_seeds
    names = list(files)
    rand = [n for n in names if n.startswith('random')]
    srch = [n for n in names if n.startswith('searched')]
    x = (torch.rand(1, 1, 64, 64), torch.rand(1, 3, 64, 64))
    rows = {}
    for n in names:
        net = net_of(files[n]).eval()
        rows[n] = dict(
            file=files[n], params=count_params(net),
            flops=count_flops(net, x).flops,
            **{k: float(np.mean([runs[(n, s)][k] for s in seeds]))
               for k in TESTS},
            per_seed={k: [runs[(n, s)][k] for s in seeds] for k in TESTS})
    bic = {k: runs[(names[0], seeds[0])][f'bicubic_{k}'] for k in TESTS}
    # runs written before --device existed trained on the CPU
    devices = {s: sorted({runs[(n, s)].get('device', 'cpu') for n in names})
               for s in seeds}
    sn = None
    if args.supernet:
        sn = supernet_scores(files, args.supernet, args.images,
                             args.score_root)
        for n in names:
            rows[n]['supernet'] = sn[n]
    # rank percentiles: mean over training seeds, and per training seed
    for n in srch:
        rows[n]['rank_pct'] = {
            k: rank_pct(rows[n][k], [rows[r][k] for r in rand])
            for k in TESTS}
        rows[n]['rank_pct_per_seed'] = {
            k: [rank_pct(runs[(n, s)][k], [runs[(r, s)][k] for r in rand])
                for s in seeds] for k in TESTS}
    criterion = {k: bool(srch) and all(rows[n]['rank_pct'][k] > 50
                                       for n in srch) for k in TESTS}
    # capacity: params vs RMSE among the random genotypes, residuals
    diag = {}
    pr = np.array([rows[r]['params'] for r in rand], float)
    for k in (TESTS if len(rand) >= 3 else ()):
        yr = np.array([rows[r][k] for r in rand])
        slope, icpt = np.polyfit(pr, yr, 1)
        diag[k] = dict(
            rho_params_rmse=spearman_rho(pr, yr),
            slope_per_100k=float(slope * 1e5),
            residual={n: float(rows[n][k] - (slope * rows[n]['params'] +
                                             icpt)) for n in srch},
            residual_rank_pct={n: rank_pct(
                rows[n][k] - (slope * rows[n]['params'] + icpt),
                list(yr - (slope * pr + icpt))) for n in srch})
        if sn is not None:
            diag[k]['tau_supernet_rmse'] = kendall_tau(
                np.array([sn[n] for n in names]),
                np.array([rows[n][k] for n in names]))
            diag[k]['tau_supernet_rmse_random'] = kendall_tau(
                np.array([sn[n] for n in rand]),
                np.array([rows[n][k] for n in rand]))
    # ---------------------------------------------------------- tables
    print(f'\nRetrained {args.iters} iterations x training seeds {seeds} '
          f'(toy + RGB-D-D, batch {args.batch}, {args.patch}² patches); '
          'RMSE: toy test (cm), Middlebury / Lu (8-bit levels), mean over '
          'training seeds')
    print('devices per training seed: ' + ', '.join(
        f'{s}: {"/".join(d)}' for s, d in devices.items()))
    head = '| genotype | params | FLOPs (64²) |'
    head += ' supernet score |' if sn is not None else ''
    print(head + ' toy | Middlebury | Lu |')
    print('|---' * (head.count('|') + 2) + '|')
    print('| bicubic | 0 | 0 |' + (' |' if sn is not None else '') +
          ''.join(f' {bic[k]:.3f} |' for k in TESTS))
    for n in srch + sorted(rand, key=lambda r: rows[r]['Middlebury']):
        r = rows[n]
        line = f'| {n} | {r["params"]:,} | {r["flops"] / 1e6:.1f}M |'
        if sn is not None:
            line += f' {r["supernet"]:.5f} |'
        print(line + ''.join(f' {r[k]:.3f} |' for k in TESTS))
    print('\nRank percentile of each searched genotype among the '
          f'{len(rand)} random legal ones (mean RMSE over training seeds; '
          'per training seed in brackets; 100 = better than all)')
    print('| searched | ' + ' | '.join(TESTS) + ' |\n|---|---|---|---|')
    for n in srch:
        print(f'| {n} ({files[n]}) | ' + ' | '.join(
            f'{rows[n]["rank_pct"][k]:.0f} % ('
            + ' / '.join(f'{v:.0f}' for v in rows[n]['rank_pct_per_seed'][k])
            + ')' for k in TESTS) + ' |')
    print(f'above the median random in every search seed ({len(srch)} '
          'searched genotypes finished): ' + ', '.join(
        f'{k} {"yes" if criterion[k] else "NO"}' for k in TESTS))
    if diag:
        print('\nCapacity / proxy diagnosis (needs >= 3 random genotypes)')
        print('| test set | ρ(params, RMSE) randoms | RMSE per +100k params | '
              'size-corrected rank % of searched | τ(supernet score, RMSE) '
              'all / randoms |\n|---|---|---|---|---|')
    for k in diag:
        d = diag[k]
        tau = (f'{d["tau_supernet_rmse"]:.3f} / '
               f'{d["tau_supernet_rmse_random"]:.3f}'
               if sn is not None else 'n/a')
        print(f'| {k} | {d["rho_params_rmse"]:.3f} | '
              f'{d["slope_per_100k"]:+.3f} | ' + ' / '.join(
                  f'{d["residual_rank_pct"][n]:.0f}' for n in srch) +
              f' | {tau} |')
    result = dict(iters=args.iters, train_seeds=seeds, budget=args.budget,
                  devices={str(s): d for s, d in devices.items()},
                  n_random=len(rand), n_searched=len(srch), bicubic=bic,
                  genotypes=rows,
                  criterion_above_median_every_seed=criterion,
                  diagnosis=diag)
    print('RESULT ' + json.dumps(result))
    return result


DOC_SEARCH = """DCNAS search quality on the toy supernet: predictor ranking (RankNet vs
L1 / L2) and constrained evolution vs random search; cost of the best path
against its budget.

Usage::

    python projects/reproductions/bench_dcnas_control.py --mode search \
        [--config configs/dcnas/supernet_toy_x4.py] \
        [--checkpoint work_dirs/dcnas_toy_x4/iter_300.pth] \
        [--score-root data/toy_rgbd/search_val] [--images 32] \
        [--paths 120] [--heldout 40] [--seeds 3] \
        [--label-norms none standardize] [--budget 3e5] \
        [--population 8] [--generations 5] [--top-k 3] \
        [--num-mutation 3] [--num-crossover 3] [--mutate-probs 0.2 ...] \
        [--pool 0] [--holdout] [--no-cache] \
        [--skip-predictor] [--skip-search] \
        [--search-seeds S ...] [--no-random-search] \
        [--out-dir work_dirs/bench_dcnas_search]

Needs a trained toy supernet (``python tools/train.py
configs/dcnas/supernet_toy_x4.py``) and the toy data with its
``search_val`` split (``python tools/misc/make_toy_rgbd.py data/toy_rgbd``).

The **score** of a path everywhere is its mean L1 loss (normalised, masked)
with supernet weights on the first ``--images`` images of
``--score-root`` (default: the toy ``search_val`` split, 32 images; the
4-image ``val`` split gave labels too noisy to rank paths, see
docs/methods/dcnas.md).

1. **Predictor**: ``--paths`` uniform random paths are scored. A BGRU predictor
   is trained on the same ``paths - heldout`` paths with each loss
   (official schedule: 100 epochs, batch 16, Adam 1e-3) for ``--seeds``
   seeds (per ``--label-norms``: raw labels, the official form, and / or
   standardised ones) and evaluated on the ``--heldout`` paths: Kendall τ
   and Spearman ρ
   between predicted and measured scores (the paper's claim: ranking loss
   ranks better).
2. **Search**: under ``params <= --budget`` (LUT), the evolution
   (``--population`` x ``--generations``, ``--top-k``, ``--num-mutation``
   mutations, ``--num-crossover`` crossovers, per-gene mutation
   probability p of each ``--mutate-probs`` variant) and a random search
   scoring the same number of legal random paths, with the same score
   (validation L1 with supernet weights, lower is better); best and mean
   of top-3, per seed. Both count functionally identical paths once
   (``DCNASNet.canonical_path``). Diagnostics per run: the paths scored by
   origin (mutation / crossover / random fill) with their mean score, the
   proposals rejected as already scored (duplicates) or over budget.
   ``--init-predictor N``: the predictor-guided variant at the same
   budget (N scored random paths train a RankNet BGRU, standardised
   labels; they count as the evolution's scored paths; its first
   generation is the predictor's best ``--population`` of ``--init-pool``
   random legal paths, official ``--init_arch``).
   ``--pool N`` scores N further random legal paths (their own seed) as
   the reference distribution of the legal space: each winner's
   percentile in it and **P(win)** = the probability that the winner
   beats the best of an independent random search of the same number of
   paths, ``F_worse ** n`` (``F_worse``: the fraction of the pool scoring
   worse). ``--holdout`` also scores each winner on the next ``--images``
   images of ``--score-root`` (images the search never saw).
   Scores are cached per (checkpoint, score root, images) in
   ``--out-dir`` (``score_cache_*.json``, keyed by the canonical path), so
   variants and reruns reuse them (``--no-cache``: off).
3. **Cost** of each seed's best path: LUT params / FLOPs and the measured
   params, FLOPs and CPU latency of the built fixed network at 64x64.
4. **Winners** of each seed (evolution and random search) are written to
   ``--out-dir`` as genotypes ``seed{s}_{evolution,random_search}.yaml``:
   retrain each from scratch and test it on data the search never saw
   with ``bench_dcnas_control.py --mode retrain --genotype FILE --no-baseline``.

Ends with ``RESULT {json}``.
"""


#: seed of the ``--pool`` draws (independent of every search seed)
POOL_SEED = 10_000


def scoring_runner(config, work_dir, data_root, batch_size):
    """A runner of the supernet ``config`` (no training parts) whose
    ``val_dataloader`` reads ``data_root`` in batches of ``batch_size``.
    """
    cfg = Config.fromfile(config)
    cfg.work_dir = work_dir
    for k in ('train_cfg', 'train_dataloader', 'optim_wrapper',
              'param_scheduler'):
        cfg[k] = None
    cfg.val_dataloader.dataset.data_root = data_root
    cfg.val_dataloader.batch_size = batch_size
    return cfg, Runner.from_cfg(with_cached_text(cfg))


def toy_cost_table(net_cfg):
    """The LUT of the toy supernet's space at 64 x 64 (params, FLOPs)."""
    return PathCostTable(
        dict(type='DCNASCostModel', num_features=net_cfg.num_features,
             num_blocks=net_cfg.num_blocks, input_size=(64, 64)),
        cache_file='work_dirs/bench_dcnas_search/costs.json',
        measure_latency=False)


class ScoreCache:
    """Scores of paths by canonical key, kept in a JSON file.

    The file is tied to what a score means: ``ident`` (:func:`cache_file`:
    the checkpoint's, the config's and the score images' sha256, number of
    images); a cache of another ident is an error naming both. Written
    atomically every ``every`` new scores and by :meth:`flush`.

    Args:
        score_fn (Callable[[Path], float]): the uncached score.
        key_fn (Callable[[Path], str]): canonical key of a path.
        file (str, optional): JSON file; None keeps the cache in memory.
        ident (dict): what the scores depend on.
        every (int): flush after this many new scores. Defaults to 20.
    """

    def __init__(self, score_fn, key_fn, file=None, ident=None, every=20):
        self.score_fn, self.key_fn = score_fn, key_fn
        self.file, self.ident, self.every = file, dict(ident or {}), every
        self.scores, self.new, self.hits = {}, 0, 0
        if file and osp.isfile(file):
            with open(file) as f:
                data = json.load(f)
            if data.get('ident') != self.ident:
                raise ValueError(f'score cache {file} holds scores of '
                                 f'{data.get("ident")}, not of {self.ident}:'
                                 ' delete it or pass --no-cache')
            self.scores = {k: float(v) for k, v in data['scores'].items()}

    def __call__(self, path):
        key = self.key_fn(path)
        if key in self.scores:
            self.hits += 1
            return self.scores[key]
        value = float(self.score_fn(path))
        if not np.isfinite(value):
            raise FloatingPointError(f'non-finite score {value} of {key}')
        self.scores[key] = value
        self.new += 1
        if self.new % self.every == 0:
            self.flush()
        return value

    def flush(self):
        if self.file:
            atomic_write(json.dumps(dict(ident=self.ident,
                                         scores=self.scores)), self.file)


def config_sha256(path: str) -> str:
    """SHA-256 of the config file ``path`` as MMEngine reads it (its
    ``_base_`` files merged), dumped as JSON with every path up to and
    including the last ``/configs/`` written ``<repository>/configs/`` and
    no object addresses: the same for the same config in any checkout."""
    return portable_sha256(Config.fromfile(path).to_dict())


def tree_sha256(root: str) -> str:
    """SHA-256 of the files under ``root``: their names relative to it,
    sizes and sha256, sorted (the same images anywhere: the same digest)."""
    entries = []
    for folder, dirs, names in os.walk(root):
        dirs.sort()
        for name in sorted(names):
            path = osp.join(folder, name)
            entries.append([osp.relpath(path, root), osp.getsize(path),
                            file_sha256(path)])
    return hashlib.sha256(
        json.dumps(sorted(entries)).encode('utf-8')).hexdigest()


def cache_file(out_dir, checkpoint, score_root, images, config):
    """The cache file of one score definition and its ident: the
    checkpoint's sha256, the ``config``'s (:func:`config_sha256`), the
    score-root files' (:func:`tree_sha256`) and ``images``; no path or
    time, so a copied checkpoint or data folder still hits."""
    ident = dict(checkpoint_sha256=file_sha256(checkpoint),
                 config_sha256=config_sha256(config),
                 score_root_sha256=tree_sha256(score_root), images=images)
    h = hashlib.sha1(json.dumps(ident, sort_keys=True).encode()).hexdigest()
    return osp.join(out_dir, f'score_cache_{h[:10]}.json'), ident


def slice_batch(batch, start, stop):
    """Images ``start:stop`` of a collated GISR batch (tensors and lists
    sliced along the batch, nested dicts followed)."""
    if isinstance(batch, dict):
        return {k: slice_batch(v, start, stop) for k, v in batch.items()}
    if isinstance(batch, (torch.Tensor, list, tuple)):
        return batch[start:stop]
    return batch


def p_win(best, pool, n):
    """Probability that ``best`` (lower is better) beats the best of ``n``
    paths drawn from the distribution ``pool`` (ties count half, per draw):
    ``(F_worse + F_tie / 2) ** n``."""
    pool = np.asarray(pool, float)
    if pool.size == 0 or n <= 0:
        return float('nan')
    worse = np.mean(pool > best) + 0.5 * np.mean(pool == best)
    return float(worse ** n)


def percentile_better(best, pool):
    """Percent of ``pool`` scoring worse than ``best`` (ties half)."""
    pool = np.asarray(pool, float)
    return float(100.0 * (np.mean(pool > best) + 0.5 * np.mean(pool == best)))


def instrument(searcher):
    """Record where each proposal of ``searcher`` came from and why
    rejected ones were: returns ``stats`` with ``origin`` (canonical key ->
    'mutation' / 'crossover'; other scored keys are random fills) and the
    counters ``proposed`` / ``duplicate`` / ``over_budget`` per origin."""
    stats = dict(origin={}, proposed={}, duplicate={}, over_budget={})
    current = dict(kind='random')
    legal = searcher.legal

    def tagged(fn, kind):
        def make():
            path = fn()
            current['kind'] = kind
            return path
        return make

    def legal_counted(path):
        kind = current['kind']
        key = searcher.key(path)
        stats['proposed'][kind] = stats['proposed'].get(kind, 0) + 1
        if key in searcher.scores:
            stats['duplicate'][kind] = stats['duplicate'].get(kind, 0) + 1
            ok = False
        else:
            ok = legal(path)
            if not ok:
                stats['over_budget'][kind] = stats['over_budget'].get(
                    kind, 0) + 1
        if ok and kind != 'random':
            stats['origin'][key] = kind
        return ok

    random_legal = searcher.random_legal

    def random_tagged(n, out):
        current['kind'] = 'random'
        return random_legal(n, out)

    searcher.mutate = tagged(searcher.mutate, 'mutation')
    searcher.crossover = tagged(searcher.crossover, 'crossover')
    searcher.random_legal = random_tagged
    searcher.legal = legal_counted
    return stats


def main_search(argv=None):
    p = argparse.ArgumentParser(description=DOC_SEARCH.splitlines()[0])
    p.add_argument('--config', default='configs/dcnas/supernet_toy_x4.py')
    p.add_argument('--checkpoint',
                   default='work_dirs/dcnas_toy_x4/iter_300.pth')
    p.add_argument('--score-root', default='data/toy_rgbd/search_val',
                   help='images a path is scored on (never the test data)')
    p.add_argument('--images', type=int, default=32,
                   help='score = mean loss over this many images')
    p.add_argument('--skip-predictor', action='store_true')
    p.add_argument('--skip-search', action='store_true')
    p.add_argument('--out-dir', default='work_dirs/bench_dcnas_search',
                   help='each seed\'s evolution / random-search winner is '
                   'written here as a genotype (seed{s}_{kind}.yaml)')
    p.add_argument('--paths', type=int, default=120)
    p.add_argument('--heldout', type=int, default=40)
    p.add_argument('--seeds', type=int, default=3)
    p.add_argument('--label-norms', nargs='+', default=['none'],
                   choices=['none', 'standardize'],
                   help='predictor label normalisations to compare (the '
                   'label_norm of train_predictor; none: raw labels, the '
                   'official form)')
    p.add_argument('--search-seeds', type=int, nargs='+', default=None,
                   help='run the search for these seeds only (default: '
                   'range(--seeds)); lets seeds run as separate processes')
    p.add_argument('--no-random-search', action='store_true',
                   help='only the evolution (its winners for '
                   'bench_dcnas_control.py); no random-search baseline')
    p.add_argument('--budget', type=float, default=3e5)
    p.add_argument('--population', type=int, default=8)
    p.add_argument('--generations', type=int, default=5)
    p.add_argument('--top-k', type=int, default=3)
    p.add_argument('--num-mutation', type=int, default=3)
    p.add_argument('--num-crossover', type=int, default=3)
    p.add_argument('--mutate-probs', type=float, nargs='+', default=[0.2],
                   help='per-gene mutation probabilities: one evolution '
                   'variant each (same seeds, same random-search baseline)')
    p.add_argument('--init-predictor', type=int, default=0,
                   help='predictor-guided first generation: score this many '
                   'random legal paths (counted in the evolution\'s budget), '
                   'train a RankNet BGRU on them, start from its best '
                   '--population of --init-pool random legal paths')
    p.add_argument('--init-pool', type=int, default=1000)
    p.add_argument('--pool', type=int, default=0,
                   help='score this many further random legal paths as the '
                   'reference distribution (percentiles, P(win))')
    p.add_argument('--holdout', action='store_true',
                   help='also score each winner on the next --images images '
                   'of --score-root (never seen by the search)')
    p.add_argument('--no-cache', action='store_true',
                   help='do not read / write the score cache')
    args = p.parse_args(argv)
    if not osp.isfile(args.checkpoint):
        raise FileNotFoundError(
            f'{args.checkpoint} not found: train the toy supernet first '
            '(python tools/train.py configs/dcnas/supernet_toy_x4.py)')
    if not osp.isdir(args.score_root):
        raise FileNotFoundError(
            f'--score-root {args.score_root} not found: python '
            'tools/misc/make_toy_rgbd.py data/toy_rgbd (writes search_val/)')
    torch.manual_seed(0)
    # one batched forward per path: the toy images have one size and no
    # invalid pixels, so the batch's masked L1 is the mean of the images'
    need = args.images * (2 if args.holdout else 1)
    cfg, runner = scoring_runner(args.config, 'work_dirs/bench_dcnas_search',
                                 args.score_root, need)
    runner.load_checkpoint(args.checkpoint)
    model = unwrap(runner.model)
    space = one_shot_space(model)
    full = next(iter(runner.val_dataloader))
    num_images = len(full['data_samples']['gt'])
    if num_images < need:
        raise ValueError(f'--score-root {args.score_root} has {num_images} '
                         f'images, fewer than the {need} needed (--images '
                         f'{args.images}' +
                         (' x 2 for --holdout)' if args.holdout else ')'))
    batches = [slice_batch(full, 0, args.images)]
    held = [slice_batch(full, args.images, need)] if args.holdout else None
    keyer = EvolutionSearcher(space, lambda p: 0.0,
                              canonical_fn=DCNASNet.canonical_path)
    os.makedirs(args.out_dir, exist_ok=True)
    file, ident = cache_file(args.out_dir, args.checkpoint, args.score_root,
                             args.images, args.config)
    score = ScoreCache(lambda path: path_loss(model, path, batches),
                       keyer.key, None if args.no_cache else file, ident)
    held_score = None
    if held is not None:
        hfile, hident = cache_file(args.out_dir, args.checkpoint,
                                   args.score_root, f'{args.images}:{need}',
                                   args.config)
        held_score = ScoreCache(lambda path: path_loss(model, path, held),
                                keyer.key,
                                None if args.no_cache else hfile, hident)
    pred_rows = {}
    if not args.skip_predictor:
        pred_rows = bench_predictor(args, space, score)
    search_rows, genotypes, pool = [], [], None
    if not args.skip_search:
        search_rows, genotypes, pool = bench_search(args, cfg, space, score,
                                                    held_score)
    score.flush()
    if held_score is not None:
        held_score.flush()
    result = dict(predictor=pred_rows, search=search_rows,
                  budget=args.budget, paths=args.paths,
                  checkpoint=args.checkpoint, score_root=args.score_root,
                  images=args.images, pool=pool,
                  cache=dict(new=score.new, hits=score.hits))
    print('RESULT ' + json.dumps(result))
    return result


def bench_predictor(args, space, score):
    """Part 1: Kendall τ / Spearman ρ of each predictor loss."""
    t0 = time.time()
    rng = random.Random(0)
    paths = [random_choices(space, rng) for _ in range(args.paths)]
    labels = np.array([score(x) for x in paths])
    codes = np.array([encode_choices(space, x) for x in paths])
    t_score = time.time() - t0
    ntr = args.paths - args.heldout
    pred_rows = {}
    for loss, norm in itertools.product(('ranknet', 'l1', 'l2'),
                                        args.label_norms):
        taus, rhos = [], []
        for seed in range(args.seeds):
            torch.manual_seed(seed)
            pred = BGRUPredictor(space)
            train_predictor(pred, codes[:ntr], labels[:ntr], loss, 100, 16,
                            1e-3, seed,
                            label_norm=None if norm == 'none' else norm)
            est = predict_scores(pred, codes[ntr:])
            taus.append(kendall_tau(est, labels[ntr:]))
            rhos.append(spearman_rho(est, labels[ntr:]))
        key = loss if norm == 'none' else f'{loss}/{norm}'
        pred_rows[key] = dict(
            kendall_tau=float(np.mean(taus)), kendall_std=float(np.std(taus)),
            spearman_rho=float(np.mean(rhos)),
            spearman_std=float(np.std(rhos)))
    print(f'\nPredictor ranking on {args.heldout} held-out paths '
          f'(trained on {ntr}; {args.seeds} seeds; scoring took '
          f'{t_score:.0f} s)')
    print('| loss | Kendall τ | Spearman ρ |\n|---|---|---|')
    for loss, r in pred_rows.items():
        print(f'| {loss} | {r["kendall_tau"]:.3f} ± {r["kendall_std"]:.3f} | '
              f'{r["spearman_rho"]:.3f} ± {r["spearman_std"]:.3f} |')
    return pred_rows


def bench_search(args, cfg, space, score, held_score=None):
    """Parts 2 and 3: evolution (one run per ``--mutate-probs`` variant and
    seed) vs random search, diagnostics, cost of the winners.

    Returns:
        tuple: (rows, genotypes, pool summary or None).
    """
    net_cfg = cfg.model.network
    table = toy_cost_table(net_cfg)
    budgets = dict(params=args.budget)
    cheapest = table.check_budgets(budgets)
    canon = DCNASNet.canonical_path
    seeds = (args.search_seeds if args.search_seeds is not None else
             range(args.seeds))
    pool, pool_info = [], None
    if args.pool:
        t0 = time.time()
        probe = EvolutionSearcher(space, score, table.cost, budgets,
                                  seed=POOL_SEED, max_tries_factor=100,
                                  canonical_fn=canon)
        paths = []
        probe.random_legal(args.pool, paths)
        pool = [score(x) for x in paths]
        q = np.quantile(pool, [0.0, 0.01, 0.025, 0.05, 0.1, 0.5])
        pool_info = dict(n=len(pool), mean=float(np.mean(pool)),
                         std=float(np.std(pool)),
                         quantiles=dict(zip(
                             ('min', 'q01', 'q025', 'q05', 'q10', 'median'),
                             map(float, q))), seconds=round(time.time() - t0))
    search_rows, genotypes = [], []
    x = (torch.rand(1, 1, 64, 64), torch.rand(1, 3, 64, 64))
    for p_mut, seed in itertools.product(args.mutate_probs, seeds):
        evo = EvolutionSearcher(
            space, score, table.cost, budgets,
            population_size=args.population, top_k=args.top_k,
            num_mutation=args.num_mutation, num_crossover=args.num_crossover,
            mutate_prob=p_mut, max_iters=args.generations, seed=seed,
            canonical_fn=canon)
        stats = instrument(evo)
        if args.init_predictor:
            predictor_init(args, space, score, table.cost, budgets, seed,
                           evo)
        top = evo.run()
        n = len(evo.scores)
        by = dict(mutation=[], crossover=[], random=[])
        for k, v in evo.scores.items():
            by[stats['origin'].get(k, 'random')].append(v)
        row = dict(mutate_prob=p_mut, seed=seed, scored=n,
                   evo_best=top[0][0],
                   evo_top3=float(np.mean([s_ for s_, _ in top[:3]])),
                   origin={k: dict(n=len(v), mean=float(np.mean(v))
                                   if v else float('nan'))
                           for k, v in by.items()},
                   proposed=stats['proposed'], duplicate=stats['duplicate'],
                   over_budget=stats['over_budget'])
        g = dict(seed=seed, mutate_prob=p_mut, evolution=top[0][1])
        if args.no_random_search:
            row.update(random_best=float('nan'), random_top3=float('nan'))
        else:
            r = EvolutionSearcher(space, score, table.cost, budgets,
                                  seed=seed + 100, canonical_fn=canon)
            legal = []
            r.random_legal(n, legal)
            rscored = sorted(((score(p), i) for i, p in enumerate(legal)))
            row.update(random_best=rscored[0][0], random_top3=float(
                np.mean([s_ for s_, _ in rscored[:3]])))
            g['random_search'] = legal[rscored[0][1]]
        if pool:
            row.update(evo_pct=percentile_better(row['evo_best'], pool),
                       random_pct=percentile_better(row['random_best'], pool),
                       p_win=p_win(row['evo_best'], pool, n))
        if held_score is not None:
            row['evo_heldout'] = held_score(top[0][1])
            if 'random_search' in g:
                row['random_heldout'] = held_score(g['random_search'])
        best_path = top[0][1]
        net = DCNASNet(best_path, num_features=net_cfg.num_features).eval()
        lut = table.cost(best_path)
        row.update(lut_params=lut['params'], lut_flops=lut['flops'],
                   params=count_params(net), flops=count_flops(net, x).flops)
        if len(args.mutate_probs) == 1:  # latency of the (one) winner
            row['latency_ms'] = measure_latency(net, x, repeats=10,
                                                warmup=2).median_ms
        search_rows.append(row)
        genotypes.append(g)
    print_search(args, cheapest, search_rows, pool_info)
    for g in genotypes:
        tag = ('' if len(args.mutate_probs) == 1 else
               f'_p{g["mutate_prob"]:g}')
        for kind in ('evolution', 'random_search'):
            if kind not in g:
                continue
            Genotype(choices=g[kind], network=dict(
                type='DCNASNet', num_features=net_cfg.num_features,
                arch=g[kind]), meta=dict(seed=g['seed'], kind=kind,
                                         mutate_prob=g['mutate_prob'],
                                         budgets=budgets)).dump(
                osp.join(args.out_dir, f'seed{g["seed"]}_{kind}{tag}.yaml'))
    return search_rows, genotypes, pool_info


def predictor_init(args, space, score, cost_fn, budgets, seed, evo):
    """Predictor-guided first generation at the same scored-path budget:
    ``--init-predictor`` random legal paths are scored (they count as
    scored paths of the evolution: ``evo.scores`` holds them, so they are
    in its top-k and in the random search's equal budget), a BGRU RankNet
    predictor is trained on them (standardised labels, official schedule),
    and the evolution's first generation is the predictor's best
    ``--population`` of ``--init-pool`` further legal random paths
    (official ``--init_arch``)."""
    canon = DCNASNet.canonical_path
    draw = EvolutionSearcher(space, score, cost_fn, budgets, seed=seed + 200,
                             canonical_fn=canon, max_tries_factor=100)
    train = []
    draw.random_legal(args.init_predictor, train)
    labels = np.array([score(p) for p in train])
    torch.manual_seed(seed)
    pred = BGRUPredictor(space)
    train_predictor(pred, np.array([encode_choices(space, p) for p in train]),
                    labels, 'ranknet', 100, 16, 1e-3, seed,
                    label_norm='standardize')
    for p, y in zip(train, labels):
        evo.scores[evo.key(p)] = float(y)
    cands = []
    draw.scores = dict(evo.scores)  # exclude the training paths
    draw.random_legal(args.init_pool, cands)
    est = predict_scores(pred, [encode_choices(space, p) for p in cands])
    evo.init_population = [cands[i] for i in np.argsort(est)[:args.population]]


def print_search(args, cheapest, rows, pool_info):
    """The tables of part 2 / 3."""
    print(f'\nEvolution vs random search (params <= {args.budget:,.0f}; '
          f'cheapest legal path {cheapest["params"]:,.0f}; score = mean '
          f'L1 with supernet weights on {args.images} images of '
          f'{args.score_root}, lower is better; population '
          f'{args.population} x {args.generations} generations, top-k '
          f'{args.top_k}, {args.num_mutation} mutations + '
          f'{args.num_crossover} crossovers' +
          (f'; predictor-guided first generation from '
           f'{args.init_predictor} scored paths' if args.init_predictor
           else '') + ')')
    if pool_info:
        q = pool_info['quantiles']
        print(f'reference: {pool_info["n"]} random legal paths, mean '
              f'{pool_info["mean"]:.5f} ± {pool_info["std"]:.5f}, min '
              f'{q["min"]:.5f}, 1 % {q["q01"]:.5f}, 2.5 % {q["q025"]:.5f}, '
              f'5 % {q["q05"]:.5f}, median {q["median"]:.5f} '
              f'({pool_info["seconds"]} s)')
    print('| p | seed | paths scored | evolution best | random best | '
          'better than % of pool (evo / random) | P(win) | held-out '
          '(evo / random) | mean score by origin (mut / cross / random: n) '
          '| rejected dup / over budget (mut / cross) |')
    print('|---' * 10 + '|')
    nan = float('nan')
    for r in rows:
        o = r['origin']
        print(f'| {r["mutate_prob"]:g} | {r["seed"]} | {r["scored"]} | '
              f'{r["evo_best"]:.5f} | {r["random_best"]:.5f} | '
              f'{r.get("evo_pct", nan):.1f} / {r.get("random_pct", nan):.1f}'
              f' | {r.get("p_win", nan):.2f} | '
              f'{r.get("evo_heldout", nan):.5f} / '
              f'{r.get("random_heldout", nan):.5f} | ' + ' / '.join(
                  f'{o[k]["mean"]:.5f}: {o[k]["n"]}'
                  for k in ('mutation', 'crossover', 'random')) + ' | ' +
              ' / '.join(f'{r["duplicate"].get(k, 0)}, '
                         f'{r["over_budget"].get(k, 0)} of '
                         f'{r["proposed"].get(k, 0)}'
                         for k in ('mutation', 'crossover')) + ' |')
    print('\n| p | seed | params LUT / built | FLOPs LUT / built (64²) | '
          'CPU latency (64², ms) |\n|---|---|---|---|---|')
    for r in rows:
        print(f'| {r["mutate_prob"]:g} | {r["seed"]} | '
              f'{r["lut_params"]:,.0f} / {r["params"]:,} | '
              f'{r["lut_flops"] / 1e6:.1f}M / {r["flops"] / 1e6:.1f}M | '
              f'{r.get("latency_ms", nan):.2f} |')
    if not args.no_random_search:
        for p_mut in args.mutate_probs:
            rs = [r for r in rows if r['mutate_prob'] == p_mut]
            wins = sum(r['evo_best'] < r['random_best'] for r in rs)
            line = (f'p = {p_mut:g}: evolution best < random best in '
                    f'{wins} / {len(rs)} seeds')
            if pool_info:
                pw = np.mean([r['p_win'] for r in rs])
                line += (f'; mean P(win) {pw:.2f}'
                         f', mean pool percentile (evo / random) '
                         f'{np.mean([r["evo_pct"] for r in rs]):.1f} / '
                         f'{np.mean([r["random_pct"] for r in rs]):.1f}')
            if 'evo_heldout' in rs[0]:
                hw = sum(r['evo_heldout'] < r['random_heldout'] for r in rs)
                line += f'; held-out: evolution better in {hw} / {len(rs)}'
            print(line)


DOC_RETRAIN = """Retrained searched DCNAS model vs bicubic and a same-size hand-designed
network, trained on toy + RGB-D-D and evaluated on toy, Middlebury and Lu.

Usage::

    python projects/reproductions/bench_dcnas_control.py --mode retrain \
        [--genotype work_dirs/dcnas_toy_x4/search/best_genotype.yaml] \
        [--iters 500] [--batch 8] [--patch 64] [--scale 4] \
        [--device cpu] [--shared-data ../shared/data/gisr]

Both networks are trained from scratch with the same schedule (Adam 1e-3,
x0.5 at 80 %, masked L1 in the normalised space, leak-free LR min/max
normalisation, PIL bicubic x4) on the toy training split plus the 40
shared RGB-D-D pairs (random ``--patch`` crops, official flips /
transpose), then evaluated with each benchmark's RMSE convention: toy test
(``rgbdd`` preset: mm -> cm), Middlebury and Lu (8-bit levels, no crop).
The hand-designed baseline is a DCNAS fixed network with every block
``mb_k3_r{r}`` and ``cat`` fusion at every stage, ``r`` chosen so that its
parameter count is closest to the searched model's. Bicubic is the
de-normalised ``lr_up``. ``--device cuda`` trains and evaluates on the GPU
(the data pipeline stays on the CPU; the initial weights and the data
order are drawn on the CPU, so they equal the ``cpu`` run's of the same
seed, only the arithmetic differs); ``cpu`` (the default) is the
original code path. ``--shared-data`` is the folder holding
``RGBDD_subset40/``, ``Middlebury/`` and ``Lu/`` (default: the repository's
``../shared/data/gisr``). Ends with ``RESULT {json}``.
"""


#: default folder of the shared GISR test / training sets, resolved from the
#: repository root (not the working directory)
SHARED = osp.normpath(osp.join(ROOT, '..', 'shared', 'data', 'gisr'))
SHARED_SETS = ('RGBDD_subset40', 'Middlebury', 'Lu')


def resolve_device(device):
    """``torch.device`` of ``device`` (``'cpu'`` / ``'cuda'`` /
    ``'cuda:N'``); a CUDA device without CUDA is an error naming the
    option."""
    dev = torch.device(device)
    if dev.type not in ('cpu', 'cuda'):
        raise ValueError(f'--device must be cpu or cuda[:N], got {device!r}')
    if dev.type == 'cuda' and not torch.cuda.is_available():
        raise RuntimeError(f'--device {device}: CUDA is not available in '
                           f'this torch ({torch.__version__}); use --device '
                           'cpu')
    return dev


def check_data(toy, shared=SHARED):
    """Fail fast (before any training) when a data folder is missing."""
    for split in ('train', 'test'):
        d = osp.join(toy, split)
        if not osp.isdir(d):
            raise FileNotFoundError(
                f'toy data {d} not found: python tools/misc/make_toy_rgbd.py '
                f'{toy} --num-search-val 64 (or pass --toy)')
    check_shared_data(shared)


def check_shared_data(shared=SHARED):
    """Fail fast when a folder of :data:`SHARED_SETS` is missing."""
    for name in SHARED_SETS:
        d = osp.join(shared, name)
        if not osp.isdir(d):
            raise FileNotFoundError(
                f'shared GISR data {d} not found: --shared-data must be the '
                f'folder holding {", ".join(SHARED_SETS)} (default '
                f'{SHARED}, i.e. ../shared/data/gisr beside the repository)')


def pipelines(scale, patch):
    deg = dict(type='GISRDegrade', scale=scale, norm='lr_minmax')
    train = [
        dict(type='LoadGISRSample'),
        dict(type='GISRModCrop', multiple=32),
        dict(type='GISRRandomCrop', patch_size=patch),
        dict(type='GISRAugment'), deg,
        dict(type='PackGISRInputs')
    ]
    test = [
        dict(type='LoadGISRSample'),
        dict(type='GISRModCrop', multiple=32), deg,
        dict(type='PackGISRInputs')
    ]
    return train, test


def baseline_arch(target_params, num_features, fusion='cat'):
    """The hand-designed network: every block ``mb_k3_r{r}``, ``fusion`` at
    every stage (``cat``: RGB fused everywhere; ``skip_rgb``: no guidance,
    the RGB stages pruned), ``r`` with the parameter count closest to
    ``target_params``; returns ``(arch, params, r)``."""
    best = None
    for r in range(2, 7):
        arch = {k: (f'mb_k3_r{r}' if not k.startswith('fusion') else fusion)
                for k in dcnas_keys(4, 2)}
        n = count_params(DCNASNet(arch, num_features=num_features))
        if best is None or abs(n - target_params) < abs(best[1] -
                                                        target_params):
            best = (arch, n, r)
    return best


def train(model, loader, iters, lr):
    """Adam ``lr``, x0.5 at 80 %; batches go to the model's device."""
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.MultiStepLR(opt, [int(0.8 * iters)],
                                                 0.5)
    it = iter(loader)
    model.train()
    t0 = time.time()
    for i in range(iters):
        try:
            batch = next(it)
        except StopIteration:
            it = iter(loader)
            batch = next(it)
        batch = model.data_preprocessor.cast_data(batch)
        loss = model(batch['inputs'], batch['data_samples'],
                     mode='loss')['loss']
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
    if next(model.parameters()).is_cuda:
        torch.cuda.synchronize()
    return time.time() - t0


@torch.no_grad()
def evaluate(model, dataset, preset):
    model.eval()
    metric = GISRMetric(preset=preset, with_bicubic=True)
    for i in range(len(dataset)):
        batch = model.data_preprocessor.cast_data(
            default_collate([dataset[i]]))
        metric.process(batch, model(batch['inputs'], batch['data_samples'],
                                    mode='predict'))
    return metric.compute_metrics(metric.results)


def datasets(toy, scale=4, patch=64, shared=SHARED):
    """Training set (toy train + RGB-D-D) and the held-out test sets."""
    check_data(toy, shared)
    tr, te = pipelines(scale, patch)
    train_set = ConcatDataset([
        GISRDataset(osp.join(toy, 'train'), pipeline=tr),
        GISRDataset(osp.join(shared, 'RGBDD_subset40'), pipeline=tr)
    ])
    tests = dict(
        toy=(GISRDataset(osp.join(toy, 'test'), pipeline=te), 'rgbdd'),
        Middlebury=(GISRDataset(osp.join(shared, 'Middlebury'),
                                pipeline=te), 'middlebury'),
        Lu=(GISRDataset(osp.join(shared, 'Lu'), pipeline=te), 'lu'))
    return train_set, tests


def retrain_and_evaluate(net, toy='data/toy_rgbd', iters=500, batch=8,
                         patch=64, scale=4, lr=1e-3, seed=0, device='cpu',
                         shared=SHARED):
    """Train ``net`` from scratch (this benchmark's schedule) and evaluate
    it on the toy test split, Middlebury and Lu.

    Args:
        device (str | torch.device): where the network trains and runs
            (``'cpu'``, ``'cuda'``, ``'cuda:N'``). The initial weights (of
            ``net`` as given) and the data order / crops (CPU generators)
            do not depend on it.
        shared (str): folder with ``RGBDD_subset40``, ``Middlebury``, ``Lu``.

    Returns:
        dict: ``{'train_s', 'toy', 'Middlebury', 'Lu'}`` (metric dicts).
    """
    dev = resolve_device(device)
    train_set, tests = datasets(toy, scale, patch, shared)
    torch.manual_seed(seed)
    np.random.seed(seed)
    model = GuidedDepthSR(net, loss_space='normalised').to(dev)
    loader = DataLoader(train_set, batch, shuffle=True,
                        collate_fn=default_collate, drop_last=True)
    secs = train(model, loader, iters, lr)
    return dict(train_s=round(secs),
                **{k: evaluate(model, ds, pre)
                   for k, (ds, pre) in tests.items()})


def main_retrain(argv=None):
    p = argparse.ArgumentParser(description=DOC_RETRAIN.splitlines()[0])
    p.add_argument('--genotype',
                   default='work_dirs/dcnas_toy_x4/search/best_genotype.yaml')
    p.add_argument('--toy', default='data/toy_rgbd')
    p.add_argument('--iters', type=int, default=500)
    p.add_argument('--batch', type=int, default=8)
    p.add_argument('--patch', type=int, default=64)
    p.add_argument('--scale', type=int, default=4)
    p.add_argument('--lr', type=float, default=1e-3)
    p.add_argument('--device', default='cpu',
                   help='cpu (default) or cuda[:N]: where the networks train')
    p.add_argument('--shared-data', default=SHARED,
                   help='folder with RGBDD_subset40/, Middlebury/, Lu/ '
                   '(default: ../shared/data/gisr beside the repository)')
    p.add_argument('--no-baseline', action='store_true',
                   help='train only the genotype (no hand-designed network)')
    args = p.parse_args(argv)
    init_default_scope('mmfusenas')
    resolve_device(args.device)
    check_data(args.toy, args.shared_data)
    geno = Genotype.load(args.genotype)
    c = geno.network.get('num_features', 16)
    searched = DCNASNet(geno.choices, num_features=c)
    n_s = count_params(searched)
    arch, n_b, r = baseline_arch(n_s, c)
    rows = {}
    models = [('searched', searched)]
    if not args.no_baseline:
        models.append((f'hand-designed (all mb_k3_r{r} + cat)',
                       DCNASNet(arch, num_features=c)))
    for name, net in models:
        rows[name] = dict(params=count_params(net), **retrain_and_evaluate(
            net, args.toy, args.iters, args.batch, args.patch, args.scale,
            args.lr, seed=0, device=args.device, shared=args.shared_data))
    print(f'\nx{args.scale} guided depth SR, trained {args.iters} iterations '
          f'(batch {args.batch}, {args.patch}² patches) on toy + RGB-D-D')
    print('| model | params | toy RMSE (cm) | Middlebury RMSE (levels) | '
          'Lu RMSE (levels) |\n|---|---|---|---|---|')
    first = next(iter(rows.values()))
    print(f'| bicubic | 0 | {first["toy"]["bicubic_RMSE"]:.3f} | '
          f'{first["Middlebury"]["bicubic_RMSE"]:.3f} | '
          f'{first["Lu"]["bicubic_RMSE"]:.3f} |')
    for name, r_ in rows.items():
        print(f'| {name} | {r_["params"]:,} | {r_["toy"]["RMSE"]:.3f} | '
              f'{r_["Middlebury"]["RMSE"]:.3f} | {r_["Lu"]["RMSE"]:.3f} |')
    result = dict(iters=args.iters, scale=args.scale, models=rows)
    print('RESULT ' + json.dumps(result))
    return result


DOC_REAL = """DCNAS trained on real RGB-D pairs, tested on Middlebury and Lu.

Usage::

    python projects/reproductions/bench_dcnas_control.py --mode real \
        --genotype configs/dcnas/genotypes/dcnas_toy_x4_s0.yaml \
        [--models searched official hand] [--scales 4 8] [--iters 1500] \
        [--batch 8] [--patch 64] [--lr 1e-3] [--seed 0 | --seeds 0 1] \
        [--threads 1] [--out-dir work_dirs/dcnas_real] [--report-only] \
        [--merge docs/results/dcnas_real.json [--merge-models official]] \
        [--results-json docs/results/dcnas_real.json]

A genotype searched on the real RGB-D-D pairs themselves comes from the
search chain of ``configs/dcnas/{supernet,predictor,search}_rgbdd_x4.py``
(supernet on 32 of the 40 pairs, paths scored on the other 8, split by
capture day; Middlebury and Lu are never read by the search).

Every network is trained from scratch on the real RGB-D-D pairs of
``--shared-data``/``RGBDD_subset40`` only (40 pairs, 16-bit depth in mm; no
toy data; the other real pairs there, NYU v2 / RGB-D-D real-scene, are test
images and are not used), with this benchmark's retraining schedule (Adam
``--lr``, x0.5 at 80 %, masked L1 in the normalised space, leak-free LR
min/max normalisation, PIL bicubic down / up, random ``--patch`` crops
with the official flips / transpose), once per scale of ``--scales``; then
tested on the complete Middlebury (30) and Lu (6) sets under the official
convention (8-bit levels, RMSE over the whole mod-cropped map,
``GISRMetric`` presets ``middlebury`` / ``lu``), beside bicubic. Models:

- ``searched``: the ``--genotype`` (a ``DCNASNet`` genotype of the
  toolbox's DCNAS search);
- ``official``: the official ``StaticModel`` example architecture
  (``get_fix_architecture``, ``EXAMPLE_ARCH``) at C = 16, 544,981 params;
- ``hand``: the hand-designed network of the searched one's size (every
  block ``mb_k3_r{r}``, ``cat`` fusion at every stage, ``r`` with the
  closest parameter count; the DCNAS macro-architecture with a uniform,
  hand-picked micro-architecture);
- ``hand_depth``: the same without guidance (``skip_rgb`` at every stage,
  so every RGB stage is pruned), ``r`` again matched to the searched
  network's size: separates the search's blocks from its dropping of the
  guidance.

Each (model, scale) run is stored as ``<out-dir>/<model>_x<scale>.json``
(``<out-dir>/seed_<s>/...`` with ``--seeds``; a row then reports the mean
RMSE over the seeds it ran and their spread) and reused when its options
match (:func:`real_options`: the genotype file's sha256, not its path,
``--iters``, ``--batch``, ``--patch``, ``--lr``, the seed and
``--shared-data``), so runs can go in separate processes and one
``--report-only`` call tables them all. ``--merge RECORD`` takes the rows
of ``--merge-models`` (default ``official``, whose network does not depend
on ``--genotype``) from an earlier record of this mode trained with the
same ``--iters``, ``--batch``, ``--patch`` and ``--lr`` instead of training
them again; the
tables rank them with the rest and the record names the merged one. ``--results-json`` writes the
``docs/results`` record (rendered by ``tools/misc/results_to_docs.py``) with
its ``goal``: the searched network <= both size-matched hand-designed ones
in RMSE on every (test set, scale), over >= 2 training seeds.
Ends with ``RESULT {json}``.
"""

#: RMSE the paper reports for DCNAS (Table II; NYU v2 in cm, RGB-D-D real
#: in cm) at x4 / x8; the paper reports no Middlebury or Lu numbers
PAPER_RMSE = {'NYU v2': {4: 1.21, 8: 2.55}, 'RGB-D-D': {4: 1.06, 8: 1.70}}
REAL_MODELS = ('searched', 'official', 'hand', 'hand_depth')


def real_networks(genotype: str):
    """name -> (description, network) of the ``real`` mode's models."""
    from mmfusenas.models.gisr import EXAMPLE_ARCH
    geno = Genotype.load(genotype)
    c = geno.network.get('num_features', 16)
    searched = DCNASNet(geno.choices, num_features=c)
    n = count_params(searched)
    arch, _, r = baseline_arch(n, c)
    arch_d, _, rd = baseline_arch(n, c, 'skip_rgb')
    return dict(
        searched=(f'searched ({osp.basename(genotype)}, C={c})', searched),
        official=('official StaticModel example (C=16)',
                  DCNASNet(EXAMPLE_ARCH, num_features=16)),
        hand=(f'hand-designed (all mb_k3_r{r} + cat, C={c})',
              DCNASNet(arch, num_features=c)),
        hand_depth=(f'hand-designed, no guidance (all mb_k3_r{rd}, '
                    f'skip_rgb, C={c})', DCNASNet(arch_d, num_features=c)))


def real_datasets(shared: str, scale: int, patch: int):
    check_shared_data(shared)
    tr, te = pipelines(scale, patch)
    train_set = GISRDataset(osp.join(shared, 'RGBDD_subset40'), pipeline=tr)
    tests = dict(
        Middlebury=(GISRDataset(osp.join(shared, 'Middlebury'),
                                pipeline=te), 'middlebury'),
        Lu=(GISRDataset(osp.join(shared, 'Lu'), pipeline=te), 'lu'))
    return train_set, tests


def real_options(args) -> dict:
    """What a ``--mode real`` run depends on: the genotype file's content
    (sha256, not its path), ``--iters``, ``--batch``, ``--patch``, ``--lr``,
    the training seed and ``--shared-data`` (:func:`path_key`)."""
    return dict(genotype_sha256=file_sha256(args.genotype),
                iters=args.iters, batch=args.batch, patch=args.patch,
                lr=args.lr, seed=args.seed,
                shared_data=path_key(args.shared_data))


def real_run(key: str, scale: int, args) -> dict:
    opts = real_options(args)
    path = osp.join(args.out_dir, f'{key}_x{scale}.json')
    done = read_stored_run(path, opts,
                           missing_ok_on_mismatch=args.report_only)
    if done:
        print(f'[{key} x{scale}] reused {path}', flush=True)
        return done
    if args.report_only:
        return None
    name, net = real_networks(args.genotype)[key]
    train_set, tests = real_datasets(args.shared_data, scale, args.patch)
    torch.manual_seed(args.seed)
    np.random.seed(args.seed)
    model = GuidedDepthSR(net, loss_space='normalised')
    loader = DataLoader(train_set, args.batch, shuffle=True,
                        collate_fn=default_collate, drop_last=True)
    secs = train(model, loader, args.iters, args.lr)
    done = dict(options=opts, name=name, scale=scale,
                params=count_params(net), train_s=round(secs, 1),
                threads=torch.get_num_threads(), torch=torch.__version__,
                **{k: evaluate(model, ds, pre) for k, (ds, pre) in
                   tests.items()})
    atomic_write(json.dumps(done, indent=1), path)
    print(f'[{key} x{scale}] {name}: {done["params"]:,} params, trained '
          f'{secs:.0f} s; RMSE Middlebury {done["Middlebury"]["RMSE"]:.3f}, '
          f'Lu {done["Lu"]["RMSE"]:.3f}', flush=True)
    return done


def merge_real_seeds(per_seed: dict) -> dict:
    """``{(key, scale): run}`` over training seeds: each test set's RMSE
    averaged over the seeds whose run exists (``RMSE_std``: their spread,
    ``seeds``: which)."""
    merged = {}
    keys = {k for runs in per_seed.values() for k in runs}
    for k in sorted(keys):
        rs = {s: runs[k] for s, runs in per_seed.items() if k in runs}
        first = next(iter(rs.values()))
        out = dict(first, seeds=list(rs),
                   train_s=float(np.mean([r['train_s'] for r in rs.values()])))
        for test in ('Middlebury', 'Lu'):
            st = seed_stats({s: r[test]['RMSE'] for s, r in rs.items()})
            out[test] = dict(first[test], RMSE=st['mean'],
                             RMSE_std=st['std'], per_seed=st['per_seed'])
        merged[k] = out
    return merged


def real_record(runs: dict, args, pairs: dict) -> dict:
    """``result`` of the ``docs/results`` record: a table per (test set,
    scale), rows bicubic + the models, RMSE (mean over the training seeds,
    ``RMSE_std`` their spread) ranked (lower is better); ``pairs``: test
    set -> its number of pairs."""
    tables = {}
    for test, n in pairs.items():
        for scale in args.scales:
            rows = {}
            here = {k: r for (k, s), r in runs.items() if s == scale}
            if not here:
                continue
            first = next(iter(here.values()))
            rows['bicubic'] = dict(RMSE=round(first[test]['bicubic_RMSE'], 3),
                                   params=0, pairs=n)
            for k, r in here.items():
                rows[r['name']] = dict(RMSE=round(r[test]['RMSE'], 3),
                                       params=r['params'], pairs=n)
                if len(r.get('seeds', [])) > 1:
                    rows[r['name']].update(
                        RMSE_std=round(r[test]['RMSE_std'], 3),
                        seeds=len(r['seeds']))
            add_ranks(rows, ['RMSE'], ['RMSE'], mean_rank=False)
            tables[f'{test} x{scale} (8-bit levels)'] = rows
    return tables


def merge_real_rows(tables: dict, path: str, names: dict, args) -> dict:
    """Put the rows ``names`` (model key -> row name) of the ``--mode real``
    record at ``path`` into ``tables`` (same table titles), ranked again
    over all rows: a row measured under the same protocol by an earlier
    command, not trained again.

    Returns:
        dict: ``{'record', 'command', 'commit'}`` of the record.

    Raises:
        ValueError: the record is not a ``--mode real`` record, was trained
            with another budget (``--iters``, ``--batch``, ``--patch``,
            ``--lr``), lacks a table or row, or counts other pairs (all
            named, with the file).
    """
    with open(path, encoding='utf-8') as f:
        record = json.load(f)
    res = record.get('RESULT') or {}
    if 'tables' not in res or 'iters' not in res:
        raise ValueError(f'--merge {path}: not a record of '
                         'bench_dcnas_control.py --mode real (no '
                         'RESULT.tables / RESULT.iters)')
    budget = (f'batch {args.batch}, {args.patch}² patches, Adam '
              f'{args.lr:g}')
    if res['iters'] != args.iters or budget not in record.get('note', ''):
        raise ValueError(
            f'--merge {path}: trained {res["iters"]} iterations ('
            f'{record.get("note", "no note")!r}), this run {args.iters} '
            f'iterations with {budget}; merge only rows of the same budget')
    for title, rows in tables.items():
        theirs = res['tables'].get(title)
        if theirs is None:
            raise ValueError(f'--merge {path}: no table {title!r} (it has '
                             f'{sorted(res["tables"])})')
        pairs = {r['pairs'] for r in rows.values()}
        for key, name in names.items():
            if name not in theirs:
                raise ValueError(f'--merge {path}: table {title!r} has no '
                                 f'row {name!r} (model {key})')
            row = {k: v for k, v in theirs[name].items() if k != 'rank'}
            if row['pairs'] not in pairs:
                raise ValueError(
                    f'--merge {path}: {title}/{name} counts {row["pairs"]} '
                    f'pairs, this run {sorted(pairs)}')
            rows[name] = row
        add_ranks(rows, ['RMSE'], ['RMSE'], mean_rank=False)
    return dict(record=path, command=record['command'],
                commit=record['commit'])


def real_goal(runs: dict, scales, min_seeds: int = 2) -> dict:
    """The issue's criterion for the real-data-searched network: its RMSE
    (mean over >= ``min_seeds`` training seeds) <= that of each
    size-matched hand-designed network on every (test set, scale)."""
    values, ok = {}, True
    for test in ('Middlebury', 'Lu'):
        for scale in scales:
            row = {}
            for key in ('searched', 'hand', 'hand_depth'):
                r = runs.get((key, scale))
                if r is None or len(r.get('seeds', [0])) < min_seeds:
                    row[key] = None
                    ok = False
                else:
                    row[key] = round(r[test]['RMSE'], 4)
            if all(v is not None for v in row.values()):
                row['searched_best'] = row['searched'] <= min(
                    row['hand'], row['hand_depth'])
                ok &= row['searched_best']
            values[f'{test} x{scale}'] = row
    return dict(criterion=(
        'the real-data-searched DCNAS network <= the size-matched '
        'hand-designed networks (with and without guidance) in RMSE, mean '
        f'over >= {min_seeds} training seeds, on Middlebury and Lu at every '
        'scale'), values=values, reached=bool(ok))


def main_real(argv=None):
    p = argparse.ArgumentParser(description=DOC_REAL.splitlines()[0])
    p.add_argument('--genotype',
                   default='configs/dcnas/genotypes/dcnas_toy_x4_s0.yaml')
    p.add_argument('--models', nargs='+', choices=REAL_MODELS,
                   default=list(REAL_MODELS))
    p.add_argument('--scales', type=int, nargs='+', default=[4, 8])
    p.add_argument('--iters', type=int, default=1500)
    p.add_argument('--batch', type=int, default=8)
    p.add_argument('--patch', type=int, default=64)
    p.add_argument('--lr', type=float, default=1e-3)
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--seeds', type=int, nargs='+', default=None,
                   help='training seeds, each stored in <out-dir>/seed_<s>; '
                   'a row reports the mean over the seeds it ran (run a '
                   'costly row on fewer seeds with --models ... --seeds 0)')
    p.add_argument('--threads', type=int, default=1)
    p.add_argument('--shared-data', default=SHARED,
                   help='folder with RGBDD_subset40/, Middlebury/, Lu/ '
                   '(default: ../shared/data/gisr beside the repository)')
    p.add_argument('--out-dir', default='work_dirs/dcnas_real')
    p.add_argument('--report-only', action='store_true',
                   help='train nothing; table the finished runs')
    p.add_argument('--results-json', default=None,
                   help='also write the docs/results record here')
    p.add_argument('--merge', default=None, metavar='RECORD',
                   help='take the rows of --merge-models from this earlier '
                   '--mode real record (same --iters, --batch, --patch, '
                   '--lr) instead of training them; the record names it')
    p.add_argument('--merge-models', nargs='+', choices=REAL_MODELS,
                   default=['official'],
                   help='the models whose rows --merge takes (default: '
                   'official, whose network does not depend on --genotype)')
    args = p.parse_args(argv)
    if args.merge and set(args.merge_models) & set(args.models):
        p.error(f'--merge-models {args.merge_models} overlap --models '
                f'{args.models}: a row is either trained or merged')
    if args.merge and not osp.isfile(args.merge):
        raise FileNotFoundError(f'--merge {args.merge} not found (a '
                                'docs/results record of --mode real)')
    if not osp.isfile(args.genotype):
        raise FileNotFoundError(f'--genotype {args.genotype} not found (a '
                                'DCNASNet genotype YAML of the DCNAS search)')
    if args.results_json:
        check_record_path(args.results_json)
    init_default_scope('mmfusenas')
    torch.set_num_threads(args.threads)
    os.makedirs(args.out_dir, exist_ok=True)
    seeds = args.seeds or [args.seed]
    per_seed = collect_seed_runs(
        seeds, [(key, scale) for scale in args.scales for key in args.models],
        lambda ks, seed, out: real_run(*ks, argparse.Namespace(
            **dict(vars(args), seed=seed, out_dir=out))),
        args.out_dir, per_seed_dirs=bool(args.seeds),
        label=lambda ks: f'{ks[0]} x{ks[1]}')
    args.seed = seeds[0]
    runs = merge_real_seeds(per_seed)
    tests = real_datasets(args.shared_data, args.scales[0], args.patch)[1]
    tables = real_record(runs, args,
                         {name: len(ds) for name, (ds, _) in tests.items()})
    merged = None
    if args.merge:
        nets = real_networks(args.genotype)
        merged = merge_real_rows(
            tables, args.merge,
            {k: nets[k][0] for k in args.merge_models}, args)
    for title, rows in tables.items():
        print(f'\n{title}\n| model | params | RMSE |\n|---|---|---|')
        for m, r in rows.items():
            print(f'| {m} | {r["params"]:,} | {r["RMSE"]:.3f} |')
    print('\npaper (Table II, trained on NYU v2; no Middlebury / Lu numbers):'
          + ''.join(f' {k} x{s} {v}' for k, d in PAPER_RMSE.items()
                    for s, v in d.items()))
    result = dict(iters=args.iters, scales=args.scales, tables=tables,
                  train_s={f'{k}_x{s}': r['train_s']
                           for (k, s), r in runs.items()},
                  seeds={f'{k}_x{s}': r['seeds'] for (k, s), r in
                         runs.items()},
                  paper_rmse_cm=PAPER_RMSE)
    if merged:
        result['merged'] = dict(merged, models=args.merge_models)
    goal = real_goal(runs, args.scales)
    result['goal'] = goal
    print(f"goal: {goal['criterion']} -> reached: {goal['reached']}")
    if args.results_json:
        write_results_record(
            args.results_json,
            'python projects/reproductions/bench_dcnas_control.py --mode '
            'real ' + shlex.join(sys.argv[1:] if argv is None else argv),
            ROOT, tables,
            threads=args.threads, RESULT=result, goal=goal,
            **({'merged': merged} if merged else {}),
            metrics=['RMSE', 'RMSE_std', 'seeds'] if args.seeds and len(
                args.seeds) > 1 else ['RMSE'],
            note=(f'Trained {args.iters} iterations (batch {args.batch}, '
                  f'{args.patch}² patches, Adam {args.lr:g}) on the 40 '
                  'RGB-D-D pairs only, training seeds '
                  f'{", ".join(map(str, seeds))} (RMSE: the mean over the '
                  'seeds a row ran, RMSE_std their spread).'))
    print('RESULT ' + json.dumps(result))
    return result


MODES = {
    'control': main_control,
    'search': main_search,
    'retrain': main_retrain,
    'real': main_real
}


def main(argv=None):
    """Run the mode ``--mode`` names (default ``control``)."""
    return run_mode(MODES, argv)


if __name__ == '__main__':
    main()
