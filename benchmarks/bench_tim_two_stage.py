"""TIM's two-stage chain on real pairs: N_F -> N_T search -> joint training,
against the official architectures and N_F alone (Sec. 4.2, Tables 1-2).

Runs the real configs of ``configs/tim/`` through ``tools/train.py`` (one
process per step, as a user would), at a budget this machine can afford,
and scores every result with ``FusionMetric`` on held-out pairs:

1. **N_F** (``fusion_<task>.py``): ``--nf-iters`` iterations of a cosine
   schedule over ``--nf-iters + --joint-iters``; checkpoint and
   validation at the end (the stage-1 network of the chain);
1'. **N_F alone**: the same run resumed from that checkpoint (weights,
   Adam state, schedule) for ``--joint-iters`` more iterations, validated
   at the end: N_F trained for as many steps as N_F + joint training,
   without retraining the first ``--nf-iters`` steps;
2. **N_T search** (``search_enhance_<task>.py``): IAS over stage 2 on top of
   the frozen N_F of step 1, ``--search-epochs`` epochs over the two halves
   of the training split, an alpha step every ``--arch-interval`` weight
   steps, the genotype exported at the end;
3. **joint, searched N_T** (``train_two_stage_<task>.py``): stage 1 from
   step 1, stage 2 = the derived genotype, ``--joint-iters`` iterations
   (rounded to whole epochs);
4. **joint, official N_T**: the same with the official stage-2 network of
   ``fusion_<task>_official.py`` (the architecture of the authors' model,
   trained here with the same budget: no official weights are on our
   machines).

Every step uses the configs as they are, with these changes (written into
the generated configs under ``<work-dir>/configs``): network width
``--channels`` (48 in the paper), the weight-free gradient measure of ℓ_F
(no VGG16 file on our machines), ``--lr`` (Adam) for N_F and the joint
training, batch ``--batch`` of ``--crop`` patches, the held-out split
(the last ``--val`` pairs of the folder), no worker processes and no image
saving (``--workers`` loader processes per step, 0 by default). Each
generated config is a complete config (``Config.dump``), so a step can be
re-run alone with ``python tools/train.py <it> --work-dir ...``.

Steps that do not depend on each other run side by side with ``--jobs``:
after N_F, *N_F alone*, the N_T search and the joint training of the
official N_T need only the N_F checkpoint; the joint training of the
searched N_T waits for the search. With ``--jobs 3`` the wall time is
about N_F + search + joint training instead of the sum of all five steps.

Data: ``--data`` holds the folders of the configs (``TNO/{ir,vi}``,
``MRI_CT/{MRI,CT}``, ...); by default the shared samples
``../shared/data/fusion``. Split files are written under the work dir.

Example (the run in docs/tim.md)::

    python benchmarks/bench_tim_two_stage.py --task ivif
    python benchmarks/bench_tim_two_stage.py --task mri_ct
"""
import argparse
import copy
import glob
import json
import math
import os
import os.path as osp
import signal
import sys
import time
from typing import Dict, List

from mmengine.config import Config

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, REPO)
from mmfusenas.utils.process_units import (ProcessUnit,  # noqa: E402
                                           UnitProgress, run_process_units)

SHARED = osp.join(osp.dirname(REPO), 'shared', 'data', 'fusion')
CFG = osp.join(REPO, 'configs', 'tim')

TASKS = {
    'ivif':
    dict(folder='TNO', prefix=dict(ir='ir', vi='vi'),
         nf='fusion_ivif_tno.py', search='search_enhance_ivif.py',
         joint='train_two_stage_ivif_tno.py',
         official='fusion_ivif_official.py'),
    # the medical pairs: MRI + CT / PET / SPECT, configs named alike
    **{
        f'mri_{m}': dict(
            folder=f'MRI_{m.upper()}', prefix=dict(mri='MRI', **{m: m.upper()}),
            nf=f'fusion_mri_{m}.py', search=f'search_enhance_mri_{m}.py',
            joint=f'train_two_stage_mri_{m}.py',
            official=f'fusion_mri_{m}_official.py')
        for m in ('ct', 'pet', 'spect')
    },
}
#: the steps each step waits for (the others need only N_F's checkpoint)
DEPS = dict(search=['nf'], nf_alone=['nf'], joint_official=['nf'],
            joint_searched=['search'])
ROWS = ('N_F (stage 1 of the chain)', 'N_F alone (same steps)',
        'two-stage, searched N_T', 'two-stage, official N_T')


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--task', choices=sorted(TASKS), default='ivif')
    p.add_argument('--data', default=SHARED)
    p.add_argument('--work-dir', default=None,
                   help='default: work_dirs/bench_tim_two_stage/<task>')
    p.add_argument('--channels', type=int, default=16)
    p.add_argument('--batch', type=int, default=4)
    p.add_argument('--crop', type=int, default=64)
    p.add_argument('--val', type=int, default=5,
                   help='held-out pairs (the last of the folder)')
    p.add_argument('--nf-iters', type=int, default=300)
    p.add_argument('--search-epochs', type=int, default=10)
    p.add_argument('--arch-interval', type=int, default=5,
                   help='weight steps per alpha step (T; 20 in the paper)')
    p.add_argument('--joint-iters', type=int, default=300)
    p.add_argument('--lr', type=float, default=1e-3,
                   help='Adam lr of N_F and the joint training (1e-4 in the '
                   'paper, for 100 epochs of the full data sets)')
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--jobs', type=int, default=1,
                   help='steps run side by side when their inputs are ready '
                   '(1: one after the other)')
    p.add_argument('--workers', type=int, default=0,
                   help='data loader worker processes of every step (0: load '
                   'in the training process)')
    p.add_argument('--dry-run', action='store_true',
                   help='write the configs and print the commands only')
    return p.parse_args(argv)


def write_splits(args, work: str) -> Dict[str, str]:
    """``train`` / ``val`` / ``search_weights`` / ``search_arch`` split
    files (absolute paths) of the task's folder."""
    task = TASKS[args.task]
    first = next(iter(task['prefix'].values()))
    files = sorted(glob.glob(osp.join(args.data, task['folder'], first, '*')))
    stems = [osp.splitext(osp.basename(f))[0] for f in files]
    if len(stems) <= args.val + 1:
        raise FileNotFoundError(
            f'{osp.join(args.data, task["folder"], first)}: need more than '
            f'{args.val + 1} pairs, found {len(stems)}')
    train, val = stems[:-args.val], stems[-args.val:]
    half = len(train) // 2
    lists = dict(train=train, val=val, search_weights=train[:half],
                 search_arch=train[half:])
    out = {}
    os.makedirs(osp.join(work, 'splits'), exist_ok=True)
    for name, lst in lists.items():
        out[name] = osp.join(work, 'splits', name + '.txt')
        with open(out[name], 'w') as f:
            f.write('\n'.join(lst) + '\n')
    return out


def _dataset(ds: dict, root: str, prefix: dict, ann: str) -> None:
    ds['data_root'] = root
    ds['data_prefix'] = dict(prefix)
    ds['ann_file'] = ann


def _loader(loader: dict, root, prefix, ann, batch=None, crop=None,
            workers: int = 0) -> None:
    loader['num_workers'] = workers
    loader['persistent_workers'] = workers > 0
    if batch is not None:
        loader['batch_size'] = batch
    _dataset(loader['dataset'], root, prefix, ann)
    if crop is not None:
        for t in loader['dataset']['pipeline']:
            if t['type'] == 'PairedRandomCrop':
                t['crop_size'] = (crop, crop)


def _gradient_info_loss(losses: List[dict]) -> None:
    for loss in losses:
        if loss['type'] == 'InfoPreservationLoss':
            loss['measure'] = 'gradient'
            loss['feature_weights'] = None


def _common(cfg: Config, args, root, prefix, splits) -> None:
    _loader(cfg.train_dataloader, root, prefix, splits['train'], args.batch,
            args.crop, args.workers)
    _loader(cfg.val_dataloader, root, prefix, splits['val'])
    cfg.test_dataloader = cfg.val_dataloader
    cfg.custom_hooks = []
    cfg.randomness = dict(seed=args.seed)
    cfg.default_hooks.logger.interval = 25


def nf_config(args, root, prefix, splits) -> Config:
    task = TASKS[args.task]
    cfg = Config.fromfile(osp.join(CFG, task['nf']))
    total = args.nf_iters + args.joint_iters
    cfg.model.fusion_net.channels = args.channels
    _gradient_info_loss(cfg.model.losses)
    _common(cfg, args, root, prefix, splits)
    cfg.optim_wrapper.optimizer.lr = args.lr
    cfg.param_scheduler = [
        dict(type='CosineAnnealingLR', by_epoch=False, T_max=total,
             eta_min=args.lr * 0.01)
    ]
    cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=args.nf_iters,
                         val_interval=args.nf_iters)
    cfg.default_hooks.checkpoint = dict(
        type='CheckpointHook', interval=args.nf_iters, by_epoch=False)
    return cfg


def nf_alone_config(nf: Config, args, stage1: str) -> Config:
    """N_F alone: ``nf``'s run resumed from its last checkpoint
    (``stage1``: weights, optimizer, schedule, iteration) and continued to
    ``--nf-iters + --joint-iters``, validated at the end."""
    cfg = copy.deepcopy(nf)
    total = args.nf_iters + args.joint_iters
    cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=total,
                         val_interval=total)
    cfg.default_hooks.checkpoint = dict(
        type='CheckpointHook', interval=total, by_epoch=False)
    cfg.resume = True
    cfg.load_from = stage1
    return cfg


def search_config(args, root, prefix, splits, stage1: str) -> Config:
    task = TASKS[args.task]
    cfg = Config.fromfile(osp.join(CFG, task['search']))
    net = cfg.model.architecture.fusion_net
    net.stage1.channels = args.channels
    net.stage2.channels = args.channels
    net.stage1_init = stage1
    cfg.model.arch_update_interval = args.arch_interval
    _loader(cfg.train_dataloader, root, prefix, splits['search_weights'],
            args.batch, args.crop, args.workers)
    _loader(cfg.train_cfg.arch_dataloader, root, prefix,
            splits['search_arch'], args.batch, args.crop, args.workers)
    cfg.train_cfg.max_epochs = args.search_epochs
    for s in cfg.param_scheduler['weights']:
        s['T_max'] = args.search_epochs
    cfg.default_hooks.checkpoint = dict(
        type='CheckpointHook', interval=args.search_epochs, by_epoch=True)
    cfg.default_hooks.logger.interval = 5
    cfg.randomness = dict(seed=args.seed)
    return cfg


def joint_config(args, root, prefix, splits, stage1: str,
                 stage2: dict) -> Config:
    task = TASKS[args.task]
    cfg = Config.fromfile(osp.join(CFG, task['joint']))
    net = cfg.model.fusion_net
    net.stage1.channels = args.channels
    net.stage1_init = stage1
    net.stage2 = stage2
    _gradient_info_loss(cfg.model.losses)
    _common(cfg, args, root, prefix, splits)
    per_epoch = math.ceil((len(open(splits['train']).read().split())) /
                          args.batch)
    epochs = max(1, round(args.joint_iters / per_epoch))
    cfg.train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=epochs,
                         val_interval=epochs)
    cfg.optim_wrapper.optimizer.lr = args.lr
    cfg.param_scheduler = [
        dict(type='CosineAnnealingLR', by_epoch=True, T_max=epochs,
             eta_min=args.lr * 0.01)
    ]
    cfg.default_hooks.checkpoint = dict(
        type='CheckpointHook', interval=epochs, by_epoch=True)
    return cfg


def official_stage2(args) -> dict:
    cfg = Config.fromfile(osp.join(CFG, TASKS[args.task]['official']))
    stage2 = copy.deepcopy(cfg.model.fusion_net.stage2.to_dict())
    stage2['channels'] = args.channels
    return stage2


def prepare(cfg: Config, work: str, name: str) -> Dict:
    """Dump ``cfg`` under ``<work>/configs``; returns the step: its name,
    ``tools/train.py`` command, work dir and log file."""
    os.makedirs(osp.join(work, 'configs'), exist_ok=True)
    path = osp.join(work, 'configs', name + '.py')
    cfg.dump(path)
    step_dir = osp.join(work, name)
    cmd = [sys.executable, osp.join(REPO, 'tools', 'train.py'), path,
           '--work-dir', step_dir]
    return dict(name=name, cmd=cmd, dir=step_dir,
                log=osp.join(work, name + '.log'))


def run_steps(steps: List[Dict], deps: Dict[str, List[str]], jobs: int = 1,
              dry: bool = False, poll: float = 1.0) -> Dict[str, float]:
    """Run the steps' commands, each once its ``deps`` have finished, at
    most ``jobs`` at a time, in the order of ``steps`` among those ready
    (:func:`mmfusenas.utils.run_process_units`; a step succeeds by its exit
    code).

    Returns the wall seconds of every step. A failing step stops the run:
    the steps still running are terminated and a RuntimeError names the
    step, its log and the end of it.
    """
    if jobs < 1:
        raise ValueError(f'--jobs must be >= 1, got {jobs}')
    names = [s['name'] for s in steps]
    for name, ds in deps.items():
        unknown = [d for d in ds if d not in names]
        if name not in names or unknown:
            raise ValueError(f'run_steps: unknown steps in {name}: {ds}')
    for step in steps:
        print('$ ' + ' '.join(step['cmd']), flush=True)
    if dry:
        return {}
    seconds: Dict[str, float] = {}

    def done(unit: ProcessUnit, _, progress: UnitProgress) -> None:
        seconds[unit.id] = round(progress.seconds, 1)
        print(f'  {unit.id}: {progress.seconds:.0f} s', flush=True)

    units = [
        ProcessUnit(s['name'], s['log'], deps=deps.get(s['name'], ()),
                    name=f'step {s["name"]}', data=s['cmd']) for s in steps
    ]
    run_process_units(units, jobs, lambda unit: unit.data, cwd=REPO,
                      on_done=done, poll_s=poll)
    return seconds


def val_results(step_dir: str) -> List[Dict[str, float]]:
    """Every validation of a run (``vis_data/scalars.json`` lines with
    metrics), in order."""
    files = sorted(glob.glob(osp.join(step_dir, '*', 'vis_data',
                                      'scalars.json')))
    if not files:
        raise FileNotFoundError(f'no scalars.json under {step_dir}')
    out = []
    for line in open(files[-1]):
        rec = json.loads(line)
        if not any(k.endswith('loss') or k == 'lr' for k in rec):
            metrics = {k.split('/')[-1]: v for k, v in rec.items()
                       if isinstance(v, (int, float)) and
                       k not in ('step', 'iter', 'epoch', 'time',
                                 'data_time')}
            if metrics:
                out.append(metrics)
    return out


def main(argv=None) -> Dict:
    args = parse_args(argv)
    # a SIGTERM (e.g. `timeout`) stops the running steps too
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    start = time.time()
    task = TASKS[args.task]
    work = osp.abspath(args.work_dir or osp.join(
        REPO, 'work_dirs', 'bench_tim_two_stage', args.task))
    os.makedirs(work, exist_ok=True)
    root = osp.abspath(osp.join(args.data, task['folder'])) + '/'
    splits = write_splits(args, work)
    prefix = task['prefix']

    nf = nf_config(args, root, prefix, splits)
    nf_step = prepare(nf, work, 'nf')
    stage1 = osp.join(nf_step['dir'], f'iter_{args.nf_iters}.pth')
    search = prepare(search_config(args, root, prefix, splits, stage1),
                     work, 'search')
    genotype = osp.join(search['dir'], 'genotypes', 'latest.yaml')
    steps = [
        nf_step,
        search,
        prepare(nf_alone_config(nf, args, stage1), work, 'nf_alone'),
        prepare(
            joint_config(args, root, prefix, splits, stage1,
                         official_stage2(args)), work, 'joint_official'),
        prepare(
            joint_config(args, root, prefix, splits, stage1,
                         dict(type='GenotypeNet', genotype=genotype)), work,
            'joint_searched'),
    ]
    seconds = run_steps(steps, DEPS, args.jobs, args.dry_run)
    if args.dry_run:
        return {}
    nf_dir, nf_alone_dir, joint_dir, official_dir = (
        osp.join(work, n)
        for n in ('nf', 'nf_alone', 'joint_searched', 'joint_official'))
    results = dict(
        zip(ROWS, [val_results(nf_dir)[-1],
                   val_results(nf_alone_dir)[-1],
                   val_results(joint_dir)[-1],
                   val_results(official_dir)[-1]]))
    results['searched N_T genotype'] = open(genotype).read()
    metrics = [k for k in results[ROWS[0]]]
    print(f'\n{args.task}: {len(open(splits["val"]).read().split())} '
          f'held-out pairs of {root}, C = {args.channels}')
    print('| network | ' + ' | '.join(metrics) + ' |')
    print('|---' * (len(metrics) + 1) + '|')
    for row in ROWS:
        print(f'| {row} | ' + ' | '.join(f'{results[row][m]:.4f}'
                                         for m in metrics) + ' |')
    summary = dict(
        args={k: v for k, v in vars(args).items() if k != 'data'},
        results={k: v for k, v in results.items()
                 if k != 'searched N_T genotype'},
        step_seconds=seconds,
        seconds=round(time.time() - start, 1))
    print('RESULT ' + json.dumps(summary))
    return summary


if __name__ == '__main__':
    main()
