import importlib.util
import json
import os
import os.path as osp

import cv2
import numpy as np
import pytest

from mmfusenas.evaluation.functional.fusion import compute_fusion_metrics
from mmfusenas.evaluation.fusion_presets import (cv2_bgr2gray,
                                                 matlab_rgb2gray)
from helpers.damaged_files import JPEG_DAMAGE, write_damaged_jpeg

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
spec = importlib.util.spec_from_file_location(
    'eval_fusion', osp.join(ROOT, 'tools', 'analysis_tools',
                            'eval_fusion.py'))
cli = importlib.util.module_from_spec(spec)
spec.loader.exec_module(cli)


def _synthetic(tmp_path, n=2, size=(72, 80)):
    rng = np.random.default_rng(0)
    dirs = {k: tmp_path / k for k in ('ir', 'vi', 'fused')}
    for d in dirs.values():
        d.mkdir()
    for i in range(n):
        ir = cv2.GaussianBlur(rng.uniform(0, 255, size), (5, 5), 1)
        vi = cv2.GaussianBlur(rng.uniform(0, 255, size + (3, )), (5, 5), 1)
        cv2.imwrite(str(dirs['ir'] / f'{i:02d}.png'), ir.astype(np.uint8))
        cv2.imwrite(str(dirs['vi'] / f'{i:02d}.bmp'), vi.astype(np.uint8))
        cv2.imwrite(str(dirs['fused'] / f'{i:02d}.png'),
                    ((ir + vi.mean(2)) / 2).astype(np.uint8))
    return dirs


def test_cli_json_and_table(tmp_path, capsys):
    d = _synthetic(tmp_path)
    out = tmp_path / 'res' / 'r.json'
    rc = cli.main([str(d['ir']), str(d['vi']), str(d['fused']), '--preset',
                   'vifb', '--metrics', 'EN', 'MI', 'Qabf', '--out',
                   str(out)])
    assert rc == 0
    res = json.loads(out.read_text())
    assert res['preset'] == 'vifb'
    assert list(res['per_image']) == ['00', '01']
    assert list(res['mean']) == ['EN', 'MI', 'Qabf']
    # colour VI converted with MATLAB's rgb2gray (vifb rule)
    a = matlab_rgb2gray(cv2.imread(str(d['ir'] / '00.png')))
    b = matlab_rgb2gray(cv2.imread(str(d['vi'] / '00.bmp')))
    f = matlab_rgb2gray(cv2.imread(str(d['fused'] / '00.png')))
    ref = compute_fusion_metrics(a, b, f, 'vifb', ['EN', 'MI', 'Qabf'])
    assert res['per_image']['00'] == pytest.approx(ref)
    assert res['mean']['EN'] == pytest.approx(
        np.mean([r['EN'] for r in res['per_image'].values()]))
    table = capsys.readouterr().out
    assert '| mean ' in table and 'Qabf' in table


def test_cli_errors_name_the_problem(tmp_path, capsys):
    d = _synthetic(tmp_path)
    args = [str(d['ir']), str(d['vi']), str(d['fused'])]
    assert cli.main(args + ['--metrics', 'EN', 'Sharpness']) == 2
    assert "['Sharpness']" in capsys.readouterr().err
    assert cli.main(args + ['--preset', 'matlab']) == 2
    assert "'matlab'" in capsys.readouterr().err
    os.remove(d['fused'] / '01.png')
    assert cli.main(args + ['--strict']) == 2
    err = capsys.readouterr().err
    assert err.endswith('error: unmatched stems (--strict): 1 source '
                        f"pair(s) without a fused image in {d['fused']}: "
                        '01\n')
    os.remove(d['fused'] / '00.png')
    cv2.imwrite(str(d['fused'] / 'x.png'), np.zeros((72, 80), np.uint8))
    assert cli.main(args) == 2
    err = capsys.readouterr().err
    assert err.endswith(f"error: no stem is common to {d['ir']}, {d['vi']} "
                        f"and {d['fused']}: 1 fused image(s) without an "
                        f"IR/VI source pair in {d['fused']}: x; 2 source "
                        f"pair(s) without a fused image in {d['fused']}: "
                        '00, 01\n')
    os.remove(d['fused'] / 'x.png')
    cv2.imwrite(str(d['fused'] / '00.png'), np.zeros((72, 80), np.uint8))
    cv2.imwrite(str(d['fused'] / '01.jpg'), np.zeros((10, 12), np.uint8))
    assert cli.main(args) == 2
    err = capsys.readouterr().err
    # HxW, the convention of every size in messages (it printed WxH)
    assert "size mismatch for stem '01' (HxW)" in err and '01.jpg 10x12' in err
    assert 'IR 01.png 72x80' in err


@pytest.mark.parametrize('how', JPEG_DAMAGE)
def test_cli_refuses_a_corrupt_jpeg_that_keeps_its_end_marker(
        tmp_path, capsys, how):
    """A VI JPEG cut to a third with ``FF D9`` appended, or with its middle
    third zeroed, was scored as decoded (mostly grey) with exit code 0:
    now exit code 2 naming the file, and nothing written."""
    d = _synthetic(tmp_path)
    os.remove(d['vi'] / '01.bmp')
    bad = write_damaged_jpeg(d['vi'] / '01.jpg', how, shape=(72, 80, 3))
    out = tmp_path / 'r.json'
    assert cli.main([str(d['ir']), str(d['vi']), str(d['fused']),
                     '--metrics', 'EN', '--out', str(out)]) == 2
    err = capsys.readouterr().err
    assert f'error: image {bad!r} is corrupt (libjpeg: Corrupt JPEG ' \
        'data' in err
    assert not out.exists()


def test_unmatched_stems_are_named_counted_and_recorded(tmp_path, capsys):
    """Fused images without sources, source pairs without a fused image
    and unpaired IR / VI images were left out without a word (the mean was
    silently over fewer pairs): each kind is named with its count, the
    JSON records the pairs scored and the stems, and the means are over
    the matched pairs."""
    d = _synthetic(tmp_path, n=3)
    blank = np.zeros((72, 80), np.uint8)
    os.remove(d['fused'] / '02.png')                # source pair, no fused
    for i in range(12):                              # fused, no sources
        cv2.imwrite(str(d['fused'] / f'x{i:02d}.png'), blank)
    cv2.imwrite(str(d['vi'] / 'z.png'), blank)      # VI without IR
    cv2.imwrite(str(d['ir'] / 'w.png'), blank)      # IR without VI
    cv2.imwrite(str(d['fused'] / 'w.png'), blank)   # ... and its fused one
    out = tmp_path / 'r.json'
    args = [str(d['ir']), str(d['vi']), str(d['fused']), '--metrics', 'EN',
            'SSIM']
    assert cli.main(args + ['--out', str(out)]) == 0
    captured = capsys.readouterr()
    assert captured.err.splitlines()[-5:] == [
        'warning: 13 fused image(s) without an IR/VI source pair in '
        f"{d['fused']}: w, x00, x01, x02, x03, x04, x05, x06, x07, x08, ... "
        'and 3 more',
        f"warning: 1 source pair(s) without a fused image in {d['fused']}: "
        '02',
        f"warning: 1 IR image(s) without a VI image in {d['ir']}: w",
        f"warning: 1 VI image(s) without an IR image in {d['vi']}: z",
        'warning: these stems are not scored; the means are over the 2 '
        'matched pair(s) (--strict makes unmatched stems an error)',
    ]
    res = json.loads(out.read_text())
    assert res['pairs'] == 2 and list(res['per_image']) == ['00', '01']
    assert res['metrics'] == ['EN', 'SSIM']
    assert res['unmatched'] == {
        'fused_without_source': ['w'] + [f'x{i:02d}' for i in range(12)],
        'source_without_fused': ['02'],
        'ir_without_vi': ['w'],
        'vi_without_ir': ['z'],
    }
    assert res['mean']['EN'] == pytest.approx(
        (res['per_image']['00']['EN'] + res['per_image']['01']['EN']) / 2,
        abs=1e-15)
    assert 'mean (2)' in captured.out
    # --strict: an error naming every kind, nothing written
    os.remove(out)
    assert cli.main(args + ['--out', str(out), '--strict']) == 2
    err = capsys.readouterr().err
    assert err == (
        'error: unmatched stems (--strict): 13 fused image(s) without an '
        f"IR/VI source pair in {d['fused']}: w, x00, x01, x02, x03, x04, "
        'x05, x06, x07, x08, ... and 3 more; 1 source pair(s) without a '
        f"fused image in {d['fused']}: 02; 1 IR image(s) without a VI image "
        f"in {d['ir']}: w; 1 VI image(s) without an IR image in {d['vi']}: "
        'z\n')
    assert not out.exists()
    with pytest.raises(ValueError, match=r'unmatched stems \(--strict\)'):
        cli.evaluate(str(d['ir']), str(d['vi']), str(d['fused']), 'cddfuse',
                     ['EN'], strict=True)


def test_summed_columns_are_named_under_the_table(tmp_path, capsys):
    """The SSIM column (values up to 2) is SSIM(A,F) + SSIM(B,F); the
    table said nothing about it."""
    d = _synthetic(tmp_path)
    assert cli.main([str(d['ir']), str(d['vi']), str(d['fused'])]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[-1] == (
        'MI, SCD, VIF, SSIM: sums over the two sources (A = first source, '
        'IR; B = second, VI): MI = MI(A,F) + MI(B,F), SCD = r(F-B,A) + '
        'r(F-A,B), VIF = VIF(A,F) + VIF(B,F), SSIM = SSIM(A,F) + SSIM(B,F) '
        '(at most 2).')
    a = cv2_bgr2gray(cv2.imread(str(d['ir'] / '00.png')))
    b = cv2_bgr2gray(cv2.imread(str(d['vi'] / '00.bmp')))
    f = cv2_bgr2gray(cv2.imread(str(d['fused'] / '00.png')))
    from mmfusenas.evaluation.functional.fusion import ssim
    summed = compute_fusion_metrics(a, b, f, 'cddfuse', ['SSIM'])['SSIM']
    assert summed == pytest.approx(
        ssim(a, f, mode='skimage', data_range=2.0) +
        ssim(b, f, mode='skimage', data_range=2.0), abs=1e-12)


def _link_subset(src, dst, stems):
    for sub in ('ir', 'vi'):
        os.makedirs(dst / sub)
        for name in os.listdir(osp.join(src, sub)):
            if osp.splitext(name)[0] in stems:
                os.symlink(osp.join(src, sub, name), dst / sub / name)


def test_cli_on_shared_tno_golden(shared_data, tmp_path):
    src = osp.join(shared_data, 'fusion', 'TNO')
    _link_subset(src, tmp_path, {'01'})
    (tmp_path / 'fused').mkdir()
    a = cv2_bgr2gray(cv2.imread(osp.join(src, 'ir', '01.png')))
    b = cv2_bgr2gray(cv2.imread(osp.join(src, 'vi', '01.png')))
    cv2.imwrite(str(tmp_path / 'fused' / '01.png'),
                np.round((a + b) / 2).astype(np.uint8))
    res = cli.evaluate(str(tmp_path / 'ir'), str(tmp_path / 'vi'),
                       str(tmp_path / 'fused'), 'cddfuse')
    golden = dict(EN=6.2484, SD=23.3161, SF=6.6722, AG=2.6036, MI=1.4550,
                  SCD=1.7660, VIF=0.5083, Qabf=0.3311, SSIM=1.0232,
                  CC=0.3971, PSNR=15.5233)
    assert {k: round(v, 4) for k, v in res['mean'].items()} == golden


def test_cli_on_shared_roadscene(shared_data, tmp_path):
    src = osp.join(shared_data, 'fusion', 'RoadScene')
    stems = sorted(osp.splitext(n)[0] for n in os.listdir(
        osp.join(src, 'ir')))[:2]
    _link_subset(src, tmp_path, set(stems))
    (tmp_path / 'fused').mkdir()
    for s in stems:
        ir = cv2.imread(osp.join(src, 'ir', s + '.jpg'), cv2.IMREAD_UNCHANGED)
        assert ir.ndim == 2  # 1-channel IR JPG
        vi = cv2.imread(osp.join(src, 'vi', s + '.jpg'))
        f = (ir.astype(float) + cv2.cvtColor(vi, cv2.COLOR_BGR2GRAY)) / 2
        cv2.imwrite(str(tmp_path / 'fused' / f'{s}.png'), f.astype(np.uint8))
    res = cli.evaluate(str(tmp_path / 'ir'), str(tmp_path / 'vi'),
                       str(tmp_path / 'fused'), 'tang', ['EN', 'MI', 'SD'])
    assert list(res['per_image']) == stems
    for r in res['per_image'].values():
        assert 0 < r['EN'] <= 8 and r['MI'] > 0 and r['SD'] <= 255**0.5


def test_cli_refuses_16bit_and_transparent_rgba(tmp_path, capsys):
    d = _synthetic(tmp_path)
    args = [str(d['ir']), str(d['vi']), str(d['fused']), '--metrics', 'EN']
    fused = cv2.imread(str(d['fused'] / '01.png'), cv2.IMREAD_UNCHANGED)
    # 16-bit: was silently converted (OpenCV scales it to 8 bits)
    cv2.imwrite(str(d['fused'] / '01.png'), fused.astype(np.uint16) * 257)
    assert cli.main(args) == 2
    err = capsys.readouterr().err
    assert '01.png is a uint16 image (16-bit per channel)' in err
    # RGBA with transparent pixels: refused; fully opaque: same as RGB
    bgr = cv2.cvtColor(fused, cv2.COLOR_GRAY2BGR)
    alpha = np.full(fused.shape, 255, np.uint8)
    alpha[0, 0] = 0
    cv2.imwrite(str(d['fused'] / '01.png'), np.dstack([bgr, alpha]))
    assert cli.main(args) == 2
    assert 'transparent pixels' in capsys.readouterr().err
    cv2.imwrite(str(d['fused'] / '01.png'), np.dstack([bgr, alpha * 0 + 255]))
    rgba = cli.evaluate(*args[:3], 'cddfuse', ['EN'])
    cv2.imwrite(str(d['fused'] / '01.png'), fused)
    gray = cli.evaluate(*args[:3], 'cddfuse', ['EN'])
    assert rgba == gray


def test_cli_skips_hidden_files_and_checks_out_first(tmp_path, capsys):
    d = _synthetic(tmp_path)
    args = [str(d['ir']), str(d['vi']), str(d['fused']), '--metrics', 'EN']
    # a macOS resource fork: was counted as a sample (and failed to read)
    (d['ir'] / '._00.png').write_bytes(b'\x00\x05\x16\x07')
    out = tmp_path / 'r.json'
    assert cli.main(args + ['--out', str(out)]) == 0
    assert list(json.loads(out.read_text())['per_image']) == ['00', '01']
    assert 'skipped 1 hidden file(s) in IR folder' in capsys.readouterr().err
    # an unwritable --out fails before the metrics are computed (it died
    # with a traceback after computing everything)
    calls = []
    orig = cli.evaluate
    cli.evaluate = lambda *a, **k: calls.append(1) or orig(*a, **k)
    try:
        blocker = tmp_path / 'plain_file'
        blocker.write_text('x')
        assert cli.main(args + ['--out', str(blocker / 'r.json')]) == 2
        assert 'cannot create folder' in capsys.readouterr().err
        assert cli.main(args + ['--out', str(tmp_path)]) == 2
        assert 'is a folder' in capsys.readouterr().err
        locked = tmp_path / 'locked'
        locked.mkdir()
        os.chmod(locked, 0o500)
        try:
            if not os.access(locked, os.W_OK):  # not root
                assert cli.main(args + ['--out', str(locked / 'r.json')]) == 2
                assert 'is not writable' in capsys.readouterr().err
        finally:
            os.chmod(locked, 0o700)
    finally:
        cli.evaluate = orig
    assert calls == []


def test_cli_warns_on_constant_fused_image(tmp_path, capsys):
    """An all-black fused image (untrained weights) gives CC nan and
    PSNR -inf; the CLI names the stem instead of reporting them silently."""
    d = _synthetic(tmp_path, n=3)
    cv2.imwrite(str(d['fused'] / '01.png'), np.zeros((72, 80), np.uint8))
    out = tmp_path / 'r.json'
    rc = cli.main([str(d['ir']), str(d['vi']), str(d['fused']), '--metrics',
                   'EN', 'CC', 'PSNR', '--out', str(out)])
    assert rc == 0
    err = capsys.readouterr().err
    expect = ('the fused image is constant for 1 of 3 pair(s): '
              '01 (all 0) (untrained / randomly initialised weights?); '
              'non-finite metrics for 1 pair(s): 01 (CC nan, PSNR -inf). '
              'Means over these pairs do not measure fusion quality. '
              'Degenerate image files for 1 pair(s): 01: fused '
              f"{d['fused'] / '01.png'} is constant (all 0) (undefined: CC, "
              'PSNR).')
    assert f'warning: {expect}\n' in err
    assert json.loads(out.read_text())['warning'] == expect


def test_cli_equals_the_loop_metric_on_the_same_representation(tmp_path):
    """Why eval_fusion.py on test.py's saved colour PNGs differs slightly
    from test.py's numbers (EN 4.2848 vs 4.2806), and that both agree on
    the same input: FusionMetric evaluates the fused luminance Y (8-bit
    quantised); the colour PNG stores Y + the visible image's chroma, whose
    R, G, B share Y's fractional part and round together, so its grey is
    Y rounded at another point (one level off on about half the pixels).
    A colour source differs only at exact half-level ties (cv2's float32
    grey and the loop's float32 Y round them differently)."""
    import torch

    from mmfusenas.engine.hooks.fused_image_save_hook import \
        tensor_to_uint8_image
    from mmfusenas.evaluation.metrics import FusionMetric
    from mmfusenas.models.utils.colorspace import (rgb_to_ycbcr,
                                                   ycbcr_to_rgb)
    rng = np.random.default_rng(1)
    size = (64, 72)
    ir = cv2.GaussianBlur(rng.uniform(0, 255, size), (5, 5), 1).astype(
        np.uint8)
    vi_bgr = cv2.GaussianBlur(rng.uniform(0, 255, size + (3, )), (5, 5),
                              1).astype(np.uint8)
    rgb = torch.from_numpy(vi_bgr[..., ::-1].transpose(2, 0, 1).copy())
    ycc = rgb_to_ycbcr(rgb.float() / 255)
    y = (ycc[0] + torch.from_numpy(ir).float() / 255) / 2   # fused Y
    names = ['EN', 'SD', 'MI', 'Qabf']
    metric = FusionMetric('cddfuse', names)
    metric.process(None, [dict(sources=torch.stack([
        torch.from_numpy(ir).float() / 255, ycc[0]]), pred_fused=y[None],
        stem='a')])
    loop = metric.compute_metrics(metric.results)

    dirs = {k: tmp_path / k for k in ('ir', 'vi', 'vi_y', 'grey', 'colour')}
    for folder in dirs.values():
        folder.mkdir()
    cv2.imwrite(str(dirs['ir'] / 'a.png'), ir)
    cv2.imwrite(str(dirs['vi'] / 'a.png'), vi_bgr)
    cv2.imwrite(str(dirs['vi_y'] / 'a.png'), tensor_to_uint8_image(ycc[:1]))
    # FusedImageSaveHook: color=False writes Y, color=True Y + VI chroma
    grey = tensor_to_uint8_image(y[None])
    colour = tensor_to_uint8_image(
        ycbcr_to_rgb(torch.cat([y[None], ycc[1:]])).clamp(0, 1))
    cv2.imwrite(str(dirs['grey'] / 'a.png'), grey)
    cv2.imwrite(str(dirs['colour'] / 'a.png'), colour)
    # same representation (8-bit Y of the visible source and of the fused
    # image, as FusedImageSaveHook writes them): identical numbers; the
    # loop rounded the tie pixels of the source's Y to even (np.round in
    # float64) where the saved PNG rounds them up
    same = cli.evaluate(str(dirs['ir']), str(dirs['vi_y']),
                        str(dirs['grey']), 'cddfuse', names)['mean']
    assert same == pytest.approx(loop, rel=1e-12, abs=1e-12)
    # colour source: the fused-only metrics are identical, the others move
    # by the few tie pixels of its grey
    tie = cli.evaluate(str(dirs['ir']), str(dirs['vi']), str(dirs['grey']),
                       'cddfuse', names)['mean']
    assert (tie['EN'], tie['SD']) == (loop['EN'], loop['SD'])
    assert tie == pytest.approx(loop, abs=1e-3)
    vi_y = rgb_to_ycbcr(rgb.double() / 255)[0].numpy() * 255
    ties = cv2_bgr2gray(vi_bgr) != np.round(vi_y)
    assert 0 < ties.sum() and np.abs(vi_y[ties] % 1 - 0.5).max() < 1e-9
    re_grey = cv2_bgr2gray(colour)
    diff = re_grey - grey
    assert np.abs(diff).max() == 1 and 0.3 < (diff != 0).mean() < 0.7
    other = cli.evaluate(str(dirs['ir']), str(dirs['vi']),
                         str(dirs['colour']), 'cddfuse', names)['mean']
    assert other['EN'] == pytest.approx(
        compute_fusion_metrics(ir, cv2_bgr2gray(vi_bgr), re_grey,
                               'cddfuse', ['EN'])['EN'], abs=1e-12)
    assert other['EN'] != pytest.approx(loop['EN'], abs=1e-4)


def _methods(tmp_path):
    """Sources 00..03 and three methods: ``avg`` and ``max`` have every
    stem, ``ir`` (the infrared copied) lacks 03."""
    d = _synthetic(tmp_path, n=4)
    root = tmp_path / 'methods'
    for name in ('avg', 'max', 'ir'):
        (root / name).mkdir(parents=True)
    for i in range(4):
        ir = cv2.imread(str(d['ir'] / f'{i:02d}.png'), cv2.IMREAD_GRAYSCALE)
        vi = cv2.imread(str(d['vi'] / f'{i:02d}.bmp'), cv2.IMREAD_GRAYSCALE)
        cv2.imwrite(str(root / 'avg' / f'{i:02d}.png'),
                    ((ir.astype(float) + vi) / 2).astype(np.uint8))
        cv2.imwrite(str(root / 'max' / f'{i:02d}.jpg'), np.maximum(ir, vi))
        if i < 3:
            cv2.imwrite(str(root / 'ir' / f'{i:02d}.png'), ir)
    return d, root


def test_methods_root_scores_ranks_and_writes_json_and_csv(tmp_path, capsys):
    d, root = _methods(tmp_path)
    out = tmp_path / 'res' / 'ranking'
    rc = cli.main([str(d['ir']), str(d['vi']), '--methods-root', str(root),
                   '--preset', 'cddfuse', '--metrics', 'EN', 'SD', 'MI',
                   '--out', str(out) + '.json'])
    assert rc == 0
    res = json.loads((tmp_path / 'res' / 'ranking.json').read_text())
    assert res['stems'] == ['00', '01', '02'] and res['pairs'] == 3
    assert res['methods']['ir']['missing'] == ['03']
    assert res['methods']['avg']['missing'] == []
    # each method scored on the common stems, as eval_fusion scores a folder
    for name in ('avg', 'max', 'ir'):
        assert list(res['per_image'][name]) == ['00', '01', '02']
    a = cv2_bgr2gray(cv2.imread(str(d['ir'] / '01.png')))
    b = cv2_bgr2gray(cv2.imread(str(d['vi'] / '01.bmp')))
    f = cv2_bgr2gray(cv2.imread(str(root / 'max' / '01.jpg')))
    assert res['per_image']['max']['01'] == pytest.approx(
        compute_fusion_metrics(a, b, f, 'cddfuse', ['EN', 'SD', 'MI']))
    # ranks: 1 = best, from the means; MI(ir copy) is the largest
    means = {m: r['mean'] for m, r in res['methods'].items()}
    for metric in ('EN', 'SD', 'MI'):
        order = sorted(means, key=lambda m: -means[m][metric])
        assert [res['methods'][m]['rank'][metric] for m in order] == \
            [1, 2, 3]
    assert res['methods']['ir']['rank']['MI'] == 1
    for m, r in res['methods'].items():
        assert r['mean_rank'] == pytest.approx(
            np.mean(list(r['rank'].values())), abs=1e-3)
    csv_rows = (tmp_path / 'res' / 'ranking.csv').read_text().splitlines()
    assert csv_rows[0] == ('method,EN,SD,MI,rank_EN,rank_SD,rank_MI,'
                           'mean_rank,pairs,missing')
    row = dict(zip(csv_rows[0].split(','), csv_rows[3].split(',')))
    assert row['method'] == 'max' and row['missing'] == '0'
    assert float(row['EN']) == res['methods']['max']['mean']['EN']
    captured = capsys.readouterr()
    assert "method 'ir' lacks 1 stem(s) of the sources (03)" in captured.err
    assert 'mean rank' in captured.out and '3 common pair(s)' in captured.out


def test_methods_root_names_extra_and_unpaired_stems(tmp_path, capsys):
    """A method's image without a source pair and a VI image without an
    IR one were ignored silently; they are named (and recorded), and
    --strict refuses them like a method lacking a stem."""
    d, root = _methods(tmp_path)
    cv2.imwrite(str(root / 'avg' / 'zz.png'), np.zeros((72, 80), np.uint8))
    cv2.imwrite(str(d['vi'] / 'q.png'), np.zeros((72, 80), np.uint8))
    out = tmp_path / 'ranking'
    args = [str(d['ir']), str(d['vi']), '--methods-root', str(root),
            '--metrics', 'EN', '--out', str(out)]
    assert cli.main(args) == 0
    err = capsys.readouterr().err
    assert f"warning: 1 VI image(s) without an IR image in {d['vi']}: q; " \
        'not scored\n' in err
    assert "warning: method 'avg' has 1 fused image(s) without an IR/VI " \
        'source pair (zz); not scored\n' in err
    res = json.loads((tmp_path / 'ranking.json').read_text())
    assert res['unmatched'] == {'ir_without_vi': [], 'vi_without_ir': ['q']}
    assert res['methods']['avg']['extra'] == ['zz']
    assert res['methods']['ir']['extra'] == []
    assert cli.main(args + ['--strict']) == 2
    assert capsys.readouterr().err.endswith(
        'error: unmatched stems (--strict): 1 VI image(s) without an IR '
        f"image in {d['vi']}: q; 1 fused image(s) without an IR/VI source "
        "pair in method 'avg': zz; 1 source pair(s) without a fused image "
        "in method 'ir': 03\n")


@pytest.mark.parametrize('case', ['undecodable', 'size'])
def test_methods_root_bad_input_names_the_file_writes_nothing(
        tmp_path, capsys, case):
    d, root = _methods(tmp_path)
    bad = root / 'max' / '01.jpg'
    if case == 'undecodable':
        bad.write_bytes(b'not an image')
        text = 'error: cannot decode image'
    else:
        cv2.imwrite(str(bad), np.zeros((10, 12), np.uint8))
        text = f"size mismatch for stem '01' of method 'max'"
    out = tmp_path / 'ranking'
    rc = cli.main([str(d['ir']), str(d['vi']), '--methods-root', str(root),
                   '--metrics', 'EN', '--out', str(out)])
    assert rc == 2
    err = capsys.readouterr().err
    assert text in err and str(bad) in err
    if case == 'size':
        assert f'fused {bad} 10x12' in err
    assert not osp.exists(str(out) + '.json')
    assert not osp.exists(str(out) + '.csv')


def test_methods_root_and_fused_dir_exclude_each_other(tmp_path, capsys):
    d, root = _methods(tmp_path)
    assert cli.main([str(d['ir']), str(d['vi']), str(d['fused']),
                     '--methods-root', str(root)]) == 2
    assert 'give FUSED_DIR or --methods-root' in capsys.readouterr().err
    assert cli.main([str(d['ir']), str(d['vi'])]) == 2


def test_cli_ivif_zoo_preset_writes_the_21_metrics(shared_data, tmp_path):
    """``--preset ivif_zoo --out r.json``: all 21 metrics per pair and their
    means, named and ordered as IVIF_ZOO names them, with its values
    (tests/data/ivif_zoo_reference_values.json, TNO 07, mean rule)."""
    src = osp.join(shared_data, 'fusion', 'TNO')
    _link_subset(src, tmp_path, {'07'})
    (tmp_path / 'fused').mkdir()
    a, b = (cv2.imread(osp.join(src, m, '07.png')).astype(np.float64)
            for m in ('ir', 'vi'))
    cv2.imwrite(str(tmp_path / 'fused' / '07.png'),
                np.floor((a + b) / 2 + 0.5).astype(np.uint8))
    out = tmp_path / 'r.json'
    assert cli.main([str(tmp_path / 'ir'), str(tmp_path / 'vi'),
                     str(tmp_path / 'fused'), '--preset', 'ivif_zoo',
                     '--out', str(out)]) == 0
    res = json.loads(out.read_text())
    names = ('CE NMI QNCIE TE EI Qy Qcb EN MI SF AG SD CC SCD VIF MSE PSNR '
             'Qabf Nabf SSIM MS_SSIM').split()
    assert list(res['per_image']['07']) == names == list(res['mean'])
    with open(osp.join(ROOT, 'tests', 'data',
                       'ivif_zoo_reference_values.json')) as f:
        ref = json.load(f)['values']['TNO/07/mean']
    for name in names:
        tol = dict(abs=1e-4) if abs(ref[name]) < 0.1 else dict(rel=1e-3)
        assert res['mean'][name] == pytest.approx(ref[name], **tol), name
