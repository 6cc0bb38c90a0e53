"""The fast training path (cpu_kernels.fast_training): PReLU's
one-pass backward, 1x1 convolutions as matrix products in channels-last,
its class swaps through the transform (``apply_cpu_kernels(...,
training=True)`` / ``remove_cpu_kernels``) on a bare network and on the
fusion network of the compound fusion models."""
import copy

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from cpu_kernels import (apply_cpu_kernels, fast_training_targets,
                         has_cpu_kernels, remove_cpu_kernels)
from cpu_kernels import fast_training
from cpu_kernels.fast_training import (FastPReLU, PointwiseConv2d,
                                       fast_training_swaps, prelu_backward)
from mmfusenas.registry import MODELS
from mmfusenas.apis.deploy import prelu_to_leaky_relu
from cpu_kernels.switches import cpu_kernels

needs_kernel = pytest.mark.skipif(
    fast_training._kernel() is None,
    reason='numba unavailable or the cpu_kernels switch numba off: '
    "FastPReLU is ATen's PReLU")

CL = torch.channels_last


def _aten_prelu_grads(x, w, g):
    x = x.detach().clone().requires_grad_()
    w = w.detach().clone().requires_grad_()
    torch.prelu(x, w).backward(g)
    return x.grad, w.grad


@needs_kernel
@pytest.mark.parametrize('layout', ['contiguous', 'channels_last'])
def test_prelu_backward_hand_computed(layout):
    # x > 0 -> g; x <= 0 (zero included, as ATen) -> w g; slope grad sums
    # x g over x <= 0
    x = torch.tensor([2.0, -1.0, 0.0, -3.0, 0.5, -0.5]).view(1, 2, 1, 3)
    g = torch.tensor([1.0, 2.0, 3.0, -1.0, 4.0, 8.0]).view(1, 2, 1, 3)
    w = torch.tensor([0.25])
    if layout == 'channels_last':
        x, g = x.contiguous(memory_format=CL), g.contiguous(memory_format=CL)
    with torch.no_grad():
        gx, gw = prelu_backward(x, w, g)
    assert torch.equal(gx, torch.tensor(
        [1.0, 0.5, 0.75, -0.25, 4.0, 2.0]).view(1, 2, 1, 3))
    # -1*2 + 0*3 + -3*-1 + -0.5*8 = -3
    assert gw.shape == w.shape and gw.item() == -3.0


@needs_kernel
def test_prelu_backward_lanes_and_tail_hand_computed():
    # 45 elements: two blocks of the kernel's 16 lanes and a tail of 13;
    # x = -1 at every third element, else 1; g = the element's index
    i = torch.arange(45.0)
    x = torch.where(i % 3 == 0, -1.0, 1.0).view(1, 1, 5, 9)
    g = i.view(1, 1, 5, 9)
    with torch.no_grad():
        gx, gw = prelu_backward(x, torch.tensor([0.25]), g)
    assert torch.equal(gx, torch.where(x > 0, g, 0.25 * g))
    # -(0 + 3 + ... + 42) = -3 * (0 + ... + 14) = -315
    assert gw.item() == -315.0


@needs_kernel
@pytest.mark.parametrize('layout', ['contiguous', 'channels_last', 'mixed'])
def test_prelu_backward_matches_aten(layout):
    torch.manual_seed(0)
    x = torch.randn(3, 5, 17, 19)
    g = torch.randn(3, 5, 17, 19)
    w = torch.tensor([0.3])
    ref_gx, ref_gw = _aten_prelu_grads(x, w, g)
    if layout != 'contiguous':
        x = x.contiguous(memory_format=CL)
    if layout == 'channels_last':
        g = g.contiguous(memory_format=CL)
    with torch.no_grad():
        gx, gw = prelu_backward(x, w, g)
    assert torch.equal(gx, ref_gx)      # the input gradient is exact
    # the slope's sum, float64-accumulated here, float32 in ATen
    assert torch.allclose(gw, ref_gw, rtol=1e-5, atol=1e-5)
    exact = (x.double().clamp(max=0) * g.double()).sum()
    assert abs(gw.item() - exact.item()) <= 1e-4 * exact.abs().item()


@needs_kernel
def test_fast_prelu_module_gradients_and_second_order():
    torch.manual_seed(1)
    ref = nn.PReLU(init=0.2)
    fast = copy.deepcopy(ref)
    fast.__class__ = FastPReLU
    x = torch.randn(2, 4, 8, 8, requires_grad=True)
    g = torch.randn(2, 4, 8, 8)
    ref(x).backward(g)
    ref_gx, ref_gw = x.grad.clone(), ref.weight.grad.clone()
    x.grad = None
    out = fast(x)
    assert out.grad_fn is not None and 'PReLUFunction' in type(
        out.grad_fn).__name__
    assert torch.equal(out, ref(x))
    out.backward(g)
    assert torch.equal(x.grad, ref_gx)
    assert torch.allclose(fast.weight.grad, ref_gw, rtol=1e-5, atol=1e-6)
    # create_graph: the backward is differentiable (torch formula), second
    # derivatives as autograd's through nn.PReLU
    xd = torch.randn(2, 4, 8, 8, dtype=torch.float64, requires_grad=True)
    fd = copy.deepcopy(fast).double()
    assert torch.autograd.gradcheck(lambda t: fd(t), (xd, ))
    (gx, ) = torch.autograd.grad(fd(xd).pow(2).sum(), xd, create_graph=True)
    (ggw, ) = torch.autograd.grad(gx.sum(), fd.weight)
    rd = copy.deepcopy(ref).double()
    (rgx, ) = torch.autograd.grad(rd(xd).pow(2).sum(), xd, create_graph=True)
    (rggw, ) = torch.autograd.grad(rgx.sum(), rd.weight)
    assert torch.allclose(ggw, rggw)


def test_fast_prelu_without_grad_is_nn_prelu():
    m = nn.PReLU(init=0.1)
    m.__class__ = FastPReLU
    x = torch.randn(1, 2, 4, 4)
    with torch.no_grad():
        out = m(x)
    assert out.grad_fn is None and torch.equal(out, torch.prelu(x, m.weight))


@pytest.mark.parametrize('bias', [False, True])
def test_pointwise_conv_channels_last(bias):
    torch.manual_seed(2)
    conv = nn.Conv2d(6, 4, 1, bias=bias)
    fast = copy.deepcopy(conv)
    fast.__class__ = PointwiseConv2d
    x = torch.randn(2, 6, 9, 7)
    xc = x.contiguous(memory_format=CL).requires_grad_()
    out = fast(xc)
    assert out.is_contiguous(memory_format=CL)
    # hand-computed: out[n, o, h, w] = sum_c W[o, c] x[n, c, h, w] + b[o]
    want = torch.einsum('oc,nchw->nohw', conv.weight[:, :, 0, 0].double(),
                        x.double())
    if bias:
        want = want + conv.bias.double().view(1, -1, 1, 1)
    assert torch.allclose(out.double(), want, atol=1e-5)
    g = torch.randn_like(out)
    out.backward(g)
    xr = x.clone().requires_grad_()
    conv(xr).backward(g)
    assert torch.allclose(xc.grad, xr.grad, atol=1e-5)
    assert torch.allclose(fast.weight.grad, conv.weight.grad, atol=1e-4)
    # a contiguous input takes nn.Conv2d's path (same values)
    assert torch.equal(fast(x), conv(x))


def test_paired_mm_hand_computed_and_fallbacks():
    """Rows two at a time against diag(b, b): the same product."""
    from cpu_kernels.fast_training import (PAIRED_COLUMNS, paired_mm,
                                           paired_weight_grad)
    assert PAIRED_COLUMNS == 8
    a = torch.arange(12.).view(4, 3)
    b = torch.zeros(3, 8)
    b[0, 0], b[1, 3], b[2, 7] = 1., 2., -1.
    out = paired_mm(a, b)
    # column 0 = a[:, 0], column 3 = 2 a[:, 1], column 7 = -a[:, 2]
    want = torch.zeros(4, 8)
    want[:, 0], want[:, 3], want[:, 7] = a[:, 0], 2 * a[:, 1], -a[:, 2]
    assert torch.equal(out, want)
    g = torch.arange(32.).view(4, 8)
    assert torch.equal(paired_weight_grad(a, g), a.t() @ g)
    torch.manual_seed(0)
    for m, k, n in ((1000, 16, 8), (999, 16, 8), (1000, 16, 4), (64, 24, 8)):
        x, w = torch.randn(m, k), torch.randn(k, n)
        gr = torch.randn(m, n)
        assert torch.allclose(paired_mm(x, w), x @ w, atol=1e-5)
        assert torch.allclose(paired_weight_grad(x, gr), x.t() @ gr,
                              atol=1e-4)
    # odd rows, other widths and non-contiguous rows: torch.mm itself
    x, w = torch.randn(999, 16), torch.randn(16, 8)
    assert torch.equal(paired_mm(x, w), torch.mm(x, w))
    w4 = torch.randn(16, 4)
    assert torch.equal(paired_mm(x[:998], w4), torch.mm(x[:998], w4))
    xt = torch.randn(16, 1000).t()
    assert torch.equal(paired_mm(xt, w), torch.mm(xt, w))


@pytest.mark.parametrize('cin, cout', [(8, 8), (16, 8), (8, 16), (8, 4)])
def test_pointwise_conv_paired_products(cin, cout):
    """While autograd records, the products with 8 result columns run on
    pixel pairs: values, input / weight / bias gradients and a second
    order backward equal the convolution's within float32 rounding, and
    the switch restores F.linear's path."""
    torch.manual_seed(3)
    conv = nn.Conv2d(cin, cout, 1)
    fast = copy.deepcopy(conv)
    fast.__class__ = PointwiseConv2d
    x = torch.randn(2, cin, 12, 10, dtype=torch.float64)
    g = torch.randn(2, cout, 12, 10, dtype=torch.float64)

    def grads(module, inp, grad, create_graph=False):
        inp = inp.clone().requires_grad_()
        out = module(inp)
        gx, gw, gb = torch.autograd.grad(
            out, [inp, module.weight, module.bias], grad,
            create_graph=create_graph)
        return out, gx, gw, gb, inp

    ref = grads(conv.double(), x, g)
    xc = x.float().contiguous(memory_format=CL)
    assert fast_training.paired_products_ok(xc.requires_grad_())
    got = grads(fast, xc, g.float().contiguous(memory_format=CL))
    assert got[0].is_contiguous(memory_format=CL)
    for a, b in zip(got[:4], ref[:4]):
        assert (a.double() - b).abs().max() <= 1e-5 * b.abs().max()
    # second order: d/dx of sum(d out / d w * v) through the paired
    # backward equals the convolution's
    v = torch.randn(cout, cin, 1, 1, dtype=torch.float64)
    _, _, gw2, _, inp2 = grads(fast, xc, g.float().contiguous(
        memory_format=CL), create_graph=True)
    h, = torch.autograd.grad((gw2 * v.float()).sum(), inp2)
    _, _, gw1, _, inp1 = grads(conv, x, g, create_graph=True)
    h_ref, = torch.autograd.grad((gw1 * v).sum(), inp1)
    assert (h.double() - h_ref).abs().max() <= 1e-5 * h_ref.abs().max()
    # the switch: F.linear's path, as before
    with cpu_kernels(paired_products=False):
        assert not fast_training.paired_products_ok(xc)
        plain = F.linear(xc.permute(0, 2, 3, 1),
                         fast.weight.reshape(cout, cin),
                         fast.bias).permute(0, 3, 1, 2)
        assert torch.equal(fast(xc), plain)
    assert fast_training.paired_products_ok(xc)


def _small_net():
    return nn.Sequential(
        nn.Conv2d(2, 4, 3, padding=1), nn.PReLU(),
        nn.Conv2d(4, 4, 1, bias=False), nn.PReLU(4),
        nn.Conv2d(4, 4, 1, stride=2), nn.Conv2d(4, 4, 1, groups=2),
        nn.ConvTranspose2d(4, 4, 1))


def test_apply_cpu_kernels_training_swaps_in_place_and_remove_undoes():
    torch.manual_seed(0)
    net = _small_net()
    plain = copy.deepcopy(net)
    plain_types = [type(m) for m in plain]
    keys = list(net.state_dict())
    before = {k: v.clone() for k, v in net.state_dict().items()}
    params = list(net.parameters())
    # the listing changes nothing; a bare network is its own target
    assert fast_training_swaps(net) == [('1', FastPReLU),
                                        ('2', PointwiseConv2d)]
    assert [type(m) for m in net] == plain_types
    assert fast_training_targets(net) == ['']
    report = apply_cpu_kernels(net, training=True)
    assert report.swapped == [('1', 'PReLU', 'FastPReLU'),
                              ('2', 'Conv2d', 'PointwiseConv2d')]
    assert report.fast_training == [''] and has_cpu_kernels(net)
    assert type(net[1]) is FastPReLU and type(net[2]) is PointwiseConv2d
    # per-channel PReLU, strided / grouped 1x1 and transposed convs stay
    assert [type(m) for m in net][3:] == [
        nn.PReLU, nn.Conv2d, nn.Conv2d, nn.ConvTranspose2d]
    assert list(net.state_dict()) == keys
    assert all(a is b for a, b in zip(net.parameters(), params))
    for k, v in net.state_dict().items():
        assert torch.equal(v, before[k])
        if v.dim() == 4:
            assert v.is_contiguous(memory_format=CL)
    # an NCHW input reaches the network channels-last (the pre-hook)
    x = torch.randn(2, 2, 6, 6)
    seen = []
    probe = net[0].register_forward_pre_hook(
        lambda m, args: seen.append(args[0].is_contiguous(memory_format=CL)))
    torch.testing.assert_close(net(x), plain(x), rtol=0, atol=1e-5)
    probe.remove()
    assert seen == [True]
    # applied already: nothing the second time; the other mode is refused
    again = apply_cpu_kernels(net, training=True)
    assert len(again) == 0 and again.swapped == []
    with pytest.raises(RuntimeError, match='remove_cpu_kernels'):
        apply_cpu_kernels(net)
    # removed: the plain classes, layout and no hook; the plain outputs
    assert remove_cpu_kernels(net) == 2 and not has_cpu_kernels(net)
    assert [type(m) for m in net] == plain_types
    assert all(a is b for a, b in zip(net.parameters(), params))
    for k, v in net.state_dict().items():
        assert torch.equal(v, before[k])
        assert v.is_contiguous()
    assert not net._forward_pre_hooks
    assert torch.equal(net(x), plain(x))
    assert remove_cpu_kernels(net) is None
    # the exact PReLU -> LeakyReLU export rewrite still finds FastPReLU
    apply_cpu_kernels(net, training=True)
    assert prelu_to_leaky_relu(net) == ['1']


def _tim_net():
    return MODELS.build(
        dict(
            type='TIMFusionNet',
            channels=8,
            cells=[
                dict(type='MultiScaleFusionCell',
                     ops=['Residualblocks_3_1', 'DilConv_3_2']),
                dict(type='SuccessiveCell',
                     ops=['Denseblocks_3_1', 'DilConv_3_2'])
            ]))


def _fwd_bwd(net, x):
    net.zero_grad(set_to_none=True)
    out = net(x)
    (out * out).mean().backward()
    return out.detach(), [p.grad.clone() for p in net.parameters()]


def test_tim_fusion_net_equal_within_float_rounding():
    torch.manual_seed(3)
    net = _tim_net()
    fast = copy.deepcopy(net)
    report = apply_cpu_kernels(fast, training=True)
    kernels = {k for _, _, k in report.swapped}
    assert {'FastPReLU', 'PointwiseConv2d', 'FastGroupedConv2d'} <= kernels
    x = torch.rand(2, 2, 32, 32)
    ref_out, ref_grads = _fwd_bwd(net, x)
    out, grads = _fwd_bwd(fast, x)      # fed channels-last by the pre-hook
    assert torch.allclose(out, ref_out, atol=1e-4)
    norm = torch.sqrt(sum((g.double()**2).sum() for g in ref_grads))
    diff = torch.sqrt(
        sum(((a.double() - b.double())**2).sum()
            for a, b in zip(grads, ref_grads)))
    assert diff <= 1e-3 * norm
    # every gradient, each against the largest gradient entry of the net
    top = max(g.abs().max() for g in ref_grads)
    assert all(torch.allclose(a, b, atol=1e-4 * top)
               for a, b in zip(grads, ref_grads))
    # a scrambled gradient (the slopes' gradients zeroed) is caught
    wrong = [torch.zeros_like(g) if g.numel() == 1 else g for g in grads]
    assert not all(torch.allclose(a, b, atol=1e-4 * top)
                   for a, b in zip(wrong, ref_grads))
    # removed: the plain network again, same outputs and gradients
    remove_cpu_kernels(fast)
    assert [type(m) for m in fast.modules()] == \
        [type(m) for m in net.modules()]
    assert all(p.is_contiguous() for p in fast.parameters())
    out, grads = _fwd_bwd(fast, x)
    assert torch.equal(out, ref_out)
    assert all(torch.equal(a, b) for a, b in zip(grads, ref_grads))


def _compound():
    from helpers.task_models import retinanet
    torch.manual_seed(4)
    return MODELS.build(
        dict(
            type='FusionDetector',
            fusion_net=dict(
                type='TIMFusionNet',
                channels=4,
                cells=[
                    dict(type='SuccessiveCell',
                         ops=['Residualblocks_3_1', 'DilConv_3_2'])
                ]),
            fusion_losses=[
                dict(type='InfoPreservationLoss', measure='gradient'),
                dict(type='SaliencyWeightedLoss', ssim_weight=1.0)
            ],
            detector=retinanet()))


def _fast_compound():
    """The compound model with the fast training path (as
    ``CpuKernelsHook(training=True)`` applies it)."""
    model = _compound()
    report = apply_cpu_kernels(model, training=True)
    assert report.fast_training == ['fusion_net']
    return model, report


def _batch():
    from mmdet.structures import DetDataSample
    from mmengine.structures import InstanceData
    g = torch.Generator().manual_seed(0)
    ir, vi, samples = [], [], []
    for i in range(2):
        ir.append(torch.randint(0, 256, (1, 64, 64), generator=g,
                                dtype=torch.uint8))
        vi.append(torch.randint(0, 256, (3, 64, 64), generator=g,
                                dtype=torch.uint8))
        s = DetDataSample(metainfo=dict(
            img_shape=(64, 64), ori_shape=(64, 64), scale_factor=(1., 1.),
            modalities=('ir', 'vi'), color_modality='vi'))
        s.gt_instances = InstanceData(
            bboxes=torch.tensor([[4., 6., 30., 40.]]),
            labels=torch.tensor([1]))
        samples.append(s)
    return dict(inputs=dict(ir=ir, vi=vi), data_samples=samples)


def _loss_and_grads(model):
    """Log variables and parameter gradients of one training forward /
    backward on :func:`_batch`."""
    model.train()
    data = model.data_preprocessor(_batch(), True)
    losses = model(**data, mode='loss')
    loss, log_vars = model.parse_losses(losses)
    loss.backward()
    return log_vars, {
        n: p.grad.clone() for n, p in model.named_parameters()
        if p.grad is not None}


def test_compound_fast_training_equal_within_float_rounding():
    plain = _compound()
    fast, report = _fast_compound()
    assert isinstance(fast.fusion_net.stem[1], FastPReLU)
    assert type(plain.fusion_net.stem[1]) is nn.PReLU
    # the fast training path is on N_F only; the fusion losses get their
    # compiled SSIM moments
    training_kernels = ('FastPReLU', 'PointwiseConv2d', 'FastGroupedConv2d')
    assert all(name.startswith('fusion_net.')
               for name, _, kernel in report.swapped
               if kernel in training_kernels)
    kernels = {k for _, _, k in report.swapped}
    assert {'FastPReLU', 'FastGroupedConv2d', 'CpuInfoPreservationLoss',
            'CpuSaliencyWeightedLoss'} <= kernels
    assert all(p.is_contiguous(memory_format=CL)
               for p in fast.fusion_net.parameters() if p.dim() == 4)
    fast.load_state_dict(plain.state_dict())
    (ref_losses, ref_grads), (losses, grads) = (_loss_and_grads(plain),
                                                _loss_and_grads(fast))
    assert set(losses) == set(ref_losses)
    for key, value in ref_losses.items():
        assert float(losses[key].detach()) == pytest.approx(
            float(value.detach()), rel=1e-4, abs=1e-6), key
    assert set(grads) == set(ref_grads)
    fusion = [n for n in grads if n.startswith('fusion_net.')]
    assert fusion
    top = max(g.abs().max() for g in ref_grads.values())
    for name in grads:
        assert torch.allclose(grads[name], ref_grads[name],
                              atol=1e-3 * top), name
    # the task model is not converted: its layout is the plain one
    assert all(p.is_contiguous() for p in fast.detector.parameters())


def test_remove_cpu_kernels_restores_the_plain_compound():
    plain = _compound()
    fast, report = _fast_compound()
    assert len(report) and has_cpu_kernels(fast)
    assert remove_cpu_kernels(fast) == len(report)
    assert not has_cpu_kernels(fast)
    assert [(n, type(m)) for n, m in fast.named_modules()] == \
        [(n, type(m)) for n, m in plain.named_modules()]
    assert all(p.is_contiguous() for p in fast.parameters())
    assert not fast.fusion_net._forward_pre_hooks
    assert list(fast.state_dict()) == list(plain.state_dict())
    for (name, a), b in zip(fast.state_dict().items(),
                            plain.state_dict().values()):
        assert torch.equal(a, b), name
    (ref_losses, ref_grads), (losses, grads) = (_loss_and_grads(plain),
                                                _loss_and_grads(fast))
    assert set(losses) == set(ref_losses)
    for key, value in ref_losses.items():
        assert torch.equal(losses[key], value), key
    assert set(grads) == set(ref_grads)
    for name in grads:
        assert torch.equal(grads[name], ref_grads[name]), name


def test_compound_predict_with_fast_path_matches():
    plain = _compound()
    fast, _ = _fast_compound()
    fast.load_state_dict(plain.state_dict())

    def predict(model):
        model.eval()
        data = model.data_preprocessor(_batch(), False)
        with torch.no_grad():
            return model(**data, mode='predict')

    ref = predict(plain)
    for a, b in zip(ref, predict(fast)):
        assert torch.allclose(a.pred_fused, b.pred_fused, atol=1e-5)
    remove_cpu_kernels(fast)        # the plain model again: the same bits
    for a, b in zip(ref, predict(fast)):
        assert torch.equal(a.pred_fused, b.pred_fused)


def test_fast_training_targets():
    """The fast training path applies to the fusion network of a compound
    fusion model, to nothing else of a compound model, and to a bare
    network itself."""
    from mmfusenas.models.compound import (BasePreTaskModel, FusionDetector,
                                           FusionSegmentor, SceneDetector)
    from helpers import load_tool
    fusion_models = (FusionDetector, FusionSegmentor)
    fusion = _compound()
    assert isinstance(fusion, fusion_models)
    assert fast_training_targets(fusion) == ['fusion_net']
    assert fusion.get_submodule('fusion_net') is fusion.stage('fusion')
    # inside another module: the qualified name
    assert fast_training_targets(nn.ModuleDict(dict(model=fusion))) == [
        'model.fusion_net']
    # a compound model that is not a fusion model (the RUAS scene module
    # behind a detector): no target, no change of its layout
    scene = load_tool(
        'tests/test_models/test_scene_task_models.py').scene_detector()
    assert isinstance(scene, SceneDetector)
    assert isinstance(scene, BasePreTaskModel) and not isinstance(
        scene, fusion_models)
    assert fast_training_targets(scene) == []
    layouts = [p.is_contiguous() for p in scene.parameters()]
    report = apply_cpu_kernels(scene, training=True)
    assert report.fast_training == []
    assert not {'FastPReLU', 'PointwiseConv2d', 'FastGroupedConv2d'} & {
        k for _, _, k in report.swapped}
    assert [p.is_contiguous() for p in scene.parameters()] == layouts
    assert not scene.scene_net._forward_pre_hooks
    remove_cpu_kernels(scene)
    # a bare network: itself
    assert fast_training_targets(_tim_net()) == ['']


def test_checkpoint_round_trip_between_fast_and_plain(tmp_path):
    (fast, _), plain = _fast_compound(), _compound()
    assert list(fast.state_dict()) == list(plain.state_dict())
    with torch.no_grad():
        for p in fast.parameters():
            p.add_(0.01)
    path = tmp_path / 'fast.pth'
    torch.save(fast.state_dict(), path)
    state = torch.load(path, weights_only=True)
    plain.load_state_dict(state)
    for (name, a), b in zip(fast.state_dict().items(),
                            plain.state_dict().values()):
        assert torch.equal(a, b), name
    # loading keeps the fast model's layout (copy_ into its parameters)
    fast2, _ = _fast_compound()
    fast2.load_state_dict(plain.state_dict())
    conv = fast2.fusion_net.stem[0].conv.weight
    assert conv.is_contiguous(memory_format=CL) and not conv.is_contiguous()
    assert torch.equal(conv, fast.fusion_net.stem[0].conv.weight)


def _is_pointwise(m):
    return isinstance(m, nn.Conv2d) and m.kernel_size == (1, 1) \
        and m.groups == 1 and m.stride == (1, 1)


def test_pointwise_convs_through_the_transform():
    # the fast training path: exactly the 1 x 1, stride 1, unpadded convs
    net = nn.Sequential(nn.Conv2d(3, 4, 1), nn.Conv2d(4, 4, 3),
                        nn.Conv2d(4, 4, 1, padding=1))
    assert fast_training_swaps(net) == [('0', PointwiseConv2d)]
    ref = copy.deepcopy(net[0])
    apply_cpu_kernels(net, training=True)
    assert [type(m) for m in net] == [PointwiseConv2d, nn.Conv2d, nn.Conv2d]
    x = torch.randn(1, 3, 6, 6)
    assert torch.equal(net[0](x), ref(x))          # NCHW: nn.Conv2d's path
    # the TIM networks are built with plain 1x1 convolutions; the
    # transform's rule for them (inference too) gives PointwiseConv2d
    tim = _tim_net()
    names = [n for n, m in tim.named_modules() if _is_pointwise(m)]
    assert names and {type(m) for m in tim.modules()
                      if _is_pointwise(m)} == {nn.Conv2d}
    report = apply_cpu_kernels(tim)
    assert {type(m) for m in tim.modules()
            if _is_pointwise(m)} == {PointwiseConv2d}
    assert sorted(n for n, _, k in report.swapped
                  if k == 'PointwiseConv2d') == sorted(names)
    remove_cpu_kernels(tim)
    assert {type(m) for m in tim.modules()
            if _is_pointwise(m)} == {nn.Conv2d}
