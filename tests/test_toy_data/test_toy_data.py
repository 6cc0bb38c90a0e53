"""Tests of the procedural IR/VIS toy data generator.

One small data set (40 pairs at 128x128) is generated per module and shared
by the layout / label / physics tests; determinism and error handling use
their own tiny sets.
"""
import importlib.util
import json
import os
import os.path as osp
import re
import struct
import subprocess
import sys

import cv2
import numpy as np
import pytest

from mmfusenas.testing.toy_data import ivif as toy_data
from mmfusenas.testing.toy_data.ivif import (CATEGORY_IDS, CLASSES,
                                             GENERATOR_NAME, GENERATOR_VERSION,
                                             generate_toy_dataset,
                                             is_toy_dataset, render_toy_scene,
                                             val_indices)

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CLI = osp.join(REPO_ROOT, 'tools', 'misc', 'make_toy_data.py')

NUM, SEED, SIZE = 40, 3, 128


@pytest.fixture(scope='module')
def toy(tmp_path_factory):
    out = str(tmp_path_factory.mktemp('toy') / 'set')
    summary = generate_toy_dataset(out, num=NUM, seed=SEED, size=SIZE)
    return out, summary


def _files(root):
    """Relative path -> bytes of every file below ``root``."""
    out = {}
    for d, _, names in os.walk(root):
        for n in names:
            p = osp.join(d, n)
            with open(p, 'rb') as f:
                out[osp.relpath(p, root)] = f.read()
    return out


def _coco(root, split):
    with open(osp.join(root, 'annotations', f'instances_{split}.json')) as f:
        return json.load(f)


def _png_color_type(path):
    """(bit depth, colour type) from the PNG IHDR chunk."""
    with open(path, 'rb') as f:
        head = f.read(33)
    assert head[:8] == b'\x89PNG\r\n\x1a\n' and head[12:16] == b'IHDR'
    width, height, depth, ctype = struct.unpack('>IIBB', head[16:26])
    return width, height, depth, ctype


def _read(root, sub, stem):
    return cv2.imread(osp.join(root, sub, stem + '.png'), cv2.IMREAD_UNCHANGED)


def _instances(root):
    """(image entry, its annotations, split) for every image."""
    out = []
    for split in ('train', 'val'):
        coco = _coco(root, split)
        by_img = {im['id']: [] for im in coco['images']}
        for a in coco['annotations']:
            by_img[a['image_id']].append(a)
        out += [(im, by_img[im['id']], split) for im in coco['images']]
    return out


# ---------------------------------------------------------------- layout


def test_layout_and_splits(toy):
    root, summary = toy
    stems = [f'{i:05d}' for i in range(NUM)]
    assert sorted(os.listdir(root)) == sorted([
        'ir', 'vi', 'masks', 'instance_masks', 'annotations', 'splits',
        'meta.json'
    ])
    for sub in ('ir', 'vi', 'masks', 'instance_masks'):
        assert sorted(os.listdir(osp.join(
            root, sub))) == [s + '.png' for s in stems]
    assert sorted(os.listdir(osp.join(root, 'annotations'))) == [
        'instances_search_arch.json', 'instances_search_weights.json',
        'instances_train.json', 'instances_val.json'
    ]
    # the two search halves of train (θ / α), val held out
    with open(osp.join(root, 'splits', 'search_arch.txt')) as f:
        search_arch = f.read().splitlines()
    assert len(search_arch) == 15
    with open(osp.join(root, 'splits', 'train.txt')) as f:
        train = f.read().splitlines()
    with open(osp.join(root, 'splits', 'val.txt')) as f:
        val = f.read().splitlines()
    assert len(val) == NUM // 4 == 10 and len(train) == 30
    assert val == [f'{i:05d}' for i in val_indices(NUM, 0.25)]
    assert sorted(train + val) == stems
    assert summary['num_train'] == 30 and summary['num_val'] == 10
    # the split json files hold exactly the split's images
    for split, names in (('train', train), ('val', val)):
        coco = _coco(root, split)
        assert [im['file_name']
                for im in coco['images']] == [s + '.png' for s in names]


def test_val_indices_prefix_consistent():
    assert val_indices(8, 0.25) == [3, 7]
    assert val_indices(4, 0.5) == [1, 3]
    assert val_indices(5, 0.0) == []
    big = val_indices(400, 0.25)
    assert len(big) == 100 and val_indices(
        123, 0.25) == [i for i in big if i < 123]


def test_png_formats(toy):
    root, _ = toy
    for i in range(NUM):
        stem = f'{i:05d}'
        # IR: 8-bit gray PNG; VIS: 8-bit RGB PNG; masks: 8-bit gray
        assert _png_color_type(osp.join(root, 'ir',
                                        stem + '.png')) == (SIZE, SIZE, 8, 0)
        assert _png_color_type(osp.join(root, 'vi',
                                        stem + '.png')) == (SIZE, SIZE, 8, 2)
        for sub in ('masks', 'instance_masks'):
            assert _png_color_type(osp.join(root, sub,
                                            stem + '.png')) == (SIZE, SIZE, 8,
                                                                0)
        ir, vi = _read(root, 'ir', stem), _read(root, 'vi', stem)
        assert ir.shape == (SIZE, SIZE) and ir.dtype == np.uint8
        assert vi.shape == (SIZE, SIZE, 3) and vi.dtype == np.uint8
        # a real colour image, not gray stored in 3 channels
        assert np.abs(vi[..., 0].astype(int) - vi[..., 2]).mean() > 1.0
        sem = _read(root, 'masks', stem)
        assert set(np.unique(sem).tolist()) <= {0, 1, 2, 3, 4, 255}


def test_vis_is_bgr_on_disk(toy):
    root, _ = toy
    scene = render_toy_scene(SEED, 0, SIZE)
    assert np.array_equal(_read(root, 'vi', '00000')[..., ::-1], scene.vis)
    assert np.array_equal(_read(root, 'ir', '00000'), scene.ir)
    assert np.array_equal(_read(root, 'masks', '00000'), scene.semantic)
    assert np.array_equal(
        _read(root, 'instance_masks', '00000'), scene.instances)


def test_coco_json(toy):
    root, _ = toy
    ann_ids = set()
    for split in ('train', 'val'):
        coco = _coco(root, split)
        assert {'images', 'annotations', 'categories'} <= set(coco)
        assert coco['categories'] == [
            dict(id=1, name='person', supercategory='warm'),
            dict(id=2, name='car', supercategory='warm'),
            dict(id=3, name='bicycle', supercategory='cold'),
            dict(id=4, name='cone', supercategory='cold')
        ]
        img_ids = [im['id'] for im in coco['images']]
        assert len(set(img_ids)) == len(img_ids)
        for im in coco['images']:
            assert re.fullmatch(r'\d{5}\.png', im['file_name'])
            assert im['id'] == int(im['file_name'][:5]) + 1
            assert (im['width'], im['height']) == (SIZE, SIZE)
            assert im['illumination'] in ('day', 'night')
        for a in coco['annotations']:
            assert a['id'] not in ann_ids
            ann_ids.add(a['id'])
            assert a['image_id'] in img_ids
            assert a['category_id'] in (1, 2, 3, 4)
            assert a['iscrowd'] == 0
            assert len(a['bbox']) == 4 and all(
                isinstance(v, float) for v in a['bbox'])
            x, y, w, h = a['bbox']
            assert x >= 0 and y >= 0 and w >= 1 and h >= 1
            assert x + w <= SIZE and y + h <= SIZE
            assert isinstance(a['area'], float) and 1 <= a['area'] <= w * h
            assert isinstance(a['instance_id'], int) and a['instance_id'] >= 1
    assert len(ann_ids) > 2 * NUM  # 2-8 objects per image


def test_coco_loads_in_pycocotools(toy):
    coco_mod = pytest.importorskip('pycocotools.coco')
    root, _ = toy
    import contextlib
    import io
    with contextlib.redirect_stdout(io.StringIO()):
        coco = coco_mod.COCO(
            osp.join(root, 'annotations', 'instances_val.json'))
    assert sorted(coco.getCatIds()) == [1, 2, 3, 4]
    assert len(coco.getImgIds()) == 10
    assert len(coco.getAnnIds()) == len(_coco(root, 'val')['annotations'])


def test_meta(toy):
    root, summary = toy
    with open(osp.join(root, 'meta.json')) as f:
        meta = json.load(f)
    assert meta['generator'] == GENERATOR_NAME
    assert meta['version'] == GENERATOR_VERSION == summary['version']
    assert (meta['seed'], meta['num'], meta['size']) == (SEED, NUM, SIZE)
    assert meta['classes'] == [
        dict(id=1, name='person', warm=True),
        dict(id=2, name='car', warm=True),
        dict(id=3, name='bicycle', warm=False),
        dict(id=4, name='cone', warm=False)
    ]
    assert meta['mask_values'] == dict(
        background=0, ignore=255, person=1, car=2, bicycle=3, cone=4)
    n_ann = sum(len(_coco(root, s)['annotations']) for s in ('train', 'val'))
    assert sum(meta['num_instances'].values()) == n_ann
    assert meta['num_instances'] == summary['num_instances']
    assert is_toy_dataset(root)


def test_is_toy_dataset_reads_the_recorded_generator(tmp_path):
    # the generator's current and former module paths count, nothing else
    for name, expected in [(GENERATOR_NAME, True),
                           ('mmfusenas.datasets.toy_data', True),
                           ('mmfusenas.toy_data.lowlight_tasks', False),
                           (None, False)]:
        folder = tmp_path / str(name)
        folder.mkdir()
        (folder / 'meta.json').write_text(json.dumps(dict(generator=name)))
        assert is_toy_dataset(str(folder)) is expected, name
    assert not is_toy_dataset(str(tmp_path / 'missing'))


# ------------------------------------------------------------- labels


def test_label_consistency(toy):
    root, _ = toy
    for im, anns, _ in _instances(root):
        stem = im['file_name'][:5]
        sem = _read(root, 'masks', stem)
        inst = _read(root, 'instance_masks', stem)
        # instance ids are exactly 1..K, one per annotation
        assert sorted(a['instance_id']
                      for a in anns) == list(range(1,
                                                   len(anns) + 1))
        assert set(
            np.unique(inst).tolist()) == {0
                                          } | {a['instance_id']
                                               for a in anns}
        for a in anns:
            m = inst == a['instance_id']
            ys, xs = np.nonzero(m)
            # box = tight bounds of the visible mask: every mask pixel is in
            # the box and the box touches the mask on all four sides
            x, y, w, h = a['bbox']
            assert (xs.min(), ys.min()) == (x, y)
            assert (xs.max() + 1, ys.max() + 1) == (x + w, y + h)
            assert m.sum() == a['area']
            assert (sem[m] == a['category_id']).all()
        # no class pixel outside an instance (255 = dropped tiny instances)
        assert not ((sem > 0) & (sem < 255) & (inst == 0)).any()


def test_small_instances_become_ignore():
    # a large min_visible_area drops most instances and marks them 255
    scene = render_toy_scene(5, 1, 128, min_visible_area=200)
    full = render_toy_scene(5, 1, 128, min_visible_area=1)
    kept = [o for o in full.objects if o['area'] >= 200]
    assert [o['bbox'] for o in scene.objects] == [o['bbox'] for o in kept]
    assert scene.info['num_dropped'] == (
        full.info['num_dropped'] + len(full.objects) - len(kept))
    small = (full.instances > 0) & (scene.instances == 0)
    assert small.any()
    assert (scene.semantic[small] == 255).all()
    assert (scene.semantic[full.instances == 0] < 255).all()


def test_options_change_content():
    only_cones = render_toy_scene(0, 0, 128, class_weights=dict(cone=1))
    assert {o['name'] for o in only_cones.objects} == {'cone'}
    for i in range(5):
        day = render_toy_scene(0, i, 96, night_fraction=0.0)
        night = render_toy_scene(0, i, 96, night_fraction=1.0)
        assert day.info['illumination'] == 'day'
        assert night.info['illumination'] == 'night'
        many = render_toy_scene(
            0, i, 96, min_objects=6, max_objects=6, min_visible_area=1)
        assert len(many.objects) + many.info['num_dropped'] == 6


# ----------------------------------------------------------- physics


def _ring(mask_shape, bbox, bg):
    x, y, w, h = (int(v) for v in bbox)
    pad = max(3, int(0.3 * max(w, h)))
    ring = np.zeros(mask_shape, bool)
    ring[max(0, y - pad):y + h + pad, max(0, x - pad):x + w + pad] = True
    return ring & bg


def test_physical_plausibility(toy):
    root, _ = toy
    warm_obj_minus_bg, warm_obj_minus_ring = [], []
    cold_vis, cold_ir, warm_vis, warm_ir = [], [], [], []
    night_y, day_y = [], []
    for im, anns, _ in _instances(root):
        stem = im['file_name'][:5]
        ir = _read(root, 'ir', stem).astype(float)
        y = cv2.cvtColor(_read(root, 'vi', stem),
                         cv2.COLOR_BGR2GRAY).astype(float)
        sem = _read(root, 'masks', stem)
        inst = _read(root, 'instance_masks', stem)
        bg = sem == 0
        (night_y if im['illumination'] == 'night' else day_y).append(y.mean())
        for a in anns:
            m = inst == a['instance_id']
            ring = _ring(m.shape, a['bbox'], bg)
            assert ring.sum() >= 5
            c_ir = abs(ir[m].mean() - ir[ring].mean()) / 255
            c_vis = abs(y[m].mean() - y[ring].mean()) / 255
            if a['category_id'] in (CATEGORY_IDS['person'],
                                    CATEGORY_IDS['car']):
                warm_obj_minus_bg.append(ir[m].mean() - ir[bg].mean())
                warm_obj_minus_ring.append(ir[m].mean() - ir[ring].mean())
                warm_vis.append(c_vis)
                warm_ir.append(c_ir)
            else:
                cold_vis.append(c_vis)
                cold_ir.append(c_ir)
    assert len(warm_ir) >= 60 and len(cold_ir) >= 30
    # every warm object is hotter than the image background and than its
    # own surroundings, by a clear margin on average
    assert min(warm_obj_minus_bg) > 0 and min(warm_obj_minus_ring) > 0
    assert np.mean(warm_obj_minus_ring) > 40
    # warm objects: IR contrast dominates; cold objects: VIS contrast
    assert np.mean(warm_ir) > 2.5 * np.mean(warm_vis)
    assert np.mean(cold_vis) > 4 * np.mean(cold_ir)
    assert np.mean(np.array(cold_vis) > np.array(cold_ir)) >= 0.85
    assert np.mean(cold_ir) < 0.03
    # low-light scenes are dark (mean luma < 50 of 255), daylight is not
    assert len(night_y) >= 20 and len(day_y) >= 5
    assert max(night_y) < 50 and min(day_y) > 55
    assert np.mean(day_y) > 3 * np.mean(night_y)


def test_ir_background_smooth_vis_textured():
    # background texture is strong in VIS and weak in IR (noise-free render)
    ir_tex, vis_tex = [], []
    for i in range(6):
        s = render_toy_scene(1, i, 128, night_fraction=0.0, noise=0.0)
        bg = s.semantic == 0
        y = cv2.cvtColor(s.vis, cv2.COLOR_RGB2GRAY).astype(float)
        for img, out in ((s.ir.astype(float), ir_tex), (y, vis_tex)):
            lap = np.abs(cv2.Laplacian(img, cv2.CV_64F))
            out.append(lap[bg].mean() / max(img[bg].std(), 1e-6))
    assert np.mean(vis_tex) > 2 * np.mean(ir_tex)


# ------------------------------------------------------- determinism


def test_same_seed_byte_identical(tmp_path):
    a = generate_toy_dataset(str(tmp_path / 'a'), num=5, seed=11, size=96)
    b = generate_toy_dataset(str(tmp_path / 'b'), num=5, seed=11, size=96)
    fa, fb = _files(tmp_path / 'a'), _files(tmp_path / 'b')
    # 4 images x 5, 4 COCO files, 4 split files (train, val and the two
    # search halves of train), meta.json
    assert len(fa) == 4 * 5 + 4 + 4 + 1
    assert fa == fb
    a.pop('seconds'), b.pop('seconds'), a.pop('out_dir'), b.pop('out_dir')
    assert a == b


def test_different_seed_differs(tmp_path):
    generate_toy_dataset(str(tmp_path / 'a'), num=4, seed=1, size=96)
    generate_toy_dataset(str(tmp_path / 'b'), num=4, seed=2, size=96)
    for i in range(4):
        for sub in ('ir', 'vi', 'masks'):
            with open(tmp_path / 'a' / sub / f'{i:05d}.png', 'rb') as f:
                pa = f.read()
            with open(tmp_path / 'b' / sub / f'{i:05d}.png', 'rb') as f:
                pb = f.read()
            assert pa != pb, (sub, i)


def test_subset_is_prefix(tmp_path):
    generate_toy_dataset(str(tmp_path / 'small'), num=3, seed=4, size=96)
    generate_toy_dataset(str(tmp_path / 'big'), num=6, seed=4, size=96)
    small, big = _files(tmp_path / 'small'), _files(tmp_path / 'big')
    for rel, data in small.items():
        if rel.endswith('.png'):
            assert big[rel] == data, rel
    big_anns = {
        a['id']: a
        for a in _coco(tmp_path / 'big', 'train')['annotations'] +
        _coco(tmp_path / 'big', 'val')['annotations']
    }
    for split in ('train', 'val'):
        for a in _coco(tmp_path / 'small', split)['annotations']:
            assert big_anns[a['id']] == a


# ------------------------------------------------- errors & atomicity


def test_out_dir_rules(tmp_path):
    # a non-empty directory that is not a toy set: error unless overwrite
    other = tmp_path / 'other'
    other.mkdir()
    (other / 'keep.txt').write_text('x')
    with pytest.raises(FileExistsError, match='not a toy data set'):
        generate_toy_dataset(str(other), num=2, size=64)
    assert os.listdir(other) == ['keep.txt']
    generate_toy_dataset(str(other), num=2, size=64, overwrite=True)
    assert not (other / 'keep.txt').exists() and is_toy_dataset(str(other))
    # a previous toy set is replaced (no stale images remain)
    generate_toy_dataset(str(other), num=1, size=64, seed=9)
    assert os.listdir(other / 'ir') == ['00000.png']
    with open(other / 'meta.json') as f:
        assert json.load(f)['seed'] == 9
    # an empty directory is fine; a file is not
    (tmp_path / 'empty').mkdir()
    generate_toy_dataset(str(tmp_path / 'empty'), num=1, size=64)
    (tmp_path / 'afile').write_text('x')
    with pytest.raises(FileExistsError, match='not a directory'):
        generate_toy_dataset(str(tmp_path / 'afile'), num=1, size=64)
    # no temporary directories are left behind
    assert sorted(os.listdir(tmp_path)) == ['afile', 'empty', 'other']


def test_refuses_to_overwrite_cwd(tmp_path, monkeypatch):
    d = tmp_path / 'work'
    (d / 'sub').mkdir(parents=True)
    monkeypatch.chdir(d / 'sub')
    with pytest.raises(ValueError, match='refusing'):
        generate_toy_dataset(str(d), num=1, size=64, overwrite=True)
    assert (d / 'sub').is_dir()
    # not even a previous toy set that holds the working directory
    toy = tmp_path / 'toy'
    generate_toy_dataset(str(toy), num=1, size=64)
    monkeypatch.chdir(toy / 'ir')
    with pytest.raises(ValueError, match='refusing'):
        generate_toy_dataset(str(toy), num=1, size=64)
    assert os.listdir(toy / 'ir') == ['00000.png']


@pytest.mark.parametrize('kwargs, match', [
    (dict(num=0), 'num'),
    (dict(num=-3), 'num'),
    (dict(num=2.0), 'num'),
    (dict(num=True), 'num'),
    (dict(size=32), 'size'),
    (dict(size=100.0), 'size'),
    (dict(seed=-1), 'seed'),
    (dict(val_fraction=1.0), 'val_fraction'),
    (dict(val_fraction=-0.1), 'val_fraction'),
    (dict(night_fraction=1.5), 'night_fraction'),
    (dict(min_objects=5, max_objects=3), 'min_objects'),
    (dict(min_objects=0), 'min_objects'),
    (dict(noise=-1), 'noise'),
    (dict(clutter=float('nan')), 'clutter'),
    (dict(min_visible_area=0), 'min_visible_area'),
    (dict(class_weights=dict(dog=1)), 'unknown classes'),
    (dict(class_weights=dict(cone=0)), 'positive sum'),
])
def test_invalid_arguments(tmp_path, kwargs, match):
    with pytest.raises(ValueError, match=match):
        generate_toy_dataset(str(tmp_path / 'x'), **kwargs)
    assert not (tmp_path / 'x').exists()


def test_crash_leaves_nothing_complete(tmp_path, monkeypatch):
    out = tmp_path / 'toy'
    generate_toy_dataset(str(out), num=2, size=64, seed=1)
    before = _files(out)
    calls = []
    real = toy_data._write_png

    def flaky(path, img):
        calls.append(path)
        if len(calls) == 6:
            raise OSError('disk full')
        real(path, img)

    monkeypatch.setattr(toy_data, '_write_png', flaky)
    with pytest.raises(OSError, match='disk full'):
        generate_toy_dataset(str(out), num=3, size=64, seed=2)
    assert _files(out) == before  # the previous set is untouched
    with pytest.raises(OSError, match='disk full'):
        calls.clear()
        generate_toy_dataset(str(tmp_path / 'new'), num=3, size=64)
    assert sorted(os.listdir(tmp_path)) == ['toy']


# ----------------------------------------------------------------- CLI


def _load_cli():
    spec = importlib.util.spec_from_file_location('make_toy_data', CLI)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_cli_in_process(tmp_path, capsys):
    cli = _load_cli()
    out = tmp_path / 'cli'
    summary = cli.main([
        str(out), '--num', '4', '--seed', '7', '--size', '64',
        '--val-fraction', '0.5', '--class-weights', 'person=1,cone=1'
    ])
    text = capsys.readouterr().out
    assert f'wrote 4 IR/VIS pairs of 64x64 (seed 7) to {out}' in text
    assert '2 train / 2 val' in text
    assert summary['num_instances']['car'] == 0
    assert summary['num_instances']['bicycle'] == 0
    # same as the Python API
    api = tmp_path / 'api'
    generate_toy_dataset(
        str(api),
        num=4,
        seed=7,
        size=64,
        val_fraction=0.5,
        class_weights=dict(person=1, cone=1))
    assert _files(out) == _files(api)
    # errors exit with a message, not a traceback
    (tmp_path / 'busy').mkdir()
    (tmp_path / 'busy' / 'f').write_text('x')
    with pytest.raises(SystemExit, match='not a toy data set'):
        cli.main([str(tmp_path / 'busy'), '--num', '1'])
    with pytest.raises(SystemExit, match='size must be'):
        cli.main([str(tmp_path / 'y'), '--size', '10'])
    with pytest.raises(SystemExit) as exc:
        cli.main([str(tmp_path / 'y'), '--class-weights', 'dog=1'])
    assert exc.value.code == 2
    assert 'bad class weight' in capsys.readouterr().err


@pytest.mark.slow  # an interpreter start and the package import (~7 s)
def test_cli_subprocess(tmp_path):
    out = tmp_path / 'sub'
    proc = subprocess.run(
        [sys.executable, CLI,
         str(out), '--num', '2', '--size', '64'],
        capture_output=True,
        text=True,
        cwd=str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    assert 'wrote 2 IR/VIS pairs' in proc.stdout
    assert is_toy_dataset(str(out))
    assert CLASSES == ('person', 'car', 'bicycle', 'cone')


def test_night_darkness_darkens_only_night_vis_and_keeps_the_default():
    from mmfusenas.testing.toy_data.ivif import render_toy_scene
    base = render_toy_scene(seed=5, index=0, size=64, night_fraction=1.0)
    same = render_toy_scene(seed=5, index=0, size=64, night_fraction=1.0,
                            night_darkness=1.0)
    dark = render_toy_scene(seed=5, index=0, size=64, night_fraction=1.0,
                            night_darkness=4.0)
    np.testing.assert_array_equal(base.vis, same.vis)
    # the scene (IR, labels) is the same; only the night VIS gets darker
    np.testing.assert_array_equal(base.ir, dark.ir)
    np.testing.assert_array_equal(base.instances, dark.instances)
    ratio = dark.vis.astype(float).mean() / base.vis.astype(float).mean()
    assert 0.15 < ratio < 0.4  # ~1/4, with the sensor noise on top
    day = render_toy_scene(seed=5, index=0, size=64, night_fraction=0.0)
    day_dark = render_toy_scene(seed=5, index=0, size=64, night_fraction=0.0,
                                night_darkness=4.0)
    np.testing.assert_array_equal(day.vis, day_dark.vis)
    with pytest.raises(ValueError, match='night_darkness'):
        render_toy_scene(seed=5, size=64, night_darkness=0.5)


def test_multispectral_layout(toy, tmp_path):
    """``layout='multispectral'``: the same scenes in the MultiSpectral
    detection layout (TIM Table 4): five classes, val split named test, no
    masks; loads as the MultiSpectral dataset config reads it."""
    from mmfusenas.datasets import PairedDetDataset
    from mmfusenas.testing.toy_data.ivif import (MULTISPECTRAL_CLASSES,
                                                 TOY_TO_MULTISPECTRAL)
    root, _ = toy
    out = str(tmp_path / 'ms')
    summary = generate_toy_dataset(
        out, num=NUM, seed=SEED, size=SIZE, layout='multispectral')
    assert sorted(os.listdir(out)) == [
        'annotations', 'ir', 'meta.json', 'splits', 'vi'
    ]
    assert sorted(os.listdir(osp.join(out, 'annotations'))) == [
        'search_arch.json', 'search_weights.json', 'test.json', 'train.json'
    ]
    assert sorted(os.listdir(osp.join(out, 'splits'))) == [
        'search_arch.txt', 'search_weights.txt', 'test.txt', 'train.txt'
    ]
    with open(osp.join(out, 'meta.json')) as f:
        assert json.load(f)['layout'] == 'multispectral'
    assert is_toy_dataset(out)
    # identical images, the boxes of the toy layout with remapped classes
    stem = '00000'
    for sub in ('ir', 'vi'):
        assert np.array_equal(_read(out, sub, stem), _read(root, sub, stem))
    for split, name in (('train', 'train'), ('val', 'test')):
        toy_coco = _coco(root, split)
        with open(osp.join(out, 'annotations', f'{name}.json')) as f:
            ms = json.load(f)
        assert [c['name'] for c in ms['categories']] == list(
            MULTISPECTRAL_CLASSES)
        assert [c['id'] for c in ms['categories']] == [1, 2, 3, 4, 5]
        assert ms['images'] == toy_coco['images']
        assert len(ms['annotations']) == len(toy_coco['annotations'])
        for a, b in zip(ms['annotations'], toy_coco['annotations']):
            toy_name = CLASSES[b['category_id'] - 1]
            want = MULTISPECTRAL_CLASSES.index(
                TOY_TO_MULTISPECTRAL[toy_name]) + 1
            assert a['category_id'] == want
            assert a['bbox'] == b['bbox'] and 'segmentation' not in a
    assert summary['num_val'] == len(ms['images'])
    ds = PairedDetDataset(
        data_root=out,
        data_prefix=dict(ir='ir', vi='vi'),
        ann_file='annotations/test.json',
        metainfo=dict(classes=MULTISPECTRAL_CLASSES),
        test_mode=True,
        pipeline=[])
    labels = {i['bbox_label'] for d in ds for i in d['instances']}
    # car_stop (label 1) never occurs in the toy scenes
    assert labels <= {0, 2, 3, 4} and labels
    with pytest.raises(ValueError, match='layout must be one of'):
        generate_toy_dataset(str(tmp_path / 'bad'), num=2, layout='voc')


def test_toy_data_set_reuses_only_the_requested_set(tmp_path, monkeypatch):
    """A toy set is generated where there is no meta.json and reused when
    its meta.json records the request: pairs, seed, size, val split and
    every scene option (the unrequested ones at their defaults); any other
    set is refused, naming what differs, and left as it is."""
    root = str(tmp_path / 'toy')
    request = dict(num=4, seed=1, size=64, val_fraction=0.25,
                   night_darkness=2.0)
    assert toy_data.toy_data_set(root, **request)['num'] == 4
    meta = json.load(open(tmp_path / 'toy' / 'meta.json'))
    assert toy_data.toy_data_mismatch(meta, request) == {}

    def not_again(*args, **kwargs):
        raise AssertionError('a matching toy set was generated again')

    monkeypatch.setattr(toy_data, 'generate_toy_dataset', not_again)
    assert toy_data.toy_data_set(root, **request) is None
    for change, named in [
            (dict(num=5), r'num 4 \(this run: 5\)'),
            (dict(seed=0), r'seed 1 \(this run: 0\)'),
            (dict(size=128), r'size 64 \(this run: 128\)'),
            (dict(night_darkness=4.0),
             r'options\.night_darkness 2\.0 \(this run: 4\.0\)'),
            (dict(night_fraction=1.0),
             r'options\.night_fraction 0\.7 \(this run: 1\.0\)')]:
        with pytest.raises(ValueError, match=r'--data-dir .*toy holds a toy '
                           'set made with other .*' + named):
            toy_data.toy_data_set(root, **dict(request, **change))
    # an option left out is its default, not whatever the set holds
    less = {k: v for k, v in request.items() if k != 'night_darkness'}
    assert set(toy_data.toy_data_mismatch(meta, less)) == {
        'options.night_darkness'}
    assert json.load(open(tmp_path / 'toy' / 'meta.json')) == meta
