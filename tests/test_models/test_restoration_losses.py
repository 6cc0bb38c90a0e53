"""The eight HBL loss terms on hand-computed cases, and loss hyper-params."""
import math
import re

import pytest
import torch
import torch.nn.functional as F

from mmfusenas.models.losses import (HBL_VGG_GROUPS, ColorAngleLoss,
                                     LaplacianLoss, LPIPSLoss, PixelL1Loss,
                                     PixelMSELoss, SSIMDistanceLoss,
                                     TotalVariationLoss, VGGLayerMixtureLoss,
                                     alexnet_layers, vgg19_layers)
from mmfusenas.models.mutables import (LossHyperParams, bind_loss_hyper,
                                       load_loss_weights)


def test_pixel_losses_by_hand():
    p = torch.tensor([0., 1., 2., 3.]).view(1, 1, 2, 2)
    t = torch.tensor([1., 1., 0., 3.]).view(1, 1, 2, 2)
    assert PixelL1Loss()(p, t).item() == pytest.approx(3 / 4)
    assert PixelMSELoss(loss_weight=2)(p, t).item() == pytest.approx(2 * 5 / 4)
    with pytest.raises(ValueError, match='same shape'):
        PixelL1Loss()(p, t[..., :1])


def test_color_angle_by_hand_and_official_batch1_convention():
    red = torch.tensor([1., 0., 0.]).view(1, 3, 1, 1).expand(1, 3, 2, 2)
    green = torch.tensor([0., 1., 0.]).view(1, 3, 1, 1).expand(1, 3, 2, 2)
    assert ColorAngleLoss()(red, green).item() == pytest.approx(9.0)
    same = ColorAngleLoss()(red, red).item()
    # float32: 0.999999 rounds, so the floor angle is ~0.0081 degrees x 0.1
    assert same == pytest.approx(0.1 * math.degrees(math.acos(0.999999)),
                                 rel=1e-2)
    torch.manual_seed(0)
    x, y = torch.rand(1, 3, 4, 5), torch.rand(1, 3, 4, 5)
    # official: reshape to [3, -1], normalise columns, 0.1 * mean angle
    a = F.normalize(x.reshape(3, -1), dim=0)
    b = F.normalize(y.reshape(3, -1), dim=0)
    official = 0.1 * torch.rad2deg(torch.acos(
        (a * b).sum(0).clamp(-0.999999, 0.999999))).mean()
    assert torch.allclose(ColorAngleLoss()(x, y), official, atol=1e-5)
    # batches: the mean over the images (the official reshape would mix them)
    x2, y2 = torch.rand(2, 3, 4, 5), torch.rand(2, 3, 4, 5)
    per = [ColorAngleLoss()(x2[i:i + 1], y2[i:i + 1]) for i in range(2)]
    assert torch.allclose(ColorAngleLoss()(x2, y2), sum(per) / 2, atol=1e-5)


def test_ssim_distance_matches_pytorch_ssim_formula():
    torch.manual_seed(0)
    x, y = torch.rand(2, 3, 13, 15), torch.rand(2, 3, 13, 15)
    assert SSIMDistanceLoss()(x, x).item() == pytest.approx(0, abs=1e-6)
    # pytorch_ssim: 2-D Gaussian window (11, 1.5), zero padding 5, groups
    g = torch.exp(-(torch.arange(11.) - 5)**2 / (2 * 1.5**2))
    g = g / g.sum()
    w = (g[:, None] @ g[None, :]).expand(3, 1, 11, 11)
    conv = (lambda t: F.conv2d(t, w, padding=5, groups=3))
    mu1, mu2 = conv(x), conv(y)
    s1 = conv(x * x) - mu1**2
    s2 = conv(y * y) - mu2**2
    s12 = conv(x * y) - mu1 * mu2
    c1, c2 = 0.01**2, 0.03**2
    ref = ((2 * mu1 * mu2 + c1) * (2 * s12 + c2)) / (
        (mu1**2 + mu2**2 + c1) * (s1 + s2 + c2))
    loss = SSIMDistanceLoss(loss_weight=10)(x, y)
    assert torch.allclose(loss, 10 * (1 - ref.mean()), atol=1e-5)


def test_tv_and_laplacian_by_hand():
    x = torch.tensor([[0., 1.], [2., 3.]]).view(1, 1, 2, 2)
    # vertical diffs 2, 2 -> mean sq 4; horizontal 1, 1 -> 1; 2 * (4 + 1)
    assert TotalVariationLoss()(x).item() == pytest.approx(10.0)
    img = torch.zeros(1, 1, 3, 3)
    img[0, 0, 1, 1] = 1.0
    # valid response -4 at the centre; official: sum sq / (N C H W) = 16 / 9
    assert LaplacianLoss()(img).item() == pytest.approx(16 / 9)
    assert LaplacianLoss()(torch.ones(2, 3, 5, 5)).item() == 0


def _stand_in_file(tmp_path, layers, name):
    path = str(tmp_path / name)
    torch.save({f'features.{k}': v for k, v in layers.state_dict().items()},
               path)
    return path


def test_vgg_mixture_groups_taps_and_weights(tmp_path):
    torch.manual_seed(0)
    widths = (4, 4, 8, 8)
    net = vgg19_layers(26, widths)
    path = _stand_in_file(tmp_path, net, 'vgg.pth')
    loss = VGGLayerMixtureLoss(weights=path, groups=HBL_VGG_GROUPS,
                               widths=widths)
    x, y = torch.rand(1, 3, 32, 32), torch.rand(1, 3, 32, 32)
    mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)

    def taps(t):
        out, h = [], (t - mean) / std
        for layer in net:
            h = layer(h)
            out.append(h)
        return out

    fx, fy = taps(x), taps(y)
    # official in-place ReLU: a conv tap reads its ReLU's output
    tap = (lambda i: i + 1 if isinstance(net[i], torch.nn.Conv2d) else i)
    ref = sum(F.l1_loss(fx[tap(i)], fy[tap(i)]) for g in HBL_VGG_GROUPS
              for i in g)
    assert torch.allclose(loss(x, y), ref, rtol=1e-5)
    # searched: softmax(γ) per group, differentiable in γ
    hyper = LossHyperParams()
    bind_loss_hyper([loss], hyper)
    assert sorted(hyper.logits) == [f'loss_vgg/g{k}' for k in range(1, 5)]
    with torch.no_grad():
        hyper.logits['loss_vgg/g1'].copy_(torch.tensor([0., 0., 50., 0.]))
    value = loss(x, y)
    value.backward()
    assert hyper.logits['loss_vgg/g4'].grad is not None
    soft = [hyper.softmax(f'loss_vgg/g{k + 1}') for k in range(4)]
    ref = sum(w * F.l1_loss(fx[tap(i)], fy[tap(i)])
              for g, ws in zip(HBL_VGG_GROUPS, soft) for i, w in zip(g, ws))
    assert torch.allclose(value, ref, rtol=1e-5)
    # the frozen network is not part of the module tree
    assert not list(loss.parameters())
    with pytest.raises(FileNotFoundError, match='nothing is downloaded|'
                       'Nothing is downloaded'):
        VGGLayerMixtureLoss(weights=str(tmp_path / 'none.pth'))
    with pytest.raises(ValueError, match='vgg19'):
        VGGLayerMixtureLoss()
    with pytest.raises(ValueError, match='max-pool'):
        VGGLayerMixtureLoss(groups=[(4, )], random_init=True, widths=widths)


def test_lpips_loads_local_files_and_matches_definition(tmp_path):
    torch.manual_seed(0)
    widths = (4, 4, 4, 4, 4)
    alex = alexnet_layers(widths)
    backbone = _stand_in_file(tmp_path, alex, 'alex.pth')
    lins = {f'lin{k}.model.1.weight': torch.rand(1, c, 1, 1)
            for k, c in enumerate(widths)}
    lin_path = str(tmp_path / 'lin.pth')
    torch.save(lins, lin_path)
    loss = LPIPSLoss(backbone_weights=backbone, lin_weights=lin_path,
                     widths=widths)
    x, y = torch.rand(2, 3, 40, 40), torch.rand(2, 3, 40, 40)
    assert torch.equal(loss.distance(x, x), torch.zeros(2))
    shift = torch.tensor([-.030, -.088, -.188]).view(1, 3, 1, 1)
    scale = torch.tensor([.458, .448, .450]).view(1, 3, 1, 1)

    def feats(t):
        h, out = (t - shift) / scale, []
        for i, layer in enumerate(alex):
            h = layer(h)
            if i in (1, 4, 7, 9, 11):
                out.append(h / (h.pow(2).sum(1, keepdim=True).sqrt() + 1e-10))
        return out

    ref = 0
    for k, (a, b) in enumerate(zip(feats(x), feats(y))):
        ref = ref + ((a - b)**2 * lins[f'lin{k}.model.1.weight']).sum(
            1).mean(dim=(1, 2))
    assert torch.allclose(loss.distance(x, y), ref, rtol=1e-5)
    assert torch.allclose(loss(x, y), ref.mean(), rtol=1e-5)
    with pytest.raises(ValueError, match='alexnet'):
        LPIPSLoss()


def test_loss_hyper_params_projection_and_file_round_trip(tmp_path):
    hyper = LossHyperParams(init_weight=dict(loss_l1=2.0))
    losses = [PixelL1Loss(), PixelMSELoss()]
    assert bind_loss_hyper(losses, hyper) == ['loss_l1', 'loss_l2']
    assert hyper.weight('loss_l1').item() == 2.0
    hyper.register_logits('loss_vgg/g1', 3)
    with torch.no_grad():
        hyper.weights['loss_l2'].fill_(-0.5)
        hyper.logits['loss_vgg/g1'].copy_(torch.tensor([-1., 0.5, 2.]))
    hyper.project_()
    assert hyper.weight('loss_l2').item() == 0.0
    assert hyper.logits['loss_vgg/g1'].tolist() == [0.0, 0.5, 2.0]
    path = str(tmp_path / 'lw.yaml')
    hyper.dump(path, meta=dict(stage='loss search'))
    data = load_loss_weights(path)
    assert data['weights'] == dict(loss_l1=2.0, loss_l2=0.0)
    assert data['logits']['loss_vgg/g1'] == [0.0, 0.5, 2.0]
    assert sum(data['layer_weights']['loss_vgg/g1']) == pytest.approx(1)
    assert data['meta'] == dict(stage='loss search')
    with torch.no_grad():
        hyper.weights['loss_l1'].fill_(float('nan'))
    with pytest.raises(FloatingPointError, match='non-finite'):
        hyper.dump(str(tmp_path / 'bad.yaml'))
    with pytest.raises(FileNotFoundError, match='loss-weight file'):
        load_loss_weights(str(tmp_path / 'missing.yaml'))


@pytest.mark.parametrize('body,message', [
    ('weights: {a: .inf}', r"weights\['a'\]: loss weights must be finite "
     'numbers >= 0, got inf'),
    ('weights: {a: .nan}', r"weights\['a'\]: .* got nan"),
    ('weights: {a: -1}', r"weights\['a'\]: .* got -1"),
    ('logits: {a/x: 3}', r"logits\['a/x'\] must be a non-empty list of "
     'finite numbers, got 3'),
    ('logits: {a/x: [foo]}', r"logits\['a/x'\] .* got \['foo'\]"),
    ('logits: {a/x: [.nan]}', r"logits\['a/x'\] .* got \[nan\]"),
    ('logits: {a/x: []}', r"logits\['a/x'\] .* got \[\]"),
    ('logits: [1]', r"'logits' must be a mapping, got \[1\]"),
    ('layer_weights: 7', "'layer_weights' must be a mapping, got 7"),
    ('layer_weights: {a/x: [.inf]}', r"layer_weights\['a/x'\] .* got "
     r'\[inf\]'),
    ('meta: x', "'meta' must be a mapping, got 'x'"),
    ('weights: {a: 1}\nweights: {a: 2}', "duplicate key 'weights'\n  in "
     '".*lw.yaml", line 3'),
])
def test_bad_loss_weight_files_name_path_and_key(tmp_path, body, message):
    path = tmp_path / 'lw.yaml'
    if not body.startswith('weights'):
        body = 'weights: {a: 1}\n' + body
    path.write_text(f'format: mmfusenas-loss-weights/1\n{body}\n')
    with pytest.raises(ValueError, match=f'{re.escape(str(path))}.*{message}'):
        load_loss_weights(str(path))
