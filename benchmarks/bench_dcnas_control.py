"""DCNAS search-vs-random control on *retrained* models: do the searched
genotypes beat random legal genotypes of the same budget?

Usage::

    python benchmarks/bench_dcnas_control.py \
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
   from scratch with :func:`bench_dcnas_retrain.retrain_and_evaluate`
   (toy train + the 40 shared RGB-D-D pairs, ``--iters`` iterations, batch
   8, 64² patches, Adam 1e-3, x0.5 at 80 %), for every training seed of
   ``--train-seeds``: the seed fixes the initial weights and the data
   order, which is the same for every genotype. Each run is a separate
   process (at most ``--jobs`` at a time, ``nice -n --nice``) writing
   ``runs/<name>_t<seed>_i<iters>.json``; finished runs are reused, so an
   interrupted benchmark resumes. ``--device cuda`` trains every run on
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
"""
import argparse
import json
import os
import os.path as osp
import sys

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, osp.dirname(osp.abspath(__file__)))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from mmfusenas.engine.runner import EvolutionSearcher  # noqa: E402
from mmfusenas.models.gisr import DCNASNet  # noqa: E402
from mmfusenas.models.mutables import Genotype, one_shot_space  # noqa: E402
from mmfusenas.search.estimators import count_flops, count_params  # noqa
from mmfusenas.search.predictors import kendall_tau, spearman_rho  # noqa
from mmfusenas.utils.fileio import atomic_write  # noqa: E402
from mmfusenas.utils.process_units import (AdoptedProcess,  # noqa: E402
                                           ProcessUnit, pid_alive,
                                           run_process_units)

# the rank percentile of the other search-vs-random controls (ties half)
from control_stats import rank_pct  # noqa: E402,F401
from bench_dcnas_retrain import SHARED, check_data, resolve_device  # noqa

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
    from bench_dcnas_search import toy_cost_table
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


def run_one(args):
    """Worker: retrain one genotype with one seed, write its JSON."""
    from mmengine.registry import init_default_scope
    init_default_scope('mmfusenas')
    pid_file = args.out[:-5] + '.pid'
    atomic_write(str(os.getpid()), pid_file)
    try:
        _run_one(args)
    finally:
        os.remove(pid_file)


def _run_one(args):
    from bench_dcnas_retrain import retrain_and_evaluate
    torch.manual_seed(args.seed)
    net = net_of(args.run_one)
    res = retrain_and_evaluate(net, args.toy, args.iters, args.batch,
                               args.patch, 4, args.lr, seed=args.seed,
                               device=args.device, shared=args.shared_data)
    row = dict(genotype=args.run_one, seed=args.seed, iters=args.iters,
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
    processes, at most ``args.jobs`` at a time; skip finished ones and
    wait for (and count as running) the ones a live worker of an earlier
    launch still runs (``<out>.pid``). A failed retraining stops the launch
    with its exit code and the end of its log (``<out>.log``); the other
    workers go on (a later launch adopts them)."""
    todo = [j for j in jobs if not osp.isfile(j[3])]
    adopted = {out: AdoptedProcess(out[:-5] + '.pid', out)
               for _, _, _, out in todo
               if pid_alive(out[:-5] + '.pid') is not None}
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
    from bench_dcnas_search import scoring_runner
    from mmfusenas.search.strategies import path_loss
    from mmfusenas.search.strategies.path_samplers import unwrap
    _, runner = scoring_runner(
        osp.join(ROOT, 'configs/dcnas/supernet_toy_x4.py'),
        'work_dirs/bench_dcnas_control/scoring', score_root, images)
    runner.load_checkpoint(checkpoint)
    model = unwrap(runner.model)
    batches = [next(iter(runner.val_dataloader))]
    return {n: path_loss(model, Genotype.load(f).choices, batches)
            for n, f in files.items()}


def main(argv=None):
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
                'bench_dcnas_search.py --skip-predictor first (it writes '
                'seed{s}_evolution.yaml)')
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
        if not osp.isfile(out):
            print(f'{n} (training seed {s}) not finished: left out')
            files.pop(n, None)
            continue
        with open(out) as fh:
            row = json.load(fh)
        if row['genotype'] != f:
            raise ValueError(f'{out} is the run of {row["genotype"]}, not '
                             f'{f}: remove the stale --out-dir')
        if 'params' in row and row['params'] != count_params(net_of(f)):
            raise ValueError(f'{out} trained a network of {row["params"]:,} '
                             f'params, {f} now builds another: the genotype '
                             'file changed since (e.g. a new search wrote '
                             'it); restore it or use another --out-dir')
        runs[(n, s)] = row
    runs = {k: v for k, v in runs.items() if k[0] in files}
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


if __name__ == '__main__':
    main()
