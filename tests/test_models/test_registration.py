"""The registration room: spatial transformer, fields, losses, network and
ImageRegistrator (TIM Sec. 5.1.2, N_R)."""
import numpy as np
import pytest
import torch
import torch.nn as nn

from mmfusenas.datasets.transforms import (invert_flow,
                                           random_affine_elastic_field,
                                           remap_array)
from mmfusenas.models import (DeformableRegNet, FlowEPELoss,
                              FlowSmoothnessLoss, LocalNCCLoss, NGFLoss,
                              SpatialTransformer)
from mmfusenas.models.registration import (compose_flows, integrate_velocity,
                                           register_pair, warp_image)

pytestmark = pytest.mark.usefixtures('one_thread')


def smooth_image(h=64, w=64, seed=0, sigma=2.0):
    """A textured image in [0, 1] with structure at every scale."""
    rng = np.random.default_rng(seed)
    img = rng.random((h, w)).astype(np.float32)
    import cv2
    img = cv2.GaussianBlur(img, (0, 0), sigma)
    img = (img - img.min()) / (img.max() - img.min())
    return torch.from_numpy(img)[None, None]


# ---------------------------------------------------------------- STN
def test_integer_translation_is_an_exact_shift():
    img = torch.arange(5 * 7, dtype=torch.float32).view(1, 1, 5, 7)
    flow = torch.zeros(1, 2, 5, 7)
    flow[:, 0] = 2.0  # sample 2 px to the right
    flow[:, 1] = -1.0  # and 1 px up
    out = warp_image(img, flow)
    # interior: out[y, x] = img[y - 1, x + 2]
    assert torch.equal(out[0, 0, 1:, :-2], img[0, 0, :-1, 2:])
    # border mode replicates the edge
    assert torch.equal(out[0, 0, 0, :-2], img[0, 0, 0, 2:])
    assert torch.equal(SpatialTransformer()(img, flow), out)


def test_half_pixel_shift_is_the_bilinear_mean():
    img = torch.rand(1, 3, 6, 6, dtype=torch.float64)
    flow = torch.zeros(1, 2, 6, 6, dtype=torch.float64)
    flow[:, 0] = 0.5
    out = warp_image(img, flow)
    expected = (img[..., :-1] + img[..., 1:]) / 2
    torch.testing.assert_close(out[..., :-1], expected)


def test_warp_matches_cv2_remap_of_the_pipeline():
    rng = np.random.default_rng(1)
    field = random_affine_elastic_field(48, 56, rng, elastic_magnitude=0.05)
    img = smooth_image(48, 56)
    ref = remap_array(img[0, 0].numpy()[..., None], field)[..., 0]
    out = warp_image(img, torch.from_numpy(field).permute(2, 0, 1)[None])
    np.testing.assert_allclose(out[0, 0].numpy(), ref, atol=1e-4)


def test_known_warp_undone_by_its_inverse_field():
    """The STN undoes a known warp when fed the inverse field (the
    ground truth RandomElasticAffineWarp stores) to sub-pixel accuracy."""
    rng = np.random.default_rng(0)
    field = random_affine_elastic_field(
        96, 96, rng, max_rotation=4, elastic_magnitude=0.04)
    inverse = invert_flow(field)
    to_t = lambda f: torch.from_numpy(f).permute(2, 0, 1)[None]  # noqa
    # the composition is the identity (up to the fixed-point residual)
    composed = compose_flows(to_t(field), to_t(inverse))
    assert composed[..., 8:-8, 8:-8].abs().max() < 0.05
    img = smooth_image(96, 96, sigma=3.0)
    moving = warp_image(img, to_t(field))
    back = warp_image(moving, to_t(inverse))
    inner = (slice(None), slice(None), slice(12, -12), slice(12, -12))
    assert (moving - img)[inner].abs().mean() > 0.03  # really misaligned
    assert (back - img)[inner].abs().max() < 0.02


def test_warp_gradients_match_finite_differences():
    torch.manual_seed(0)
    img = torch.rand(1, 2, 5, 6, dtype=torch.float64, requires_grad=True)
    # non-integer positions: bilinear sampling is smooth there
    flow = (0.3 + 0.4 * torch.rand(1, 2, 5, 6, dtype=torch.float64))
    flow.requires_grad_(True)
    assert torch.autograd.gradcheck(
        lambda a, b: warp_image(a, b, padding_mode='zeros'), (img, flow))


def test_scaling_and_squaring_of_a_constant_velocity():
    # a constant velocity integrates to the same constant displacement
    v = torch.zeros(1, 2, 16, 16)
    v[:, 0] = 1.5
    torch.testing.assert_close(integrate_velocity(v, 5)[..., 4:-4, 4:-4],
                               v[..., 4:-4, 4:-4])
    with pytest.raises(ValueError, match='>= 0'):
        integrate_velocity(v, -1)


def test_bad_flow_shape_names_the_caller():
    with pytest.raises(ValueError, match='warp_image.*\\(N, 2, H, W\\)'):
        warp_image(torch.rand(1, 1, 4, 4), torch.rand(1, 3, 4, 4))


# ------------------------------------------------------------- losses
def test_smoothness_exact_on_a_ramp():
    # u_x = a x (a = 2), u_y = 0: x-differences of u_x are a, of u_y 0,
    # y-differences 0 -> l2 = (mean(dx^2) + mean(dy^2)) / 2 = (a^2/2) / 2
    flow = torch.zeros(1, 2, 4, 5)
    flow[:, 0] = 2.0 * torch.arange(5.0)
    assert FlowSmoothnessLoss()(flow).item() == pytest.approx(1.0)
    assert FlowSmoothnessLoss(loss_weight=3.0)(flow).item() == \
        pytest.approx(3.0)
    # a constant (rigid translation) field is free
    assert FlowSmoothnessLoss()(torch.full((2, 2, 6, 6), 7.0)).item() == 0


def test_smoothness_hand_case_with_y_differences():
    flow = torch.tensor([[[[0., 1.], [2., 4.]], [[0., 0.], [0., 0.]]]])
    # dx of component 0: [1, 2] -> squares 1, 4; component 1: 0, 0
    # mean(dx^2) = (1 + 4 + 0 + 0) / 4; dy of component 0: [2, 3] -> 4, 9
    expected = ((1 + 4) / 4 + (4 + 9) / 4) / 2
    assert FlowSmoothnessLoss()(flow).item() == pytest.approx(expected)


def test_ngf_ignores_contrast_inversion_and_scores_flat_as_one():
    a = smooth_image(32, 32)
    loss = NGFLoss(eps=0.01)
    assert loss(a, a).item() < 0.2
    torch.testing.assert_close(loss(a, 1 - a), loss(a, a))
    torch.testing.assert_close(loss(a, 0.5 * a + 0.2), loss(a, 0.5 * a))
    assert loss(a, torch.full_like(a, 0.3)).item() == pytest.approx(1.0)
    # misaligned edges cost more than aligned ones
    assert loss(a, torch.roll(a, 3, dims=-1)).item() > \
        loss(a, a).item() + 0.2


def test_ngf_hand_case():
    # a = x-ramp (gradient (1, 0) inside), b = y-ramp (gradient (0, 1)):
    # orthogonal everywhere -> loss 1 exactly
    x = torch.arange(6.0, dtype=torch.float64).view(1, 1, 1, 6).expand(
        1, 1, 6, 6)
    assert NGFLoss()(x, x.transpose(-1, -2)).item() == pytest.approx(1.0)
    # parallel ramps x and 2x: gradients 1 and 2 inside, 0.5 and 1 on the
    # first / last column (central differences, replicated borders); per
    # pixel 1 - (ga gb)^2 / ((ga^2 + e^2)(gb^2 + e^2))
    e2 = 0.01**2
    def per(ga, gb):
        return 1 - (ga * gb)**2 / ((ga**2 + e2) * (gb**2 + e2))

    expected = (4 * per(1.0, 2.0) + 2 * per(0.5, 1.0)) / 6
    assert NGFLoss()(x, 2 * x).item() == pytest.approx(expected, rel=1e-5)


def test_local_ncc_is_invariant_to_scale():
    a = smooth_image(24, 24)
    loss = LocalNCCLoss(window=5)
    assert loss(a, a).item() < 1e-3
    assert loss(a, 2 * a).item() < 1e-3
    assert loss(a, smooth_image(24, 24, seed=5)).item() > 0.5


def test_flow_epe_exact():
    flow = torch.zeros(1, 2, 2, 2)
    gt = torch.zeros(1, 2, 2, 2)
    gt[:, 0] = 3.0
    gt[:, 1] = 4.0
    assert FlowEPELoss(eps=0)(flow, gt).item() == pytest.approx(5.0)


@pytest.mark.parametrize('loss', [
    NGFLoss(eps=0.1),
    LocalNCCLoss(window=3),
])
def test_similarity_gradients_match_finite_differences(loss):
    torch.manual_seed(0)
    a = torch.rand(1, 1, 6, 6, dtype=torch.float64, requires_grad=True)
    b = torch.rand(1, 1, 6, 6, dtype=torch.float64)
    assert torch.autograd.gradcheck(lambda x: loss(x, b), (a, ))


def test_smoothness_gradients_match_finite_differences():
    torch.manual_seed(0)
    flow = torch.rand(1, 2, 5, 5, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(FlowSmoothnessLoss(),
                                    (flow, ))


def test_smoothness_gradient_hand_value():
    # d/du of (mean(dx^2) + mean(dy^2)) / 2 on a 1x2 field (no y
    # differences): dx = u1 - u0 over 2 components -> mean over 2 entries
    flow = torch.tensor([[[[0., 1.]], [[0., 0.]]]], requires_grad=True)
    FlowSmoothnessLoss()(flow).backward()
    # loss = ((u1 - u0)^2 / 2 + 0) / 2 -> dL/du1 = (u1 - u0) / 2 = 0.5
    torch.testing.assert_close(
        flow.grad, torch.tensor([[[[-0.5, 0.5]], [[0., 0.]]]]))


# ---------------------------------------------------------- network
def test_network_starts_as_identity_and_handles_odd_sizes():
    net = DeformableRegNet(channels=4, num_levels=3)
    fixed, moving = torch.rand(2, 1, 37, 50), torch.rand(2, 3, 37, 50)
    flow = net(fixed, moving)
    assert flow.shape == (2, 2, 37, 50)
    assert torch.equal(flow, torch.zeros_like(flow))
    fields = register_pair(net, fixed, moving)
    torch.testing.assert_close(fields['moving_warped'], moving)
    assert fields['warped'].shape == (2, 1, 37, 50)


def test_network_bounded_output():
    net = DeformableRegNet(channels=4, num_levels=2, max_displacement=2.0)
    nn.init.normal_(net.flow_head.weight, std=10.0)
    flow = net(torch.rand(1, 1, 16, 16), torch.rand(1, 1, 16, 16))
    assert flow.abs().max() <= 2.0
    with pytest.raises(ValueError, match='max_displacement'):
        DeformableRegNet(max_displacement=0)


def pair_with_known_warp(size=64, seed=0):
    """A cross-modality-like pair (the moving image is the inverted
    fixed image, warped by a known smooth field) and the ground truth."""
    rng = np.random.default_rng(seed)
    field = random_affine_elastic_field(
        size, size, rng, max_rotation=3, max_translation=0.03,
        elastic_magnitude=0.03, elastic_sigma=0.15)
    gt = torch.from_numpy(invert_flow(field)).permute(2, 0, 1)[None]
    fixed = smooth_image(size, size, seed=seed, sigma=2.0)
    moving = warp_image(1 - fixed,
                        torch.from_numpy(field).permute(2, 0, 1)[None])
    return fixed, moving, gt


def test_network_optimised_on_one_pair_undoes_the_warp():
    """N_R optimised on one synthetic pair with the unsupervised
    cross-modality loss (NGF + smoothness) recovers the known field to
    sub-pixel accuracy (the moving image has inverted contrast)."""
    torch.manual_seed(0)
    fixed, moving, gt = pair_with_known_warp()
    inner = (slice(None), slice(None), slice(6, -6), slice(6, -6))
    before = gt.pow(2).sum(1, keepdim=True).sqrt()[inner].mean()
    assert before > 1.5
    net = DeformableRegNet(channels=8, num_levels=3)
    ngf, smooth = NGFLoss(eps=0.01), FlowSmoothnessLoss(loss_weight=1.0)
    opt = torch.optim.Adam(net.parameters(), lr=2e-3)
    for _ in range(150):
        fields = register_pair(net, fixed, moving)
        loss = ngf(fields['warped'], fields['fixed']) + smooth(fields['flow'])
        opt.zero_grad()
        loss.backward()
        opt.step()
    flow = net(fixed, moving).detach()
    epe = (flow - gt).pow(2).sum(1, keepdim=True).sqrt()[inner].mean()
    assert epe < 0.5, (float(before), float(epe))


# -------------------------------------------------- instance optimisation
def test_instance_optimisation_undoes_a_known_warp():
    """optimise_field on one contrast-inverted synthetic pair (NGF +
    smoothness, coarse to fine) recovers the known field to sub-pixel
    accuracy, from zero and without any training."""
    from mmfusenas.models.registration import optimise_field
    fixed, moving, gt = pair_with_known_warp(size=64, seed=1)
    inner = (slice(None), slice(None), slice(6, -6), slice(6, -6))
    before = gt.pow(2).sum(1, keepdim=True).sqrt()[inner].mean()
    flow = optimise_field(fixed, moving,
                          [NGFLoss(eps=0.05), FlowSmoothnessLoss()],
                          grid_spacing=8, iters=60, lr=0.3)
    epe = (flow - gt).pow(2).sum(1, keepdim=True).sqrt()[inner].mean()
    assert before > 1.5 and epe < 0.5, (float(before), float(epe))
    assert not flow.requires_grad


def test_instance_optimised_net_refines_only_at_inference():
    from mmfusenas.models import InstanceOptimisedRegNet
    fixed, moving, gt = pair_with_known_warp(size=64, seed=1)
    net = InstanceOptimisedRegNet(
        network=dict(type='DeformableRegNet', channels=4, num_levels=2),
        losses=[dict(type='NGFLoss', eps=0.05),
                dict(type='FlowSmoothnessLoss')],
        grid_spacing=8, iters=60)
    net.train()
    torch.testing.assert_close(net(fixed, moving),
                               net.network(fixed, moving))
    net.eval()
    with torch.no_grad():  # as in validation: refinement enables grads
        flow = net(fixed, moving)
    assert (flow - gt).pow(2).sum(1).sqrt()[..., 6:-6, 6:-6].mean() < 0.5
    with pytest.raises(ValueError, match='gt_flow'):
        InstanceOptimisedRegNet(network=DeformableRegNet(),
                                losses=[FlowEPELoss()])
