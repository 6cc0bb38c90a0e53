"""Bilevel loops, search hooks and configs, end to end on toy data.

* ``tools/train.py configs/tim/search_fusion_ivif_toy.py`` on 8 generated
  toy pairs (2 epochs, 16x16 patches): genotype export, α in the
  checkpoint, bit-exact resume, retraining the exported genotype with
  ``configs/tim/retrain_fusion_ivif_toy.py`` and fusing a real TNO pair;
* the loops with a model that records what it is given: alternating loader
  pairs, lazily drawn and cycling architecture batches, iteration-based
  resume.
"""
import glob
import importlib.util
import json
import os
import os.path as osp
from types import SimpleNamespace

import pytest
import torch
import torch.nn as nn
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.hooks import Hook
from mmengine.model import BaseModel
from mmengine.optim import OptimWrapper
from mmengine.runner import Runner
from torch.utils.data import DataLoader

from mmfusenas.datasets import PairedImageDataset
from mmfusenas.engine import (ArchLoggingHook, BilevelEpochBasedTrainLoop,
                              GenotypeExportHook)
from mmfusenas.models.mutables import DiffMixedOp, Genotype
from mmfusenas.models.ops import build_tim_op
from mmfusenas.registry import MODELS

# one intra-op thread: tiny tensors lose to threads on a shared CPU
pytestmark = pytest.mark.usefixtures('one_thread')

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
SEARCH = osp.join(REPO, 'configs', 'tim', 'search_fusion_ivif_toy.py')
RETRAIN = osp.join(REPO, 'configs', 'tim', 'retrain_fusion_ivif_toy.py')
CELL_TYPES = dict(
    sc='SuccessiveCell', ms='MultiScaleFusionCell', dc='DecompositionCell')


def stems(toy_root, split):
    with open(osp.join(toy_root, 'splits', f'{split}.txt')) as f:
        return sorted(line.strip() for line in f if line.strip())


def load_train_tool():
    spec = importlib.util.spec_from_file_location(
        'tool_train', osp.join(REPO, 'tools', 'train.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def search_args(toy_root, work_dir, *extra):
    opts = [
        'train_cfg.max_epochs=2', 'model.arch_update_interval=2',
        'default_hooks.logger.interval=1', 'log_processor.window_size=1'
    ]
    for loaders in ('train_dataloader', 'train_cfg.arch_dataloader'):
        for i in (0, 1):
            opts += [
                f'{loaders}.{i}.dataset.data_root={toy_root}',
                f'{loaders}.{i}.batch_size=2',
                f'{loaders}.{i}.dataset.pipeline.1.crop_size=[16,16]'
            ]
    # the loop mechanics on the 6 train / 2 val pairs of the tiny toy set
    # (the config's search halves of train would give 3 / 3)
    for i in (0, 1):
        opts += [
            f'train_dataloader.{i}.dataset.ann_file=splits/train.txt',
            f'train_cfg.arch_dataloader.{i}.dataset.ann_file=splits/val.txt'
        ]
    return [SEARCH, '--work-dir', work_dir, *extra, '--cfg-options', *opts]


def scalars(work_dir):
    (path, ) = glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json'))
    with open(path) as f:
        return [json.loads(line) for line in f]


@pytest.fixture(scope='module')
def searched(toy_root, tmp_path_factory):
    """Work dir of a 2-epoch toy search (3 iterations per epoch)."""
    work_dir = str(tmp_path_factory.mktemp('search'))
    load_train_tool().main(search_args(toy_root, work_dir))
    return work_dir


def test_search_exports_genotypes_logs_alpha_and_checkpoints_it(searched):
    folder = osp.join(searched, 'genotypes')
    assert sorted(os.listdir(folder)) == [
        'epoch_1.yaml', 'epoch_2.yaml', 'latest.yaml'
    ]  # no temporary files left behind
    latest = Genotype.load(osp.join(folder, 'latest.yaml'))
    assert latest.to_dict() == Genotype.load(osp.join(
        folder, 'epoch_2.yaml')).to_dict()
    assert latest.meta == dict(
        strategy='IASStrategy',
        space_path='fusion_net',
        train_steps=6,
        epoch=2,
        iter=6)
    assert set(latest.choices) == {'cell0', 'cell1'} | {
        f'cell{p}/{c}/op{e}'
        for p in (0, 1)
        for c in CELL_TYPES
        for e in (0, 1)
    }
    # softmax(α) of every key after every epoch, at the loss logs' steps
    arch_logs = [r for r in scalars(searched) if 'arch/cell0/sc' in r]
    assert [r['step'] for r in arch_logs] == [3, 6]
    probs = [arch_logs[-1][f'arch/cell1/{c}'] for c in CELL_TYPES]
    assert sum(probs) == pytest.approx(1.0)
    assert arch_logs[-1]['arch/cell1/sc'] == pytest.approx(
        latest.probabilities['cell1']['sc'])

    ckpt = torch.load(osp.join(searched, 'epoch_1.pth'))
    assert ckpt['state_dict']['arch_params.alphas.cell0'].shape == (3, )
    assert int(ckpt['state_dict']['train_step_count']) == 3
    assert set(ckpt['optimizer']) == {'weights', 'arch'}
    # α took one Adam step in epoch 1 (step 2 of 3, T = 2)
    adam_state = ckpt['optimizer']['arch']['state']
    assert adam_state and all(s['step'] == 1 for s in adam_state.values())


def test_resumed_search_continues_bit_exactly(searched, toy_root, tmp_path):
    resumed = str(tmp_path / 'resumed')
    load_train_tool().main(
        search_args(toy_root, resumed, '--resume',
                    osp.join(searched, 'epoch_1.pth')))
    keys = ('loss', 'loss_int', 'loss_grad', 'upper_loss', 'hypergrad_norm')

    def losses(work_dir):
        return {
            r['step']: tuple(r.get(k) for k in keys)
            for r in scalars(work_dir) if 'loss' in r
        }

    ref, again = losses(searched), losses(resumed)
    assert sorted(again) == [4, 5, 6]
    for step in (4, 5, 6):
        assert again[step] == ref[step]  # bit-exact, not approximately
    state_a = torch.load(osp.join(searched, 'epoch_2.pth'))['state_dict']
    state_b = torch.load(osp.join(resumed, 'epoch_2.pth'))['state_dict']
    assert state_a.keys() == state_b.keys()
    for key, value in state_a.items():  # α, weights, BN statistics, ...
        if isinstance(value, torch.Tensor):
            assert torch.equal(value, state_b[key]), key
        else:  # the candidate names saved with α
            assert value == state_b[key], key
    genotypes = [
        Genotype.load(osp.join(w, 'genotypes', 'latest.yaml')).to_dict()
        for w in (searched, resumed)
    ]
    assert genotypes[0] == genotypes[1]


def test_exported_genotype_retrains_and_fuses_a_tno_pair(
        searched, shared_data):
    path = osp.join(searched, 'genotypes', 'latest.yaml')
    cfg = Config.fromfile(RETRAIN)
    cfg.merge_from_dict({'model.fusion_net.genotype': path})
    model = MODELS.build(cfg.model)
    net, choices = model.fusion_net, Genotype.load(path).choices

    # the rebuilt network is the fixed network of the choices
    assert not any(isinstance(m, DiffMixedOp) for m in net.modules())
    assert net.stem[0].conv.out_channels == 16  # 2C, C = 8
    for p, cell in enumerate(net.cells):
        kind = choices[f'cell{p}']
        assert type(cell).__name__ == CELL_TYPES[kind]
        chain = cell.ops_low if kind == 'dc' else cell.ops
        for e, edge in enumerate(chain):
            expected = build_tim_op(choices[f'cell{p}/{kind}/op{e}'], 8)
            assert type(edge) is type(expected)

    # one training step
    optim_wrapper = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.1))
    before = [p.detach().clone() for p in model.parameters()]
    log = model.train_step(
        dict(inputs=torch.rand(2, 2, 16, 16)), optim_wrapper)
    assert torch.isfinite(log['loss'])
    assert any(not torch.equal(a, b)
               for a, b in zip(before, model.parameters()))

    # fuse a real IR/VIS pair (TNO) at full size
    dataset = PairedImageDataset(
        data_root=osp.join(shared_data, 'fusion', 'TNO'),
        data_prefix=dict(ir='ir', vi='vi'),
        pipeline=cfg.test_pipeline,
        indices=[0])
    model.eval()
    (sample, ) = model.test_step(pseudo_collate([dataset[0]]))
    height, width = sample.ori_shape
    assert sample.pred_fused.shape == (1, height, width)
    assert torch.isfinite(sample.pred_fused).all()


class RecordingModel(BaseModel):
    """Records the batches of every train step; α is due on the steps in
    ``due`` (a saved counter, like the search algorithm's)."""

    def __init__(self, due):
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(()))
        self.register_buffer('count', torch.zeros((), dtype=torch.long))
        self.due = set(due)
        self.calls = []

    @property
    def arch_step_due(self):
        return int(self.count) in self.due

    @staticmethod
    def describe(batch):
        if batch is None:
            return None
        samples = batch['data_samples']
        return tuple(samples[0].modalities), [s.stem for s in samples]

    def train_step(self, data, optim_wrapper):
        self.calls.append((int(self.count), self.describe(data['train']),
                           self.describe(data.get('val'))))
        self.count += 1
        return dict(loss=self.weight.detach())

    def forward(self, *args, **kwargs):
        raise NotImplementedError


def loader(toy_root, split, order, batch_size, infinite=False):
    return dict(
        batch_size=batch_size,
        num_workers=0,
        sampler=dict(
            type='InfiniteSampler' if infinite else 'DefaultSampler',
            shuffle=True),
        dataset=dict(
            type='PairedImageDataset',
            data_root=toy_root,
            data_prefix={m: m
                         for m in order},
            ann_file=f'splits/{split}.txt',
            pipeline=[
                dict(type='LoadPairedImages'),
                dict(type='PackFusionInputs')
            ]))


def runner(model, work_dir, train_dataloader, train_cfg, **kwargs):
    return Runner(
        model=model,
        work_dir=str(work_dir),
        train_dataloader=train_dataloader,
        train_cfg=train_cfg,
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.1)),
        default_scope='mmfusenas',
        default_hooks=kwargs.pop('default_hooks', dict(checkpoint=None)),
        randomness=dict(seed=0),
        **kwargs)


def test_epoch_loop_alternates_pairs_and_draws_arch_batches_lazily(
        toy_root, tmp_path):
    train, val = stems(toy_root, 'train'), stems(toy_root, 'val')
    ivif, swapped = ('ir', 'vi'), ('vi', 'ir')
    # pair 0: weights on train (3 batches), α on val (2 batches of 1)
    # pair 1: weights on val (2 batches), α on train, sources swapped
    model = RecordingModel(due={0, 1, 2, 4, 6})
    run = runner(
        model, tmp_path, [
            loader(toy_root, 'train', ivif, 2),
            loader(toy_root, 'val', swapped, 1)
        ],
        dict(
            type='BilevelEpochBasedTrainLoop',
            max_epochs=3,
            arch_dataloader=[
                loader(toy_root, 'val', ivif, 1),
                loader(toy_root, 'train', swapped, 2)
            ]))
    run.train()
    assert run.train_loop.max_iters == 3 + 2 + 3
    calls = model.calls
    assert [c[0] for c in calls] == list(range(8))
    epochs = [calls[0:3], calls[3:5], calls[5:8]]
    for epoch, (order, split) in zip(epochs, [(ivif, train), (swapped, val),
                                              (ivif, train)]):
        assert all(c[1][0] == order for c in epoch)
        assert sorted(s for c in epoch for s in c[1][1]) == split
    # α batches only on the due steps, from the epoch's pair
    assert [c[0] for c in calls if c[2] is not None] == [0, 1, 2, 4, 6]
    arch = {c[0]: c[2] for c in calls if c[2] is not None}
    assert {arch[k][0] for k in (0, 1, 2, 6)} == {ivif}
    assert arch[4][0] == swapped and set(arch[4][1]) <= set(train)
    # the 2-batch α loader of epoch 0 is exhausted and cycles
    assert sorted(arch[0][1] + arch[1][1]) == val
    assert arch[2] == arch[0]
    assert run.train_loop.arch_dataloaders[0].sampler.epoch == 2


def test_iter_loop_resume_continues_both_data_streams(toy_root, tmp_path):
    ivif = ('ir', 'vi')

    def search(work_dir, **kwargs):
        model = RecordingModel(due={1, 3, 4, 5})
        run = runner(
            model,
            work_dir,
            loader(toy_root, 'train', ivif, 2, infinite=True),
            dict(
                type='BilevelIterBasedTrainLoop',
                max_iters=6,
                arch_dataloader=loader(
                    toy_root, 'val', ivif, 1, infinite=True)),
            default_hooks=dict(
                checkpoint=dict(
                    type='CheckpointHook', interval=3, by_epoch=False)),
            **kwargs)
        run.train()
        return model.calls

    full = search(tmp_path / 'full')
    resumed = search(
        tmp_path / 'resumed',
        load_from=str(tmp_path / 'full' / 'iter_3.pth'),
        resume=True)
    assert [c[0] for c in resumed] == [3, 4, 5]
    assert resumed == full[3:]
    assert [c[0] for c in full if c[2] is not None] == [1, 3, 4, 5]


def test_loop_and_hook_errors_are_clear():
    fake_runner = SimpleNamespace(model=nn.Linear(1, 1))
    with pytest.raises(ValueError, match='arch_dataloader 0.*is empty'):
        BilevelEpochBasedTrainLoop(fake_runner, DataLoader([1, 2]),
                                   DataLoader([]), 1)
    with pytest.raises(ValueError, match='lists of the same'):
        BilevelEpochBasedTrainLoop(fake_runner, [DataLoader([1])] * 2,
                                   [DataLoader([1])], 1)
    not_a_search = SimpleNamespace(model=nn.Linear(1, 1))
    with pytest.raises(TypeError, match='needs a search algorithm'):
        ArchLoggingHook().log_arch(not_a_search)
    with pytest.raises(TypeError, match='needs a search algorithm'):
        GenotypeExportHook().export(not_a_search, None, 0, 0)
    with pytest.raises(ValueError, match='file_format'):
        GenotypeExportHook(file_format='txt')


class SwitchOnHook(Hook):
    """Switches the α steps on from iteration ``start`` in
    ``before_train_iter``, as an iteration-based ``ArchScheduleHook`` ending
    a weights-only warm-up does."""

    def __init__(self, start):
        self.start = start

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        runner.model.due = set(range(self.start, 10**6)) \
            if runner.iter >= self.start else set()


def test_iter_loop_draws_the_arch_batch_a_hook_switched_on(
        toy_root, tmp_path):
    # the loop asks arch_step_due before the hooks run; a hook that turns
    # the α steps on for this very iteration must still get its α batch
    model = RecordingModel(due=set())
    run = runner(
        model,
        tmp_path,
        loader(toy_root, 'train', ('ir', 'vi'), 2, infinite=True),
        dict(
            type='BilevelIterBasedTrainLoop',
            max_iters=5,
            arch_dataloader=loader(
                toy_root, 'val', ('ir', 'vi'), 1, infinite=True)),
        custom_hooks=[SwitchOnHook(start=2)])
    run.train()
    assert [c[0] for c in model.calls if c[2] is not None] == [2, 3, 4]
    assert [c[0] for c in model.calls if c[2] is None] == [0, 1]
    assert run.message_hub.get_info('bilevel_arch_batches') == 3


def test_iter_loop_counts_arch_batches_from_zero_in_a_shared_hub(
        toy_root, tmp_path):
    # a fresh run whose MessageHub already holds a count (mmengine names a
    # hub after the second its runner was built, so two runners of one
    # process built in the same second share it) counts its own 3 alpha
    # batches, not 7 + 3, so its checkpoints resume at the right alpha batch
    run = runner(
        RecordingModel(due={2, 3, 4}), tmp_path,
        loader(toy_root, 'train', ('ir', 'vi'), 2, infinite=True),
        dict(type='BilevelIterBasedTrainLoop', max_iters=5,
             arch_dataloader=loader(
                 toy_root, 'val', ('ir', 'vi'), 1, infinite=True)))
    run.message_hub.update_info('bilevel_arch_batches', 7)
    run.train()
    assert run.message_hub.get_info('bilevel_arch_batches') == 3
