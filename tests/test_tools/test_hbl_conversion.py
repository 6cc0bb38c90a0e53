"""Official HBL weights -> MMFuseNAS: converter, goldens in both BN modes."""
import argparse
import importlib.util
import os.path as osp

import pytest
import torch
from mmengine.config import Config

from mmfusenas.registry import MODELS
from helpers import hbl_official_reference as OFFICIAL
from helpers.numerics import reduction_atol

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DATA = osp.join(ROOT, 'tests', 'data', 'hbl')


def _load(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


CONVERTER = _load(
    'hbl_converter',
    osp.join(ROOT, 'tools/model_converters/hbl_official_to_mmfusenas.py'))


def _official_file(tmp_path, name):
    geno = OFFICIAL.genotype_of(name)
    sd = OFFICIAL.official_state_dict(geno)
    golden = torch.load(
        osp.join(DATA, f'golden_{name}.pt'), weights_only=True)
    # the seeded weights are those the goldens were made with
    assert OFFICIAL.weights_checksum(sd) == pytest.approx(
        golden['weights_checksum'], rel=1e-12)
    src = str(tmp_path / f'weights_{name}.pt')
    torch.save(sd, src)
    return src, sd, golden


@pytest.mark.golden
@pytest.mark.parametrize('name', ['lol', 'sihr'])
def test_converted_official_weights_reproduce_goldens(tmp_path, name):
    src, sd, golden = _official_file(tmp_path, name)
    dst = str(tmp_path / 'converted.pth')
    # a plain tensor state dict needs no trust flag
    meta = CONVERTER.main([src, dst, '--genotype', name])
    assert meta['num_tensors'] == len(sd) and meta['genotype'] == name
    ckpt = torch.load(dst, weights_only=True)
    model = MODELS.build(
        Config.fromfile(osp.join(ROOT, f'configs/hbl/hbl_{name}.py')).model)
    model.load_state_dict(ckpt['state_dict'], strict=True)
    model.eval()
    x = golden['input']
    with torch.no_grad():
        running = model(x, mode='tensor')
        model.network.set_bn_test_stats('per_image')
        per_image = model(x, mode='tensor')
    # stored on another CPU: float32 eps x the longest reduction (a BN
    # statistic over the H x W pixels, which the per-image mode divides by)
    # x the output's magnitude; measured up to 9.1e-5 of 4.6e-4 (batch
    # statistics, max |output| 9.8)
    n = x.shape[-2] * x.shape[-1]
    for out, key in ((running, 'output_running_stats'),
                     (per_image, 'output_batch_stats')):
        ref = golden[key]
        tol = reduction_atol(ref.abs().max().item(), n)
        torch.testing.assert_close(out, ref, atol=tol, rtol=0,
                                   msg=lambda m: f'{name} {key}: {m}')
    # the wrong BN mode is > 100 x the tolerance away
    assert (running - per_image).abs().max() > 100 * tol


def test_conversion_round_trip_is_a_bijection(tmp_path):
    src, sd, _ = _official_file(tmp_path, 'lol')
    model = MODELS.build(
        Config.fromfile(osp.join(ROOT, 'configs/hbl/hbl_lol.py')).model)
    ours = CONVERTER.convert_state_dict(sd, model.state_dict())
    inverse = {CONVERTER.map_key(k): k for k in sd}
    assert len(inverse) == len(sd) == len(ours)
    back = {inverse[k]: v for k, v in ours.items()}
    assert back.keys() == sd.keys()
    assert all(torch.equal(back[k], sd[k]) for k in sd)
    # DataParallel prefixes are stripped
    assert CONVERTER.map_key('module.e.encode.down1.weight') == \
        'network.encoder.down1.weight'
    assert CONVERTER.map_key('p.hnus.0.cr.2.weight') is None  # a ReLU slot


def test_wrong_genotype_fails_naming_keys(tmp_path):
    src, _, _ = _official_file(tmp_path, 'lol')
    with pytest.raises(ValueError, match='cannot convert .*strictly') as err:
        CONVERTER.main([src, str(tmp_path / 'x.pth'), '--genotype', 'mit'])
    assert 'shape mismatches' in str(err.value) or 'missing keys' in str(
        err.value)
    assert not osp.exists(tmp_path / 'x.pth')


def test_pickles_need_trust(tmp_path):
    src = str(tmp_path / 'pickled.pt')
    torch.save(dict(args=argparse.Namespace(a=1)), src)
    with pytest.raises(RuntimeError, match='trust'):
        CONVERTER.main([src, str(tmp_path / 'y.pth'), '--genotype', 'lol'])
    with pytest.raises(TypeError, match='does not hold a state dict'):
        CONVERTER.main(
            [src, str(tmp_path / 'y.pth'), '--genotype', 'lol', '--trust'])
