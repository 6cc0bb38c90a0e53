"""TIM fusion losses: hand-computed values, SSIM vs the metric, gradcheck."""
import numpy as np
import pytest
import torch

from mmfusenas.evaluation.functional import ssim as metric_ssim
from mmfusenas.models.losses import (InfoPreservationLoss, IntensityLoss,
                                     SaliencyWeightedLoss, SSIMLoss,
                                     VGG16Features, grey_entropy,
                                     histogram_contrast, laplacian_energy,
                                     saliency_weights, ssim, ssim_map)
from mmfusenas.registry import MODELS


pytestmark = pytest.mark.usefixtures('one_thread')


def img(values):
    """(1, 1, H, W) float64 tensor from a nested list."""
    return torch.tensor(values, dtype=torch.float64)[None, None]


def smooth_pair(seed=0, shape=(24, 28)):
    """Two structured uint8 images (blurred noise + an offset copy)."""
    rng = np.random.default_rng(seed)
    base = rng.random(shape)
    base = (base + np.roll(base, 1, 0) + np.roll(base, 1, 1)) / 3
    a = np.round(base * 255).astype(np.uint8)
    b = np.clip(a.astype(int) + rng.integers(-60, 60, shape), 0,
                255).astype(np.uint8)
    return a, b


def to_t(a):
    return torch.from_numpy(a).double()[None, None] / 255.0


# ---------------------------------------------------------------- SSIM
@pytest.mark.parametrize('seed', [0, 1])
def test_ssim_equals_the_evaluation_metric_on_uint8_images(seed):
    a, b = smooth_pair(seed)
    ours = ssim(to_t(a), to_t(b)).item()  # data_range 1 on x / 255
    ref = metric_ssim(a, b, mode='gaussian', data_range=255.0)
    assert ours == pytest.approx(ref, abs=1e-12)
    # same value on the 8-bit scale
    assert ssim(
        to_t(a) * 255, to_t(b) * 255,
        data_range=255.0).item() == pytest.approx(
            ref, abs=1e-12)


@pytest.mark.parametrize('padding', ['valid', 'reflect'])
def test_ssim_map_float32_values_and_gradients(padding):
    # the CPU path filters the moments channels-last: float32 values and
    # input gradients agree with a float64 evaluation
    torch.manual_seed(0)
    x, y = torch.rand(3, 2, 24, 30), torch.rand(3, 2, 24, 30)
    g = torch.randn(ssim_map(x, y, padding=padding).shape)
    out = []
    for dtype in (torch.float32, torch.float64):
        xx = x.to(dtype).requires_grad_()
        m = ssim_map(xx, y.to(dtype), padding=padding)
        assert m.is_contiguous()
        out.append((m, torch.autograd.grad(m, xx, g.to(dtype))[0]))
    (m32, g32), (m64, g64) = out
    torch.testing.assert_close(m32.double(), m64, rtol=0, atol=1e-5)
    torch.testing.assert_close(
        g32.double(), g64, rtol=0, atol=1e-5 * g64.abs().max().item())


def test_ssim_map_runs_in_float32_under_autocast():
    # bright flat images: in float16 the variances cancel to about -c2 and
    # the backward divides by a zero square (NaN gradients, every AMP step
    # skipped); under autocast SSIM is the float32 computation
    torch.manual_seed(0)
    x = (0.9 + 0.002 * torch.rand(2, 1, 32, 32)).half()
    y = (0.95 + 0.002 * torch.rand(2, 1, 32, 32)).half()
    plain = x.clone().requires_grad_()
    (1 - ssim_map(plain, y)).mean().backward()
    assert not torch.isfinite(plain.grad).all()
    half, ref = x.clone().requires_grad_(), x.float().requires_grad_()
    with torch.autocast('cpu', dtype=torch.float16):
        m = ssim_map(half, y)
    (1 - m).mean().backward()
    m32 = ssim_map(ref, y.float())
    (1 - m32).mean().backward()
    assert m.dtype == torch.float32 and torch.equal(m, m32)
    torch.testing.assert_close(half.grad.float(), ref.grad, rtol=1e-3,
                               atol=1e-3 * ref.grad.abs().max().item())


def test_ssim_map_shapes_and_errors():
    x = torch.rand(2, 3, 16, 20)
    assert ssim_map(x, x).shape == (2, 3, 6, 10)
    assert ssim_map(x, x, padding='reflect').shape == (2, 3, 16, 20)
    torch.testing.assert_close(
        ssim_map(x, x, padding='reflect'), torch.ones(2, 3, 16, 20))
    with pytest.raises(ValueError, match='at least 11x11'):
        ssim_map(torch.rand(1, 1, 8, 30), torch.rand(1, 1, 8, 30))
    with pytest.raises(ValueError, match='padding'):
        ssim_map(x, x, padding='circular')
    with pytest.raises(ValueError, match='same shape'):
        ssim_map(x, x[:, :1])


def test_ssim_loss_is_zero_for_identical_images_and_weighted():
    torch.manual_seed(0)
    x = torch.rand(2, 1, 16, 16, dtype=torch.float64)
    assert SSIMLoss()(x, torch.cat([x, x], 1)).item() == pytest.approx(
        0.0, abs=1e-12)
    y = torch.rand(2, 1, 16, 16, dtype=torch.float64)
    s_y = ssim(x, y).mean().item()
    # only the second source counts: 1 - SSIM(x, y), times loss_weight
    loss = SSIMLoss(
        source_weights=[0, 1], loss_weight=2.0)(x, torch.cat([x, y], 1))
    assert loss.item() == pytest.approx(2 * (1 - s_y), abs=1e-12)
    # default: 1/M each
    loss = SSIMLoss()(x, torch.cat([x, y], 1))
    assert loss.item() == pytest.approx(0.5 * (1 - s_y), abs=1e-12)
    with pytest.raises(ValueError, match='3 entries but the batch has 2'):
        SSIMLoss(source_weights=[1, 1, 1])(x, torch.cat([x, y], 1))
    with pytest.raises(ValueError, match='non-negative'):
        SSIMLoss(source_weights=[-1, 1])


# ---------------------------------------------------------- intensity
def test_intensity_loss_targets_hand_computed():
    sources = img([[0.2, 0.9]]).repeat(1, 2, 1, 1)
    sources[0, 1] = torch.tensor([[0.5, 0.1]])
    fused = img([[0.3, 0.3]])
    # mean target [0.35, 0.5]: (0.05^2 + 0.2^2) / 2
    assert IntensityLoss()(fused, sources).item() == pytest.approx(0.02125)
    # weighted target 0.25 A + 0.75 B = [0.425, 0.3]: 0.125^2 / 2
    loss = IntensityLoss(source_weights=[0.25, 0.75], loss_weight=2.0)
    assert loss(fused, sources).item() == pytest.approx(0.015625)


# ----------------------------------------------------------- saliency
def test_histogram_contrast_of_a_two_level_image():
    # three pixels at 0, one at 255: H(0) = 3/4, H(255) = 1/4
    x = img([[0., 0.], [0., 1.]])
    expected = img([[0.25 * 255, 0.25 * 255], [0.25 * 255, 0.75 * 255]])
    torch.testing.assert_close(histogram_contrast(x), expected)
    # levels 51 and 204 (0.2 and 0.8), half each: M = 0.5 * 153 everywhere
    y = img([[0.2, 0.8], [0.8, 0.2]])
    torch.testing.assert_close(histogram_contrast(y), torch.full_like(y, 76.5))
    # a constant image has no contrast
    assert histogram_contrast(torch.full((1, 1, 3, 3), 0.4)).abs().max() == 0


def test_histogram_contrast_matches_a_direct_computation():
    torch.manual_seed(2)
    x = torch.rand(2, 3, 7, 9, dtype=torch.float64)
    q = torch.round(x * 255)
    flat = q.flatten(2)  # (N, C, P)
    # M(pixel) = mean over all pixels j of |q_j - q_pixel|
    direct = (flat.unsqueeze(-1) - flat.unsqueeze(-2)).abs().mean(-2)
    torch.testing.assert_close(histogram_contrast(x), direct.view_as(x))


def test_saliency_weights_ratio_and_flat_images():
    a = img([[0., 0.], [0., 1.]])  # M = [63.75 x3, 191.25]
    b = img([[0.2, 0.8], [0.8, 0.2]])  # M = 76.5 everywhere
    w = saliency_weights(torch.cat([a, b], 1))
    torch.testing.assert_close(
        w.sum(1), torch.ones(1, 2, 2, dtype=torch.float64))
    assert w[0, 0, 0, 0].item() == pytest.approx(63.75 / (63.75 + 76.5))
    assert w[0, 0, 1, 1].item() == pytest.approx(191.25 / (191.25 + 76.5))
    flat = saliency_weights(torch.full((1, 2, 3, 3), 0.5))
    torch.testing.assert_close(flat, torch.full((1, 2, 3, 3), 0.5))


def test_saliency_weighted_loss_formula():
    torch.manual_seed(3)
    sources = torch.rand(2, 2, 12, 12, dtype=torch.float64)
    fused = torch.rand(2, 1, 12, 12, dtype=torch.float64)
    loss_fn = SaliencyWeightedLoss(ssim_weight=0.5, loss_weight=3.0)
    w = saliency_weights(sources)
    expected = 0.0
    for m in range(2):
        wm, sm = w[:, m:m + 1], sources[:, m:m + 1]
        expected += ((wm * (fused - sm))**2).mean()
        expected += 0.5 * (1 - ssim(wm * fused, wm * sm).mean())
    assert loss_fn(fused, sources).item() == pytest.approx(
        3.0 * expected.item(), abs=1e-12)
    # zero intensity term and SSIM 1 when F equals both sources
    same = torch.cat([fused, fused], 1)
    assert loss_fn(fused, same).item() == pytest.approx(0.0, abs=1e-12)


# ------------------------------------------------- information weights
def test_information_measures_hand_computed():
    # laplacian of a unit impulse: centre -1, 8 neighbours 1/8
    x = torch.zeros(1, 1, 5, 5, dtype=torch.float64)
    x[0, 0, 2, 2] = 1
    assert laplacian_energy(x).item() == pytest.approx((1 + 8 / 64) / 25)
    # every image and channel on its own: the impulse in image 1, channel
    # 0 only; a constant elsewhere has no Laplacian (replicate padding)
    batch = torch.full((2, 3, 5, 5), 0.5, dtype=torch.float64)
    batch[1, 0] = x[0, 0]
    assert laplacian_energy(batch).tolist() == pytest.approx(
        [0.0, (1 + 8 / 64) / 25 / 3])
    # entropy of a two-level image with equal halves: 1 bit
    assert grey_entropy(img([[0., 1.], [1., 0.]])).item() == \
        pytest.approx(1.0)
    assert grey_entropy(torch.full((1, 1, 4, 4), 0.3)).item() == 0


@pytest.mark.parametrize('measure', ['gradient', 'entropy'])
def test_info_weights_sum_to_one_and_favour_the_informative_source(measure):
    torch.manual_seed(4)
    textured = torch.rand(3, 1, 12, 12, dtype=torch.float64)
    flat = torch.full((3, 1, 12, 12), 0.5, dtype=torch.float64)
    loss_fn = InfoPreservationLoss(measure=measure, temperature=0.5)
    w = loss_fn.weights(torch.cat([textured, flat], 1))
    torch.testing.assert_close(w.sum(1), torch.ones(3, dtype=torch.float64))
    # all information in source A: shares (1, 0) -> softmax(2, 0)
    torch.testing.assert_close(
        w[:, 0], torch.full((3, ), 1 / (1 + np.exp(-2)), dtype=torch.float64))
    # equal sources -> equal weights
    w = loss_fn.weights(torch.cat([textured, textured], 1))
    torch.testing.assert_close(w, torch.full_like(w, 0.5))


def test_info_preservation_loss_formula():
    torch.manual_seed(5)
    sources = torch.rand(2, 2, 12, 12, dtype=torch.float64)
    fused = torch.rand(2, 1, 12, 12, dtype=torch.float64)
    loss_fn = InfoPreservationLoss(ssim_weight=0.25, loss_weight=2.0)
    w = loss_fn.weights(sources)
    expected = 0.0
    for n in range(2):
        for m in range(2):
            f, s = fused[n:n + 1], sources[n:n + 1, m:m + 1]
            term = ((f - s)**2).mean() + 0.25 * (1 - ssim(f, s).mean())
            expected += w[n, m] * term
    assert loss_fn(fused, sources).item() == pytest.approx(
        2.0 * expected.item() / 2, abs=1e-12)


def test_info_preservation_options_are_checked(tmp_path):
    with pytest.raises(ValueError, match="measure='vgg' needs"):
        InfoPreservationLoss(measure='vgg')
    with pytest.raises(ValueError, match="only used by measure='vgg'"):
        InfoPreservationLoss(feature_weights='vgg16.pth')
    # the weights file is read on first use (inference builds need none);
    # the error names the file and torchvision's file name and URL
    missing = InfoPreservationLoss(
        measure='vgg', feature_weights=str(tmp_path / 'none.pth'))
    with pytest.raises(
            FileNotFoundError,
            match=r'none\.pth.*vgg16-397923af\.pth \(https://download\.'
            r'pytorch\.org/models/vgg16-397923af\.pth.*nothing is '
            'downloaded'):
        missing(torch.rand(1, 1, 8, 8), torch.rand(1, 2, 8, 8))
    with pytest.raises(ValueError, match='uses no feature extractor'):
        InfoPreservationLoss().extractor
    with pytest.raises(ValueError, match='measure must be one of'):
        InfoPreservationLoss(measure='sobel')


def test_vgg_measure_from_a_local_torchvision_state_dict(tmp_path):
    torch.manual_seed(6)
    # a torchvision-style VGG16 `features` stack with random weights
    ref = torch.nn.Sequential()
    plan = (64, 64, 'M', 128, 128, 'M', 256, 256, 256, 'M', 512, 512, 512, 'M',
            512, 512, 512)
    in_ch = 3
    for item in plan:
        if item == 'M':
            ref.append(torch.nn.MaxPool2d(2))
        else:
            ref.append(torch.nn.Conv2d(in_ch, item, 3, padding=1))
            ref.append(torch.nn.ReLU())
            in_ch = item
    state = {f'features.{k}': v for k, v in ref.state_dict().items()}
    state['classifier.0.weight'] = torch.zeros(2, 2)  # ignored
    path = str(tmp_path / 'vgg16.pth')
    torch.save(state, path)

    loss_fn = InfoPreservationLoss(measure='vgg', feature_weights=path)
    # the extractor is not part of the model: no parameters, no state
    assert list(loss_fn.parameters()) == []
    assert loss_fn.state_dict() == {}
    extractor = loss_fn.extractor
    assert isinstance(extractor, VGG16Features)
    assert loss_fn.extractor is extractor  # loaded once
    assert torch.equal(extractor.features[28].weight, ref[28].weight)
    sources = torch.rand(2, 2, 32, 32)
    w = loss_fn.weights(sources)
    torch.testing.assert_close(w.sum(1), torch.ones(2))
    # the measure is the summed Laplacian energy of relu1_2 ... relu5_3
    x = (sources[0, :1, None].expand(-1, 3, -1, -1) - extractor.mean) / \
        extractor.std
    feats = []
    for i, layer in enumerate(ref):
        x = layer(x)
        if i in (3, 8, 15, 22, 29):
            feats.append(x)
    g = sum(laplacian_energy(f) for f in feats)
    torch.testing.assert_close(
        loss_fn.information(sources)[0, 0], g[0], rtol=1e-5, atol=1e-8)

    torch.save({'features.0.weight': ref[0].weight}, path)
    with pytest.raises(KeyError, match='lack 25 tensor'):
        InfoPreservationLoss(measure='vgg', feature_weights=path).extractor
    state['features.0.weight'] = torch.zeros(64, 1, 3, 3)
    torch.save({'state_dict': state}, path)
    with pytest.raises(ValueError, match=r'features.0.weight has shape'):
        InfoPreservationLoss(measure='vgg', feature_weights=path).extractor


# -------------------------------------------------------------- common
LOSSES = [
    dict(type='IntensityLoss'),
    dict(type='IntensityLoss', source_weights=[.3, .7]),
    dict(type='SSIMLoss'),
    dict(type='SSIMLoss', padding='reflect'),
    dict(type='SaliencyWeightedLoss'),
    dict(type='SaliencyWeightedLoss', padding='reflect'),
    dict(type='InfoPreservationLoss'),
    dict(type='InfoPreservationLoss', measure='entropy'),
]


@pytest.mark.parametrize('cfg', LOSSES, ids=lambda c: str(sorted(c.items())))
def test_gradients_match_finite_differences(cfg):
    torch.manual_seed(7)
    loss_fn = MODELS.build(cfg)
    sources = torch.rand(1, 2, 12, 13, dtype=torch.float64)
    fused = torch.rand(1, 1, 12, 13, dtype=torch.float64, requires_grad=True)
    # fast mode: finite differences along random directions (float64)
    assert torch.autograd.gradcheck(
        lambda f: loss_fn(f, sources), (fused, ), fast_mode=True)


@pytest.mark.parametrize('cfg', LOSSES, ids=lambda c: str(sorted(c.items())))
def test_loss_names_shapes_and_input_checks(cfg):
    loss_fn = MODELS.build(cfg)
    assert loss_fn.loss_name.startswith('loss_')
    fused, sources = torch.rand(2, 1, 16, 16), torch.rand(2, 2, 16, 16)
    value = loss_fn(fused, sources)
    assert value.shape == () and torch.isfinite(value)
    with pytest.raises(ValueError, match=r'fused must be \(N, 1, H, W\)'):
        loss_fn(sources, sources)
    with pytest.raises(ValueError, match='do not match'):
        loss_fn(fused, sources[:, :, :8])
