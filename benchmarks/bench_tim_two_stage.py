"""TIM's two-stage chain on real pairs: N_F -> N_T search -> joint training,
against the official architectures and N_F alone (Sec. 4.2, Tables 1-2).

Runs the real configs of ``configs/tim/`` through ``tools/train.py`` (one
process per step, as a user would), at a budget this machine can afford,
and scores every result with ``FusionMetric`` on held-out pairs:

1. **N_F** (``fusion_<task>.py``): ``--nf-iters + --joint-iters``
   iterations; checkpoint and validation after ``--nf-iters`` (the stage-1
   network of the chain) and at the end (**N_F alone**, the same number of
   training steps as N_F + joint training);
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
saving. Each generated config is a complete config (``Config.dump``), so a
step can be re-run alone with ``python tools/train.py <it> --work-dir ...``.

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
import subprocess
import sys
import time
from typing import Dict, List

from mmengine.config import Config

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
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


def _loader(loader: dict, root, prefix, ann, batch=None, crop=None) -> None:
    loader['num_workers'] = 0
    loader['persistent_workers'] = False
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
            args.crop)
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
    cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=total,
                         val_interval=args.nf_iters)
    cfg.default_hooks.checkpoint = dict(
        type='CheckpointHook', interval=args.nf_iters, by_epoch=False)
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
            args.batch, args.crop)
    _loader(cfg.train_cfg.arch_dataloader, root, prefix,
            splits['search_arch'], args.batch, args.crop)
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


def train(cfg: Config, work: str, name: str, dry: bool) -> str:
    """Dump ``cfg`` and run ``tools/train.py`` on it; returns the step's
    work dir."""
    os.makedirs(osp.join(work, 'configs'), exist_ok=True)
    path = osp.join(work, 'configs', name + '.py')
    cfg.dump(path)
    step_dir = osp.join(work, name)
    cmd = [sys.executable, osp.join(REPO, 'tools', 'train.py'), path,
           '--work-dir', step_dir]
    print('$ ' + ' '.join(cmd), flush=True)
    if not dry:
        start = time.time()
        with open(osp.join(work, name + '.log'), 'w') as log:
            ret = subprocess.run(cmd, cwd=REPO, stdout=log,
                                 stderr=subprocess.STDOUT)
        if ret.returncode:
            raise RuntimeError(f'step {name} failed (exit {ret.returncode}), '
                               f'see {osp.join(work, name + ".log")}')
        print(f'  {name}: {time.time() - start:.0f} s', flush=True)
    return step_dir


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
    start = time.time()
    task = TASKS[args.task]
    work = osp.abspath(args.work_dir or osp.join(
        REPO, 'work_dirs', 'bench_tim_two_stage', args.task))
    os.makedirs(work, exist_ok=True)
    root = osp.abspath(osp.join(args.data, task['folder'])) + '/'
    splits = write_splits(args, work)
    prefix = task['prefix']

    nf_dir = train(nf_config(args, root, prefix, splits), work, 'nf',
                   args.dry_run)
    stage1 = osp.join(nf_dir, f'iter_{args.nf_iters}.pth')
    search_dir = train(search_config(args, root, prefix, splits, stage1),
                       work, 'search', args.dry_run)
    genotype = osp.join(search_dir, 'genotypes', 'latest.yaml')
    joint_dir = train(
        joint_config(args, root, prefix, splits, stage1,
                     dict(type='GenotypeNet', genotype=genotype)), work,
        'joint_searched', args.dry_run)
    official_dir = train(
        joint_config(args, root, prefix, splits, stage1,
                     official_stage2(args)), work, 'joint_official',
        args.dry_run)
    if args.dry_run:
        return {}
    nf = val_results(nf_dir)
    results = dict(
        zip(ROWS, [nf[0], nf[-1],
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
        seconds=round(time.time() - start, 1))
    print('RESULT ' + json.dumps(summary))
    return summary


if __name__ == '__main__':
    main()
