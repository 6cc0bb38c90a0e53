"""The fused RUAS inference kernels equal the torch chains bit for bit, and
the networks give the same outputs with their kernel classes
(:func:`~cpu_kernels.apply_cpu_kernels`) as the plain networks (bit
for bit with the convolutions on ATen, within float rounding with the
direct few-channel convolutions); :func:`~cpu_kernels.remove_cpu_kernels`
gives the plain networks back."""
import copy
import os.path as osp

import pytest
import torch
import torch.nn.functional as F
from mmengine.config import Config

import cpu_kernels.direct_conv as DC
import cpu_kernels.modules.ruas as RM
import cpu_kernels.ruas_kernels as RK
from cpu_kernels import (apply_cpu_kernels, has_cpu_kernels,
                               remove_cpu_kernels)
from cpu_kernels.ruas_kernels import fused_ok, ruas_kernels
from mmfusenas.models.scene import local_max
from mmfusenas.registry import MODELS
from helpers import REPO_ROOT
from cpu_kernels.switches import cpu_kernels


MODEL_CFGS = osp.join(REPO_ROOT, 'configs', '_base_', 'models')
kern = ruas_kernels()
needs_kernels = pytest.mark.skipif(kern is None, reason='numba unavailable')

SHAPES = [(1, 3, 37, 53), (2, 6, 5, 1), (1, 3, 1, 1), (2, 3, 1, 7)]


def _inputs(shape, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(shape, generator=g)
    x.view(-1)[::5] = 0.0              # ties with the zero padding
    x.view(-1)[1::7] = x.view(-1)[2::7][:x.view(-1)[1::7].numel()]
    return x


@needs_kernels
@pytest.mark.parametrize('shape', SHAPES)
def test_kernels_equal_torch_chains(shape):
    u, y, c = _inputs(shape, 0), _inputs(shape, 1).abs(), _inputs(shape, 2)
    assert torch.equal(kern.local_max(u), local_max(u))
    assert torch.equal(kern.rectify(u, y, 0.5), local_max(u) - 0.5 * (u - y))
    out = torch.empty_like(u)
    assert torch.equal(kern.leaky_add(u, c, 0.05, out),
                       F.leaky_relu(u + c, 0.05))
    assert torch.equal(kern.leaky_add3(u, c, u, 0.05, out),
                       F.leaky_relu((u + c) + u, 0.05))
    # into a channel slice of a wider buffer (not contiguous for N > 1)
    wide = torch.full((shape[0], 2 * shape[1]) + shape[2:], 7.0)
    kern.leaky_add(u, c, 0.05, wide[:, shape[1]:])
    assert torch.equal(wide[:, shape[1]:], F.leaky_relu(u + c, 0.05))
    assert (wide[:, :shape[1]] == 7).all()
    t = torch.sigmoid(c) * 1.2 - 0.1      # below t_min and above 1 too
    t_ref = t.clamp(1e-4, 1.0)
    u_ref = (y / t_ref).clamp(0.0, 1.0)
    u_out = kern.illumination(t, y, 1e-4)
    assert torch.equal(t, t_ref) and torch.equal(u_out, u_ref)


@needs_kernels
def test_kernels_propagate_nan_like_torch():
    u = torch.rand(1, 1, 4, 4)
    u[0, 0, 1, 2] = float('nan')
    assert torch.equal(kern.local_max(u).isnan(), local_max(u).isnan())
    out = torch.empty_like(u)
    assert torch.equal(
        kern.leaky_add(u, u, 0.05, out).isnan(),
        F.leaky_relu(u + u, 0.05).isnan())


def test_fused_path_only_at_inference_on_plain_tensors(monkeypatch):
    x = torch.rand(1, 3, 8, 8)
    with torch.no_grad():   # small maps: the torch chain (call overhead)
        assert x[0, 0].numel() < RK.FUSED_MIN_PIXELS and not fused_ok(x)
    monkeypatch.setattr(RK, 'FUSED_MIN_PIXELS', 1)
    assert not fused_ok(x)                           # autograd on
    with torch.no_grad():
        assert fused_ok(x) == (kern is not None)
        assert not fused_ok(x.to(memory_format=torch.channels_last))
        assert not fused_ok(x[:, :, ::2])
        assert not fused_ok(x.double())
        assert not fused_ok(x, torch.rand(1, 3, 8, 9))


def _network(variant):
    """The plain RUAS network of ``variant`` (seeded, perturbed weights)."""
    cfg = Config.fromfile(f'{MODEL_CFGS}/{variant}.py')
    torch.manual_seed(0)
    net = MODELS.build(cfg.model['network']).eval()
    with torch.no_grad():
        for p in net.parameters():
            p.add_(0.05 * torch.randn_like(p))
    return net


def _outputs(out):
    """Every returned tensor of ``net(x, return_all=True)``."""
    tensors = list(out.u_list) + list(out.t_list)
    if out.noise_level is not None:
        tensors.append(out.noise_level)
    return tensors


@needs_kernels
@pytest.mark.parametrize('variant', ['ruas_s', 'ruas', 'ruas_a'])
@pytest.mark.parametrize('batch', [1, 2])
@pytest.mark.parametrize('direct', [False, True])
def test_networks_equal_with_and_without_the_kernels(variant, batch, direct,
                                                    monkeypatch):
    """The network with its kernel classes, no grad (fused kernels,
    blocked conv chains) == the plain network (torch chains), and == its
    own autograd path: bit for bit, every returned tensor, with the
    convolutions on ATen (the switch ``direct_conv=False``); within float
    rounding with the few-channel convolutions computed directly
    (``direct_conv``, which sums in another order than oneDNN)."""
    monkeypatch.setattr(RK, 'FUSED_MIN_PIXELS', 1)
    monkeypatch.setattr(DC, 'DIRECT_MIN_PIXELS', 1)
    plain_net = _network(variant)
    net = copy.deepcopy(plain_net)
    report = apply_cpu_kernels(net)
    kernels = {k for _, _, k in report.swapped}
    assert {'CpuRUASConv', 'CpuRUASDistillationCell',
            'CpuRUASIlluminationStage'} <= kernels
    assert ('CpuRUASDenoiseNet' in kernels) == (variant != 'ruas_s')
    assert ('CpuConvChain' in kernels) == (variant == 'ruas_a')
    x = torch.rand(batch, 3, 45, 61) * 0.3
    used = []
    for name in ('rectify', 'leaky_add3', 'illumination'):
        fn = getattr(kern, name)
        monkeypatch.setattr(kern, name,
                            lambda *a, _fn=fn, _n=name: used.append(_n)
                            or _fn(*a))
    calls = []
    monkeypatch.setattr(RM, 'direct_conv2d',
                        lambda *a, _fn=RM.direct_conv2d, **k: calls.append(1)
                        or _fn(*a, **k))
    with cpu_kernels(direct_conv=direct), torch.no_grad():
        plain = plain_net(x, return_all=True)
    assert not used and not calls      # the plain network: torch chains
    with cpu_kernels(direct_conv=direct), torch.no_grad():
        fast = net(x, return_all=True)
    # the fused passes ran (3 stages; the denoiser's cells too)
    assert used.count('rectify') == 2 and used.count('illumination') == 3
    if direct:  # every conv edge with its sums and activation in one pass
        assert len(calls) >= 4 * 3 and used.count('leaky_add3') == 0
    else:
        assert not calls and used.count('leaky_add3') >= 3
    with cpu_kernels(direct_conv=direct):
        slow = net(x, return_all=True)  # autograd on: the torch chains
    for ref in (plain, slow):
        assert len(fast.u_list) == len(ref.u_list)
        assert len(fast.t_list) == len(ref.t_list)
        assert (fast.noise_level is None) == (ref.noise_level is None)
        for a, b in zip(fast.u_list + fast.t_list, ref.u_list + ref.t_list):
            if direct:
                torch.testing.assert_close(a, b.detach(), rtol=0, atol=1e-5)
            else:
                assert torch.equal(a, b.detach())
        if ref.noise_level is not None:
            if direct:
                torch.testing.assert_close(fast.noise_level,
                                           ref.noise_level.detach(),
                                           rtol=1e-5, atol=0)
            else:
                assert torch.equal(fast.noise_level,
                                   ref.noise_level.detach())
    # the autograd path of the kernel classes is the plain network's
    for a, b in zip(_outputs(slow), _outputs(
            plain_net(x, return_all=True))):
        assert torch.equal(a, b)


@needs_kernels
def test_remove_cpu_kernels_restores_the_plain_network(monkeypatch):
    """``remove_cpu_kernels`` gives every module its plain class back, with
    the same state dict, and the network's outputs are the plain
    network's bit for bit again (the direct convolutions on, so that the
    kernel classes' outputs differ in the last bits)."""
    monkeypatch.setattr(RK, 'FUSED_MIN_PIXELS', 1)
    monkeypatch.setattr(DC, 'DIRECT_MIN_PIXELS', 1)
    net = _network('ruas_a')
    classes = {name: type(m) for name, m in net.named_modules()}
    state = {k: v.clone() for k, v in net.state_dict().items()}
    x = torch.rand(1, 3, 45, 61) * 0.3
    with torch.no_grad():
        before = _outputs(net(x, return_all=True))
    report = apply_cpu_kernels(net)
    assert has_cpu_kernels(net) and len(report) > 0
    swapped = {name for name, _, _ in report.swapped}
    assert all(type(net.get_submodule(n)) is not classes[n]
               for n in swapped)
    assert len(apply_cpu_kernels(net)) == 0          # applied once only
    calls = []
    monkeypatch.setattr(RM, 'direct_conv2d',
                        lambda *a, _fn=RM.direct_conv2d, **k: calls.append(1)
                        or _fn(*a, **k))
    with torch.no_grad():
        fast = _outputs(net(x, return_all=True))
    assert calls and len(fast) == len(before)
    calls.clear()
    assert remove_cpu_kernels(net) == len(report)
    assert not has_cpu_kernels(net) and remove_cpu_kernels(net) is None
    assert {name: type(m) for name, m in net.named_modules()} == classes
    after_state = net.state_dict()
    assert list(after_state) == list(state)
    assert all(torch.equal(after_state[k], v) for k, v in state.items())
    with torch.no_grad():
        after = _outputs(net(x, return_all=True))
    assert not calls
    assert len(after) == len(before)
    for a, b in zip(after, before):
        assert torch.equal(a, b)
    # the kernel classes agreed within float rounding (as above)
    for i, (a, b) in enumerate(zip(fast, before)):
        last = i == len(before) - 1 and a.dim() < 4   # the noise level
        torch.testing.assert_close(a, b, rtol=1e-5 if last else 0,
                                   atol=0 if last else 1e-5)
