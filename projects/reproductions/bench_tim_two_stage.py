"""TIM's two-stage chain on real pairs: N_F -> N_T search -> joint training,
against the official architectures and N_F alone (Sec. 4.2, Tables 1-2).

Runs the real configs of ``configs/tim/`` through ``tools/train.py`` (one
process per step, as a user would), at a CPU budget of minutes,
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
   trained from scratch with the same budget, no official weights).

Every step uses the configs as they are, with these changes (written into
the generated configs under ``<work-dir>/configs``): network width
``--channels`` (48 in the paper), the weight-free gradient measure of ℓ_F
(no VGG16 weight file needed), ``--lr`` (Adam) for N_F and the joint
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

Example (the run in docs/methods/tim.md)::

    python projects/reproductions/bench_tim_two_stage.py --task ivif
    python projects/reproductions/bench_tim_two_stage.py --task mri_ct


Modes (``--mode NAME``; ``--mode NAME --help`` lists its options):

* ``two_stage`` (default): this text;
* ``single_op``: Single-operator fusion networks vs the searched N_F (TIM Table
  7). (its text: ``DOC_SINGLE_OP``);
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
import tempfile
import time
from typing import Dict, List, Tuple

import cv2
import numpy as np
import torch
from mmengine.config import Config

from mmfusenas.benchmark.cli_modes import run_mode
from mmfusenas.benchmark.process_units import (ProcessUnit, UnitProgress,
                                               run_process_units)
from mmfusenas.engine.runner import with_cached_text
from mmfusenas.evaluation.functional import compute_fusion_metrics
from mmfusenas.registry import MODELS

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
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
    # formatted once (unformatted under MMFUSENAS_CONFIG_TEXT=plain)
    with_cached_text(cfg).dump(path)
    step_dir = osp.join(work, name)
    cmd = [sys.executable, osp.join(REPO, 'tools', 'train.py'), path,
           '--work-dir', step_dir]
    return dict(name=name, cmd=cmd, dir=step_dir,
                log=osp.join(work, name + '.log'))


def run_steps(steps: List[Dict], deps: Dict[str, List[str]], jobs: int = 1,
              dry: bool = False, poll: float = 1.0) -> Dict[str, float]:
    """Run the steps' commands, each once its ``deps`` have finished, at
    most ``jobs`` at a time, in the order of ``steps`` among those ready
    (:func:`mmfusenas.benchmark.process_units.run_process_units`; a step succeeds by its exit
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


def main_two_stage(argv=None) -> Dict:
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


DOC_SINGLE_OP = """Single-operator fusion networks vs the searched N_F (TIM Table 7).

TIM (Sec. 5.3, Table 7) compares its searched fusion network with
"heuristic structures with fixed outer structure (using C_MS and C_SC)" in
which every edge carries one operator (3-DC / 5-DC dilated convolutions,
3-RB / 5-RB residual blocks, 3-DB / 5-DB dense blocks), all trained with
ℓ_T only and reported by MI, VIF, Q^AB/F, parameters and time on TNO.

This benchmark does the same at CPU scale: for each operator ``op`` the
network ``TIMFusionNet(cells=[MultiScaleFusionCell([op, op]),
SuccessiveCell([op, op])])`` at ``--channels`` width, plus the searched N_F
(the official genotype ``fusion_M``: C_MS ``[Residualblocks_3_1,
DilConv_3_2]`` + C_SC ``[Denseblocks_3_1, DilConv_3_2]``, the network of
every ``fusion_ivif_*.py`` config), is trained from the same seed for the
same budget (``--iters`` Adam steps, lr ``--lr``, ``--batch`` random
``--crop`` crops) on ℓ_T (``SaliencyWeightedLoss``, the configs' l_T) and
evaluated on held-out pairs with
:func:`~mmfusenas.evaluation.functional.compute_fusion_metrics` (preset
``cddfuse``: MI, VIF, Qabf, plus SSIM), its parameter count and its median
CPU time for one ``--time-size`` pair.

Data (``--data``): ``toy`` -- procedural pairs written by
:func:`~mmfusenas.testing.toy_data.ivif.generate_toy_dataset` (``--toy-num``
pairs at 128 px, its ``train`` / ``val`` split) into a temporary folder;
``tno`` -- the shared TNO samples (``../shared/data/fusion/TNO``, the last
``--test-pairs`` held out), luminance resized to a shorter side of 192.

Example::

    python projects/reproductions/bench_tim_two_stage.py --mode single_op --quick
    python projects/reproductions/bench_tim_two_stage.py --mode single_op --data toy --iters 300
"""


METRICS = ['MI', 'VIF', 'Qabf', 'SSIM']
#: Table 7's operators (paper label -> official genotype string)
OPERATORS = {
    '3-DC': 'DilConv_3_2',
    '5-DC': 'DilConv_5_2',
    '3-RB': 'Residualblocks_3_1',
    '5-RB': 'Residualblocks_5_1',
    '3-DB': 'Denseblocks_3_1',
    '5-DB': 'Denseblocks_5_1',
}
#: the searched N_F (official genotype fusion_M)
SEARCHED = (('Residualblocks_3_1', 'DilConv_3_2'),
            ('Denseblocks_3_1', 'DilConv_3_2'))
#: TIM Table 7 (TNO, full-size networks): MI, VIF, Qabf, params (M), s
PAPER = {
    '3-DC': (3.130, 0.839, 0.412, 0.992, 0.0585),
    '5-DC': (3.087, 0.829, 0.383, 0.997, 0.0963),
    '3-RB': (3.207, 0.874, 0.422, 0.999, 0.0821),
    '5-RB': (3.398, 0.888, 0.458, 1.011, 0.0774),
    '3-DB': (3.465, 0.895, 0.428, 0.924, 0.1951),
    '5-DB': (3.415, 0.869, 0.428, 0.997, 0.3622),
}


def single_op_parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=DOC_SINGLE_OP.split('\n')[0])
    p.add_argument('--data', choices=('toy', 'tno'), default='toy')
    p.add_argument('--toy-num', type=int, default=64,
                   help='toy pairs (a quarter is the held-out val split)')
    p.add_argument('--test-pairs', type=int, default=8,
                   help='held-out TNO pairs (--data tno)')
    p.add_argument('--channels', type=int, default=16)
    p.add_argument('--iters', type=int, default=300)
    p.add_argument('--lr', type=float, default=1e-3)
    p.add_argument('--batch', type=int, default=8)
    p.add_argument('--crop', type=int, default=64)
    p.add_argument('--time-size', type=int, default=128,
                   help='side of the square pair timed')
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--ops', nargs='+', default=list(OPERATORS),
                   choices=list(OPERATORS))
    p.add_argument('--quick', action='store_true',
                   help='20 iterations, 3-DC and 3-RB only, 16 toy pairs')
    args = p.parse_args(argv)
    if args.quick:
        args.iters, args.ops, args.toy_num = 20, ['3-DC', '3-RB'], 16
    return args


def net_cfg(cells: Tuple[Tuple[str, str], Tuple[str, str]],
            channels: int) -> dict:
    """``TIMFusionNet`` with C_MS(cells[0]) then C_SC(cells[1])."""
    return dict(
        type='TIMFusionNet',
        channels=channels,
        in_channels=2,
        cells=[
            dict(type='MultiScaleFusionCell', ops=list(cells[0])),
            dict(type='SuccessiveCell', ops=list(cells[1])),
        ])


def _read_pair(ir_path: str, vi_path: str,
               size: int = 0) -> Tuple[np.ndarray, np.ndarray]:
    out = []
    for path in (ir_path, vi_path):
        img = cv2.imread(path, cv2.IMREAD_GRAYSCALE)
        if img is None:
            raise OSError(f'cannot read {path}')
        if size:
            h, w = img.shape
            scale = size / min(h, w)
            img = cv2.resize(img, (round(w * scale) // 4 * 4,
                                   round(h * scale) // 4 * 4),
                             interpolation=cv2.INTER_AREA)
        out.append(img.astype(np.float32) / 255.0)
    return out[0], out[1]


def load_toy(num: int, folder: str) -> Tuple[List, List]:
    """Generate ``num`` toy pairs at 128 px; (train, val) pair lists."""
    from mmfusenas.testing.toy_data.ivif import generate_toy_dataset
    generate_toy_dataset(folder, num=num, seed=0, size=128)
    splits = {}
    for split in ('train', 'val'):
        with open(osp.join(folder, 'splits', f'{split}.txt')) as f:
            stems = [line.strip() for line in f if line.strip()]
        splits[split] = [
            _read_pair(*(glob.glob(osp.join(folder, m, stem + '.*'))[0]
                         for m in ('ir', 'vi'))) for stem in stems
        ]
    return splits['train'], splits['val']


def load_tno(test_pairs: int) -> Tuple[List, List]:
    """The shared TNO samples at a shorter side of 192; the last
    ``test_pairs`` are held out."""
    folder = osp.join(SHARED, 'TNO')
    pairs = []
    for ir_path in sorted(glob.glob(osp.join(folder, 'ir', '*'))):
        stem = osp.splitext(osp.basename(ir_path))[0]
        (vi_path, ) = glob.glob(osp.join(folder, 'vi', stem + '.*'))
        pairs.append(_read_pair(ir_path, vi_path, size=192))
    if len(pairs) <= test_pairs:
        raise FileNotFoundError(f'{folder}: {len(pairs)} pairs, need more '
                                f'than --test-pairs {test_pairs}')
    return pairs[:-test_pairs], pairs[-test_pairs:]


def batch(pairs, rng, size, crop) -> torch.Tensor:
    """``(size, 2, crop, crop)`` random (ir, vi) crops."""
    out = []
    for i in rng.integers(0, len(pairs), size):
        ir, vi = pairs[i]
        y = rng.integers(0, ir.shape[0] - crop + 1)
        x = rng.integers(0, ir.shape[1] - crop + 1)
        out.append(np.stack([ir[y:y + crop, x:x + crop],
                             vi[y:y + crop, x:x + crop]]))
    return torch.from_numpy(np.stack(out))


def train(cfg: dict, pairs, args) -> Tuple[torch.nn.Module, float]:
    """Train on ℓ_T; returns the network and its last loss."""
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    net = MODELS.build(cfg)
    loss_fn = MODELS.build(
        dict(type='SaliencyWeightedLoss', ssim_weight=1.0, loss_weight=1.0))
    opt = torch.optim.Adam(net.parameters(), lr=args.lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(
        opt, max(args.iters, 1), eta_min=args.lr * 0.01)
    last = float('nan')
    for _ in range(args.iters):
        src = batch(pairs, rng, args.batch, args.crop)
        loss = loss_fn(net(src), src)
        if not torch.isfinite(loss):
            raise FloatingPointError(f'{cfg["cells"]}: non-finite loss')
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        last = loss.item()
    return net.eval(), last


@torch.no_grad()
def evaluate(net, pairs) -> Dict[str, float]:
    rows = []
    for ir, vi in pairs:
        h, w = ir.shape
        src = torch.from_numpy(np.stack([ir, vi]))[None]
        src = torch.nn.functional.pad(src, (0, -w % 4, 0, -h % 4),
                                      mode='replicate')
        fused = net(src)[0, 0, :h, :w].clamp(0, 1).numpy()
        rows.append(compute_fusion_metrics(ir * 255, vi * 255, fused * 255,
                                           preset='cddfuse',
                                           metrics=METRICS))
    return {m: float(np.mean([r[m] for r in rows])) for m in METRICS}


def n_params(net: torch.nn.Module) -> int:
    return sum(p.numel() for p in net.parameters())


@torch.no_grad()
def cpu_time(net, size: int, repeats: int = 5) -> float:
    x = torch.rand(1, 2, size, size)
    net(x)
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        net(x)
        times.append(time.perf_counter() - t)
    return float(np.median(times))


def main_single_op(argv=None) -> Dict:
    args = single_op_parse_args(argv)
    torch.set_num_threads(1)
    start = time.time()
    with tempfile.TemporaryDirectory() as tmp:
        train_pairs, test_pairs = (
            load_toy(args.toy_num, osp.join(tmp, 'toy'))
            if args.data == 'toy' else load_tno(args.test_pairs))
    print(f'{args.data}: {len(train_pairs)} training / {len(test_pairs)} '
          f'held-out pairs; C = {args.channels}, {args.iters} iterations '
          f'x {args.batch} crops of {args.crop} px, l_T only')
    variants = {label: ((OPERATORS[label], ) * 2, (OPERATORS[label], ) * 2)
                for label in args.ops}
    variants['searched N_F'] = SEARCHED
    results = {}
    for label, cells in variants.items():
        t0 = time.time()
        net, last = train(net_cfg(cells, args.channels), train_pairs, args)
        res = evaluate(net, test_pairs)
        res.update(
            params_M=n_params(net) / 1e6,
            params_full_M=n_params(MODELS.build(net_cfg(cells, 48))) / 1e6,
            time_s=cpu_time(net, args.time_size),
            final_loss=last,
            train_s=round(time.time() - t0, 1))
        results[label] = res
        print(f'  {label}: ' + ', '.join(
            f'{k} {v:.4f}' for k, v in res.items()), flush=True)
    print('\n| network | ' + ' | '.join(METRICS) +
          f' | params (M, C={args.channels}) | params (M, C=48) | '
          f'CPU s ({args.time_size} px) | final l_T | paper MI / VIF / Qabf |')
    print('|---' * (len(METRICS) + 6) + '|')
    for label, res in results.items():
        paper = PAPER.get(label)
        paper_s = ('searched: 3.285 / 0.861 / 0.458 (Table 6, IAS)'
                   if paper is None else
                   f'{paper[0]:.3f} / {paper[1]:.3f} / {paper[2]:.3f}')
        vals = ' | '.join(f'{res[m]:.4f}' for m in METRICS)
        print(f'| {label} | {vals} | {res["params_M"]:.4f} | '
              f'{res["params_full_M"]:.3f} | {res["time_s"]:.4f} | '
              f'{res["final_loss"]:.4f} | {paper_s} |')
    summary = dict(args=vars(args), results=results,
                   seconds=round(time.time() - start, 1))
    print('RESULT ' + json.dumps(summary))
    return summary


MODES = {'two_stage': main_two_stage, 'single_op': main_single_op}


def main(argv=None):
    """Run the mode ``--mode`` names (default ``two_stage``)."""
    return run_mode(MODES, argv)


if __name__ == '__main__':
    main()
