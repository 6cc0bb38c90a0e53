"""separable_filter: compiled valid separable filtering of image planes
(the differentiable SSIM's Gaussian window), forward and backward."""
import importlib

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch.utils.flop_counter import FlopCounterMode

from mmfusenas.models.losses import gaussian_kernel1d, ssim_map
from mmfusenas.models.ops import (FILTER_MAX_THREADS, separable_filter,
                                  separable_filter_ok)
from mmfusenas.utils.cpu_kernels import cpu_kernels

sf = importlib.import_module('mmfusenas.models.ops.separable_filter')

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


@pytest.mark.parametrize('padding', ['valid', 'reflect', 'zeros'])
def test_ssim_map_with_and_without_the_passes(padding):
    """The differentiable SSIM through the passes equals its ATen path
    within float32 rounding, values and input gradients."""
    torch.manual_seed(5)
    x = torch.rand(2, 2, 24, 24)
    y = (x + 0.1 * torch.randn_like(x)).clamp(0, 1)

    def run():
        xi = x.clone().requires_grad_()
        s = ssim_map(xi, y, padding=padding)
        s.mean().backward()
        return s.detach(), xi.grad

    s1, g1 = run()
    with cpu_kernels(separable_filter=False):
        s0, g0 = run()
    # the variances (E[x^2] - mu^2) amplify the filters' rounding: 2e-6
    # here; a wrong window moves SSIM by far more than 1e-5
    assert np.allclose(s1.numpy(), s0.numpy(), rtol=0, atol=1e-5)
    assert (g1 - g0).abs().max() <= 1e-5 * g0.abs().max()
