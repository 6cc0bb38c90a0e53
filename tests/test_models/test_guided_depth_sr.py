"""GuidedDepthSR losses / predictions and the best-of-m path sampler."""
import glob
import os.path as osp
import random
import types

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

from mmfusenas.models.gisr import DCNASNet, GuidedDepthSR
from mmfusenas.models.mutables import random_choices
from mmfusenas.registry import MODELS
from mmfusenas.search.strategies import BestOfMPathSampler, path_loss

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


class Const(torch.nn.Module):
    """Returns lr_up + c (a network with a known output)."""

    def __init__(self, c):
        super().__init__()
        self.c = torch.nn.Parameter(torch.tensor(float(c)))

    def forward(self, lr_up, rgb):
        return lr_up + self.c


def _batch():
    lr_up = torch.full((1, 1, 2, 2), 0.5)
    gt = torch.tensor([[[[0.0, 150.0], [150.0, 150.0]]]])  # one hole
    return dict(lr_up=lr_up, rgb=torch.zeros(1, 3, 2, 2)), dict(
        gt=gt, gt_norm=(gt - 100) / 100, norm_min=torch.tensor([100.0]),
        norm_max=torch.tensor([200.0]), sample_id=['a'])


def test_losses_hand_computed():
    inputs, samples = _batch()
    # pred_norm = 0.6 -> native 160; |160 - 150| = 10 on the 3 valid pixels
    native = GuidedDepthSR(Const(0.1))
    assert native(inputs, samples, 'loss')['loss'].item() == pytest.approx(
        10.0, rel=1e-5)
    normed = GuidedDepthSR(Const(0.1), loss_space='normalised')
    assert normed(inputs, samples, 'loss')['loss'].item() == pytest.approx(
        0.1, rel=1e-5)
    unmasked = GuidedDepthSR(Const(0.1), mask_invalid=False)
    assert unmasked(inputs, samples, 'loss')['loss'].item() == pytest.approx(
        (3 * 10 + 160) / 4, rel=1e-5)
    pred = native(inputs, samples, 'predict')[0]
    assert torch.allclose(pred['pred_depth'], torch.full((2, 2), 160.0))
    assert torch.allclose(pred['bicubic'], torch.full((2, 2), 150.0))
    with pytest.raises(ValueError, match='loss_space'):
        GuidedDepthSR(Const(0), loss_space='metres')


def test_best_of_m_picks_the_lowest_validation_loss():
    torch.manual_seed(0)
    model = GuidedDepthSR(
        DCNASNet(num_features=4, num_blocks=1), loss_space='normalised')
    inputs, samples = _batch()
    inputs = dict(lr_up=torch.rand(2, 1, 8, 8), rgb=torch.rand(2, 3, 8, 8))
    samples = dict(gt=torch.rand(2, 1, 8, 8) + 1, gt_norm=torch.rand(2, 1, 8,
                                                                    8),
                   norm_min=torch.zeros(2), norm_max=torch.ones(2))
    batch = dict(inputs=inputs, data_samples=samples)
    runner = types.SimpleNamespace(model=model, val_dataloader=[batch],
                                   iter=0)
    sampler = BestOfMPathSampler(m=4, val_batches=1, seed=0)
    sampler.setup(runner)
    rng = random.Random(5)
    cands = [random_choices(sampler.space, rng) for _ in range(4)]
    sampler.band.sample = lambda m: cands
    losses = [path_loss(model, c, [batch]) for c in cands]
    chosen = sampler.sample(runner)
    assert chosen == cands[min(range(4), key=losses.__getitem__)]
    assert model.training  # path_loss restores the mode
    # no optimizer step sees this loss: path_loss refuses a NaN itself
    nan_inputs = dict(inputs, lr_up=torch.full((2, 1, 8, 8), float('nan')))
    with pytest.raises(FloatingPointError,
                       match='path_loss: the loss of path .* is nan'):
        path_loss(model, cands[0], [dict(batch, inputs=nan_inputs)])


def test_every_dcnas_config_builds():
    init_default_scope('mmfusenas')
    files = sorted(glob.glob(osp.join(ROOT, 'configs', 'dcnas', '*.py')))
    assert len(files) >= 30
    for f in files:
        cfg = Config.fromfile(f)
        assert cfg.work_dir.startswith('work_dirs/dcnas_'), f
        if 'toy' in f and cfg.model.network.type == 'DCNASNet':
            MODELS.build(cfg.model)
    sup = MODELS.build(
        Config.fromfile(osp.join(ROOT, 'configs', 'dcnas',
                                 'supernet_nyu_x8.py')).model)
    assert sum(p.numel() for p in sup.parameters()) == 5206328
