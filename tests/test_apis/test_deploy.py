"""Optimised inference switches and export (ONNX Runtime, torch.export) vs
eager on shared real images, dynamic sizes included."""
import os.path as osp

import cv2
import numpy as np
import pytest
import torch
import torch.nn as nn

from mmfusenas.apis import (ExportedRunner, compare_outputs, core_network,
                            export_network, inference_enhancer, init_model,
                            optimize_for_inference, parse_optimize)
from mmfusenas.testing import REPO_ROOT, load_tool

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
    with pytest.raises(ValueError, match=r"unknown inference optimisation"
                       r"\(s\) \['fuse'\]"):
        parse_optimize('fuse')


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
    ref = load_tool('tests/test_tools/tim_official_reference.py')
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
    model, checked on a real TNO pair (ONNX: the tests above)."""
    tool = load_tool('tools/deployment/export.py')
    ir = osp.join(shared_data, 'fusion', 'TNO', 'ir', '01.png')
    vi = osp.join(shared_data, 'fusion', 'TNO', 'vi', '01.png')
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
