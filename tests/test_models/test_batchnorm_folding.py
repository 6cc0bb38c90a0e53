"""BatchNorm folding: hand-computed values, what is and is not folded, and
equality with the unfolded official TIM networks on shared TNO images."""
import os.path as osp

import cv2
import numpy as np
import pytest
import torch
import torch.nn as nn
from mmengine.config import Config

from mmfusenas.models.ops import ReflectPadConv2d, StatsBatchNorm2d
from mmfusenas.models.ops.task_ops import TaskConv
from mmfusenas.models.utils.batchnorm_folding import (fold_batchnorm,
                                                      fold_conv_bn_)
from mmfusenas.registry import MODELS
from helpers import REPO_ROOT

pytestmark = pytest.mark.usefixtures('one_thread')


def test_fold_hand_computed():
    """1 -> 2 channel 1x1 conv: W' = s W, b' = s (b - mean) + beta."""
    conv = nn.Conv2d(1, 2, 1)
    bn = nn.BatchNorm2d(2, eps=0.0).eval()
    with torch.no_grad():
        conv.weight.copy_(torch.tensor([2., -1.]).view(2, 1, 1, 1))
        conv.bias.copy_(torch.tensor([1., 3.]))
        bn.running_mean.copy_(torch.tensor([1., 1.]))
        bn.running_var.copy_(torch.tensor([4., 0.25]))
        bn.weight.copy_(torch.tensor([3., 1.]))
        bn.bias.copy_(torch.tensor([0.5, -2.]))
    fold_conv_bn_(conv, bn)
    # s = gamma / sqrt(var) = [1.5, 2]
    assert conv.weight.flatten().tolist() == [3.0, -2.0]
    # b' = s (b - mean) + beta = [1.5 * 0 + 0.5, 2 * 2 - 2]
    assert conv.bias.tolist() == [0.5, 2.0]


def test_fold_adds_bias_and_keeps_outputs():
    torch.manual_seed(0)
    net = nn.Sequential(
        nn.ReLU(), nn.Conv2d(3, 4, 3, padding=1, bias=False),
        nn.BatchNorm2d(4), nn.Conv2d(4, 4, 3, groups=4, bias=False),
        nn.BatchNorm2d(4), nn.PReLU())
    for m in net.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.uniform_(-1, 1)
            m.running_var.uniform_(0.5, 2)
            m.weight.data.uniform_(0.5, 2)
            m.bias.data.uniform_(-1, 1)
    net.eval()
    x = torch.randn(2, 3, 9, 11)
    with torch.no_grad():
        ref = net(x)
    report = fold_batchnorm(net)
    assert report.folded == ['1 <- 2', '3 <- 4'] and report.skipped == []
    assert isinstance(net[2], nn.Identity) and isinstance(net[4], nn.Identity)
    assert not any(isinstance(m, nn.BatchNorm2d) for m in net.modules())
    assert net[1].bias is not None and net[3].bias is not None
    with torch.no_grad():
        torch.testing.assert_close(net(x), ref, rtol=0, atol=1e-6)


@torch.no_grad()
def random_statistics_(net):
    """Non-trivial running statistics of every BN; eval mode."""
    for m in net.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.uniform_(-1, 1)
            m.running_var.uniform_(0.5, 2)
    net.eval()


def test_declared_structures_are_folded():
    """``bn_fold_conv`` wrappers in a Sequential and ``conv_bn_pairs``."""
    torch.manual_seed(1)
    net = nn.Sequential(
        ReflectPadConv2d(2, 4, 3), nn.BatchNorm2d(4), nn.PReLU(),
        TaskConv(4, 3, residual=True))
    random_statistics_(net)
    x = torch.randn(1, 2, 8, 8)
    with torch.no_grad():
        ref = net(x)
    report = fold_batchnorm(net)
    assert report.folded == ['0 <- 1', '3.conv <- 3.bn']
    assert isinstance(net[3].bn, nn.Identity)
    with torch.no_grad():
        torch.testing.assert_close(net(x), ref, rtol=0, atol=1e-6)


def test_unfoldable_batchnorms_are_listed_not_folded():
    net = nn.Sequential(
        nn.Conv2d(3, 3, 1), nn.BatchNorm2d(3),  # train mode: batch stats
        nn.ReLU(), nn.BatchNorm2d(3),  # no conv before it
        nn.Conv2d(3, 3, 1),
        StatsBatchNorm2d(3, test_stats='per_image'),  # other eval stats
        nn.Conv2d(3, 3, 1), nn.BatchNorm2d(3, track_running_stats=False))
    net[3].eval()
    net[5].eval()
    net[7].eval()
    report = fold_batchnorm(net)
    assert report.folded == []
    assert [s.split(':')[0] for s in report.skipped] == ['1', '3', '5', '7']
    assert 'training mode' in report.skipped[0]
    assert 'no conv directly before it' in report.skipped[1]
    assert 'StatsBatchNorm2d is not a plain BatchNorm' in report.skipped[2]
    assert 'does not declare folds_as_batchnorm' in report.skipped[2]
    assert 'no running statistics' in report.skipped[3]
    assert 'not folded (4)' in str(report)


def test_registration_order_is_not_a_pair():
    """A conv registered before a BN that runs first is no pair (mmcv's
    ``fuse_conv_bn`` would fold it and change the output)."""

    class BNThenConv(nn.Module):

        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(2, 2, 1)
            self.bn = nn.BatchNorm2d(2)

        def forward(self, x):
            return self.conv(self.bn(x))

    net = BNThenConv()
    random_statistics_(net)
    report = fold_batchnorm(net)
    assert report.folded == []
    assert report.skipped == ['bn: no conv directly before it']


def test_batchnorm_subclass_declaring_plain_eval_statistics_folds():
    """HBL's StatsBatchNorm2d folds with running statistics (and behind
    its non-residual conv / dense ops), not with per-image statistics."""
    from mmfusenas.models.ops.hbl_ops import HBLConv, HBLDenseBlock
    torch.manual_seed(0)
    net = nn.Sequential(
        HBLConv(3, 3), StatsBatchNorm2d(3), nn.ReLU(),
        HBLConv(3, 3, residual=True), StatsBatchNorm2d(3), nn.ReLU(),
        HBLDenseBlock(3, 3), StatsBatchNorm2d(3))
    random_statistics_(net)
    x = torch.randn(2, 3, 9, 7)
    with torch.no_grad():
        ref = net(x)
    net[7].test_stats = 'per_image'
    assert not net[7].folds_as_batchnorm and net[1].folds_as_batchnorm
    net[7].test_stats = 'running'
    report = fold_batchnorm(net)
    # the residual conv's output is conv(x) + x: its BN stays
    assert report.folded == ['0 <- 1', '6 <- 7']
    assert report.skipped == ['4: no conv directly before it']
    assert isinstance(net[1], nn.Identity) and isinstance(net[7], nn.Identity)
    with torch.no_grad():
        torch.testing.assert_close(net(x), ref, rtol=0, atol=1e-5)


def test_channel_mismatch_is_an_error():
    with pytest.raises(ValueError, match='BatchNorm over 3 channels'):
        fold_conv_bn_(nn.Conv2d(1, 2, 1), nn.BatchNorm2d(3).eval())


def _tno_pair(shared_data, size=(124, 168)):
    h, w = size
    imgs = [
        cv2.imread(osp.join(shared_data, 'fusion', 'TNO', m, '01.png'),
                   cv2.IMREAD_GRAYSCALE)[100:100 + h, 200:200 + w]
        for m in ('ir', 'vi')
    ]
    return torch.from_numpy(np.stack(imgs)[None].astype(np.float32) / 255)


@pytest.mark.parametrize('config', [
    'fusion_ivif_official.py', 'fusion_ivif_light_official.py',
    'fusion_mri_pet_official.py'
])
def test_folded_tim_networks_equal_eager_on_real_images(config, shared_data):
    """Every BN of the official TIM networks folds; outputs on a TNO pair
    stay within 1e-5 (the issue's target) of the unfolded network."""
    from helpers import tim_official_reference as ref_impl
    cfg = Config.fromfile(osp.join(REPO_ROOT, 'configs', 'tim', config))
    torch.manual_seed(0)
    net = ref_impl.perturb_(MODELS.build(cfg.model).fusion_net, 0).eval()
    num_bn = sum(isinstance(m, nn.BatchNorm2d) for m in net.modules())
    x = _tno_pair(shared_data)
    with torch.no_grad():
        ref = net(x)
    report = fold_batchnorm(net)
    assert len(report.folded) == num_bn > 0 and report.skipped == []
    assert not any(isinstance(m, nn.BatchNorm2d) for m in net.modules())
    with torch.no_grad():
        out = net(x)
    assert ref.max() - ref.min() > 0.01  # a picture, not a constant
    torch.testing.assert_close(out, ref, rtol=0, atol=1e-5)
