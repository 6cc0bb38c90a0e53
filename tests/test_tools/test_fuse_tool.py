"""tools/fuse.py on real TNO / RoadScene / MRI-PET pairs with a tiny model."""
import os
import os.path as osp
import shutil

import cv2
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmengine.config import Config

from mmfusenas.evaluation.functional import compute_fusion_metrics
from mmfusenas.models.utils.colorspace import rgb_to_ycbcr, ycbcr_to_rgb
from mmfusenas.registry import MODELS
from helpers import load_tool
from helpers.damaged_files import JPEG_DAMAGE, write_damaged_jpeg

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG = osp.join(REPO, 'configs', 'tim', 'fusion_ivif_toy.py')
MRI_PET_CONFIG = osp.join(REPO, 'configs', 'tim', 'fusion_mri_pet.py')
MEAN_CONFIG = osp.join(REPO, 'configs', 'baselines',
                       'classical_mean_ivif.py')
TINY = ['--cfg-options', 'model.fusion_net.channels=4']
TNO_STEMS = ('05', '07')  # 475x575 (not a multiple of 4) and 256x256
ROAD_STEMS = ('FLIR_00211', 'FLIR_00977')  # 301x496, 351x505


fuse = load_tool('tools/fuse.py')


pytestmark = pytest.mark.usefixtures('one_thread')


def tiny_model():
    cfg = Config.fromfile(CONFIG)
    cfg.model.fusion_net.channels = 4
    torch.manual_seed(0)
    return MODELS.build(cfg.model).eval()


@pytest.fixture(scope='module')
def checkpoint(tmp_path_factory):
    path = str(tmp_path_factory.mktemp('ckpt') / 'tiny.pth')
    torch.save({'state_dict': tiny_model().state_dict()}, path)
    return path


def copy_pairs(src_root, stems, dst_root, folders=('ir', 'vi')):
    """Copy the files of ``stems`` of every folder; return the folders."""
    out = []
    for folder in folders:
        dst = osp.join(dst_root, folder)
        os.makedirs(dst, exist_ok=True)
        for name in os.listdir(osp.join(src_root, folder)):
            if osp.splitext(name)[0] in stems:
                shutil.copy(osp.join(src_root, folder, name), dst)
        out.append(dst)
    return out


def reference(model, ir_path, vi_path):
    """Fuse one pair by hand: luminance, zero pad to x4, crop, chroma."""
    ir = cv2.imread(ir_path, cv2.IMREAD_UNCHANGED)
    vi = cv2.imread(vi_path, cv2.IMREAD_UNCHANGED)
    ir = ir if ir.ndim == 2 else ir[..., 0]  # TNO: grey stored as colour

    def tensor(a):
        a = a[..., None] if a.ndim == 2 else a[..., ::-1]  # BGR -> RGB
        return torch.from_numpy(np.ascontiguousarray(a.transpose(
            2, 0, 1))).float() / 255.0

    ir_t, vi_t = tensor(ir), tensor(vi)
    chroma = None
    if vi.ndim == 3 and not (vi[..., 0] == vi[..., 1]).all():
        ycbcr = rgb_to_ycbcr(vi_t)
        vi_t, chroma = ycbcr[:1], ycbcr[1:]
    elif vi.ndim == 3:
        vi_t = vi_t[:1]
    h, w = ir.shape[:2]
    x = torch.cat([ir_t, vi_t])[None]
    x = F.pad(x, (0, -w % 4, 0, -h % 4))
    with torch.no_grad():
        fused = model.fusion_net(x).clamp(0, 1)[0, :, :h, :w]
    img = fused if chroma is None else ycbcr_to_rgb(
        torch.cat([fused, chroma])).clamp(0, 1)
    arr = torch.floor(img * 255 + 0.5).to(torch.uint8).numpy()
    return arr[0] if chroma is None else arr.transpose(1, 2, 0)[..., ::-1]


def test_tno_grey_pairs_bit_exact_with_metrics(shared_data, tmp_path,
                                               checkpoint):
    ir_dir, vi_dir = copy_pairs(
        osp.join(shared_data, 'fusion', 'TNO'), TNO_STEMS, str(tmp_path))
    out = str(tmp_path / 'out')
    means = fuse.main([
        CONFIG, checkpoint, '--ir', ir_dir, '--vi', vi_dir, '--out', out,
        '--metrics', 'VIF', 'MI', 'EN'
    ] + TINY)
    model = tiny_model()
    expected = {k: [] for k in ('VIF', 'MI', 'EN')}
    for stem in TNO_STEMS:
        fused = cv2.imread(osp.join(out, f'{stem}.png'), cv2.IMREAD_UNCHANGED)
        ir_path = osp.join(ir_dir, f'{stem}.png')
        vi_path = osp.join(vi_dir, f'{stem}.png')
        src = cv2.imread(ir_path, cv2.IMREAD_UNCHANGED)
        assert fused.shape == src.shape[:2]  # grey output, size restored
        np.testing.assert_array_equal(fused, reference(model, ir_path,
                                                       vi_path))
        ir, vi = (
            cv2.imread(p, cv2.IMREAD_GRAYSCALE) for p in (ir_path, vi_path))
        res = compute_fusion_metrics(ir, vi, fused, 'cddfuse',
                                     ['VIF', 'MI', 'EN'])
        for k in expected:
            expected[k].append(res[k])
    assert list(means) == ['VIF', 'MI', 'EN']
    for k, vals in expected.items():
        assert means[k] == pytest.approx(np.mean(vals), abs=1e-12)


def test_fuse_metrics_equal_eval_fusion_on_the_written_folder(
        shared_data, tmp_path, capsys):
    """``fuse.py --metrics`` scored the in-memory fused luminance while
    ``eval_fusion.py`` reads the written PNG (a colour PNG's grey is not
    that Y), so the same images gave two sets of numbers (EN 7.3306 vs
    7.3107): both now score the written file the same way, with the same
    default list, and print the same table with the note on summed
    columns."""
    from mmfusenas.evaluation.fusion_presets import DEFAULT_FUSION_METRICS
    eval_fusion = load_tool('tools/analysis_tools/eval_fusion.py')
    ir_dir, vi_dir = str(tmp_path / 'ir'), str(tmp_path / 'vi')
    os.makedirs(ir_dir)
    os.makedirs(vi_dir)
    # crops of a colour RoadScene pair (grey IR JPG, colour VI) and of a
    # grey TNO pair, written losslessly
    for stem, name, (y, x) in (('road', 'RoadScene/{}/FLIR_00211.jpg',
                                (120, 200)),
                               ('tno', 'TNO/{}/05.png', (200, 250))):
        for mod, folder in (('ir', ir_dir), ('vi', vi_dir)):
            img = cv2.imread(osp.join(shared_data, 'fusion',
                                      name.format(mod)),
                             cv2.IMREAD_UNCHANGED)
            cv2.imwrite(osp.join(folder, f'{stem}.png'),
                        img[y:y + 61, x:x + 77])
    out = str(tmp_path / 'out')
    # the pixel mean of the sources' luminance (no weights): a fused image
    # that is neither constant nor random
    means = fuse.main([MEAN_CONFIG, 'none', '--ir', ir_dir, '--vi', vi_dir,
                       '--out', out, '--metrics'])
    fuse_table = capsys.readouterr().out
    assert cv2.imread(osp.join(out, 'road.png'),
                      cv2.IMREAD_UNCHANGED).shape == (61, 77, 3)
    res = eval_fusion.evaluate(ir_dir, vi_dir, out, 'cddfuse')
    assert list(means) == res['metrics'] == list(DEFAULT_FUSION_METRICS)
    assert res['pairs'] == 2
    for name in DEFAULT_FUSION_METRICS:
        assert means[name] == pytest.approx(res['mean'][name], abs=1e-9), \
            name
    # the same table as eval_fusion.py prints, with the summed columns named
    table = eval_fusion.format_table(res)
    assert table in fuse_table
    assert table.splitlines()[-1].startswith(
        'MI, SCD, VIF, SSIM: sums over the two sources (A = first source, '
        'IR; B = second, VI): ')
    assert 'SSIM = SSIM(A,F) + SSIM(B,F) (at most 2).' in table


def test_one_default_metric_list():
    """fuse.py --metrics (11 metrics), eval_fusion.py and FusionMetric()
    share one default list, and the shipped configs' evaluators (what
    tools/test.py reports; 8 metrics before) use it."""
    from mmfusenas.evaluation.fusion_presets import (DEFAULT_FUSION_METRICS,
                                                     DEFAULT_FUSION_PRESET)
    from mmfusenas.evaluation.metrics import FusionMetric
    from mmfusenas.registry import METRICS
    eval_fusion = load_tool('tools/analysis_tools/eval_fusion.py')
    assert DEFAULT_FUSION_METRICS == ('EN', 'SD', 'SF', 'AG', 'MI', 'SCD',
                                      'VIF', 'Qabf', 'SSIM', 'CC', 'PSNR')
    assert FusionMetric().metric_names == DEFAULT_FUSION_METRICS
    args = fuse.parse_args(['c', 'k', '--out', 'o'])
    assert args.preset == DEFAULT_FUSION_PRESET
    assert eval_fusion.parse_args(['a', 'b', 'c']).preset == \
        DEFAULT_FUSION_PRESET
    for path in (CONFIG, osp.join(REPO, 'configs', 'tim',
                                  'retinanet_ivif_toy.py')):
        cfg = Config.fromfile(path)
        (spec, ) = [e for e in cfg.test_evaluator
                    if e['type'] == 'FusionMetric']
        assert METRICS.build(spec).metric_names == DEFAULT_FUSION_METRICS


def test_roadscene_colour_output_keeps_the_visible_chroma(
        shared_data, tmp_path, checkpoint):
    ir_dir, vi_dir = copy_pairs(
        osp.join(shared_data, 'fusion', 'RoadScene'), ROAD_STEMS,
        str(tmp_path))
    out = str(tmp_path / 'out')
    assert fuse.main(
        [CONFIG, checkpoint, '--ir', ir_dir, '--vi', vi_dir, '--out', out] +
        TINY) == {}
    model = tiny_model()
    for stem in ROAD_STEMS:
        ir_path = osp.join(ir_dir, f'{stem}.jpg')
        vi_path = osp.join(vi_dir, f'{stem}.jpg')
        fused = cv2.imread(osp.join(out, f'{stem}.png'), cv2.IMREAD_UNCHANGED)
        vi = cv2.imread(vi_path)
        assert fused.shape == vi.shape and fused.ndim == 3
        np.testing.assert_array_equal(fused, reference(model, ir_path,
                                                       vi_path))
        # chroma of the output = chroma of the visible image, up to the
        # 8-bit rounding of the RGB output (|dCb|, |dCr| <= 0.5 / 255)
        # wherever fused Y + visible chroma lies inside the RGB gamut
        to_t = lambda a: torch.from_numpy(  # noqa: E731
            np.ascontiguousarray(a[..., ::-1].transpose(2, 0, 1))) / 255.0
        out_ycc, vi_ycc = rgb_to_ycbcr(to_t(fused)), rgb_to_ycbcr(to_t(vi))
        raw = ycbcr_to_rgb(torch.cat([out_ycc[:1], vi_ycc[1:]]))
        inside = ((raw >= 0) & (raw <= 1)).all(0)
        assert inside.float().mean() > 0.5
        diff = (out_ycc[1:] - vi_ycc[1:]).abs()[:, inside]
        assert diff.max().item() <= 0.5 / 255 + 1e-6


def test_modalities_follow_the_config_order(shared_data, tmp_path, checkpoint):
    mri, pet = copy_pairs(
        osp.join(shared_data, 'fusion', 'MRI_PET'), ('11', ),
        str(tmp_path),
        folders=('MRI', 'PET'))
    outs = []
    for order in ((f'mri={mri}', f'pet={pet}'), (f'pet={pet}', f'mri={mri}')):
        outs.append(str(tmp_path / f'out{len(outs)}'))
        fuse.main([
            MRI_PET_CONFIG, checkpoint, '--modalities', *order, '--out',
            outs[-1]
        ] + TINY)
    a, b = (
        cv2.imread(osp.join(o, '11.png'), cv2.IMREAD_UNCHANGED) for o in outs)
    assert a.shape == (256, 256, 3)  # PET is colour: colour output
    np.testing.assert_array_equal(a, b)


def test_errors_name_the_problem(tmp_path, checkpoint):
    ir, vi = tmp_path / 'ir', tmp_path / 'vi'
    ir.mkdir()
    vi.mkdir()
    img = np.zeros((20, 24), np.uint8)
    cv2.imwrite(str(ir / 'a.png'), img)
    cv2.imwrite(str(vi / 'a.png'), img)
    out = str(tmp_path / 'out')
    base = [CONFIG, checkpoint, '--out', out] + TINY

    with pytest.raises(FileNotFoundError, match='--vi folder does not exist'):
        fuse.main(base + ['--ir', str(ir), '--vi', str(tmp_path / 'nope')])
    with pytest.raises(FileNotFoundError, match='checkpoint file not found'):
        fuse.main([
            CONFIG,
            str(tmp_path / 'none.pth'), '--out', out, '--ir',
            str(ir), '--vi',
            str(vi)
        ])
    with pytest.raises(ValueError, match='give both --ir and --vi'):
        fuse.main(base + ['--ir', str(ir)])
    with pytest.raises(ValueError, match='not both'):
        fuse.main(base + ['--ir', str(ir), '--modalities', f'vi={vi}'])
    with pytest.raises(ValueError, match='NAME=DIR'):
        fuse.main(base + ['--modalities', str(ir)])
    with pytest.raises(ValueError, match='exactly two sources'):
        fuse.main(
            base +
            ['--modalities', f'a={ir}', f'b={vi}', f'c={ir}', '--metrics'])

    cv2.imwrite(str(ir / 'b.png'), img)  # no visible partner
    with pytest.raises(ValueError, match="'b': missing in vi"):
        fuse.main(base + ['--ir', str(ir), '--vi', str(vi)])
    cv2.imwrite(str(vi / 'b.png'), np.zeros((20, 28), np.uint8))
    with pytest.raises(ValueError, match="different sizes"):
        fuse.main(base + ['--ir', str(ir), '--vi', str(vi)])
    os.remove(str(ir / 'b.png'))
    os.remove(str(vi / 'b.png'))
    with pytest.raises(RuntimeError, match='shape mismatch'):  # channels 48
        fuse.main([
            CONFIG, checkpoint, '--out', out, '--ir',
            str(ir), '--vi',
            str(vi)
        ])


def test_pairs_of_different_sizes_name_skip_bad(tmp_path, checkpoint):
    """The size check named the pairs but not --skip-bad (an unreadable
    file's error did); with --skip-bad the other pairs are fused."""
    ir, vi = tmp_path / 'ir', tmp_path / 'vi'
    ir.mkdir()
    vi.mkdir()
    img = np.zeros((20, 24), np.uint8)
    for name in ('a.png', 'b.png'):
        cv2.imwrite(str(ir / name), img)
    cv2.imwrite(str(vi / 'a.png'), img)
    cv2.imwrite(str(vi / 'b.png'), np.zeros((20, 28), np.uint8))
    out = tmp_path / 'out'
    argv = [CONFIG, checkpoint, '--out', str(out), '--ir', str(ir), '--vi',
            str(vi)] + TINY
    with pytest.raises(ValueError) as info:
        fuse.main(argv)
    assert str(info.value) == (
        'PairedImageDataset: 1 sample(s) have modalities of different sizes '
        '(HxW); expected registered pairs of identical size:\n'
        f"  'b': ir=20x24 ({ir / 'b.png'}), vi=20x28 ({vi / 'b.png'})\n"
        'Nothing was written (fix them, or pass --skip-bad to fuse the '
        'rest).')
    assert not out.exists()
    fuse.main(argv + ['--skip-bad'])
    assert sorted(os.listdir(out)) == ['a.png']


@pytest.mark.parametrize('how', JPEG_DAMAGE)
def test_a_corrupt_jpeg_that_keeps_its_end_marker_is_refused(
        tmp_path, checkpoint, how):
    """A JPEG cut to a third with ``FF D9`` appended, or with its middle
    third zeroed, was fused from its mostly grey decoding: now nothing is
    written and the error names the file; ``--skip-bad`` fuses the rest."""
    ir, vi = tmp_path / 'ir', tmp_path / 'vi'
    ir.mkdir()
    vi.mkdir()
    rng = np.random.default_rng(0)
    for path in (ir / 'a.png', ir / 'b.png', vi / 'a.png'):
        cv2.imwrite(str(path), rng.integers(0, 256, (48, 64), np.uint8))
    bad = write_damaged_jpeg(vi / 'b.jpg', how, shape=(48, 64))
    out = tmp_path / 'out'
    argv = [CONFIG, checkpoint, '--out', str(out), '--ir', str(ir), '--vi',
            str(vi)] + TINY
    with pytest.raises(ValueError) as info:
        fuse.main(argv)
    assert str(info.value).startswith(
        '1 of 2 pair(s) cannot be read; nothing was written')
    assert f"  b: OSError: LoadPairedImages (modality 'vi'): image {bad!r} " \
        'is corrupt (libjpeg: Corrupt JPEG data' in str(info.value)
    assert not out.exists()
    fuse.main(argv + ['--skip-bad'])
    assert sorted(os.listdir(out)) == ['a.png']


def _overwrite_first_tensor(path):
    """0xFF over the bytes of the first tensor entry of a zip checkpoint
    (the archive and torch.load stay happy)."""
    import struct
    import zipfile
    with zipfile.ZipFile(path) as archive:
        info = next(i for i in archive.infolist() if '/data/' in i.filename)
    with open(path, 'r+b') as f:
        f.seek(info.header_offset + 26)
        name_len, extra_len = struct.unpack('<HH', f.read(4))
        f.seek(info.header_offset + 30 + name_len + extra_len)
        f.write(b'\xff' * info.file_size)


@pytest.mark.parametrize('damage', ['crc', 'nan'])
def test_damaged_checkpoint_is_refused_and_nothing_written(
        tmp_path, checkpoint, damage):
    """A checkpoint whose first tensor's bytes were overwritten used to
    load silently (black PNGs, exit 0), and so did a CRC-valid one with a
    NaN weight. Both are refused before any image is written."""
    ir, vi = tmp_path / 'ir', tmp_path / 'vi'
    ir.mkdir()
    vi.mkdir()
    img = (np.arange(20 * 24) % 251).astype(np.uint8).reshape(20, 24)
    cv2.imwrite(str(ir / 'a.png'), img)
    cv2.imwrite(str(vi / 'a.png'), img[::-1].copy())
    bad = str(tmp_path / 'bad.pth')
    if damage == 'crc':
        shutil.copy(checkpoint, bad)
        _overwrite_first_tensor(bad)
        # torch.load reads it without complaint
        state = torch.load(bad, weights_only=True)['state_dict']
        assert not all(torch.isfinite(v).all() for v in state.values()
                       if v.is_floating_point())
        error, text = ValueError, 'fails its CRC-32 check'
    else:
        state = torch.load(checkpoint, weights_only=True)['state_dict']
        state['fusion_net.stem.0.conv.weight'][0, 0, 0, 0] = float('nan')
        torch.save({'state_dict': state}, bad)
        error = FloatingPointError
        text = (r'1 tensor\(s\) hold NaN/Inf '
                r'\(fusion_net.stem.0.conv.weight\)')
    out = str(tmp_path / 'out')
    with pytest.raises(error, match=f'checkpoint {bad}.*{text}'):
        fuse.main([CONFIG, bad, '--out', out, '--ir', str(ir), '--vi',
                   str(vi)] + TINY)
    assert not osp.exists(out) or os.listdir(out) == []


def test_official_weights_get_the_converter_command(tmp_path, checkpoint):
    """An unconverted official file given to a config: the converter
    command instead of a key dump."""
    official = str(tmp_path / 'SeAFusion.pth')
    torch.save({'vis_conv.conv.weight': torch.zeros(16, 1, 3, 3),
                'vis_rgbd1.dense.conv1.conv.weight': torch.zeros(16, 16, 3,
                                                                 3)},
               official)
    ir = tmp_path / 'ir'
    ir.mkdir()
    cv2.imwrite(str(ir / 'a.png'), np.zeros((8, 8), np.uint8))
    with pytest.raises(RuntimeError) as info:
        fuse.main([CONFIG, official, '--out', str(tmp_path / 'o'), '--ir',
                   str(ir), '--vi', str(ir)] + TINY)
    msg = str(info.value)
    assert 'official SeAFusion FusionNet' in msg
    assert ('python tools/model_converters/fusion_baselines_to_mmfusenas.py'
            f' seafusion {official} ') in msg
    assert 'missing' not in msg and len(msg) < 700


def test_optimize_switch_keeps_the_fused_images(shared_data, tmp_path,
                                                checkpoint):
    """--optimize fold_bn,channels_last: within one grey level of eager on
    real TNO pairs (float rounding only); BN folding refuses the official
    protocols that run BatchNorm on batch statistics."""
    ir_dir, vi_dir = copy_pairs(
        osp.join(shared_data, 'fusion', 'TNO'), TNO_STEMS[:1], str(tmp_path))
    outs = {}
    for opt in ('none', 'fold_bn,channels_last'):
        out = str(tmp_path / opt.replace(',', '_'))
        fuse.main([
            CONFIG, checkpoint, '--ir', ir_dir, '--vi', vi_dir, '--out', out,
            '--optimize', opt
        ] + TINY)
        outs[opt] = cv2.imread(
            osp.join(out, f'{TNO_STEMS[0]}.png'), cv2.IMREAD_UNCHANGED)
    diff = np.abs(outs['none'].astype(int) - outs['fold_bn,channels_last'])
    assert diff.max() <= 1 and (diff > 0).mean() < 1e-3
    with pytest.raises(ValueError, match='batch statistics'):
        fuse.main([
            CONFIG, checkpoint, '--ir', ir_dir, '--vi', vi_dir, '--out',
            str(tmp_path / 'x'), '--tim-official', 'ivif', '--optimize',
            'fold_bn'
        ] + TINY)


def test_checkpoint_none_runs_the_initial_weights_with_a_warning(
        tmp_path, capsys):
    """``fuse.py CONFIG none`` was refused ('checkpoint file not found:
    none'); it runs the config's initial weights, loudly."""
    ir, vi = tmp_path / 'ir', tmp_path / 'vi'
    ir.mkdir()
    vi.mkdir()
    rng = np.random.default_rng(0)
    cv2.imwrite(str(ir / 'a.png'), rng.integers(0, 256, (20, 24), np.uint8))
    cv2.imwrite(str(vi / 'a.png'), rng.integers(0, 256, (20, 24), np.uint8))
    out = tmp_path / 'out'
    torch.manual_seed(0)
    assert fuse.main([CONFIG, 'none', '--out', str(out), '--ir', str(ir),
                      '--vi', str(vi)] + TINY) == {}
    err = capsys.readouterr().err
    assert 'WARNING: checkpoint "none": the model runs its initial, ' \
        'untrained (random)\nweights.' in err
    got = cv2.imread(str(out / 'a.png'), cv2.IMREAD_UNCHANGED)
    # the weights of the config's model built after the same seed
    expected = reference(tiny_model(), str(ir / 'a.png'), str(vi / 'a.png'))
    np.testing.assert_array_equal(got, expected)


def test_metrics_warn_about_a_constant_fused_image(tmp_path, capsys):
    """An all-constant output (zero weights here, untrained weights in
    practice) gave CC nan without a word; the pair is named."""
    ir, vi = tmp_path / 'ir', tmp_path / 'vi'
    ir.mkdir()
    vi.mkdir()
    rng = np.random.default_rng(0)
    for stem in ('a', 'b'):
        cv2.imwrite(str(ir / f'{stem}.png'),
                    rng.integers(0, 256, (20, 24), np.uint8))
        cv2.imwrite(str(vi / f'{stem}.png'),
                    rng.integers(0, 256, (20, 24), np.uint8))
    model = tiny_model()
    ckpt = str(tmp_path / 'zero.pth')
    torch.save({'state_dict': {k: torch.zeros_like(v)
                               for k, v in model.state_dict().items()}},
               ckpt)
    means = fuse.main([CONFIG, ckpt, '--out', str(tmp_path / 'out'), '--ir',
                       str(ir), '--vi', str(vi), '--metrics', 'EN', 'CC'] +
                      TINY)
    assert means['EN'] == 0.0
    err = capsys.readouterr().err
    assert 'warning: the fused image is constant for 2 of 2 pair(s): a (all '\
        in err and ', b (all ' in err
    assert 'non-finite metrics for 2 pair(s): a (CC nan), b (CC nan)' in err
