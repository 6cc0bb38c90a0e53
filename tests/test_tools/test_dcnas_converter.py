"""Official DCNAS StaticModel weights -> DCNASNet, against goldens."""
import argparse
import json
import os.path as osp
import re

import pytest
import torch
import yaml

from mmfusenas.models.gisr import DCNASNet, arch_to_choices
from mmfusenas.models.mutables import Genotype

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
GOLDENS = osp.join(ROOT, 'tests', 'data', 'dcnas', 'static_goldens.pt')


def _converter():
    import importlib.util
    spec = importlib.util.spec_from_file_location(
        'dcnas_conv',
        osp.join(ROOT, 'tools', 'model_converters',
                 'dcnas_official_to_mmfusenas.py'))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope='module')
def goldens():
    return torch.load(GOLDENS, weights_only=True)


@pytest.mark.golden
@pytest.mark.parametrize('name', ['example', 'mixed'])
def test_converted_weights_reproduce_official_outputs(goldens, name,
                                                      tmp_path):
    conv = _converter()
    g = goldens[name]
    src = tmp_path / 'official.pth'
    torch.save({f'module.{k}': v for k, v in g['state_dict'].items()}, src)
    arch = tmp_path / 'arch.json'
    arch.write_text(json.dumps(g['arch']))
    dst = str(tmp_path / 'dcnas.pth')
    meta = conv.main([str(src), dst, '--arch', str(arch)])
    assert meta['num_features'] == 4 and meta['dropped'] == []
    ckpt = torch.load(dst, weights_only=True)
    net = DCNASNet(g['arch'], num_features=4)
    net.load_state_dict({
        k[len('network.'):]: v
        for k, v in ckpt['state_dict'].items()
    })
    with torch.no_grad():
        out = net(g['lr_up'], g['rgb'])
    assert torch.allclose(out, g['out'], atol=1e-5, rtol=1e-5)
    # the written config evaluates the checkpoint through the task model
    from mmengine.config import Config
    from mmfusenas.registry import MODELS
    cfg = Config.fromfile(osp.splitext(dst)[0] + '.py')
    assert cfg.load_from == osp.abspath(dst)
    model = MODELS.build(cfg.model)
    model.load_state_dict(ckpt['state_dict'])
    with torch.no_grad():
        out2 = model(dict(lr_up=g['lr_up'], rgb=g['rgb']), mode='tensor')
    assert torch.allclose(out2, g['out'], atol=1e-5, rtol=1e-5)


def test_genotype_arch_file_and_errors(goldens, tmp_path):
    conv = _converter()
    g = goldens['example']
    src = tmp_path / 'official.pth'
    torch.save(g['state_dict'], src)
    choices = arch_to_choices(g['arch'])
    geno = str(tmp_path / 'g.yaml')
    Genotype(choices, dict(type='DCNASNet', arch=choices)).dump(geno)
    conv.main([str(src), str(tmp_path / 'a.pth'), '--arch', geno])
    # wrong architecture: a key mismatch names the key
    other = dict(g['arch'], fuse_op=[1, 6, 3, 6])
    bad = tmp_path / 'bad.yaml'
    bad.write_text(yaml.safe_dump(other))
    with pytest.raises(KeyError, match='lacks'):
        conv.main([str(src), str(tmp_path / 'b.pth'), '--arch', str(bad)])
    # a pickle that is not plain tensors needs --trust
    pkl = tmp_path / 'obj.pth'
    torch.save(dict(state_dict=g['state_dict'],
                    args=argparse.Namespace(lr=1e-4)), pkl)
    with pytest.raises(RuntimeError, match='trust'):
        conv.main([str(pkl), str(tmp_path / 'c.pth'), '--arch', geno])
    conv.main([str(pkl), str(tmp_path / 'c.pth'), '--arch', geno, '--trust'])
    assert conv.map_key('tail.layers.1.act.weight') == 'tail.1.act.weight'
    assert conv.map_key('rgb_encoder.2.mb_blocks.0.mb_layers.SE.conv_du.2.'
                        'bias') == 'rgb_encoder.2.0.se.expand.bias'
    assert conv.map_key('something.else') is None


def test_bad_arch_files_are_named(tmp_path):
    conv = _converter()
    path = tmp_path / 'arch.yaml'
    path.write_bytes(b'fuse_op: [1, 6, 3, 6]\nnote: \xe9\n')
    with pytest.raises(ValueError, match=f"{re.escape(str(path))} is not "
                       "valid YAML/JSON: 'utf-8' codec can't decode"):
        conv.load_arch(str(path))
    path.write_text('format: mmfusenas-genotype/1\nnetwork: {type: X}\n')
    with pytest.raises(ValueError, match=f"{re.escape(str(path))}: "
                       "'choices' must be a mapping, got NoneType"):
        conv.load_arch(str(path))
    with pytest.raises(FileNotFoundError, match='--arch file not found: '):
        conv.load_arch(str(tmp_path / 'nope.yaml'))
