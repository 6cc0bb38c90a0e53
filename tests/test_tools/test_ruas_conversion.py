"""Official RUAS checkpoint conversion and the reproduction of the official
LOL outputs with tools/enhance.py."""
import glob
import os.path as osp
from collections import OrderedDict

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.runner import Runner
from PIL import Image

from mmfusenas.engine.runner import with_cached_text
from mmfusenas.models.cells import RUAS_EDGE_NAMES
from mmfusenas.registry import MODELS
from mmfusenas.utils.checkpoint import TrustedUnpicklingWarning
from helpers import load_tool

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
OFFICIAL = osp.join(
    osp.dirname(REPO), 'shared', 'checkpoints', 'ruas_official')
RUAS = osp.join(REPO, 'configs', 'ruas')


converter = load_tool('tools/model_converters/ruas_official_to_mmfusenas.py')
enhance = load_tool('tools/enhance.py')


@pytest.fixture(scope='module')
def official_dir(shared_data):
    if not osp.isdir(OFFICIAL):
        pytest.skip(f'official RUAS weights not found: {OFFICIAL}')
    return OFFICIAL


@pytest.fixture(scope='module')
def converted(official_dir, tmp_path_factory):
    """Every official checkpoint converted with --trust."""
    out = tmp_path_factory.mktemp('ruas')
    paths = {}
    for name in ('lol', 'mit', 'darkface'):
        paths[name] = str(out / f'ruas_a_{name}.pth')
        converter.main(
            [osp.join(official_dir, f'{name}.pt'), paths[name], '--trust'])
    return paths


def build(config):
    return MODELS.build(Config.fromfile(osp.join(RUAS, config)).model)


def test_conversion_of_plain_tensor_files_needs_no_trust(official_dir,
                                                        tmp_path, capsys):
    """The official files hold plain tensors: safe loading, no --trust."""
    dst = tmp_path / 'x.pth'
    converter.main(
        [osp.join(official_dir, 'lol.pt'), str(dst), '--scene-only'])
    assert set(torch.load(str(dst), weights_only=True)) == {
        'state_dict', 'meta'
    }
    assert 'WARNING' not in capsys.readouterr().err


class _Payload:
    """Unpickling this touches a file: proof that code ran."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, 'w'))


def test_pickle_needs_trust_and_unpickling_is_announced(tmp_path):
    marker = tmp_path / 'payload_ran'
    src, dst = tmp_path / 'evil.pt', tmp_path / 'evil.pth'
    torch.save({'w': torch.zeros(1), 'x': _Payload(str(marker))}, str(src))
    # before the fix, --trust was required even for safe files and a
    # fallback to full unpickling happened silently
    with pytest.raises(RuntimeError, match='without --trust'):
        converter.main([str(src), str(dst)])
    assert not marker.exists() and not dst.exists()
    with pytest.warns(TrustedUnpicklingWarning,
                      match='unpickling it fully .*--trust was given'):
        with pytest.raises(TypeError, match='does not hold a state dict'):
            converter.main([str(src), str(dst), '--trust'])
    assert marker.exists()  # the user asked for it ...


@pytest.mark.parametrize('name', ['lol', 'mit', 'darkface'])
def test_official_checkpoints_load_strictly(converted, official_dir, name):
    ckpt = torch.load(converted[name], weights_only=True)
    assert set(ckpt) == {'state_dict', 'meta'}
    meta = ckpt['meta']
    assert meta['source'] == f'{name}.pt'
    assert meta['source_layout'] == 'tpami' and meta['num_tensors'] == 98
    assert meta['dropped_official_keys'] == []
    model = build('ruas_a_lol.py')
    model.load_state_dict(ckpt['state_dict'], strict=True)
    # spot checks of the key rule: edge index, fuse, head, estimator
    official = torch.load(
        osp.join(official_dir, f'{name}.pt'),
        weights_only=True,
        map_location='cpu')
    sd = ckpt['state_dict']
    pairs = {
        'enhance_net.iems.2.cell.c2_d.op.weight':
        'network.scene.stages.2.cell.edges.2.conv.weight',
        'enhance_net.iems.0.cell.c5.bias':
        'network.scene.stages.0.cell.fuse.bias',
        'denoise_net.nrms.1.c4.op.weight':
        'network.denoiser.cells.1.edges.6.conv.weight',
        'denoise_net.activate.0.weight': 'network.denoiser.head.weight',
        'estimation.estimation.8.bias': 'network.estimator.layers.8.bias',
    }
    for theirs, ours in pairs.items():
        assert torch.equal(official[theirs], sd[ours])


def test_scene_only_conversion(official_dir, tmp_path):
    dst = str(tmp_path / 'ruas_s.pth')
    meta = converter.main(
        [osp.join(official_dir, 'lol.pt'), dst, '--trust', '--scene-only'])
    assert meta['num_tensors'] == 36 and len(
        meta['dropped_official_keys']) == 62
    assert all(not k.startswith('enhance_net')
               for k in meta['dropped_official_keys'])
    build('ruas_s_lol.py').load_state_dict(
        torch.load(dst, weights_only=True)['state_dict'], strict=True)


def official_keys_of(model):
    """Inverse of the key rule (test-only): our state dict -> official."""
    edge = dict(enumerate(RUAS_EDGE_NAMES))
    out = OrderedDict()
    for key, value in model.state_dict().items():
        parts = key.split('.')[1:]  # drop 'network'
        if parts[0] == 'scene':
            k, rest = parts[2], parts[4:]
            prefix = f'enhance_net.iems.{k}.cell'
        elif parts[0] == 'denoiser' and parts[1] == 'cells':
            k, rest = parts[2], parts[3:]
            prefix = f'denoise_net.nrms.{k}'
        elif parts[0] == 'denoiser':
            name = dict(stem='stem', head='activate.0')[parts[1]]
            out[f'denoise_net.{name}.{parts[2]}'] = value
            continue
        else:
            out[f'estimation.estimation.{parts[2]}.{parts[3]}'] = value
            continue
        if rest[0] == 'fuse':
            out[f'{prefix}.c5.{rest[1]}'] = value
        else:
            out[f'{prefix}.{edge[int(rest[1])]}.op.{rest[3]}'] = value
    return out


def test_cvpr_layout_converts_to_the_ruas_variant(tmp_path):
    torch.manual_seed(1)
    model = build('ruas_lol.py')
    official = official_keys_of(model)
    assert len(official) == 76  # the CVPR checkpoints' tensor count
    src, dst = str(tmp_path / 'cvpr.pt'), str(tmp_path / 'ruas.pth')
    torch.save(official, src)
    meta = converter.main([src, dst, '--trust'])
    assert meta['source_layout'] == 'cvpr'
    assert meta['config'] == 'configs/ruas/ruas_lol.py'
    sd = torch.load(dst, weights_only=True)['state_dict']
    assert all(torch.equal(sd[k], v) for k, v in model.state_dict().items())


def test_strict_coverage_errors(tmp_path):
    target = build('ruas_a_lol.py').state_dict()
    official = official_keys_of(build('ruas_a_lol.py'))
    extra = OrderedDict(official,
                        **{'enhance_net.extra.weight': torch.zeros(1)})
    with pytest.raises(
            ValueError,
            match=r'unexpected official keys '
            r'\(no conversion rule\) \(1\):\n  '
            r'enhance_net\.extra\.weight'):
        converter.convert_state_dict(extra, target)
    beyond = OrderedDict(official)
    beyond['enhance_net.iems.3.cell.c5.bias'] = torch.zeros(3)
    with pytest.raises(
            ValueError,
            match=r'(?s)not in the target model.*'
            r'iems\.3\.cell\.c5\.bias'):
        converter.convert_state_dict(beyond, target)
    missing = OrderedDict(official)
    del missing['denoise_net.stem.bias']
    with pytest.raises(
            ValueError,
            match=r'(?s)missing keys.*\n  '
            r'network\.denoiser\.stem\.bias'):
        converter.convert_state_dict(missing, target)
    shaped = OrderedDict(official)
    shaped['denoise_net.stem.bias'] = torch.zeros(7)
    with pytest.raises(ValueError, match=r'(?s)shape mismatches.*\(7,\)'):
        converter.convert_state_dict(shaped, target)
    # the tool: a bad checkpoint is rejected and nothing is written
    src, dst = tmp_path / 'bad.pt', tmp_path / 'bad.pth'
    torch.save(extra, str(src))
    with pytest.raises(ValueError, match='enhance_net.extra.weight'):
        converter.main([str(src), str(dst), '--trust'])
    assert not dst.exists()
    torch.save([1, 2], str(src))
    with pytest.raises(TypeError, match='does not hold a state dict'):
        converter.main([str(src), str(dst), '--trust'])


def read(path):
    return np.asarray(Image.open(path).convert('RGB')).astype(np.int16)


def test_enhance_reproduces_the_official_lol_outputs(converted, shared_data,
                                                     tmp_path, capsys):
    lowlight = osp.join(shared_data, 'lowlight')
    out = str(tmp_path / 'out')
    means = enhance.main([
        osp.join(RUAS, 'ruas_a_lol.py'), converted['lol'], '--input',
        osp.join(lowlight, 'lol', 'test'), '--out', out, '--gt',
        osp.join(lowlight, 'lol', 'gt'), '--metrics'
    ])
    official = sorted(
        glob.glob(osp.join(lowlight, 'ruas_official_results', 'lol', '*.png')))
    assert len(official) == 5
    worst, equal, total = 0, 0, 0
    for ref_path in official:
        ours = read(osp.join(out, osp.basename(ref_path)))
        ref = read(ref_path)
        assert ours.shape == ref.shape == (400, 600, 3)
        diff = np.abs(ours - ref)
        assert diff.max() <= 1, f'{ref_path}: max diff {diff.max()}'
        worst = max(worst, int(diff.max()))
        equal += int((diff == 0).sum())
        total += diff.size
    with capsys.disabled():
        print(f'\nRUAS_A lol.pt vs official LOL outputs: max abs diff '
              f'{worst}, exactly equal values {equal / total:.6%}')
    assert equal / total > 0.9999
    assert 15.0 < means['PSNR'] < 16.0 and 0.6 < means['SSIM'] < 0.65


def test_enhance_errors(converted, shared_data, tmp_path):
    lol = osp.join(shared_data, 'lowlight', 'lol')
    args = [
        osp.join(RUAS, 'ruas_a_lol.py'), converted['lol'], '--input',
        osp.join(lol, 'test'), '--out',
        str(tmp_path)
    ]
    with pytest.raises(ValueError, match='--metrics needs --gt'):
        enhance.main(args + ['--metrics'])
    with pytest.raises(FileNotFoundError, match='--gt folder'):
        enhance.main(args + ['--gt', str(tmp_path / 'none')])


def test_runner_test_loop_reports_psnr_ssim(official_dir, shared_data,
                                            tmp_path):
    ckpt = str(tmp_path / 'ruas_s.pth')
    converter.main(
        [osp.join(official_dir, 'lol.pt'), ckpt, '--trust', '--scene-only'])
    cfg = Config.fromfile(osp.join(RUAS, 'ruas_s_lol.py'))
    cfg.work_dir = str(tmp_path / 'work')
    cfg.load_from = ckpt
    loader = cfg.test_dataloader
    loader.num_workers, loader.persistent_workers = 0, False
    loader.dataset.data_root = osp.join(shared_data, 'lowlight', 'lol')
    loader.dataset.data_prefix = dict(low='test', gt='gt')
    metrics = Runner.from_cfg(with_cached_text(cfg)).test()
    assert set(metrics) == {'enh/PSNR', 'enh/SSIM'}
    # RUAS_s of lol.pt on the 5 LOL samples (bench_official_cost.py --mode ruas: 14.589 / 0.4291)
    assert metrics['enh/PSNR'] == pytest.approx(14.589, abs=1e-3)
    assert metrics['enh/SSIM'] == pytest.approx(0.4291, abs=1e-4)
