"""TIM official-weights converter and official test protocols vs goldens.

The goldens are made here from ``tim_official_reference`` (a test-only
re-implementation of the official networks and test scripts of
github.com/LiuZhu-CV/TIMFusion with the official key layout):
seeded and perturbed weights are saved as official ``weights_*.pt`` files,
converted with ``tools/model_converters/tim_official_to_mmfusenas.py``,
loaded with ``mmfusenas.apis.init_model`` and run with
``mmfusenas.models.fusion.tim_official.fuse_tim_official`` on shared TNO /
medical images; the written images must equal the reference scripts'
outputs (run in the same process) exactly, and the stored outputs
(``tests/data/tim_official``, made on another CPU) within ±1 grey level
(``assert_images_close``).
"""
import json
import os.path as osp

import cv2
import numpy as np
import pytest
import torch

from mmfusenas.apis import init_model
from mmfusenas.models.fusion.tim_official import (TIM_OFFICIAL,
                                                  fuse_tim_official)
from helpers import REPO_ROOT as REPO
from helpers import load_tool
from helpers import tim_official_reference as R
from helpers.numerics import assert_images_close
from cpu_kernels.switches import cpu_kernels

# the small convolutions run faster on one intra-op thread
pytestmark = pytest.mark.usefixtures('one_thread')

conv = load_tool('tools/model_converters/tim_official_to_mmfusenas.py')
GOLDEN_MAKER = load_tool('tests/data/tim_official/make_tim_goldens.py')
GOLDEN_DIR = osp.join(REPO, 'tests', 'data', 'tim_official')


def config_of(name):
    return osp.join(REPO, TIM_OFFICIAL[name]['config'])

PAIRS = dict(
    ivif=('TNO/ir/01.png', 'TNO/vi/01.png'),
    light=('TNO/ir/01.png', 'TNO/vi/01.png'),
    ct=('MRI_CT/MRI/11.png', 'MRI_CT/CT/11.png'),
    pet=('MRI_PET/MRI/11.png', 'MRI_PET/PET/11.png'),
    spect=('MRI_SPECT/MRI/11.png', 'MRI_SPECT/SPECT/11.png'))
# TNO crop of 126 x 170: not a multiple of 4, so the IVIF protocol pads
CROPS = dict(ivif=(100, 226, 200, 370), light=(100, 226, 200, 370))
MED_CROP = (64, 192, 64, 192)


def official_files(name, tmp_path, seed=0):
    """Seeded + perturbed reference models saved as official files."""
    m1, m2 = R.seeded_official(name, seed)
    files = [str(tmp_path / 'weights_1.pt')]
    torch.save(m1.state_dict(), files[0])
    if m2 is not None:
        files.append(str(tmp_path / 'weights_2.pt'))
        torch.save(m2.state_dict(), files[1])
    return m1, m2, files


def convert(name, files, tmp_path):
    args = [name, str(tmp_path / 'out.pth'), '--stage1', files[0]]
    if len(files) > 1:
        args += ['--stage2', files[1]]
    meta = conv.main(args)
    return meta, str(tmp_path / 'out.pth')


def crop_pair(shared_data, name, tmp_path):
    box = CROPS.get(name, MED_CROP)
    out = []
    for i, rel in enumerate(PAIRS[name]):
        img = cv2.imread(osp.join(shared_data, 'fusion', rel))
        path = str(tmp_path / f'src{i}.png')
        cv2.imwrite(path, img[box[0]:box[1], box[2]:box[3]])
        out.append(path)
    return out


@pytest.mark.parametrize('name', ['ivif', 'light', 'ct', 'pet', 'spect'])
def test_official_protocol_matches_reference(name, shared_data, tmp_path):
    m1, m2, files = official_files(name, tmp_path)
    meta, ckpt = convert(name, files, tmp_path)
    assert meta['num_tensors'] == len(m1.state_dict()) + (
        len(m2.state_dict()) if m2 is not None else 0)
    model = init_model(config_of(name), ckpt)
    paths = crop_pair(shared_data, name, tmp_path)
    pad = (2, 2) if name == 'ivif' else (0, 0)
    ref = R.run_official_script(name, m1, m2, paths, pad=pad)
    # the default CPU inference runs channels-last (another summation order):
    # within one grey level of the authors' images on a few pixels
    fast = fuse_tim_official(model, paths, name)
    assert fast.shape == ref.shape
    flips = np.abs(fast.astype(int) - ref)
    assert flips.max() <= 1 and (flips > 0).mean() < 0.01
    # NCHW, the authors' order: bit-identical
    with cpu_kernels(channels_last=False):
        ours = fuse_tim_official(model, paths, name)
        assert ours.dtype == np.uint8 and ours.shape == ref.shape
        assert len(np.unique(ours)) > 10  # a picture, not a clipped constant
        np.testing.assert_array_equal(ours, ref)
        # the quirks matter: without them the images differ
        if name in ('ivif', 'spect'):
            plain = fuse_tim_official(model, paths, name, batch_stats=())
            assert np.abs(plain.astype(int) - ref).max() > 0
        if name == 'ivif':
            other = fuse_tim_official(model, paths, name,
                                      pad_mode='replicate')
            ref_rep = R.run_official_script(
                name, m1, m2, paths, pad=pad, pad_mode='replicate')
            np.testing.assert_array_equal(other, ref_rep)
    # batch statistics never leak into the stored running statistics
    for key, value in init_model(config_of(name), ckpt).state_dict().items():
        assert torch.equal(model.state_dict()[key], value), key


def test_converted_network_outputs_equal_reference(tmp_path):
    """Float outputs of all three stage-2 images, eval and train BN."""
    m1, m2, files = official_files('ivif', tmp_path, seed=3)
    _, ckpt = convert('ivif', files, tmp_path)
    net = init_model(config_of('ivif'), ckpt).fusion_net
    gen = torch.Generator().manual_seed(123)
    ir, vi = torch.rand(2, 1, 1, 64, 64, generator=gen)
    with torch.no_grad():
        m1.eval(), m2.eval()
        f = m1(ir, vi)
        ref_vis, ref_ir, ref_final = m2(vi, ir, f)
        out = net(torch.cat((ir, vi), 1), return_all=True)
    torch.testing.assert_close(out['stage1'], f, rtol=0, atol=1e-5)
    torch.testing.assert_close(out['first'], ref_vis, rtol=0, atol=1e-5)
    torch.testing.assert_close(out['second'], ref_ir, rtol=0, atol=1e-5)
    torch.testing.assert_close(out['final'], ref_final, rtol=0, atol=1e-5)


def test_converter_is_strict(tmp_path):
    m1, m2, files = official_files('ivif', tmp_path)
    sd = m2.state_dict()
    extra = dict(sd)
    extra['spa.extra.weight'] = torch.zeros(1)
    torch.save(extra, files[1])
    with pytest.raises(ValueError, match=r'no conversion rule[\s\S]*'
                       r'spa\.extra\.weight'):
        convert('ivif', files, tmp_path)
    missing = dict(sd)
    del missing['stem_out4.0.conv2d.bias']
    torch.save(missing, files[1])
    with pytest.raises(ValueError, match=r'missing keys[\s\S]*'
                       r'fusion_net\.stage2\.final_head\.0\.conv\.bias'):
        convert('ivif', files, tmp_path)
    # stage files swapped: shapes and keys do not fit
    with pytest.raises(ValueError, match='cannot convert'):
        convert('ivif', [files[1], files[0]], tmp_path)
    with pytest.raises(ValueError, match='--stage2'):
        conv.main(['ivif', str(tmp_path / 'x.pth'), '--stage1', files[0]])
    assert not osp.exists(tmp_path / 'x.pth')


def test_converter_key_rules():
    assert conv.map_stage_key('stem.0.conv2d.weight', 1) == \
        'stem.0.conv.weight'
    assert conv.map_stage_key(
        'cells.0._ops_2.1._op.op.1.conv.weight',
        1) == 'cells.0.ops_down4.1.layers.1.weight'
    assert conv.map_stage_key('cells.0.down_4.body.1.bot.0.filt', 1) == \
        'cells.0.down4.body.1.bot.0.kernel'
    assert conv.map_stage_key('cells3.1._op.x', 2) is None
    assert conv.map_stage_key('cells3.1._ops.0._op.se.conv.weight', 2) == \
        'first_cells.1.ops.0.eca.conv.weight'
    assert conv.map_stage_key('spa.spatial.conv.weight', 2) == \
        'mask.conv.weight'
    # DataParallel prefix removed
    assert conv.map_stage_key('stem_out4.2.conv2d.bias', 2) == \
        'final_head.2.conv.bias'


def test_load_official_strips_module_prefix(tmp_path):
    path = str(tmp_path / 'w.pt')
    torch.save({'module.stem.1.weight': torch.ones(1)}, path)
    assert list(conv.load_official(path, trust=False)) == ['stem.1.weight']
    torch.save([1, 2], path)
    with pytest.raises(TypeError, match='state dict'):
        conv.load_official(path, trust=False)


def load_golden(name):
    """The stored official-script output of ``name`` and its metadata
    (tests/data/tim_official, made by make_tim_goldens.py there)."""
    with open(osp.join(GOLDEN_DIR, 'goldens.json')) as f:
        meta = json.load(f)['outputs'][name]
    image = cv2.imread(osp.join(GOLDEN_DIR, meta['image']),
                       cv2.IMREAD_UNCHANGED)
    assert list(image.shape) == meta['shape'], (name, image.shape)
    return image, meta


@pytest.mark.golden
@pytest.mark.parametrize('name', ['ivif', 'light', 'ct', 'pet', 'spect'])
def test_official_protocol_matches_saved_goldens(name, shared_data, tmp_path):
    """Converted weights + fuse_tim_official reproduce the stored images of
    the official scripts (tests/data/tim_official) up to cross-CPU
    rounding (:func:`assert_images_close`); the running-statistics
    convention instead of the protocols' batch statistics (ivif, spect) is
    rejected by the same comparison."""
    gold, meta = load_golden(name)
    paths = GOLDEN_MAKER.crop_sources(shared_data, meta['sources'],
                                      meta['crop'], str(tmp_path))
    _, _, files = official_files(name, tmp_path)
    _, ckpt = convert(name, files, tmp_path)
    model = init_model(config_of(name), ckpt)
    ours = fuse_tim_official(model, paths, name)
    assert_images_close(ours, gold, name=name)
    if name in ('ivif', 'spect'):
        wrong = fuse_tim_official(model, paths, name, batch_stats=())
        with pytest.raises(AssertionError, match='grey level'):
            assert_images_close(wrong, gold, name=name)


def simulated_cpu_noise(image, fraction, seed=0):
    """``image`` with ``fraction`` of its values moved by one grey level
    (what a different CPU's rounding does)."""
    rng = np.random.default_rng(seed)
    flip = rng.random(image.shape) < fraction
    step = rng.choice([-1, 1], size=image.shape)
    out = image.astype(np.int64) + flip * step
    return np.clip(out, 0, 255).astype(np.uint8)


@pytest.mark.golden
@pytest.mark.parametrize('name', ['ivif', 'light', 'ct', 'pet', 'spect'])
def test_golden_comparison_rejects_real_errors(name):
    """The tolerant comparison accepts rounding flips on 0.5 % of the values
    but fails on a one-pixel shift (rows or columns), a missing x255, the
    floor-instead-of-round convention (-1 on half the values) and, for the
    colour outputs, swapped B and R channels."""
    gold, _ = load_golden(name)
    assert len(np.unique(gold)) > 5  # a picture, not a clipped constant
    stats = assert_images_close(simulated_cpu_noise(gold, 5e-3), gold)
    assert 0 < stats['mean_abs_diff'] <= 0.01 and stats['outliers'] == 0
    wrong = dict(
        shift_rows=np.roll(gold, 1, axis=0),
        shift_cols=np.roll(gold, 1, axis=1),
        no_x255=(gold // 255).astype(np.uint8),
        floor=np.where(np.arange(gold.size).reshape(gold.shape) % 2,
                       np.maximum(gold.astype(int) - 1, 0),
                       gold).astype(np.uint8))
    if gold.ndim == 3 and np.abs(gold[..., 0].astype(int) -
                                 gold[..., 2]).mean() > 1:
        wrong['bgr_rgb'] = gold[..., ::-1]
    assert name not in ('pet', 'spect') or 'bgr_rgb' in wrong
    for what, image in wrong.items():
        with pytest.raises(AssertionError, match='grey level') as err:
            assert_images_close(image, gold, name=f'{name} {what}')
        assert f'{name} {what}' in str(err.value)
    with pytest.raises(AssertionError, match=r'shape \(2, 2\) != stored'):
        assert_images_close(gold[:2, :2, ...].reshape(2, 2, -1)[..., 0],
                            gold)
