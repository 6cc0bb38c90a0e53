"""separable_filter: compiled valid separable filtering of image planes
(the differentiable SSIM's Gaussian window), forward and backward, and the
kernel classes of the SSIM losses that use it (put in by
``apply_cpu_kernels``)."""
import importlib

import numpy as np
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.flop_counter import FlopCounterMode

from cpu_kernels import apply_cpu_kernels, remove_cpu_kernels
from cpu_kernels.modules.losses import ssim_moments
from cpu_kernels.separable_filter import (FILTER_MAX_THREADS,
                                                separable_filter,
                                                separable_filter_ok)
from mmfusenas.models.losses import (gaussian_kernel1d, gaussian_moments,
                                     ssim_map)
from mmfusenas.registry import MODELS
from cpu_kernels.switches import cpu_kernels

sf = importlib.import_module('cpu_kernels.separable_filter')
cpu_losses = importlib.import_module('cpu_kernels.modules.losses')

pytestmark = pytest.mark.skipif(
    sf._kernels() is None, reason='numba kernels unavailable')


def _aten(x, h, v):
    """The reference: two depthwise convolutions (ATen)."""
    c = x.shape[1]
    return F.conv2d(
        F.conv2d(x, h.to(x).view(1, 1, 1, -1).expand(c, 1, 1, -1), groups=c),
        v.to(x).view(1, 1, -1, 1).expand(c, 1, -1, 1),
        groups=c)


def test_hand_computed_integers():
    """out[i, j] = sum_a sum_b v[a] h[b] x[i + a, j + b], summed by hand
    on a 4 x 5 plane of integers (exact in float32)."""
    x = torch.arange(20, dtype=torch.float32).view(1, 1, 4, 5)
    h = torch.tensor([1., 2.])
    v = torch.tensor([1., 0., -1.])
    out = separable_filter(x, h, v)
    assert out.shape == (1, 1, 2, 4)
    # row pass: r[i, j] = x[i, j] + 2 x[i, j + 1] = 15 i + 3 j + 2 (x = 5 i
    # + j); column pass: r[i, j] - r[i + 2, j] = -30 everywhere
    assert torch.equal(out, torch.full((1, 1, 2, 4), -30.))
    x = torch.tensor([[[[1., 2., 3.], [4., 5., 6.], [7., 8., 9.]]]])
    out = separable_filter(x, torch.tensor([1., 1.]), torch.tensor([1., 10.]))
    # [[1+2 + 10 (4+5), 2+3 + 10 (5+6)], [4+5 + 10 (7+8), 5+6 + 10 (8+9)]]
    assert torch.equal(out, torch.tensor([[[[93., 115.], [159., 181.]]]]))


@pytest.mark.parametrize('shape, kh, kv', [((2, 3, 17, 23), 5, 3),
                                           ((1, 2, 11, 11), 11, 11),
                                           ((3, 1, 9, 30), 1, 4),
                                           ((2, 10, 40, 32), 11, 11)])
def test_values_and_gradients_against_float64(shape, kh, kv):
    torch.manual_seed(0)
    x = torch.rand(shape, dtype=torch.float64)
    h, v = torch.rand(kh), torch.rand(kv)
    xf = x.float().requires_grad_()
    assert separable_filter_ok(xf, h, v)
    out = separable_filter(xf, h, v)
    ref_x = x.clone().requires_grad_()
    ref = _aten(ref_x, h.double(), v.double())
    assert out.shape == ref.shape and out.is_contiguous()
    scale = ref.abs().max().item()
    assert (out.double() - ref).abs().max().item() <= 1e-6 * scale
    g = torch.rand_like(ref)
    out.backward(g.float())
    ref.backward(g)
    gscale = ref_x.grad.abs().max().item()
    assert (xf.grad.double() - ref_x.grad).abs().max().item() <= \
        1e-6 * gscale
    # a real error is caught: the taps' order matters
    wrong = separable_filter(xf.detach(), *((h, v.flip(0)) if kv > 1 else
                                            (h.flip(0), v)))
    assert (wrong.double() - ref).abs().max().item() > 1e-3 * scale


def test_integer_data_bit_equal_to_aten():
    """Small integers: every partial sum is exact in both orders."""
    torch.manual_seed(1)
    x = torch.randint(0, 9, (2, 4, 21, 19)).float().requires_grad_()
    h = torch.tensor([1., 3., -2., 1., 1.])
    v = torch.tensor([2., -1., 1.])
    out = separable_filter(x, h, v)
    ref_x = x.detach().clone().requires_grad_()
    ref = _aten(ref_x, h, v)
    assert torch.equal(out, ref)
    g = torch.randint(-3, 4, ref.shape).float()
    out.backward(g)
    ref.backward(g)
    assert torch.equal(x.grad, ref_x.grad)


def test_second_order_against_float64():
    """The backward is differentiable (the transposed filter's backward
    is the filter): a gradient of a gradient equals ATen's in float64."""
    torch.manual_seed(2)
    x = torch.rand(2, 3, 15, 13, dtype=torch.float64)
    h, v = torch.rand(5), torch.rand(3)

    def grad_of_grad(inp, fn):
        inp = inp.clone().requires_grad_()
        y = fn(inp)
        g, = torch.autograd.grad((y * y).sum(), inp, create_graph=True)
        (g.sin()).sum().backward()
        return g.detach(), inp.grad

    g1, gg1 = grad_of_grad(x.float(), lambda t: separable_filter(t, h, v))
    g0, gg0 = grad_of_grad(x, lambda t: _aten(t, h.double(), v.double()))
    assert (g1.double() - g0).abs().max() <= 1e-5 * g0.abs().max()
    assert (gg1.double() - gg0).abs().max() <= 1e-5 * gg0.abs().max()


def test_channels_last_input_same_values():
    torch.manual_seed(3)
    x = torch.rand(2, 5, 20, 20)
    taps = gaussian_kernel1d(11, 1.5)
    cl = x.contiguous(memory_format=torch.channels_last)
    assert torch.equal(
        separable_filter(cl, taps, taps), separable_filter(x, taps, taps))


def test_refusals_and_the_switch():
    """Where the passes are not taken, the result is ATen's, bit for bit."""
    torch.manual_seed(4)
    x = torch.rand(1, 2, 16, 16)
    taps = gaussian_kernel1d(5, 1.0)
    ref = _aten(x, taps, taps).contiguous()
    assert not separable_filter_ok(x.double(), taps, taps)
    assert not separable_filter_ok(x, taps.double(), taps)
    assert not separable_filter_ok(x, taps.clone().requires_grad_(), taps)
    with FlopCounterMode(display=False):
        assert not separable_filter_ok(x, taps, taps)
    threads = torch.get_num_threads()
    try:
        torch.set_num_threads(FILTER_MAX_THREADS + 1)
        assert not separable_filter_ok(x, taps, taps)
        assert torch.equal(separable_filter(x, taps, taps), ref)
    finally:
        torch.set_num_threads(threads)
    with cpu_kernels(separable_filter=False):
        assert not separable_filter_ok(x, taps, taps)
        assert torch.equal(separable_filter(x, taps, taps), ref)
    with cpu_kernels(numba=False):
        assert torch.equal(separable_filter(x, taps, taps), ref)


def test_bad_input_is_a_clear_error():
    taps = torch.ones(3)
    with pytest.raises(ValueError, match=r'\(N, C, H, W\) input'):
        separable_filter(torch.rand(2, 8, 8), taps, taps)
    with pytest.raises(ValueError, match='two 1-D'):
        separable_filter(torch.rand(1, 1, 8, 8), taps.view(1, 3), taps)
    with pytest.raises(ValueError, match='does not fit'):
        separable_filter(torch.rand(1, 1, 8, 2), taps, taps)


@pytest.fixture
def filter_threads():
    """At most FILTER_MAX_THREADS torch threads: the passes are taken."""
    threads = torch.get_num_threads()
    torch.set_num_threads(min(threads, FILTER_MAX_THREADS))
    yield
    torch.set_num_threads(threads)


@pytest.fixture
def passes_taken(monkeypatch):
    """Whether each separable_filter call of the kernel classes' moments
    (cpu_kernels.modules.losses.ssim_moments) took the passes."""
    taken = []

    def spy(x, horizontal, vertical):
        taken.append(separable_filter_ok(x, horizontal, vertical))
        return separable_filter(x, horizontal, vertical)

    monkeypatch.setattr(cpu_losses, 'separable_filter', spy)
    return taken


@pytest.mark.parametrize('padding', ['valid', 'reflect', 'zeros'])
def test_ssim_map_with_and_without_the_passes(padding, filter_threads,
                                              passes_taken):
    """The differentiable SSIM with the moments of the compiled passes
    (``ssim_moments``, the SSIM losses' kernel classes) equals its plain
    moments (ATen's convolutions, ``gaussian_moments``) within float32
    rounding, values and input gradients."""
    torch.manual_seed(5)
    x = torch.rand(2, 2, 24, 24)
    y = (x + 0.1 * torch.randn_like(x)).clamp(0, 1)

    def run(moments):
        xi = x.clone().requires_grad_()
        s = ssim_map(xi, y, padding=padding, moments=moments)
        s.mean().backward()
        return s.detach(), xi.grad

    s1, g1 = run(ssim_moments)
    assert passes_taken == [True]
    s0, g0 = run(gaussian_moments)
    # the variances (E[x^2] - mu^2) amplify the filters' rounding: 2e-6
    # here; a wrong window moves SSIM by far more than 1e-5
    assert np.allclose(s1.numpy(), s0.numpy(), rtol=0, atol=1e-5)
    assert (g1 - g0).abs().max() <= 1e-5 * g0.abs().max()
    # the default of ssim_map is the plain moments
    assert torch.equal(ssim_map(x, y, padding=padding), s0)
    # the switch: the kernel moments through ATen's convolutions
    with cpu_kernels(separable_filter=False):
        s2, g2 = run(ssim_moments)
    assert passes_taken == [True, False]
    assert np.allclose(s2.numpy(), s0.numpy(), rtol=0, atol=1e-5)
    assert (g2 - g0).abs().max() <= 1e-5 * g0.abs().max()


# (registered loss, its arguments, its inputs: a fused image and its
# sources, or a prediction and its target)
SSIM_LOSSES = [
    ('SSIMLoss', {}, 'fusion'),
    ('SaliencyWeightedLoss', dict(ssim_weight=1.0), 'fusion'),
    ('InfoPreservationLoss', dict(measure='gradient'), 'fusion'),
    ('SSIMDistanceLoss', {}, 'pair'),
    ('FullReferenceQualityObjective', dict(metric='ssim'), 'pair'),
]


@pytest.mark.parametrize('name, kwargs, kind', SSIM_LOSSES)
def test_ssim_losses_through_the_transform(name, kwargs, kind,
                                           filter_threads, passes_taken):
    """``apply_cpu_kernels`` swaps each SSIM loss for its kernel class
    (the compiled passes' moments); value and gradient equal the plain
    loss's within float32 rounding; ``remove_cpu_kernels`` gives the plain
    loss back, bit for bit."""
    plain = MODELS.build(dict(type=name, **kwargs))
    loss = MODELS.build(dict(type=name, **kwargs))
    model = nn.ModuleDict(dict(loss=loss))      # a loss inside a model
    report = apply_cpu_kernels(model)
    assert report.swapped == [('loss', name, f'Cpu{name}')]
    assert type(loss) is getattr(cpu_losses, f'Cpu{name}')
    assert type(loss).__bases__ == (type(plain), )
    assert loss.ssim_moments is ssim_moments
    assert plain.ssim_moments is gaussian_moments
    torch.manual_seed(6)
    if kind == 'fusion':
        first, second = torch.rand(2, 1, 32, 32), torch.rand(2, 2, 32, 32)
    else:
        second = torch.rand(2, 3, 32, 32)
        first = (second + 0.1 * torch.randn_like(second)).clamp(0, 1)

    def run(module):
        inp = first.clone().requires_grad_()
        value = module(inp, second)
        value.backward()
        return value.detach(), inp.grad

    v1, g1 = run(loss)
    assert passes_taken and all(passes_taken)
    v0, g0 = run(plain)
    assert abs(v1.item() - v0.item()) <= 1e-5
    assert (g1 - g0).abs().max() <= 1e-5 * g0.abs().max()
    taken = len(passes_taken)
    remove_cpu_kernels(model)
    assert type(loss) is type(plain)
    v2, g2 = run(loss)
    assert len(passes_taken) == taken       # the kernel moments not used
    assert torch.equal(v2, v0) and torch.equal(g2, g0)
