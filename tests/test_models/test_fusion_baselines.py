"""Published IVIF baselines (SeAFusion, TarDAL, IFCNN-MAX), the classical
rules, and the fusor's pre- / post-processing options they use.

The real-pair tests compare the fused image of each config (converted
official weights) with an independent reference
(``fusion_baselines_reference.py``: ``torch.nn.functional`` straight from
the official state dict and the authors' own reading / colour / saving
conventions). Tolerance: within one grey level on all but a tiny fraction
of pixels (float order differs across CPUs; 8-bit colour conversions
round differently), never hashes.
"""
import os.path as osp

import numpy as np
import pytest
import torch

from mmfusenas.engine.hooks.fused_image_save_hook import prediction_image
from mmfusenas.models.fusion import ImageFusor
from mmfusenas.models.fusion.baselines import (IFCNN, LaplacianPyramidFusion,
                                               MaxAbsRuleFusion,
                                               MeanRuleFusion, SeAFusionNet,
                                               TarDALGenerator,
                                               convert_fusion_baseline)
from mmfusenas.models.fusion.image_fusor import (normalize_image,
                                                 prepare_inputs, quantize,
                                                 reduce_output)
from mmfusenas.structures import FusionDataSample
from helpers import REPO_ROOT, load_tool

REF = load_tool('tests/test_models/fusion_baselines_reference.py')

pytestmark = pytest.mark.usefixtures('one_thread')

REPO = REPO_ROOT
WEIGHTS = osp.join(osp.dirname(REPO), 'shared', 'checkpoints',
                   'fusion_baselines')
#: official file -> converter name
FILES = {
    'seafusion.pth': 'seafusion',
    'tardal.pt': 'tardal',
    'tardal_plus.pt': 'tardal',
    'tardal_plusplus.pt': 'tardal',
    'ifcnn_max.pth': 'ifcnn_max',
}


@pytest.fixture(scope='module')
def weights() -> str:
    if not osp.isdir(WEIGHTS):
        pytest.skip(f'real-weight test: {WEIGHTS} not found')
    return WEIGHTS


# ------------------------------------------------------------ architectures
@pytest.mark.parametrize('net, count', [
    (SeAFusionNet(), 166_883),
    (TarDALGenerator(), 296_577),
    (TarDALGenerator(bn_mode='train'), 296_577),
    (IFCNN(), 83_587),
])
def test_parameter_counts_equal_the_official_classes(net, count):
    assert sum(p.numel() for p in net.parameters()) == count


def test_seafusion_gradient_kernels_start_as_sobel():
    grad = SeAFusionNet().vis_rgbd1.sobelconv
    sobel = torch.tensor([[1., 0., -1.], [2., 0., -2.], [1., 0., -1.]])
    assert torch.equal(grad.convx.weight[3, 0], sobel)
    assert torch.equal(grad.convy.weight[3, 0], sobel.t())


@pytest.mark.parametrize('net, shape, error', [
    (SeAFusionNet(), (1, 3, 8, 8), ValueError),
    (TarDALGenerator(), (1, 1, 8, 8), RuntimeError),
    (IFCNN(), (1, 4, 8, 8), RuntimeError),
    (IFCNN(), (1, 3, 8, 8), ValueError),
])
def test_networks_reject_other_source_counts(net, shape, error):
    with pytest.raises(error):
        net(torch.zeros(shape))


def test_tardal_bn_mode_train_uses_batch_statistics_without_updating():
    torch.manual_seed(0)
    net = TarDALGenerator(dim=4, depth=1, bn_mode='train').eval()
    for module in net.modules():
        if isinstance(module, torch.nn.BatchNorm2d):
            module.running_mean.fill_(5.0)
            module.running_var.fill_(100.0)
    x = torch.rand(2, 2, 6, 5)
    with torch.no_grad():
        out = net(x)
        # the same weights with PyTorch's own train-mode BatchNorm
        plain = TarDALGenerator(dim=4, depth=1)
        plain.load_state_dict(net.state_dict())
        for module in plain.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                module.forward = torch.nn.BatchNorm2d.forward.__get__(module)
        plain.train()
        expected = plain(x)
        plain.eval()
        with_running = plain(x)
    torch.testing.assert_close(out, expected, rtol=0, atol=1e-6)
    assert not torch.allclose(out, with_running, atol=1e-3)
    for module in net.modules():  # running statistics untouched
        if isinstance(module, torch.nn.BatchNorm2d):
            assert torch.all(module.running_mean == 5.0)
    with pytest.raises(ValueError, match="bn_mode must be one of"):
        TarDALGenerator(bn_mode='batch')


def test_ifcnn_fuses_sources_elementwise():
    torch.manual_seed(0)
    a, b = torch.rand(1, 3, 9, 7), torch.rand(1, 3, 9, 7)
    net = IFCNN().eval()
    with torch.no_grad():
        feats = [net.conv2(net.conv1(
            torch.nn.functional.pad(x, (3, 3, 3, 3), mode='replicate')))
            for x in (a, b)]
        expected = net.conv4(net.conv3(torch.max(*feats)))
        out = net(torch.cat([a, b], 1))
    torch.testing.assert_close(out, expected)
    assert out.shape == (1, 3, 9, 7)


# --------------------------------------------------------- classical rules
def test_mean_and_choose_max_on_hand_values():
    x = torch.tensor([[0.2, 0.25], [0.6, 0.75]]).view(1, 2, 1, 2)
    # sources: A = [0.2, 0.25], B = [0.6, 0.75]
    assert MeanRuleFusion()(x).flatten().tolist() == pytest.approx(
        [0.4, 0.5])
    assert MaxAbsRuleFusion()(x).flatten().tolist() == pytest.approx(
        [0.6, 0.75])
    # magnitudes from 0.5: |A - .5| = [.3, .25], |B - .5| = [.1, .25]
    # (an exact tie: the first source)
    assert MaxAbsRuleFusion(center=0.5)(x).flatten().tolist() == \
        pytest.approx([0.2, 0.25])


def test_laplacian_pyramid_on_hand_cases():
    rule = LaplacianPyramidFusion(num_levels=3)
    # constants: every detail level is 0, the base is the mean
    x = torch.stack([torch.full((8, 8), 0.2), torch.full((8, 8), 0.6)])[None]
    torch.testing.assert_close(rule(x), torch.full((1, 1, 8, 8), 0.4))
    # identical sources (odd size): the pyramid collapses to the source
    torch.manual_seed(0)
    img = torch.rand(1, 1, 13, 10)
    torch.testing.assert_close(rule(img.repeat(1, 2, 1, 1)), img)
    # a detail present in one source only survives in full; the base is
    # averaged: impulse of 1 on a 0 background vs a flat 0 -> the detail
    # levels of the impulse, the base halved
    imp = torch.zeros(1, 1, 8, 8)
    imp[..., 4, 4] = 1.0
    levels = rule.pyramid(imp)
    expected = rule.collapse(levels[:-1] + [levels[-1] / 2])
    torch.testing.assert_close(
        rule(torch.cat([imp, torch.zeros_like(imp)], 1)), expected)
    # one level: the mean
    torch.testing.assert_close(
        LaplacianPyramidFusion(1)(x), torch.full((1, 1, 8, 8), 0.4))


# -------------------------------------------------- fusor pre/post options
def test_quantize_normalize_prepare_reduce_on_hand_values():
    x = torch.tensor([0.5 / 255, 1.6 / 255, 0.4 / 255])
    assert (quantize(x, 'round') * 255).tolist() == pytest.approx(
        [1.0, 2.0, 0.0])
    assert (quantize(x, 'floor') * 255).tolist() == pytest.approx(
        [0.0, 1.0, 0.0])
    assert normalize_image(torch.tensor([0.2, 0.4, 0.6]),
                           'minmax').tolist() == pytest.approx([0, .5, 1])
    src = torch.tensor([0.5, 0.25]).view(1, 2, 1, 1)
    out = prepare_inputs(src, dict(repeat=2, mean=(0.5, 0.25),
                                   std=(0.5, 0.25)))
    # channels: A - .5 / .5, A - .25 / .25, B ..., B ...
    assert out.flatten().tolist() == pytest.approx([0.0, 1.0, -0.5, 0.0])
    y = torch.tensor([1.0, -1.0, 0.0]).view(1, 3, 1, 1)
    red = reduce_output(y, dict(mean=(0.5, 0.5, 0.5), std=(0.25, 1.0, 0.5),
                                gray_weights=(0.5, 0.25, 0.25)))
    # de-normalised and clamped: 0.75, 0, 0.5 -> .375 + 0 + .125
    assert red.flatten().tolist() == pytest.approx([0.5])


def test_fusor_postprocess_sets_rounding_and_minmax():
    fusor = ImageFusor(
        fusion_net=dict(type='MeanRuleFusion'),
        postprocess=dict(normalize='minmax', rounding='floor'))
    inputs = torch.tensor([[0.25, 0.375], [0.75, 0.5]]).view(1, 1, 2, 2)
    inputs = torch.cat([inputs, inputs], 1)
    sample = FusionDataSample(metainfo=dict(img_shape=(2, 2)))
    out = fusor.predict(inputs, [sample])[0]
    # min-max of [.25, .375, .75, .5] -> [0, .25, 1, .5]; floor(x * 255)
    assert out.pred_fused.flatten().tolist() == [0, 0.25, 1, 0.5]
    assert out.rounding == 'floor'
    assert prediction_image(out).flatten().tolist() == [0, 63, 255, 127]
    assert prediction_image(out, rounding='round').flatten().tolist() == [
        0, 64, 255, 128]
    with pytest.raises(KeyError, match=r"unknown postprocess option\(s\) "
                       r"\['clip'\]"):
        ImageFusor(fusion_net=dict(type='MeanRuleFusion'),
                   postprocess=dict(clip=True))
    with pytest.raises(ValueError, match='preprocess.mean needs one value '
                       'per repeated channel'):
        ImageFusor(fusion_net=dict(type='MeanRuleFusion'),
                   preprocess=dict(repeat=3, mean=(0.5, ), std=(0.5, )))


def test_official_files_load_strictly_into_the_modules(weights):
    for name in FILES:
        sd = REF.load_official(osp.join(weights, name))
        net = {'seafusion.pth': SeAFusionNet, 'ifcnn_max.pth': IFCNN}.get(
            name, TarDALGenerator)()
        result = net.load_state_dict(sd, strict=True)
        assert not result.missing_keys and not result.unexpected_keys


# -------------------------------------------------------------- real pairs
#: config -> (official file, reference function)
CASES = {
    'seafusion_ivif.py': ('seafusion.pth', lambda sd, ir, vi: REF.
                          seafusion_reference(sd, ir, vi)),
    'tardal_ivif.py': ('tardal_plusplus.pt', lambda sd, ir, vi: REF.
                       tardal_reference(sd, ir, vi, False)[..., ::-1]),
    'tardal_ivif_bntrain.py': ('tardal.pt', lambda sd, ir, vi: REF.
                               tardal_reference(sd, ir, vi, True)[..., ::-1]),
    'ifcnn_max_ivif.py': ('ifcnn_max.pth', lambda sd, ir, vi: REF.
                          ifcnn_reference(sd, ir, vi)),
}
#: a grey TNO pair stored as 3-channel PNG, a colour RoadScene pair (JPG)
PAIRS = [('TNO', '19.png'), ('RoadScene', 'FLIR_00211.jpg')]


def assert_close_images(ours: np.ndarray, ref: np.ndarray, what: str,
                        max_fraction: float = 2e-3) -> None:
    """``ours`` (grey or RGB) within one grey level of ``ref`` (RGB) on all
    but ``max_fraction`` of the values."""
    if ours.ndim == 2:
        ours = np.repeat(ours[..., None], 3, axis=2)
    assert ours.shape == ref.shape, what
    diff = np.abs(ours.astype(int) - ref.astype(int))
    frac = float((diff > 1).mean())
    assert frac <= max_fraction, (
        f'{what}: {frac:.4%} of the values differ by more than 1 grey '
        f'level (max {diff.max()})')
    assert diff.max() <= 8, f'{what}: max difference {diff.max()}'


@pytest.mark.parametrize('config', sorted(CASES))
def test_real_pairs_match_the_authors_conventions(config, weights,
                                                   shared_data, tmp_path):
    from mmfusenas.apis import inference_fusion, init_model, result_image
    from mmfusenas.utils.checkpoint import save_converted_checkpoint
    official, reference = CASES[config]
    src = osp.join(weights, official)
    ckpt = convert_fusion_baseline(FILES[official], src)
    path = str(tmp_path / 'ckpt.pth')
    save_converted_checkpoint(ckpt['state_dict'], ckpt['meta'], path)
    model = init_model(osp.join(REPO, 'configs', 'baselines', config), path)
    sd = REF.load_official(src)
    for folder, name in PAIRS:
        ir = osp.join(shared_data, 'fusion', folder, 'ir', name)
        vi = osp.join(shared_data, 'fusion', folder, 'vi', name)
        img = result_image(inference_fusion(model, dict(ir=ir, vi=vi)))
        if img.ndim == 3:
            img = img[..., ::-1]  # BGR -> RGB
        assert img.ndim == (3 if folder == 'RoadScene' else 2)
        assert_close_images(img, reference(sd, ir, vi), f'{config} {name}')
