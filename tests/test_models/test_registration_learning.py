"""The correlation pyramid registration network (PyramidCorrRegNet): its
parts on hand cases, and that training it reduces the registration error on
held-out synthetic cross-modality pairs within a few steps (the U-Net did
not)."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from mmfusenas.datasets.transforms import (invert_flow,
                                           random_affine_elastic_field)
from mmfusenas.models import (FlowEPELoss, FlowSmoothnessLoss, NGFLoss,
                              PyramidCorrRegNet)
from mmfusenas.models.registration import (local_correlation, register_pair,
                                           resize_flow, warp_image)
from mmfusenas.registry import MODELS

pytestmark = pytest.mark.usefixtures('one_thread')


def test_local_correlation_hand_case():
    """moving(p) = fixed(p - (1, 0)): the offset d = (+1, 0) reproduces
    <fixed, fixed> away from the border, and offset index k = (dy + r)(2r
    + 1) + (dx + r)."""
    torch.manual_seed(0)
    fixed = torch.randn(1, 3, 6, 7)
    moving = torch.zeros_like(fixed)
    moving[..., 1:] = fixed[..., :-1]
    cost = local_correlation(fixed, moving, radius=1)
    assert cost.shape == (1, 9, 6, 7)
    k = (0 + 1) * 3 + (1 + 1)
    torch.testing.assert_close(cost[0, k, :, :-1],
                               fixed.pow(2).sum(1)[0, :, :-1])
    # zero padding outside the image
    assert torch.all(cost[0, k, :, -1] == 0)
    # the centre offset is the plain dot product
    torch.testing.assert_close(cost[0, 4], (fixed * moving).sum(1)[0])
    with pytest.raises(ValueError, match='radius'):
        local_correlation(fixed, moving, radius=-1)


def test_ngf_cost_is_contrast_free_and_peaks_at_the_shift():
    """The NGF cost of a texture against its contrast-inverted copy shifted
    by (dx, dy) = (1, -1) peaks at that offset, where it is ~1."""
    from mmfusenas.models.registration.pyramid_reg_net import ngf_cost
    gen = torch.Generator().manual_seed(0)
    fixed = texture(1, 32, gen)
    moving = torch.zeros_like(fixed)
    # moving(p) = 1 - fixed(p - (1, -1)), so fixed(p) ~ moving(p + (1, -1))
    moving[..., :-1, 1:] = 1 - fixed[..., 1:, :-1]
    cost = ngf_cost(fixed, moving, radius=2, eps=1e-3)
    inner = cost[0, :, 4:-4, 4:-4].mean((1, 2))
    k = (-1 + 2) * 5 + (1 + 2)
    assert int(inner.argmax()) == k
    assert inner[k] > 0.99 and inner.sum() - inner[k] < 24 * 0.9
    assert cost.shape == (1, 25, 32, 32)


def test_resize_flow_rescales_displacements():
    flow = torch.tensor([3.0, -2.0]).view(1, 2, 1, 1).expand(1, 2, 8, 10)
    out = resize_flow(flow, (16, 30))
    assert out.shape == (1, 2, 16, 30)
    torch.testing.assert_close(out[0, 0], torch.full((16, 30), 9.0))
    torch.testing.assert_close(out[0, 1], torch.full((16, 30), -4.0))
    assert resize_flow(flow, (8, 10)) is flow


def test_starts_as_identity_on_odd_sizes_and_builds_from_registry():
    net = MODELS.build(
        dict(type='PyramidCorrRegNet', channels=4, num_levels=3, radius=2))
    fixed, moving = torch.rand(2, 3, 37, 50), torch.rand(2, 1, 37, 50)
    flow = net(fixed, moving)
    assert flow.shape == (2, 2, 37, 50)
    assert torch.equal(flow, torch.zeros_like(flow))
    fields = register_pair(net, fixed, moving)
    torch.testing.assert_close(fields['moving_warped'], moving)
    with pytest.raises(ValueError, match='same N, H, W'):
        net(fixed, moving[..., :36, :])
    with pytest.raises(ValueError, match='max_displacement'):
        PyramidCorrRegNet(max_displacement=-1.0)


def texture(n, size, gen):
    """``(n, 1, size, size)`` smooth random textures in [0, 1]."""
    img = torch.rand(n, 1, size // 4, size // 4, generator=gen)
    img = F.interpolate(img, size=(size, size), mode='bicubic',
                        align_corners=False)
    img = img - img.amin((2, 3), keepdim=True)
    return img / img.amax((2, 3), keepdim=True)


def synthetic_batch(n, size, seed):
    """Cross-modality-like pairs: the moving image is the contrast-inverted
    fixed texture warped by a random affine + elastic field (up to ~3 px);
    returns (fixed, moving, gt_flow)."""
    gen = torch.Generator().manual_seed(seed)
    rng = np.random.default_rng(seed)
    fixed = texture(n, size, gen)
    fields, gts = [], []
    for _ in range(n):
        field = random_affine_elastic_field(
            size, size, rng, max_rotation=3, max_translation=0.05,
            elastic_magnitude=0.03, elastic_sigma=0.15)
        fields.append(torch.from_numpy(field).permute(2, 0, 1))
        gts.append(torch.from_numpy(invert_flow(field)).permute(2, 0, 1))
    moving = warp_image(1 - fixed, torch.stack(fields))
    return fixed, moving, torch.stack(gts)


def inner_epe(flow, gt, border=6):
    return (flow - gt).pow(2).sum(1).sqrt()[..., border:-border,
                                            border:-border].mean().item()


def train_steps(net, losses, steps, lr=3e-3, size=48):
    torch.manual_seed(0)
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    history = []
    for step in range(steps):
        fixed, moving, gt = synthetic_batch(4, size, seed=100 + step)
        fields = register_pair(net, fixed, moving)
        fields['gt_flow'] = gt
        loss = sum(fn(*(fields[k] for k in fn.inputs)) for fn in losses)
        opt.zero_grad()
        loss.backward()
        opt.step()
        history.append(loss.item())
    return history


def test_training_steps_reduce_the_held_out_error():
    """60 supervised Adam steps on fresh synthetic pairs: the error on 4
    held-out pairs drops to well below the misalignment (measured: 2.92 ->
    ~1.2 px), and the training loss falls."""
    torch.manual_seed(0)
    net = PyramidCorrRegNet(channels=8, num_levels=2, radius=2,
                            decoder_channels=16)
    fixed, moving, gt = synthetic_batch(4, 48, seed=0)
    before = inner_epe(torch.zeros_like(gt), gt)
    history = train_steps(net, [FlowEPELoss()], steps=60)
    with torch.no_grad():
        after = inner_epe(net(fixed, moving), gt)
    assert before > 2.0
    assert after < 0.6 * before, (before, after)
    assert np.mean(history[-10:]) < 0.7 * np.mean(history[:5]), history


def test_unsupervised_training_reduces_the_held_out_error():
    """NGF + smoothness only (the configs' unsupervised losses) on
    contrast-inverted pairs also moves the held-out error down."""
    torch.manual_seed(0)
    net = PyramidCorrRegNet(channels=8, num_levels=2, radius=2,
                            decoder_channels=16)
    fixed, moving, gt = synthetic_batch(4, 48, seed=0)
    before = inner_epe(torch.zeros_like(gt), gt)
    train_steps(net, [NGFLoss(eps=0.05), FlowSmoothnessLoss()], steps=60)
    with torch.no_grad():
        after = inner_epe(net(fixed, moving), gt)
    assert after < 0.75 * before, (before, after)


def test_pyramid_net_optimised_on_one_pair_undoes_the_warp():
    """As the U-Net test of test_registration.py: optimised on one
    contrast-inverted pair (NGF + smoothness), the known field is recovered
    to sub-pixel accuracy."""
    torch.manual_seed(0)
    fixed, moving, gt = synthetic_batch(1, 64, seed=3)
    before = inner_epe(torch.zeros_like(gt), gt)
    net = PyramidCorrRegNet(channels=8, num_levels=3, radius=2,
                            decoder_channels=16)
    ngf, smooth = NGFLoss(eps=0.05), FlowSmoothnessLoss()
    opt = torch.optim.Adam(net.parameters(), lr=2e-3)
    for _ in range(120):
        fields = register_pair(net, fixed, moving)
        loss = ngf(fields['warped'], fields['fixed']) + smooth(fields['flow'])
        opt.zero_grad()
        loss.backward()
        opt.step()
    with torch.no_grad():
        after = inner_epe(net(fixed, moving), gt)
    assert before > 1.5 and after < 0.5, (before, after)


def test_orientation_features_hand_case_and_contrast_sign():
    """A vertical ramp x(i, j) = 0.1 j has central-difference gradient
    (0.1, 0) inside: cos 2θ = 1, sin 2θ = 0, strength m / (m + ε²) with
    m = 0.01; a horizontal ramp gives cos 2θ = -1; the diagonal ramp
    sin 2θ = +1 (times the strength). Inverting the contrast changes
    nothing."""
    from mmfusenas.models.registration import orientation_features
    j = torch.arange(6.).view(1, 1, 1, 6).expand(1, 1, 5, 6)
    i = torch.arange(5.).view(1, 1, 5, 1).expand(1, 1, 5, 6)
    eps = 0.05
    w = 0.01 / (0.01 + eps**2)
    out = orientation_features(0.1 * j, eps)
    assert out.shape == (1, 3, 5, 6)
    inner = (0, slice(None), slice(1, -1), slice(1, -1))
    torch.testing.assert_close(out[0, 0][inner[2:]], torch.full((3, 4), w))
    torch.testing.assert_close(out[0, 1][inner[2:]], torch.zeros(3, 4))
    torch.testing.assert_close(out[0, 2][inner[2:]], torch.full((3, 4), w))
    out = orientation_features(0.1 * i, eps)
    torch.testing.assert_close(out[0, 0][inner[2:]], torch.full((3, 4), -w))
    # diagonal: g = (0.1, 0.1), m = 0.02: sin 2θ = 2 gx gy / (m + ε²)
    out = orientation_features(0.1 * (i + j), eps)
    wd = 0.02 / (0.02 + eps**2)
    torch.testing.assert_close(out[0, 1][inner[2:]], torch.full((3, 4), wd))
    torch.testing.assert_close(out[0, 0][inner[2:]], torch.zeros(3, 4))
    gen = torch.Generator().manual_seed(0)
    x = texture(2, 24, gen)
    torch.testing.assert_close(
        orientation_features(x, 0.1), orientation_features(1 - x, 0.1))


@pytest.mark.parametrize('inputs', ['orientation', 'both'])
def test_input_representations_and_pseudo_siamese_encoders(inputs):
    """Every representation starts as the identity; the orientation input
    is contrast-free (the encoder features of an image and of its inverse
    are equal); separate encoders have their own weights and are used for
    the moving image."""
    net = PyramidCorrRegNet(channels=4, num_levels=2, radius=1,
                            inputs=inputs, shared_encoder=False)
    fixed, moving = torch.rand(2, 1, 33, 40), torch.rand(2, 1, 33, 40)
    assert torch.equal(net(fixed, moving), torch.zeros(2, 2, 33, 40))
    assert net.encoder_inputs(fixed).shape[1] == (3 if inputs ==
                                                  'orientation' else 5)
    shared = PyramidCorrRegNet(channels=4, num_levels=2, radius=1,
                               inputs=inputs)
    n_shared = sum(p.numel() for p in shared.encoder.parameters())
    assert sum(p.numel() for p in net.parameters()) == \
        sum(p.numel() for p in shared.parameters()) + n_shared
    a = net.features(fixed)[-1]
    b = net.features(fixed, moving=True)[-1]
    assert not torch.allclose(a, b)  # the moving image's own encoder
    if inputs == 'orientation':
        torch.testing.assert_close(
            shared.features(fixed)[-1], shared.features(1 - fixed)[-1])
    # gradients reach the moving encoder through the decoder
    net.decoders[-1][-1].weight.data.normal_()
    net(fixed, moving).pow(2).mean().backward()
    assert net.moving_encoder[0][0][0].weight.grad.abs().sum() > 0
    with pytest.raises(ValueError, match='inputs'):
        PyramidCorrRegNet(inputs='rgb')


def test_orientation_inputs_learn_contrast_inverted_pairs():
    """The supervised test above with the orientation representation (the
    configs' N_R): the held-out error of contrast-inverted pairs falls below
    0.6 x the misalignment within 60 steps."""
    torch.manual_seed(0)
    net = PyramidCorrRegNet(channels=8, num_levels=2, radius=2,
                            decoder_channels=16, inputs='orientation')
    fixed, moving, gt = synthetic_batch(4, 48, seed=0)
    before = inner_epe(torch.zeros_like(gt), gt)
    train_steps(net, [FlowEPELoss()], steps=60)
    with torch.no_grad():
        after = inner_epe(net(fixed, moving), gt)
    assert after < 0.6 * before, (before, after)


def test_flow_bound_hand_case_and_normalised_decoder_input():
    """With ``flow_bound`` every level's field is ``B tanh(flow / B)`` (B in
    that level's pixels) and the decoders read ``flow / B``: exact on a
    network whose decoders output a constant (zero weights, bias b)."""
    bound, b, scale = 6.0, 5.0, 4.0
    net = PyramidCorrRegNet(channels=4, num_levels=2, radius=1,
                            flow_scale=scale, flow_bound=bound)
    for dec in net.decoders:
        torch.nn.init.zeros_(dec[-1].weight)
        torch.nn.init.constant_(dec[-1].bias, b)
    x = torch.rand(1, 1, 32, 32)
    flow = net(x, torch.rand(1, 1, 32, 32))
    # stride 4: B = 1.5 level px; stride 2: the field x2, + scale/2 b, B = 3
    f4 = 1.5 * np.tanh(scale / 4 * b / 1.5)
    f2 = 3.0 * np.tanh((2 * f4 + scale / 2 * b) / 3.0)
    assert torch.allclose(flow, torch.full_like(flow, 2 * f2), atol=1e-5)
    assert flow.abs().max() <= bound
    # the decoders' flow input is normalised: record what the stride-2
    # decoder reads in its last two input channels
    seen = {}

    def record(module, inputs):
        seen['flow'] = inputs[0][:, -2:].detach()

    net.decoders[0].register_forward_pre_hook(record)
    net(x, torch.rand(1, 1, 32, 32))
    assert torch.allclose(seen['flow'],
                          torch.full_like(seen['flow'], 2 * f4 / 3.0),
                          atol=1e-5)
    # unbounded (the default): the fields add up in pixels
    free = PyramidCorrRegNet(channels=4, num_levels=2, radius=1,
                             flow_scale=scale)
    for dec in free.decoders:
        torch.nn.init.zeros_(dec[-1].weight)
        torch.nn.init.constant_(dec[-1].bias, b)
    out = free(x, torch.rand(1, 1, 32, 32))
    assert torch.allclose(out, torch.full_like(out, 2 * (
        2 * scale / 4 * b + scale / 2 * b)), atol=1e-4)
    with pytest.raises(ValueError, match='flow_bound'):
        PyramidCorrRegNet(flow_bound=0.0)
