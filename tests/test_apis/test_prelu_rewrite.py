"""PReLU -> LeakyReLU rewrite: bit-identical values, what is and is not
replaced, the official TIM network on a TNO pair, and the ONNX graph it
exports (LeakyRelu, fused by ONNX Runtime)."""
import os.path as osp

import numpy as np
import pytest
import torch
import torch.nn as nn
from mmengine.config import Config

from mmfusenas.apis.deploy import export_network, prelu_to_leaky_relu
from mmfusenas.registry import MODELS
from helpers import REPO_ROOT, load_tool

pytestmark = pytest.mark.usefixtures('one_thread')


class _PReLUSub(nn.PReLU):
    pass


def test_replaces_single_slope_prelu_only():
    net = nn.Sequential(
        nn.Conv2d(1, 3, 3), nn.PReLU(init=0.3),
        nn.Sequential(nn.Conv2d(3, 3, 1), nn.PReLU(3)),
        _PReLUSub(), nn.ModuleDict(dict(act=nn.PReLU(init=-0.7))))
    names = prelu_to_leaky_relu(net)
    assert names == ['1', '4.act']
    assert type(net[1]) is nn.LeakyReLU and type(net[4]['act']) is \
        nn.LeakyReLU
    # the float32 slope, exactly (0.3 is not a float32 number)
    assert net[1].negative_slope == float(np.float32(0.3))
    assert net[4]['act'].negative_slope == float(np.float32(-0.7))
    # per-channel PReLU and a subclass stay
    assert type(net[2][1]) is nn.PReLU and type(net[3]) is _PReLUSub
    assert prelu_to_leaky_relu(net) == []       # nothing left to replace


def test_values_bit_identical():
    torch.manual_seed(0)
    x = torch.randn(2, 4, 9, 11) * 10
    x[0, 0, 0, :3] = torch.tensor([0.0, -0.0, -1e-30])
    for slope in (0.25, -0.5, 0.0123, 1.7):
        p = nn.PReLU(init=slope)
        ref = p(x)
        q = nn.Sequential(p)
        prelu_to_leaky_relu(q)
        assert torch.equal(q(x), ref), slope
        # hand-computed: x where x >= 0, slope * x elsewhere
        s = np.float32(slope)
        xn = x.numpy()
        assert np.array_equal(
            q(x).detach().numpy(), np.where(xn >= 0, xn, s * xn))


def test_official_tim_network_on_tno_unchanged(shared_data):
    """All 28 PReLUs of the official two-stage TIM network become
    LeakyReLUs; its output on a TNO pair is bit-identical."""
    from helpers import tim_official_reference as ref_impl
    cfg = Config.fromfile(
        osp.join(REPO_ROOT, 'configs', 'tim', 'fusion_ivif_official.py'))
    torch.manual_seed(0)
    net = ref_impl.perturb_(MODELS.build(cfg.model).fusion_net, 0).eval()
    n = sum(type(m) is nn.PReLU for m in net.modules())
    # the TNO crop of the BN-folding test (one loader of it)
    x = load_tool('tests/test_models/test_batchnorm_folding.py')._tno_pair(
        shared_data)
    with torch.no_grad():
        ref = net(x)
        assert len(prelu_to_leaky_relu(net)) == n > 0
        out = net(x)
    assert not any(isinstance(m, nn.PReLU) for m in net.modules())
    assert ref.max() - ref.min() > 0.01
    assert torch.equal(out, ref)


def test_onnx_export_writes_leaky_relu(tmp_path):
    """export_network writes single-slope PReLUs as LeakyRelu (the slope an
    attribute) without changing the network; ONNX Runtime runs it within
    1e-6 of eager; prelu_as_leaky=False keeps PRelu."""
    onnx = pytest.importorskip('onnx')
    ort = pytest.importorskip('onnxruntime')
    pytest.importorskip('onnxscript')
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(2, 4, 3, padding=1), nn.PReLU(init=0.2),
                        nn.Conv2d(4, 1, 3, padding=1)).eval()
    x = torch.randn(1, 2, 16, 20)
    ops = {}
    for leaky in (True, False):
        path = str(tmp_path / f'net_{leaky}.onnx')
        export_network(net, x, path, prelu_as_leaky=leaky)
        graph = onnx.load(path).graph
        ops[leaky] = {n.op_type for n in graph.node}
        sess = ort.InferenceSession(path,
                                    providers=['CPUExecutionProvider'])
        with torch.no_grad():
            ref = net(x).numpy()
        got = sess.run(None, {'x': x.numpy()})[0]
        assert np.abs(got - ref).max() < 1e-6, leaky
    assert 'LeakyRelu' in ops[True] and 'PRelu' not in ops[True]
    assert 'PRelu' in ops[False] and 'LeakyRelu' not in ops[False]
    assert type(net[1]) is nn.PReLU     # the caller's network is unchanged
