"""tools/model_converters/fusion_baselines_to_mmfusenas.py and tools/fuse.py
with the baseline configs (configs/baselines/*_ivif.py) on real pairs."""
import os
import os.path as osp
import shutil

import cv2
import numpy as np
import pytest
import torch

from mmfusenas.models.fusion.baselines import convert_fusion_baseline
from helpers import REPO_ROOT, load_tool

pytestmark = pytest.mark.usefixtures('one_thread')

CONV = load_tool('tools/model_converters/fusion_baselines_to_mmfusenas.py')
FUSE = load_tool('tools/fuse.py')
REF = load_tool('tests/test_models/fusion_baselines_reference.py')
CFG = osp.join(REPO_ROOT, 'configs', 'baselines')
WEIGHTS = osp.join(osp.dirname(REPO_ROOT), 'shared', 'checkpoints',
                   'fusion_baselines')
#: official file -> (converter name, number of converted tensors)
FILES = {
    'seafusion.pth': ('seafusion', 72),
    'tardal.pt': ('tardal', 46),
    'tardal_plus.pt': ('tardal', 46),
    'tardal_plusplus.pt': ('tardal', 46),
    'ifcnn_max.pth': ('ifcnn_max', 15),
}
#: sha256 of the official files (../shared/checkpoints/fusion_baselines)
SHA = {
    'seafusion.pth':
    '8d65a7f9a50f36349803368cf9920f40420776995e7e8cc8a56d8d30e499431d',
    'ifcnn_max.pth':
    '6022b44c88a2f0367ba9b08fcdf0d663745d9a966fca0ee1f41867797b6ff53f',
}


@pytest.fixture(scope='module')
def weights() -> str:
    if not osp.isdir(WEIGHTS):
        pytest.skip(f'real-weight test: {WEIGHTS} not found')
    return WEIGHTS


@pytest.fixture(scope='module')
def converted(weights, tmp_path_factory) -> dict:
    """Official file -> converted checkpoint written by the tool."""
    out = tmp_path_factory.mktemp('converted')
    paths = {}
    for name, (net, _) in FILES.items():
        dst = str(out / (osp.splitext(name)[0] + '.pth'))
        CONV.main([net, osp.join(weights, name), dst])
        paths[name] = dst
    empty = str(out / 'empty.pth')
    CONV.main(['--empty', empty])
    paths['empty'] = empty
    return paths


def test_converter_writes_strict_checkpoints(converted, weights):
    from mmengine.config import Config

    from mmfusenas.registry import MODELS
    for name, (net, count) in FILES.items():
        ckpt = torch.load(converted[name], map_location='cpu',
                          weights_only=True)
        state = ckpt['state_dict']
        assert len(state) == count
        assert all(k.startswith('fusion_net.') for k in state)
        assert ckpt['meta']['baseline'] == net
        if name in SHA:
            assert ckpt['meta']['source_sha256'] == SHA[name]
        # the same as the in-process conversion
        inproc = convert_fusion_baseline(net, osp.join(weights, name))
        assert inproc['state_dict'].keys() == state.keys()
        assert all(torch.equal(inproc['state_dict'][k], v)
                   for k, v in state.items())
        config = {'seafusion': 'seafusion_ivif.py', 'tardal':
                  'tardal_ivif.py', 'ifcnn_max': 'ifcnn_max_ivif.py'}[net]
        model = MODELS.build(Config.fromfile(osp.join(CFG, config)).model)
        model.load_state_dict(state, strict=True)
    empty = torch.load(converted['empty'], weights_only=True)
    assert empty['state_dict'] == {}


def test_converter_refuses_another_networks_file(weights, tmp_path):
    dst = tmp_path / 'out.pth'
    src = osp.join(weights, 'tardal.pt')
    with pytest.raises(ValueError) as err:
        CONV.main(['seafusion', src, str(dst)])
    msg = str(err.value)
    assert src in msg and "is not a 'seafusion' weight file" in msg
    assert "found the weights of 'tardal'" in msg
    with pytest.raises(ValueError, match="is not a 'ifcnn_max' weight file"):
        CONV.main(['ifcnn_max', osp.join(weights, 'seafusion.pth'),
                   str(dst)])
    # a state dict of no known network
    other = tmp_path / 'other.pth'
    torch.save({'conv.weight': torch.zeros(2, 2)}, str(other))
    with pytest.raises(ValueError, match='found no known baseline network'):
        CONV.main(['tardal', str(other), str(dst)])
    assert not dst.exists()


def test_converter_missing_corrupt_and_non_tensor_files(weights, tmp_path):
    dst = tmp_path / 'out.pth'
    missing = str(tmp_path / 'nope.pt')
    with pytest.raises(FileNotFoundError, match=f'{missing} does not exist'):
        CONV.main(['tardal', missing, str(dst)])
    # a truncated zip file and a legacy-format file cut short
    for name in ('tardal_plus.pt', 'seafusion.pth'):
        data = open(osp.join(weights, name), 'rb').read()
        bad = tmp_path / ('cut_' + name)
        bad.write_bytes(data[:len(data) // 2])
        with pytest.raises(ValueError) as err:
            CONV.main([FILES[name][0], str(bad), str(dst)])
        assert str(bad) in str(err.value)
        assert 'cannot be read by torch.load' in str(err.value)
    junk = tmp_path / 'junk.pth'
    torch.save({'epoch': 3}, str(junk))
    with pytest.raises(ValueError, match=r'holds a .*not a state dict of '
                       r'tensors'):
        CONV.main(['tardal', str(junk), str(dst)])
    assert not dst.exists()
    with pytest.raises(SystemExit):
        CONV.main(['densefuse', str(junk), str(dst)])


# ------------------------------------------------------------ tools/fuse.py
ROAD = ('RoadScene', 'FLIR_00211', '.jpg')
TNO = ('TNO', '19', '.png')


def pair_folder(root, shared_data, pairs, same=False):
    """``root/{ir,vi}`` with copies of ``pairs`` (``same``: the visible
    image as both sources)."""
    for sub in ('ir', 'vi'):
        os.makedirs(osp.join(root, sub), exist_ok=True)
    for folder, stem, ext in pairs:
        for sub in ('ir', 'vi'):
            src = osp.join(shared_data, 'fusion', folder,
                           'vi' if same else sub, stem + ext)
            shutil.copy(src, osp.join(root, sub, stem + ext))
    return osp.join(root, 'ir'), osp.join(root, 'vi')


@pytest.mark.parametrize('config, official, reference', [
    ('seafusion_ivif.py', 'seafusion.pth',
     lambda sd, ir, vi: REF.seafusion_reference(sd, ir, vi)),
    ('tardal_ivif.py', 'tardal_plusplus.pt',
     lambda sd, ir, vi: REF.tardal_reference(sd, ir, vi, False)[..., ::-1]),
    ('tardal_ivif_bntrain.py', 'tardal.pt',
     lambda sd, ir, vi: REF.tardal_reference(sd, ir, vi, True)[..., ::-1]),
    ('ifcnn_max_ivif.py', 'ifcnn_max.pth',
     lambda sd, ir, vi: REF.ifcnn_reference(sd, ir, vi)),
])
def test_fuse_tool_writes_what_the_authors_script_writes(
        config, official, reference, converted, weights, shared_data,
        tmp_path):
    ir_dir, vi_dir = pair_folder(str(tmp_path), shared_data, [ROAD])
    out = str(tmp_path / 'out')
    FUSE.main([osp.join(CFG, config), converted[official], '--ir', ir_dir,
               '--vi', vi_dir, '--out', out])
    assert os.listdir(out) == ['FLIR_00211.png']
    img = cv2.imread(osp.join(out, 'FLIR_00211.png'), cv2.IMREAD_COLOR)
    ref = reference(REF.load_official(osp.join(weights, official)),
                    osp.join(ir_dir, 'FLIR_00211.jpg'),
                    osp.join(vi_dir, 'FLIR_00211.jpg'))
    diff = np.abs(img[..., ::-1].astype(int) - ref.astype(int))
    assert (diff > 1).mean() <= 2e-3 and diff.max() <= 8, (
        f'{config}: {(diff > 1).mean():.4%} differ by more than 1, max '
        f'{diff.max()}')


def test_fuse_tool_classical_rules_on_a_real_pair(converted, shared_data,
                                                  tmp_path):
    ir_dir, vi_dir = pair_folder(str(tmp_path / 'p'), shared_data, [TNO])
    ir = cv2.imread(osp.join(ir_dir, '19.png'), 0).astype(int)
    vi = cv2.imread(osp.join(vi_dir, '19.png'), 0).astype(int)
    expected = dict(
        classical_mean_ivif=np.floor((ir + vi) / 2 + 0.5),
        classical_max_ivif=np.maximum(ir, vi))
    for name, exp in expected.items():
        out = str(tmp_path / name)
        FUSE.main([osp.join(CFG, name + '.py'), converted['empty'], '--ir',
                   ir_dir, '--vi', vi_dir, '--out', out])
        img = cv2.imread(osp.join(out, '19.png'), cv2.IMREAD_UNCHANGED)
        assert img.ndim == 2  # grey pair -> grey result
        assert np.abs(img.astype(int) - exp).max() <= 1, name
    # the Laplacian rule on a pair of identical colour images gives the image
    ir_dir, vi_dir = pair_folder(str(tmp_path / 's'), shared_data, [ROAD],
                                 same=True)
    out = str(tmp_path / 'lap')
    FUSE.main([osp.join(CFG, 'classical_laplacian_ivif.py'),
               converted['empty'], '--ir', ir_dir, '--vi', vi_dir, '--out',
               out])
    img = cv2.imread(osp.join(out, 'FLIR_00211.png'), cv2.IMREAD_COLOR)
    src = cv2.imread(osp.join(vi_dir, 'FLIR_00211.jpg'), cv2.IMREAD_COLOR)
    assert np.abs(img.astype(int) - src.astype(int)).max() <= 1


def test_fuse_tool_bad_inputs_name_the_files(converted, shared_data,
                                             tmp_path):
    config = osp.join(CFG, 'classical_mean_ivif.py')
    ir_dir, vi_dir = pair_folder(str(tmp_path / 'p'), shared_data, [TNO])
    out = tmp_path / 'out'
    with pytest.raises(FileNotFoundError, match='checkpoint file not found: '
                       '.*missing.pth'):
        FUSE.main([config, str(tmp_path / 'missing.pth'), '--ir', ir_dir,
                   '--vi', vi_dir, '--out', str(out)])
    # a pair of different sizes: both files and shapes named
    shutil.copy(
        osp.join(shared_data, 'fusion', 'RoadScene', 'vi',
                 'FLIR_00211.jpg'), osp.join(vi_dir, '19.jpg'))
    os.remove(osp.join(vi_dir, '19.png'))
    with pytest.raises(ValueError, match=r'19\.png.*19\.jpg|19\.jpg.*19\.png'):
        FUSE.main([config, converted['empty'], '--ir', ir_dir, '--vi', vi_dir,
                   '--out', str(out)])
    # a corrupt image: nothing written
    os.remove(osp.join(vi_dir, '19.jpg'))
    with open(osp.join(vi_dir, '19.png'), 'wb') as f:
        f.write(b'\x89PNG\r\n\x1a\n' + b'\0' * 64)
    with pytest.raises(ValueError, match='could not be identified as '
                       'images') as err:
        FUSE.main([config, converted['empty'], '--ir', ir_dir, '--vi', vi_dir,
                   '--out', str(out)])
    assert osp.join(vi_dir, '19.png') in str(err.value)
    assert not out.exists() or not os.listdir(out)
