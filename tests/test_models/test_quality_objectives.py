"""Upper objectives of the loss search and the loss-weight export hook."""
import os.path as osp
from types import SimpleNamespace

import pytest
import torch
import torch.nn.functional as F
from mmengine.logging import MMLogger

from mmfusenas.engine import LossWeightExportHook
from mmfusenas.models.losses import (ClassifierQualityObjective,
                                     FullReferenceQualityObjective,
                                     NoReferenceQualityObjective, ResNet18)
from mmfusenas.models.mutables import load_loss_weights
from mmfusenas.search import LossWeightSearchAlgorithm


def test_classifier_objective_loads_a_local_state_dict(tmp_path):
    torch.manual_seed(0)
    net = ResNet18(num_classes=2, base_width=4).eval()
    path = str(tmp_path / 'quality.pth')
    torch.save(dict(state_dict=net.state_dict()), path)
    obj = ClassifierQualityObjective(checkpoint=path, base_width=4)
    x = torch.rand(3, 3, 32, 32, requires_grad=True)
    mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
    ref = F.cross_entropy(net((x - mean) / std), torch.ones(3).long())
    value = obj(x)
    assert torch.allclose(value, ref, atol=1e-6)
    value.backward()
    assert x.grad is not None and not list(obj.parameters())
    with pytest.raises(FileNotFoundError, match='nothing is downloaded'):
        ClassifierQualityObjective(checkpoint=str(tmp_path / 'none.pth'))
    with pytest.raises(ValueError, match='not a ResNet-18 state dict'):
        ClassifierQualityObjective(checkpoint=path, base_width=8)
    with pytest.raises(ValueError, match='checkpoint='):
        ClassifierQualityObjective()


def test_classifier_objective_reads_the_official_file_layout(tmp_path):
    """The authors' file: a pickled model beside its state dict (trust)."""
    torch.manual_seed(0)
    net = ResNet18(num_classes=2, base_width=4).eval()
    path = str(tmp_path / 'LOL.pth')
    torch.save(dict(model=net, model_state_dict=net.state_dict()), path)
    with pytest.raises(Exception, match='trust'):
        ClassifierQualityObjective(checkpoint=path, base_width=4)
    obj = ClassifierQualityObjective(checkpoint=path, base_width=4,
                                     trust=True)
    for key, value in net.state_dict().items():
        assert torch.equal(obj.classifier.state_dict()[key], value)


def test_full_reference_objective_by_hand():
    gt = torch.zeros(2, 3, 4, 4)
    pred = gt.clone()
    pred[0] += 0.1  # MSE 0.01 -> 20 dB; image 1: MSE 0.04 -> ~13.98 dB
    pred[1] += 0.2
    value = FullReferenceQualityObjective('psnr')(pred, gt)
    expected = -(20 + 10 * torch.log10(torch.tensor(1 / 0.04))) / 2
    assert torch.allclose(value, expected, atol=1e-4)
    big = torch.rand(1, 3, 16, 16)
    assert FullReferenceQualityObjective('ssim')(big, big) == \
        pytest.approx(0, abs=1e-6)
    with pytest.raises(ValueError, match='ground truth'):
        FullReferenceQualityObjective()(pred)


def test_no_reference_objective_prefers_exposed_neutral_images():
    obj = NoReferenceQualityObjective()
    good = torch.full((1, 3, 32, 32), 0.6)
    dark = torch.full((1, 3, 32, 32), 0.1)
    tinted = good.clone()
    tinted[:, 2] = 0.9
    assert obj(good).item() == pytest.approx(0, abs=1e-8)
    assert obj(dark).item() == pytest.approx(10 * 0.25, rel=1e-5)
    assert obj(tinted).item() > obj(good).item()
    # spatial consistency: flattening the input's structure is penalised
    low = torch.rand(1, 3, 32, 32) * 0.2
    flat = torch.full_like(low, 0.6)
    assert obj(flat, low=low).item() > obj(flat).item()


def test_loss_weight_export_hook_writes_latest(tmp_path):
    algo = LossWeightSearchAlgorithm(
        architecture=dict(
            type='ImageEnhancer',
            network=dict(type='HBLConv', channels=3, kernel_size=1),
            losses=[dict(type='PixelL1Loss'),
                    dict(type='PixelMSELoss')]),
        objective=dict(type='FullReferenceQualityObjective'),
        init_weight=dict(loss_l1=0.25))
    runner = SimpleNamespace(
        model=algo, work_dir=str(tmp_path), epoch=0, iter=4,
        logger=MMLogger.get_instance('hbl_export_test'))
    hook = LossWeightExportHook(by_epoch=False, interval=2)
    hook.export(runner, 'iter_4', 0, 4)
    folder = osp.join(str(tmp_path), 'loss_weights')
    for name in ('iter_4.yaml', 'latest.yaml'):
        data = load_loss_weights(osp.join(folder, name))
        assert data['weights'] == dict(loss_l1=0.25, loss_l2=1.0)
        assert data['meta']['iter'] == 4
    runner.model = torch.nn.Linear(1, 1)
    with pytest.raises(TypeError, match='export_loss_weights'):
        hook.export(runner, None, 0, 4)
