"""eval_fusion.py on damaged and degenerate input (issue 69, items 2, 5, 7):
a truncated file is refused naming it; a constant image never stops a
run, under any preset: the metrics undefined on it are NaN, named with the
file in the warning and written as ``null`` with the reason (strict JSON);
a metric that fails names the files."""
import json
import warnings

import cv2
import numpy as np
import pytest

from mmfusenas.evaluation.functional.fusion import (PRESET_FNS,
                                                    compute_fusion_metrics)
from mmfusenas.evaluation.fusion_presets import (FUSION_PRESETS,
                                                 PRESET_BINDINGS)
from helpers import load_tool

cli = load_tool('tools/analysis_tools/eval_fusion.py')

SIZE = (184, 192)  # MS_SSIM: ivif_zoo needs both sides above 160


def _strict(text):
    """``json.loads`` that refuses ``NaN`` / ``Infinity``."""

    def refuse(name):
        raise ValueError(f'not strict JSON: {name}')

    return json.loads(text, parse_constant=refuse)


def _images(n=3, seed=0):
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        ir, vi = (cv2.GaussianBlur(rng.uniform(0, 255, SIZE), (5, 5),
                                   1).astype(np.uint8) for _ in range(2))
        out.append((ir, vi))
    return out


def _methods_tree(tmp_path, case):
    """Sources 00..02 and methods ``avg`` and ``deg`` (``deg`` = ``avg``
    but for stem 01, whose fused image is constant in the fused cases);
    in the ``constant IR`` case the IR image of 01 is constant."""
    root = tmp_path / 'methods'
    for sub in ('ir', 'vi', 'methods/avg', 'methods/deg'):
        (tmp_path / sub).mkdir(parents=True)
    for i, (ir, vi) in enumerate(_images()):
        if case == 'constant IR' and i == 1:
            ir[:] = 77
        avg = ((ir.astype(float) + vi) / 2).astype(np.uint8)
        deg = avg
        if i == 1 and case != 'constant IR':
            deg = np.full(SIZE, 0 if case == 'black fused' else 255,
                          np.uint8)
        for folder, img in (('ir', ir), ('vi', vi), ('methods/avg', avg),
                            ('methods/deg', deg)):
            cv2.imwrite(str(tmp_path / folder / f'{i:02d}.png'), img)
    return tmp_path / 'ir', tmp_path / 'vi', root


#: the metrics of each preset's default list that a constant image leaves
#: undefined (NaN, or PSNR -inf with cddfuse's max(F) peak on a black image)
UNDEFINED = {
    ('cddfuse', 'black fused'): {'CC': 'nan', 'PSNR': '-inf'},
    ('cddfuse', 'white fused'): {'CC': 'nan'},
    ('cddfuse', 'constant IR'): {'SCD': 'nan', 'CC': 'nan'},
    ('tang', 'black fused'): {'CC': 'nan'},
    ('tang', 'white fused'): {'CC': 'nan'},
    ('tang', 'constant IR'): {'SCD': 'nan', 'CC': 'nan'},
    ('vifb', 'black fused'): {},
    ('vifb', 'white fused'): {},
    ('vifb', 'constant IR'): {},
    ('ivif_zoo', 'black fused'): {'QNCIE': 'nan', 'Qcb': 'nan', 'CC': 'nan'},
    ('ivif_zoo', 'white fused'): {'QNCIE': 'nan', 'Qcb': 'nan', 'CC': 'nan'},
    ('ivif_zoo', 'constant IR'): {'QNCIE': 'nan', 'Qcb': 'nan', 'CC': 'nan',
                                  'SCD': 'nan'},
}


def test_every_preset_is_in_the_table():
    assert sorted({p for p, _ in UNDEFINED}) == sorted(FUSION_PRESETS)


@pytest.mark.parametrize('case', ['black fused', 'white fused',
                                  'constant IR'])
@pytest.mark.parametrize('preset', sorted(FUSION_PRESETS))
def test_constant_image_keeps_the_ranking_under_every_preset(
        tmp_path, capsys, preset, case):
    """ivif_zoo stopped with ``error: Eigenvalues did not converge``
    (QNCIE), naming no file and writing nothing; the other presets wrote
    bare ``NaN`` into the JSON."""
    ir_dir, vi_dir, root = _methods_tree(tmp_path, case)
    out = tmp_path / 'ranking'
    with warnings.catch_warnings():
        warnings.simplefilter('error', RuntimeWarning)  # no bare 0/0 noise
        rc = cli.main([str(ir_dir), str(vi_dir), '--methods-root',
                       str(root), '--preset', preset, '--out', str(out)])
    captured = capsys.readouterr()
    assert rc == 0, captured.err
    res = _strict((tmp_path / 'ranking.json').read_text())
    names = list(FUSION_PRESETS[preset]['default'])
    assert res['stems'] == ['00', '01', '02'] and res['metrics'] == names
    assert sorted(res['methods']) == ['avg', 'deg']
    assert '| avg ' in captured.out and '| deg ' in captured.out
    if case == 'constant IR':
        bad = {'avg': '01', 'deg': '01'}
        cause = f'IR {ir_dir / "01.png"} is constant (all 77)'
    else:
        bad = {'deg': '01'}
        level = 0 if case == 'black fused' else 255
        cause = f'fused {root / "deg" / "01.png"} is constant (all {level})'
    expect = UNDEFINED[(preset, case)]
    # the file is named in the warning (with the undefined metrics)
    assert cause in captured.err and cause in res['warning']
    if expect:
        assert f'{cause} (undefined: {", ".join(expect)})' in res['warning']
    undefined = {m: {s: {k: f'{v}: {cause}' for k, v in expect.items()}}
                 for m, s in bad.items() if expect}
    assert res.get('undefined', {}) == undefined
    for method in ('avg', 'deg'):
        rows = res['per_image'][method]
        assert list(rows) == ['00', '01', '02']
        for stem, row in rows.items():
            assert list(row) == names
            gone = expect if bad.get(method) == stem else {}
            assert [m for m, v in row.items() if v is None] == list(gone)
        mean = res['methods'][method]['mean']
        assert [m for m, v in mean.items() if v is None] == (
            list(expect) if method in bad else [])


def test_fused_equal_to_both_sources_ivif_zoo(tmp_path, capsys):
    """fused = IR = VI: ivif_zoo's PSNR raised ZeroDivisionError; it is
    ``inf`` (as the other presets' PSNR), reported and written as null."""
    for sub in ('ir', 'vi', 'fused'):
        (tmp_path / sub).mkdir()
    (same, vi), (ir1, vi1) = _images(2)
    for sub, imgs in (('ir', (same, ir1)), ('vi', (same, vi1)),
                      ('fused', (same, ((ir1.astype(float) + vi1) / 2)))):
        for i, img in enumerate(imgs):
            cv2.imwrite(str(tmp_path / sub / f'{i:02d}.png'),
                        img.astype(np.uint8))
    out = tmp_path / 'r.json'
    rc = cli.main([str(tmp_path / 'ir'), str(tmp_path / 'vi'),
                   str(tmp_path / 'fused'), '--preset', 'ivif_zoo', '--out',
                   str(out)])
    err = capsys.readouterr().err
    assert rc == 0, err
    res = _strict(out.read_text())
    cause = f'the fused image {tmp_path / "fused" / "00.png"} equals both ' \
        'sources'
    assert res['undefined'] == {'00': {'SCD': f'nan: {cause}',
                                       'PSNR': f'inf: {cause}'}}
    assert res['per_image']['00']['PSNR'] is None
    assert res['per_image']['00']['MSE'] == 0
    assert res['per_image']['01']['PSNR'] > 0 and res['mean']['PSNR'] is None
    assert f'00: {cause} (undefined: SCD, PSNR)' in err


def test_single_folder_constant_fused_writes_strict_json(tmp_path, capsys):
    """``eval_fusion.py FUSED_DIR``: CC nan and PSNR -inf (cddfuse) of an
    all-black image were written as bare ``NaN`` / ``-Infinity``."""
    ir_dir, vi_dir, root = _methods_tree(tmp_path, 'black fused')
    out = tmp_path / 'r.json'
    assert cli.main([str(ir_dir), str(vi_dir), str(root / 'deg'), '--out',
                     str(out)]) == 0
    text = out.read_text()
    res = _strict(text)
    fused = root / 'deg' / '01.png'
    reason = f'fused {fused} is constant (all 0)'
    assert res['undefined'] == {'01': {'CC': f'nan: {reason}',
                                       'PSNR': f'-inf: {reason}'}}
    assert res['mean']['CC'] is None and res['mean']['PSNR'] is None
    assert res['mean']['EN'] is not None
    assert f'01: {reason} (undefined: CC, PSNR)' in capsys.readouterr().err


@pytest.mark.parametrize('preset', sorted(FUSION_PRESETS))
def test_no_metric_raises_or_warns_on_constant_images(preset):
    """Every metric a preset binds (FMI aside: tested in test_fmi_fast),
    on a constant fused image, constant sources and F = A = B: a number
    (NaN where undefined), no exception, no RuntimeWarning."""
    names = [m for m in PRESET_BINDINGS[preset] if not m.startswith('FMI')]
    (ir, vi), = _images(1)
    ir, vi = ir.astype(float), vi.astype(float)
    flat = np.full(SIZE, 77.0)
    cases = [(ir, vi, 0 * ir), (flat, vi, ir), (ir, flat, vi),
             (flat, flat, flat), (ir, ir, ir)]
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        rows = [compute_fusion_metrics(a, b, f, preset, names)
                for a, b, f in cases]
    assert all(isinstance(v, float) for r in rows for v in r.values())
    if preset == 'ivif_zoo':
        assert np.isnan(rows[0]['QNCIE']) and rows[4]['PSNR'] == np.inf


@pytest.mark.parametrize('mode', ['folder', 'methods'])
def test_truncated_fused_jpeg_is_refused_naming_the_file(
        tmp_path, capsys, mode):
    """OpenCV decodes a truncated JPEG without an error, filling the rest
    with grey: EN 2.86 was scored for a 6.45 image, silently. It is
    refused naming the file, as an undecodable file is (exit 2, nothing
    written)."""
    ir_dir, vi_dir, root = _methods_tree(tmp_path, 'constant IR')
    img = cv2.imread(str(root / 'avg' / '00.png'), cv2.IMREAD_GRAYSCALE)
    data = cv2.imencode('.jpg', img)[1].tobytes()
    bad = root / 'avg' / '00.jpg'
    (root / 'avg' / '00.png').unlink()
    bad.write_bytes(data[:len(data) // 2])
    out = tmp_path / 'r'
    tail = ['--methods-root', str(root)] if mode == 'methods' else [
        str(root / 'avg')]
    rc = cli.main([str(ir_dir), str(vi_dir)] + tail +
                  ['--metrics', 'EN', '--out', str(out)])
    err = capsys.readouterr().err
    assert rc == 2
    last = err.strip().splitlines()[-1]
    assert last.startswith('error: image ') and str(bad) in last
    assert 'is truncated' in last
    assert not list(tmp_path.glob('r*'))


@pytest.mark.parametrize('mode', ['folder', 'methods'])
def test_failing_metric_names_the_files(tmp_path, capsys, monkeypatch,
                                        mode):
    """A metric's own error (``error: SCD`` for a KeyError) named no
    file; the message names the stem, the method and the three files."""
    ir_dir, vi_dir, root = _methods_tree(tmp_path, 'black fused')

    def broken(a, b, f, **kwargs):
        raise KeyError('SCD')

    monkeypatch.setitem(PRESET_FNS['cddfuse'], 'SCD', broken)
    tail = ['--methods-root', str(root)] if mode == 'methods' else [
        str(root / 'avg')]
    rc = cli.main([str(ir_dir), str(vi_dir)] + tail + ['--metrics', 'EN',
                                                       'SCD'])
    err = capsys.readouterr().err
    assert rc == 2
    where = "stem '00'" + (" of method 'avg'" if mode == 'methods' else '')
    assert err.endswith(
        f'error: metrics of {where} failed (IR {ir_dir / "00.png"}, VI '
        f'{vi_dir / "00.png"}, fused {root / "avg" / "00.png"}): KeyError: '
        "'SCD'\n")


def test_small_image_ms_ssim_error_names_the_files(tmp_path, capsys):
    """ivif_zoo's MS_SSIM on a 72 x 80 pair: the size error named no
    file."""
    for sub in ('ir', 'vi', 'fused'):
        (tmp_path / sub).mkdir()
        cv2.imwrite(str(tmp_path / sub / 'a.png'),
                    np.random.default_rng(0).integers(0, 255, (72, 80),
                                                      dtype=np.uint8))
    rc = cli.main([str(tmp_path / 'ir'), str(tmp_path / 'vi'),
                   str(tmp_path / 'fused'), '--preset', 'ivif_zoo',
                   '--metrics', 'MS_SSIM'])
    assert rc == 2
    err = capsys.readouterr().err
    ir = tmp_path / 'ir' / 'a.png'
    assert f"error: metrics of stem 'a' failed (IR {ir}" in err
    assert err.endswith('ValueError: MS_SSIM (ivif_zoo) needs images with '
                        'both sides above 160 pixels (4 down-samplings of an '
                        '11 x 11 window), got (72, 80)\n')
