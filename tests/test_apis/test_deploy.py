"""Optimised inference switches and export (ONNX Runtime, torch.export) vs
eager on shared real images, dynamic sizes included."""
import copy
import os.path as osp

import cv2
import numpy as np
import pytest
import torch
import torch.nn as nn

from mmfusenas.apis import (OnnxRuntimeNetwork, PackedInputs, core_network,
                            export_network, inference_enhancer, init_model,
                            optimize_for_inference, parse_optimize)
from helpers import REPO_ROOT, load_tool

EXPORT = load_tool('tools/deployment/export.py')
ExportedRunner, compare_outputs = EXPORT.ExportedRunner, EXPORT.compare_outputs

pytestmark = pytest.mark.usefixtures('one_thread')

LIGHT = osp.join(REPO_ROOT, 'configs', 'tim',
                 'fusion_ivif_light_official.py')
RUAS_A = osp.join(REPO_ROOT, 'configs', 'ruas', 'ruas_a_lol.py')
RUAS_WEIGHTS = osp.join(
    osp.dirname(REPO_ROOT), 'shared', 'checkpoints', 'ruas_official',
    'lol.pt')


def test_parse_optimize():
    assert parse_optimize(None) == ()
    assert parse_optimize('none') == ()
    assert parse_optimize('compile,fold_bn') == ('fold_bn', 'compile')
    assert parse_optimize(['channels_last']) == ('channels_last', )
    assert parse_optimize('all') == ('fold_bn', 'channels_last', 'compile')
    assert parse_optimize('onnxruntime,fold_bn') == ('fold_bn',
                                                     'onnxruntime')
    with pytest.raises(ValueError, match='exclude each other'):
        parse_optimize('compile,onnxruntime')
    with pytest.raises(ValueError, match=r"unknown inference optimisation"
                       r"\(s\) \['fold-bn'\]"):
        parse_optimize('fold-bn')
    # any other name is a plugin's, applied after the in-place built-ins
    assert parse_optimize('compile,my_plugin,fold_bn') == (
        'fold_bn', 'my_plugin', 'compile')


def test_plugin_optimizations(monkeypatch):
    """A plugin registers its optimisation when imported; a name nobody
    registers is an error naming it and the Python path."""
    from mmfusenas.apis import deploy
    monkeypatch.setattr(deploy, 'PLUGIN_OPTIMIZATIONS', {})
    with pytest.raises(ValueError, match='built-in'):
        deploy.register_optimization('fold_bn', lambda m: None)
    calls = []
    deploy.register_optimization('halve', lambda m: calls.append(
        m.weight.data.mul_(0.5)))
    net = nn.Conv2d(1, 1, 1).eval()
    before = net.weight.detach().clone()
    out = optimize_for_inference(net, 'halve,fold_bn', verbose=False)
    assert out is net and len(calls) == 1
    assert torch.equal(net.weight, before * 0.5)
    assert net.inference_optimizations == ('fold_bn', 'halve')
    with pytest.raises(ImportError, match="optimize no_such_plugin: not a "
                       r"built-in optimisation .*the plugin package "
                       "'no_such_plugin' is not on the Python path"):
        optimize_for_inference(net, 'no_such_plugin', verbose=False)
    with pytest.raises(ValueError, match="optimize json: the package 'json' "
                       'registers no inference optimisation'):
        optimize_for_inference(net, 'json', verbose=False)


def test_optimize_needs_eval_mode():
    with pytest.raises(ValueError, match='eval-mode'):
        optimize_for_inference(nn.Conv2d(1, 1, 1), 'fold_bn')


def test_export_errors(tmp_path):
    net = nn.Conv2d(1, 1, 1)
    with pytest.raises(ValueError, match=r"fmt must be one of \['onnx', "
                       r"'torch_export'\], got 'tflite'"):
        export_network(net, torch.rand(1, 1, 4, 4), str(tmp_path / 'a'),
                       fmt='tflite')
    with pytest.raises(ValueError, match=r'\(N, C, H, W\) example'):
        export_network(net, torch.rand(1, 4, 4), str(tmp_path / 'a.pt2'),
                       fmt='torch_export')
    assert not list(tmp_path.iterdir())  # nothing half-written
    with pytest.raises(FileNotFoundError, match='exported model not found'):
        ExportedRunner(str(tmp_path / 'none.onnx'))


def tno_pairs(shared_data, sizes):
    """(1, 2, H, W) (ir, vi) TNO crops of the given sizes, in [0, 1]."""
    out = []
    for i, (h, w) in enumerate(sizes):
        planes = [
            cv2.imread(
                osp.join(shared_data, 'fusion', 'TNO', m, f'0{i + 1}.png'),
                cv2.IMREAD_GRAYSCALE)[:h, :w] for m in ('ir', 'vi')
        ]
        out.append(
            torch.from_numpy(np.stack(planes)[None].astype(np.float32) /
                             255))
    return out


def perturbed_light_model():
    """The official light TIM model, perturbed weights and BN statistics."""
    from helpers import tim_official_reference as ref
    model = init_model(LIGHT)
    ref.perturb_(model.fusion_net, 0)
    return model.eval()


def test_init_model_optimize_keeps_outputs(shared_data):
    """fold_bn + channels_last through init_model's switch."""
    model = perturbed_light_model()
    x = tno_pairs(shared_data, [(96, 128)])[0]
    with torch.no_grad():
        ref = model.fusion_net(x)
    optimize_for_inference(model, 'fold_bn,channels_last', verbose=False)
    assert model.inference_optimizations == ('fold_bn', 'channels_last')
    assert not any(
        isinstance(m, nn.BatchNorm2d) for m in model.modules())
    weight = next(m.weight for m in model.modules()
                  if isinstance(m, nn.Conv2d) and m.kernel_size == (3, 3))
    assert weight.is_contiguous(memory_format=torch.channels_last)
    with torch.no_grad():
        out = model.fusion_net(x)
    torch.testing.assert_close(out, ref, rtol=0, atol=1e-5)


@pytest.mark.parametrize('fmt', ['onnx', 'torch_export'])
def test_export_light_tim_dynamic_sizes(fmt, shared_data, tmp_path):
    """Exported once at 64 x 96; runs TNO pairs of other sizes and a batch
    of two, equal to eager within 1e-5."""
    if fmt == 'onnx':
        pytest.importorskip('onnxruntime', reason='ONNX Runtime not '
                            'installed (requirements/tests.txt)')
        pytest.importorskip('onnxscript', reason='the ONNX exporter needs '
                            'onnxscript (requirements/tests.txt)')
    model = perturbed_light_model()
    _, net = core_network(model)
    suffix = dict(onnx='onnx', torch_export='pt2')[fmt]
    path = export_network(net, torch.rand(1, 2, 64, 96),
                          str(tmp_path / f'light.{suffix}'), fmt=fmt)
    inputs = tno_pairs(shared_data, [(124, 168), (200, 152)])
    inputs.append(torch.cat([inputs[0], inputs[0].flip(-1)]))
    result = compare_outputs(net, ExportedRunner(path), inputs)
    assert result['num_inputs'] == 3
    assert result['max_abs_diff'] < 1e-5


@pytest.fixture(scope='module')
def ruas_a(shared_data):
    if not osp.isfile(RUAS_WEIGHTS):
        pytest.skip(f'official RUAS weights not found: {RUAS_WEIGHTS}')
    conv = load_tool('tools/model_converters/ruas_official_to_mmfusenas.py')
    model = init_model(RUAS_A)
    official = torch.load(RUAS_WEIGHTS, map_location='cpu',
                          weights_only=True)
    state_dict, _ = conv.convert_state_dict(official, model.state_dict())
    model.load_state_dict(state_dict, strict=True)
    return model.eval()


def lol(shared_data, stem, crop=(200, 304)):
    img = cv2.imread(
        osp.join(shared_data, 'lowlight', 'lol', 'test', f'{stem}.png'))
    arr = img[:crop[0], :crop[1], ::-1].transpose(2, 0, 1)
    return torch.from_numpy(arr.astype(np.float32) / 255)[None]


@pytest.mark.parametrize('fmt', [
    'torch_export',
    pytest.param('onnx', marks=pytest.mark.slow),  # ~30-80 s export
])
def test_export_ruas_a_keeps_the_noise_gate(fmt, ruas_a, shared_data,
                                            tmp_path):
    """The data-dependent gate is exported as a graph branch: on a noisy
    LOL image the denoiser runs, on a clean one it is skipped, both equal
    to eager (ONNX Runtime / torch.export)."""
    if fmt == 'onnx':
        pytest.importorskip('onnxruntime',
                            reason='ONNX Runtime not installed')
        pytest.importorskip('onnxscript', reason='onnxscript not installed')
    net = ruas_a.network
    noisy, clean = lol(shared_data, '00271'), lol(shared_data, '00001',
                                                  (152, 240))
    with torch.no_grad():
        gates = [len(net(x, return_all=True).u_list) for x in (noisy, clean)]
    assert gates == [4, 3]  # denoised / not denoised in eager mode
    suffix = dict(onnx='onnx', torch_export='pt2')[fmt]
    path = export_network(
        net, noisy, str(tmp_path / f'ruas_a.{suffix}'), fmt=fmt)
    result = compare_outputs(net, ExportedRunner(path), [noisy, clean])
    assert result['max_abs_diff'] < 1e-5


def test_enhance_api_optimized_equals_eager(ruas_a, shared_data, tmp_path):
    """inference_enhancer on a real LOL image with the eager switches
    (RUAS has no BN: fold_bn folds nothing)."""
    path = osp.join(shared_data, 'lowlight', 'lol', 'test', '00271.png')
    ref = inference_enhancer(ruas_a, path).pred_img
    optimize_for_inference(ruas_a, 'fold_bn,channels_last', verbose=False)
    out = inference_enhancer(ruas_a, path).pred_img
    # pred_img is quantised (truncated to 8 bits as the official code saves):
    # float rounding may move a rare pixel across a grey level, never more
    diff = (out - ref).abs()
    assert diff.max() <= 1 / 255 + 1e-6
    assert (diff > 0).float().mean() < 1e-3


def test_export_tool(shared_data, tmp_path):
    """tools/deployment/export.py: torch.export of the folded light TIM
    model, checked on a real TNO pair (ONNX: the tests above). The pair is
    its top-left 144 x 192 crop (the crop ``tno_pairs`` takes): the checks
    (three inputs, within 1e-5 of eager) hold for any size, the exported
    network having dynamic sizes, and eager and exported runs on the whole
    768 x 576 pair took most of the test's time."""
    tool = load_tool('tools/deployment/export.py')
    ir, vi = (str(tmp_path / f'{m}_01.png') for m in ('ir', 'vi'))
    for mod, path in (('ir', ir), ('vi', vi)):
        img = cv2.imread(osp.join(shared_data, 'fusion', 'TNO', mod,
                                  '01.png'), cv2.IMREAD_UNCHANGED)
        cv2.imwrite(path, img[:144, :192])
    out = str(tmp_path / 'light.pt2')
    result = tool.main([
        LIGHT, 'none', '--out', out, '--format', 'torch_export', '--shape',
        '60', '90', '--optimize', 'fold_bn', '--check-images', ir, vi
    ])
    assert osp.isfile(out)
    assert result['num_inputs'] == 3 and result['max_abs_diff'] < 1e-5
    with pytest.raises(ValueError, match='compile cannot be exported'):
        tool.main([LIGHT, 'none', '--out', out, '--optimize', 'compile'])
    with pytest.raises(ValueError, match='cannot be grouped'):
        tool.main([
            LIGHT, 'none', '--out', out, '--shape', '60', '90',
            '--check-images', ir
        ])


@pytest.mark.slow  # inductor compiles C++ for minutes on a loaded CPU
def test_compile_switch_equals_eager(shared_data):
    """optimize='all' (fold_bn, channels_last, torch.compile of fusion_net)
    on a TNO crop: within 1e-5 of eager."""
    model = perturbed_light_model()
    x = tno_pairs(shared_data, [(64, 96)])[0]
    with torch.no_grad():
        ref = model.fusion_net(x)
    optimize_for_inference(model, 'all', verbose=False)
    assert model.inference_optimizations == ('fold_bn', 'channels_last',
                                             'compile')
    assert type(model.fusion_net).__name__ == 'OptimizedModule'
    with torch.no_grad():
        out = model.fusion_net(x)
    torch.testing.assert_close(out, ref, rtol=0, atol=1e-5)


def _needs_onnx():
    pytest.importorskip('onnxruntime', reason='ONNX Runtime not installed '
                        '(requirements/tests.txt)')
    pytest.importorskip('onnxscript', reason='the ONNX exporter needs '
                        'onnxscript (requirements/tests.txt)')


def test_packed_inputs_split_channels_in_order():
    """One (N, sum(C), H, W) tensor -> the inputs, positional or named."""

    class Net(nn.Module):

        def forward(self, a, b, kernel=None):
            return a * 100 + b.sum(1, keepdim=True) * 10 + kernel

    x = torch.arange(5.).view(1, 5, 1, 1).expand(2, 5, 2, 3)
    packed = PackedInputs(Net(), (1, 3, 1), (None, None, 'kernel'))
    # a = 0, b = 1 + 2 + 3, kernel = 4
    assert torch.equal(packed(x), torch.full((2, 1, 2, 3), 64.))
    with pytest.raises(ValueError, match=r'expected \(N, 5, H, W\) = '
                       r'inputs of \(1, 3, 1\) channels, got \(2, 4, 2, 3\)'):
        packed(x[:, :4])
    with pytest.raises(ValueError, match='2 names for 3 inputs'):
        PackedInputs(Net(), (1, 3, 1), (None, 'kernel'))
    with pytest.raises(ValueError, match='channels must be positive'):
        PackedInputs(Net(), (1, 0))


def nyu_pair(shared_data, h, w):
    """NYU v2 test 1000 crop: ``[lr_up, rgb]`` as one (1, 4, H, W)
    tensor (depth / max, x4 bicubic down and up; RGB ImageNet-normalised)."""
    root = osp.join(shared_data, 'gisr', 'NYUDepthv2_Test')
    d = np.load(osp.join(root, 'Depth', '1000.npy'))[:h, :w]
    d = torch.from_numpy(d / d.max()).float()[None, None]
    lr = nn.functional.interpolate(d, scale_factor=0.25, mode='bicubic')
    lr_up = nn.functional.interpolate(lr, size=(h, w), mode='bicubic')
    rgb = cv2.imread(osp.join(root, 'RGB', '1000.jpg'))[:h, :w, ::-1]
    rgb = torch.from_numpy(rgb.astype(np.float32) / 255).permute(2, 0, 1)
    mean = torch.tensor([0.485, 0.456, 0.406]).view(3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225]).view(3, 1, 1)
    return torch.cat([lr_up, ((rgb - mean) / std)[None]], 1)


@pytest.fixture(scope='module')
def dcnas_packed(tmp_path_factory):
    """DCNAS fixed network (official StaticModel golden weights 'mixed',
    every fusion op, converted) packed as one tensor, and the official
    rebuild (tests/helpers/dcnas_official_reference.py)."""
    from mmfusenas.models.gisr import DCNASNet
    from helpers import dcnas_official_reference as gold
    g = torch.load(osp.join(REPO_ROOT, 'tests', 'data', 'dcnas',
                            'static_goldens.pt'), weights_only=True)['mixed']
    official = gold.StaticModel(g['arch'], g['num_features'])
    official.load_state_dict(g['state_dict'])
    conv = load_tool('tools/model_converters/dcnas_official_to_mmfusenas.py')
    net = DCNASNet(g['arch'], num_features=g['num_features'])
    net.load_state_dict({
        k[len('network.'):]: v
        for k, v in _convert_dcnas(conv, g,
                                   tmp_path_factory.mktemp('dcnas')).items()
    })
    return PackedInputs(net.eval(), (1, 3)).eval(), official.eval()


def test_dcnas_packed_equals_official_on_nyu(dcnas_packed, shared_data):
    """The packed DCNAS network (what bench_inference.py times and
    export_network exports) equals the official rebuild on a real NYU
    pair, with and without channels_last."""
    packed, official = dcnas_packed
    x = nyu_pair(shared_data, 64, 96)
    with torch.no_grad():
        ref = official(x[:, :1], x[:, 1:])
        torch.testing.assert_close(packed(x), ref, rtol=0, atol=1e-5)
        fast = optimize_for_inference(copy.deepcopy(packed),
                                      'fold_bn,channels_last', verbose=False)
        torch.testing.assert_close(fast(x), ref, rtol=0, atol=1e-5)


@pytest.mark.slow  # ~20-80 s: the ONNX export
def test_dcnas_onnx_dynamic_sizes_on_nyu(dcnas_packed, shared_data,
                                         tmp_path):
    """Exported to ONNX once at 32 x 48, the packed DCNAS network runs NYU
    crops of other sizes (multiples of 8) and a batch of two in ONNX
    Runtime within 1e-5 of eager."""
    _needs_onnx()
    packed, _ = dcnas_packed
    path = export_network(packed, torch.rand(1, 4, 32, 48),
                          str(tmp_path / 'dcnas.onnx'))
    x, y = nyu_pair(shared_data, 64, 96), nyu_pair(shared_data, 48, 80)
    inputs = [x, y, torch.cat([y, y.flip(-1)])]
    result = compare_outputs(packed, ExportedRunner(path), inputs)
    assert result['num_inputs'] == 3
    assert result['max_abs_diff'] < 1e-5


def _convert_dcnas(conv, g, tmp_path):
    """The official DCNAS converter on a golden state dict."""
    import json
    src, arch = tmp_path / 'official.pth', tmp_path / 'arch.json'
    torch.save(g['state_dict'], src)
    arch.write_text(json.dumps(g['arch']))
    dst = str(tmp_path / 'dcnas.pth')
    conv.main([str(src), dst, '--arch', str(arch)])
    return torch.load(dst, weights_only=True)['state_dict']


@pytest.fixture(scope='module')
def hbl_lol(tmp_path_factory):
    """HBL LOL network from seeded official-layout weights (converted) and
    the official forward pass (tests/helpers/hbl_official_reference.py)."""
    from mmengine.config import Config
    from mmfusenas.registry import MODELS
    from helpers import hbl_official_reference as gold
    conv = load_tool('tools/model_converters/hbl_official_to_mmfusenas.py')
    geno = gold.genotype_of('lol')
    sd = gold.official_state_dict(geno)
    tmp = tmp_path_factory.mktemp('hbl')
    torch.save(sd, tmp / 'official.pt')
    conv.main([str(tmp / 'official.pt'), str(tmp / 'hbl.pth'),
               '--genotype', 'lol'])
    model = MODELS.build(Config.fromfile(
        osp.join(REPO_ROOT, 'configs', 'hbl', 'hbl_lol.py')).model)
    model.load_state_dict(
        torch.load(tmp / 'hbl.pth', weights_only=True)['state_dict'])
    return model.network.eval(), (
        lambda x: gold.official_forward(sd, geno, x, 'running'))


def test_hbl_fold_bn_on_lol(hbl_lol, shared_data):
    """fold_bn folds the BN behind every plain conv / dense op of the HNUs
    (running statistics); on a real LOL crop (not a multiple of 4: the
    network pads) the folded network equals eager and the official pass."""
    net, official = hbl_lol
    x = lol(shared_data, '00271', (90, 134))
    with torch.no_grad():
        ref = net(x)
        torch.testing.assert_close(ref, official(x), rtol=0, atol=1e-5)
        folded = optimize_for_inference(copy.deepcopy(net), 'fold_bn',
                                        verbose=False)
        bns = [m for m in folded.modules()
               if isinstance(m, nn.modules.batchnorm._BatchNorm)]
        # LOL genotype: 27 of the 56 HNU BNs follow a conv / dense op
        assert len(bns) == 56 - 27
        torch.testing.assert_close(folded(x), ref, rtol=0, atol=1e-5)


@pytest.mark.slow  # ~40 s: the ONNX export of the 7-unit network
def test_hbl_onnx_dynamic_sizes_on_lol(hbl_lol, shared_data, tmp_path):
    """The folded HBL network exported once at 40 x 56 runs LOL crops of
    other sizes and a batch of two in ONNX Runtime within 1e-5 of eager.
    Sizes must be multiples of 4 (the exporter specialises the network's
    reflect padding to the example's size residue; the caller pads, as for
    TIM)."""
    _needs_onnx()
    net, _ = hbl_lol
    folded = optimize_for_inference(copy.deepcopy(net), 'fold_bn',
                                    verbose=False)
    path = export_network(folded, torch.rand(1, 3, 40, 56),
                          str(tmp_path / 'hbl.onnx'))
    x, y = lol(shared_data, '00271', (88, 132)), lol(shared_data, '00001',
                                                   (64, 96))
    result = compare_outputs(net, ExportedRunner(path),
                             [x, y, torch.cat([y, y.flip(-1)])])
    assert result['max_abs_diff'] < 1e-5


def test_hqs_equals_official_rebuild_on_levin(shared_data):
    """Unrolled HQS (the official 5-stage configuration) equals the
    functional rebuild of the official network (helpers.
    hqs_reference) on a real Levin observation and kernel; packed with the
    kernel centred in an H x W plane (what bench_inference.py times) it
    gives the same output as with the kernel itself."""
    import scipy.io as sio
    from mmengine.config import Config
    from mmfusenas.registry import MODELS
    from helpers.hqs_reference import official_hqs_forward
    cfg = Config.fromfile(osp.join(REPO_ROOT, 'configs', 'hyper_guidance',
                                   'hqs_proxy_bilevel_levin.py'))
    torch.manual_seed(0)
    net = MODELS.build(cfg.model.architecture).network.eval()
    with torch.no_grad():
        for p in net.parameters():
            p.add_(0.01 * torch.randn_like(p))
    mat = sio.loadmat(osp.join(shared_data, 'deblur', 'levin09',
                               'im05_flit01.mat'))
    y = torch.from_numpy(mat['y'][:48, :60]).float()[None, None]
    k = torch.from_numpy(mat['f']).float()[None]
    plane = torch.zeros(1, 1, 48, 60)
    top, left = 24 - k.shape[1] // 2, 30 - k.shape[2] // 2
    plane[..., top:top + k.shape[1], left:left + k.shape[2]] = k
    with torch.no_grad():
        out = net(y, kernel=k)
        assert torch.equal(out, official_hqs_forward(net.state_dict(), y, k))
        packed = PackedInputs(net, (1, 1), (None, 'kernel'))
        torch.testing.assert_close(packed(torch.cat([y, plane], 1)), out,
                                   rtol=0, atol=1e-5)
    assert out.abs().mean() > 0.1  # a real image, not zeros


class _TinyFusor(nn.Module):
    """A model with a ``fusion_net`` (conv + BN + PReLU + conv)."""

    def __init__(self):
        super().__init__()
        self.fusion_net = nn.Sequential(
            nn.Conv2d(2, 4, 3, padding=1), nn.BatchNorm2d(4), nn.PReLU(),
            nn.Conv2d(4, 1, 3, padding=1))


def test_onnxruntime_switch_equals_eager(shared_data):
    """optimize='fold_bn,onnxruntime': the core network is exported at its
    first call (dynamic sizes) and run by ONNX Runtime; on TNO pairs of
    two sizes and a batch of two it equals eager within 1e-5, with the
    session on torch's thread count."""
    _needs_onnx()
    torch.manual_seed(0)
    model = _TinyFusor()
    with torch.no_grad():
        bn = model.fusion_net[1]
        bn.running_mean.uniform_(-0.5, 0.5)
        bn.running_var.uniform_(0.5, 2)
    model.eval()
    eager = copy.deepcopy(model.fusion_net)
    optimize_for_inference(model, 'fold_bn,onnxruntime', verbose=False)
    assert model.inference_optimizations == ('fold_bn', 'onnxruntime')
    assert isinstance(model.fusion_net, OnnxRuntimeNetwork)
    assert model.fusion_net.session is None  # exported at the first call
    inputs = tno_pairs(shared_data, [(60, 88), (44, 120)])
    inputs.append(torch.cat([inputs[1], inputs[1].flip(-1)]))
    result = compare_outputs(eager, model.fusion_net, inputs)
    assert result['max_abs_diff'] < 1e-5
    opts = model.fusion_net.session.get_session_options()
    assert opts.intra_op_num_threads == torch.get_num_threads() == 1
    with pytest.raises(TypeError, match='one \\(N, C, H, W\\) tensor'):
        model.fusion_net(inputs[0][0])


def bench_inference():
    """``benchmarks/bench_inference.py`` whose official-layout weights are
    converted by the converter's ``main`` in this process. The benchmark
    runs ``tools/model_converters/*`` as a subprocess, as a user does: each
    start imported torch, mmdet and the package again (seconds per
    network, most of these tests' time); the converted files are the
    same."""
    bench = load_tool('benchmarks/bench_inference.py')

    def convert(converter: str, *args: str) -> None:
        load_tool(f'tools/model_converters/{converter}').main(list(args))

    bench._convert = convert
    return bench


def test_bench_inference_later_networks(shared_data, capsys):
    """benchmarks/bench_inference.py on DCNAS, HBL and HQS at tiny sizes:
    the official rebuilds equal the toolbox networks, the mode is within
    1e-5 of eager, parameter counts agree, and the run ends with RESULT."""
    bench = bench_inference()
    out = bench.main([
        '--scale', '0.1', '--batches', '1', '--repeats', '1', '--warmup',
        '0', '--models', 'DCNAS x4', 'HBL LOL', 'HQS hyper-guidance',
        '--modes', 'eager', 'fold_bn+channels_last'
    ])
    sizes = {k: v['size'] for k, v in out['results'].items()}
    # DCNAS: multiples of 8, the others of 4
    assert sizes == {'DCNAS x4': [48, 64], 'HBL LOL': [40, 60],
                     'HQS hyper-guidance': [24, 24]}
    for name, res in out['results'].items():
        assert res['params'] == res['official_params'], name
        row = res['batches'][1]
        assert row['diff']['official'] < 1e-5, name
        assert row['diff']['fold_bn+channels_last'] < 1e-5, name
    assert out['results']['DCNAS x4']['params'] == 544981
    assert capsys.readouterr().out.splitlines()[-1].startswith('RESULT {')


def test_bench_inference_device_handling(shared_data, tmp_path, capsys):
    """The CPU side of ``bench_inference.py --device cuda``: the
    functional official rebuilds (HQS, HBL) follow ``.to()`` (their weights
    are buffers; checked with a dtype move), ONNX Runtime modes are refused
    with a reason for a non-CPU input, and ``--device cuda`` without CUDA
    is a clear error."""
    bench = bench_inference()
    _, official, mods = bench.build_hqs(str(tmp_path))
    x = bench.example_input('hqs', (24, 24), 1)
    with torch.no_grad():
        y32 = official(x)
        official.double()
        y64 = official(x.double())
    assert y64.dtype == torch.float64
    assert (y64.float() - y32).abs().max().item() < 1e-5
    assert all(v.dtype == torch.float64
               for v in official.weights().values())
    # a forward on the moved module's buffers, not on a captured copy
    assert all(v is getattr(official, f'w{i}')
               for i, v in enumerate(official.weights().values()))
    net, official, _ = bench.build_hbl(str(tmp_path))
    x = bench.example_input('hbl', (40, 60), 1)
    with torch.no_grad():
        ref = net(x)
        assert (official.double()(x.double()).float() -
                ref).abs().max().item() < 1e-5
    skipped = {}
    meta = torch.empty(1, 3, 40, 60, device='meta')
    modes = bench.make_modes(net, ['onnxruntime', 'ort_basic'], meta, 1,
                             str(tmp_path), {}, skipped)
    assert modes == {}
    assert set(skipped) == {'onnxruntime', 'ort_basic'}
    assert 'CPU only (the input is on meta)' in skipped['onnxruntime']
    assert 'not run: RuntimeError: ONNX Runtime modes run on CPU only' in \
        capsys.readouterr().out
    if not torch.cuda.is_available():
        with pytest.raises(SystemExit):
            bench.main(['--device', 'cuda', '--models', 'RUAS_s'])
        assert 'torch sees no CUDA device' in capsys.readouterr().err
    with pytest.raises(SystemExit):
        bench.main(['--device', 'mps', '--models', 'RUAS_s'])
    assert 'must be cpu or cuda' in capsys.readouterr().err


@pytest.mark.skipif(not torch.cuda.is_available(), reason='needs CUDA')
def test_bench_inference_on_cuda(shared_data):
    """``bench_inference.py --device cuda`` at tiny sizes: every official
    rebuild equals the toolbox network on the GPU, the PyTorch modes stay
    within 1e-5 of eager (TF32 off), ONNX Runtime is skipped with its
    reason, peak memory comes from the CUDA allocator."""
    bench = bench_inference()
    out = bench.main([
        '--device', 'cuda', '--scale', '0.1', '--batches', '1', '2',
        '--repeats', '1', '--warmup', '1', '--models', 'TIM IVIF light',
        'RUAS_A', 'DCNAS x4', 'HBL LOL', 'HQS hyper-guidance', '--modes',
        'eager', 'fold_bn+channels_last', 'onnxruntime'
    ])
    assert 'cuda' in out['device'].lower() or 'nvidia' in \
        out['device'].lower() or 'h100' in out['device'].lower()
    for name, res in out['results'].items():
        assert 'CPU only' in res['skipped']['onnxruntime'], name
        for batch, row in res['batches'].items():
            assert row['diff']['official'] < 1e-5, (name, batch)
            assert row['diff']['fold_bn+channels_last'] < 1e-5, (name, batch)
            assert row['peak_mb']['eager'] > 0, (name, batch)


@pytest.mark.parametrize('with_ort', [
    False, pytest.param(True, marks=pytest.mark.slow)])
def test_bench_inference_profile_option(with_ort, capsys):
    """``--profile K``: the K operators with the largest self time of one
    official and one eager pass (and the K ONNX op types of one ONNX
    Runtime run; slow: the ONNX export), as (name, % of the pass) in
    decreasing order, printed and in the JSON; every built mode's build
    time."""
    bench = bench_inference()
    modes = ['eager', 'channels_last']
    if with_ort:
        pytest.importorskip('onnxruntime')
        pytest.importorskip('onnxscript')
        modes.append('onnxruntime')
    out = bench.main([
        '--scale', '0.1', '--batches', '1', '--repeats', '1', '--warmup',
        '0', '--models', 'RUAS_s', '--modes', *modes, '--profile', '3'
    ])
    row = out['results']['RUAS_s']['batches'][1]
    # build seconds of every mode but eager (not built)
    assert set(row['build_s']) == set(modes[1:])
    assert 0 <= row['build_s']['channels_last'] < 60
    prof = row['profile']
    assert set(prof) == {'official', *modes} - {'channels_last'}
    for mode, ops in prof.items():
        assert len(ops) == 3
        pcts = [p for _, p in ops]
        assert pcts == sorted(pcts, reverse=True)
        assert 0 < sum(pcts) <= 100.0 + 1e-6
        if mode == 'onnxruntime':   # ONNX op types; RUAS_s is convolutions
            assert 'Conv' in [name for name, _ in ops]
        else:   # ATen operators and the toolbox's labelled kernels
            assert all(name.startswith(('aten::', 'mmfusenas::'))
                       for name, _ in ops), ops
    printed = capsys.readouterr().out
    assert 'RUAS_s N=1 eager: top operators by self time' in printed
    # one line per network as soon as it is done
    assert 'RUAS_s N=1 done: official ' in printed
