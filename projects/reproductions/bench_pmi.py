"""Does the pretext meta-initialisation (PMI) speed up adaptation?

TIM's claim (Fig. 12, Table 9): fine-tuned from the PMI initialisation, a
fusion network reaches a lower loss and a higher VIF faster than from
scratch. This benchmark checks it on our data, on CPU, in a few minutes:

1. PMI (``configs/tim/pmi_fusion.py``, :class:`PMILoop`) on three tasks of
   the shared real data -- IVIF (RoadScene), MRI-CT, MRI-SPECT -- holding
   MRI-PET out;
2. a control with the same budget: plain multi-task pre-training (Adam,
   round robin over the same tasks, as many forward / backward passes as
   PMI made), to separate "meta-learning" from "having seen fusion data";
3. fine-tuning on the held-out MRI-PET train pairs from each initialisation
   and from scratch (same initial weights before pre-training, same seed,
   same batches and crops), with the loss of ``configs/tim/fusion_mri_pet.py``
   (information-preservation + saliency-weighted); at a few steps, the
   validation loss and VIF / MI (preset ``cddfuse``) on held-out MRI-PET
   pairs.

The network is the configs' N_F (official stage-1 genotype) at a reduced
width (``--channels``) so that it runs on a shared CPU.

    python projects/reproductions/bench_pmi.py   # results: docs/methods/pmi.md
    python projects/reproductions/bench_pmi.py --outer-iters 200 --finetune-steps 400
"""
import argparse
import json
import math
import os
import os.path as osp
import tempfile
import time
from typing import Dict, List

import numpy as np
import torch
from mmengine.config import Config
from mmengine.logging import MMLogger
from mmengine.registry import init_default_scope
from mmengine.runner import Runner, set_random_seed

from mmfusenas.engine.runner import with_cached_text
from mmfusenas.evaluation.metrics import FusionMetric
from mmfusenas.registry import MODELS
from mmfusenas.utils.checkpoint import read_checkpoint

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
PMI_CONFIG = osp.join(REPO, 'configs', 'tim', 'pmi_fusion.py')
FINETUNE_CONFIG = osp.join(REPO, 'configs', 'tim', 'fusion_mri_pet.py')
DEFAULT_DATA = osp.join(osp.dirname(REPO), 'shared', 'data', 'fusion')


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument(
        '--data-root',
        default=DEFAULT_DATA,
        help='folder holding RoadScene/, MRI_CT/, MRI_PET/, '
        'MRI_SPECT/')
    parser.add_argument(
        '--channels',
        type=int,
        default=8,
        help='network width C (official 48)')
    parser.add_argument(
        '--outer-iters', type=int, default=60, help='PMI outer iterations')
    parser.add_argument('--inner-steps', type=int, default=4, help='K')
    parser.add_argument('--inner-lr', type=float, default=1e-3)
    parser.add_argument(
        '--outer-lr',
        type=float,
        default=1e-3,
        help='outer Adam lr (paper 1e-4 over a much longer '
        'run)')
    parser.add_argument(
        '--order', choices=['first', 'second'], default='first')
    parser.add_argument('--finetune-steps', type=int, default=150)
    parser.add_argument('--finetune-lr', type=float, default=1e-4,
                        help='Adam lr of the fine-tuning (paper: 1e-4)')
    parser.add_argument('--eval-every', type=int, default=25)
    parser.add_argument(
        '--val-pairs',
        type=int,
        default=12,
        help='MRI-PET pairs held out for validation (the '
        'last ones by stem)')
    parser.add_argument('--batch-size', type=int, default=4)
    parser.add_argument('--crop', type=int, default=64)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument(
        '--threads', type=int, default=1, help='torch intra-op threads')
    parser.add_argument('--work-dir', help='defaults to a temporary folder')
    return parser.parse_args()


def loader_cfg(data_root: str,
               modalities: dict,
               ann_file: str,
               pipeline: list,
               batch_size: int,
               train: bool = True) -> dict:
    sampler = dict(type='InfiniteSampler', shuffle=True) if train else \
        dict(type='DefaultSampler', shuffle=False)
    return dict(
        batch_size=batch_size,
        num_workers=0,
        persistent_workers=False,
        sampler=sampler,
        dataset=dict(
            type='PairedImageDataset',
            data_root=data_root,
            data_prefix=modalities,
            ann_file=ann_file,
            test_mode=not train,
            pipeline=pipeline))


def write_split(work_dir: str, data_root: str, val_pairs: int) -> tuple:
    stems = sorted(
        osp.splitext(f)[0] for f in os.listdir(osp.join(data_root, 'MRI')))
    if len(stems) <= val_pairs:
        raise ValueError(f'{data_root} has {len(stems)} pairs; need more '
                         f'than --val-pairs {val_pairs}')
    paths = []
    for name, part in (('train', stems[:-val_pairs]), ('val',
                                                       stems[-val_pairs:])):
        path = osp.join(work_dir, f'mri_pet_{name}.txt')
        with open(path, 'w') as f:
            f.write('\n'.join(part) + '\n')
        paths.append(path)
    return tuple(paths) + (len(stems) - val_pairs, val_pairs)


def pretrain_tasks(args) -> List[tuple]:
    """(name, data_root, modalities) of the pre-training tasks."""
    root = args.data_root
    return [
        ('ivif', osp.join(root, 'RoadScene'), dict(ir='ir', vi='vi')),
        ('mri_ct', osp.join(root, 'MRI_CT'), dict(mri='MRI', ct='CT')),
        ('mri_spect', osp.join(root,
                               'MRI_SPECT'), dict(mri='MRI', spect='SPECT')),
    ]


def run_pmi(args, work_dir: str, init_state: dict, pipeline) -> tuple:
    """PMILoop through an MMEngine Runner; returns (state, seconds)."""
    cfg = Config.fromfile(PMI_CONFIG)
    cfg.model.fusion_net.channels = args.channels
    tasks = pretrain_tasks(args)
    loaders = [
        loader_cfg(root, mods, '', pipeline, args.batch_size)
        for _, root, mods in tasks
    ]
    cfg.train_dataloader = loaders[0]
    cfg.train_cfg.tasks = [dict(name=tasks[0][0])] + [
        dict(name=name, dataloader=ld)
        for (name, _, _), ld in zip(tasks[1:], loaders[1:])
    ]
    cfg.train_cfg.update(
        max_iters=args.outer_iters,
        inner_steps=args.inner_steps,
        inner_lr=args.inner_lr,
        order=args.order)
    cfg.optim_wrapper.optimizer.lr = args.outer_lr
    cfg.default_hooks.checkpoint.interval = 10**9
    cfg.default_hooks.logger.interval = max(1, args.outer_iters // 6)
    cfg.work_dir = osp.join(work_dir, 'pmi')
    cfg.randomness = dict(seed=args.seed)
    cfg.log_level = 'WARNING'
    # start from the same weights as the other variants
    cfg.load_from = osp.join(work_dir, 'scratch.pth')
    torch.save(dict(state_dict=init_state), cfg.load_from)
    runner = Runner.from_cfg(with_cached_text(cfg))
    start = time.time()
    runner.train()
    seconds = time.time() - start
    state = read_checkpoint(osp.join(cfg.work_dir, 'pmi_init.pth'))[
        'state_dict']
    return state, seconds


def run_joint(args, init_state: dict, pipeline) -> tuple:
    """Multi-task pre-training with PMI's number of forward/backward passes."""
    set_random_seed(args.seed)
    cfg = Config.fromfile(PMI_CONFIG)
    cfg.model.fusion_net.channels = args.channels
    model = MODELS.build(cfg.model)
    model.load_state_dict(init_state)
    model.train()
    tasks = pretrain_tasks(args)
    iters = [
        iter(
            Runner.build_dataloader(
                loader_cfg(root, mods, '', pipeline, args.batch_size),
                seed=args.seed)) for _, root, mods in tasks
    ]
    optimizer = torch.optim.Adam(model.parameters(), lr=args.inner_lr)
    steps = args.outer_iters * len(tasks) * (args.inner_steps + 1)
    start = time.time()
    for step in range(steps):
        data = model.data_preprocessor(next(iters[step % len(iters)]), True)
        loss, _ = model.parse_losses(model(**data, mode='loss'))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return model.state_dict(), time.time() - start, steps


@torch.no_grad()
def evaluate(model, val_loader) -> Dict[str, float]:
    """Validation loss (the fine-tuning objective) and VIF / MI."""
    model.eval()
    metric = FusionMetric('cddfuse', ['VIF', 'MI'])
    losses, weights = [], []
    for batch in val_loader:
        data = model.data_preprocessor(batch, False)
        loss, _ = model.parse_losses(model(**data, mode='loss'))
        losses.append(loss.item())
        weights.append(len(batch['data_samples']))
        samples = model(**data, mode='predict')
        metric.process(None, [s.cpu() for s in samples])
    model.train()
    res = {
        k: float(np.mean([r[k] for r in metric.results]))
        for k in ('VIF', 'MI')
    }
    res['val_loss'] = float(np.average(losses, weights=weights))
    return res


def finetune(args, state: dict, train_cfg: dict, val_loader) -> dict:
    """Fine-tune from ``state``; returns {step: metrics} and timings."""
    set_random_seed(args.seed)  # same batches, crops and flips for all
    cfg = Config.fromfile(FINETUNE_CONFIG)
    cfg.model.fusion_net.channels = args.channels
    model = MODELS.build(cfg.model)
    model.load_state_dict(state)
    model.train()
    loader = iter(Runner.build_dataloader(train_cfg, seed=args.seed))
    optimizer = torch.optim.Adam(model.parameters(), lr=args.finetune_lr)
    curve, window = {}, []
    for step in range(args.finetune_steps + 1):
        if step % args.eval_every == 0 or step == args.finetune_steps:
            curve[step] = evaluate(model, val_loader)
            curve[step]['train_loss'] = (
                float(np.mean(window)) if window else float('nan'))
            window = []
        if step == args.finetune_steps:
            break
        data = model.data_preprocessor(next(loader), True)
        loss, _ = model.parse_losses(model(**data, mode='loss'))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        window.append(loss.item())
    return curve


def print_table(curves: Dict[str, dict], steps: List[int]) -> None:
    names = list(curves)
    cols = ['val_loss', 'VIF', 'MI']
    head = f"{'step':>5} | " + ' | '.join(f'{n:^26}' for n in names)
    sub = f"{'':>5} | " + ' | '.join(' '.join(f'{c:>8}' for c in cols)
                                     for _ in names)
    print(head)
    print(sub)
    print('-' * len(sub))
    for step in steps:
        row = ' | '.join(' '.join(f'{curves[n][step][c]:8.4f}' for c in cols)
                         for n in names)
        print(f'{step:>5} | {row}')
    print('\ntrain loss (mean over the preceding steps):')
    print(f"{'step':>5} | " + ' | '.join(f'{n:>10}' for n in names))
    for step in steps[1:]:
        print(f'{step:>5} | ' +
              ' | '.join(f'{curves[n][step]["train_loss"]:10.4f}'
                         for n in names))


def steps_to_reach(curve: dict, target: float, key: str, higher: bool) -> str:
    for step in sorted(curve):
        value = curve[step][key]
        if (value >= target) if higher else (value <= target):
            return str(step)
    return 'never'


def main() -> None:
    args = parse_args()
    torch.set_num_threads(args.threads)
    init_default_scope('mmfusenas')
    MMLogger.get_instance('mmengine', log_level='WARNING')
    for sub in ('RoadScene', 'MRI_CT', 'MRI_PET', 'MRI_SPECT'):
        if not osp.isdir(osp.join(args.data_root, sub)):
            raise FileNotFoundError(
                f'{osp.join(args.data_root, sub)} not found; set --data-root'
                ' to the folder of the shared fusion data')
    work_dir = args.work_dir or tempfile.mkdtemp(prefix='bench_pmi_')
    os.makedirs(work_dir, exist_ok=True)
    train_pipeline = Config.fromfile(PMI_CONFIG).train_pipeline
    train_pipeline[1]['crop_size'] = (args.crop, args.crop)
    test_pipeline = [
        dict(type='LoadPairedImages'),
        dict(type='PackFusionInputs')
    ]
    pet_root = osp.join(args.data_root, 'MRI_PET')
    train_split, val_split, n_train, n_val = write_split(
        work_dir, pet_root, args.val_pairs)
    pet = dict(mri='MRI', pet='PET')
    ft_train = loader_cfg(pet_root, pet, train_split, train_pipeline,
                          args.batch_size)
    val_loader = Runner.build_dataloader(
        loader_cfg(pet_root, pet, val_split, test_pipeline, 4, train=False))

    set_random_seed(args.seed)
    cfg = Config.fromfile(FINETUNE_CONFIG)
    cfg.model.fusion_net.channels = args.channels
    scratch = MODELS.build(cfg.model).state_dict()

    print(f'PMI on ivif (RoadScene) + mri_ct + mri_spect, held-out '
          f'mri_pet ({n_train} train / {n_val} val pairs); N_F (fusion_M) '
          f'at C={args.channels}; {args.crop}x{args.crop} patches, batch '
          f'{args.batch_size}; seed {args.seed}')
    pmi_state, pmi_s = run_pmi(args, work_dir, scratch, train_pipeline)
    print(f'PMI: {args.outer_iters} outer iterations, K={args.inner_steps}, '
          f'inner Adam lr {args.inner_lr}, outer Adam lr {args.outer_lr}, '
          f'order {args.order}: {pmi_s:.0f} s')
    joint_state, joint_s, joint_steps = run_joint(args, scratch,
                                                  train_pipeline)
    print(f'joint pre-training (control): {joint_steps} Adam steps, lr '
          f'{args.inner_lr}, round robin: {joint_s:.0f} s')

    curves = {}
    for name, state in (('scratch', scratch), ('joint pre-train', joint_state),
                        ('PMI', pmi_state)):
        start = time.time()
        curves[name] = finetune(args, state, ft_train, val_loader)
        print(f'fine-tune from {name}: {args.finetune_steps} Adam steps, lr '
              f'{args.finetune_lr}: {time.time() - start:.0f} s')
    steps = sorted(curves['scratch'])
    print(f'\nHeld-out MRI-PET validation ({n_val} pairs) during '
          'fine-tuning:')
    print_table(curves, steps)
    final = curves['scratch'][steps[-1]]
    print(f'\nsteps to reach the final scratch value (val loss '
          f'{final["val_loss"]:.4f} / VIF {final["VIF"]:.4f}):')
    for name, curve in curves.items():
        print(f'  {name:>16}: val loss at step '
              f'{steps_to_reach(curve, final["val_loss"], "val_loss", False)}'
              f', VIF at step '
              f'{steps_to_reach(curve, final["VIF"], "VIF", True)}')
    if any(math.isnan(c[s]['VIF']) for c in curves.values() for s in steps):
        print('note: NaN VIF values (constant fused images) are reported as '
              'is')
    print('RESULT ' + json.dumps(
        dict(steps=steps,
             curves={name: {str(s): curve[s] for s in steps}
                     for name, curve in curves.items()}),
        default=float))


if __name__ == '__main__':
    main()
