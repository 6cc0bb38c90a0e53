"""Leak-free real fusion splits (mmfusenas.datasets.real_fusion_splits)."""
import os
import os.path as osp

import cv2
import numpy as np
import pytest

from mmfusenas.datasets.real_fusion_splits import (
    NEAR_DUP_THRESHOLD, REAL_FUSION_SOURCES, SPLIT_FILES, FusionSet,
    make_fusion_splits, pixel_sha256, split_file_texts)
from helpers import load_tool

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
SPLIT_DIR = osp.join(REPO, 'configs', '_base_', 'datasets', 'splits')


def _scene(rng, size=96):
    """A smooth random grey scene (uint8)."""
    small = rng.uniform(0, 255, (8, 8))
    return cv2.resize(small, (size, size),
                      interpolation=cv2.INTER_CUBIC).clip(0, 255).astype(
                          np.uint8)


def _near_duplicate(img, rng):
    """Noise + a 2-pixel shift + JPEG quantisation of ``img``."""
    noisy = img.astype(np.float64) + rng.normal(0, 4, img.shape)
    shifted = np.roll(noisy.clip(0, 255).astype(np.uint8), (2, 1), (0, 1))
    ok, buf = cv2.imencode('.jpg', shifted, [cv2.IMWRITE_JPEG_QUALITY, 60])
    assert ok
    return cv2.imdecode(buf, cv2.IMREAD_UNCHANGED)


@pytest.fixture
def synthetic(tmp_path, monkeypatch):
    """A training set of 6 pairs and a test set of 2; training pair ``t0``
    is a pixel copy of test pair ``a``, ``t1`` a near duplicate of test
    pair ``b`` (only its IR), the others are unrelated scenes."""
    rng = np.random.default_rng(0)
    test = {s: (_scene(rng), _scene(rng)) for s in ('a', 'b')}
    train = {f't{i}': (_scene(rng), _scene(rng)) for i in range(6)}
    train['t0'] = test['a']
    train['t1'] = (_near_duplicate(test['b'][0], rng), train['t1'][1])
    for name, pairs in (('train', train), ('test', test)):
        for stem, (ir, vi) in pairs.items():
            for mod, img in (('ir', ir), ('vi', vi)):
                path = tmp_path / name / mod / f'{stem}.png'
                path.parent.mkdir(parents=True, exist_ok=True)
                cv2.imwrite(str(path), img)
    prefix = {'ir': 'ir', 'vi': 'vi'}
    monkeypatch.setitem(
        REAL_FUSION_SOURCES, 'synthetic',
        (FusionSet('train', 'train', prefix),
         (FusionSet('test', 'test', prefix), )))
    return tmp_path


def test_synthetic_duplicates_caught(synthetic):
    splits = make_fusion_splits('synthetic', str(synthetic))
    excluded = {m.stem: m for m in splits['excluded']}
    assert sorted(excluded) == ['t0', 't1']
    assert excluded['t0'].exact and excluded['t0'].distance == 0.0
    assert excluded['t0'].test == 'test/a'
    near = excluded['t1']
    assert not near.exact and near.test == 'test/b'
    assert near.modality == 'ir' and 0 < near.distance <= NEAR_DUP_THRESHOLD
    # the unrelated scenes are far above the threshold and kept
    others = [m for m in splits['matches'] if m.stem not in excluded]
    assert min(m.distance for m in others) > 3 * NEAR_DUP_THRESHOLD
    assert splits['train'] == ['t2', 't3', 't4', 't5']
    assert splits['search_weights'] == ['t2', 't4']
    assert splits['search_arch'] == ['t3', 't5']
    assert splits['test'] == ['a', 'b']


def test_synthetic_deterministic(synthetic):
    splits = make_fusion_splits('synthetic', str(synthetic))
    first = split_file_texts('synthetic', splits, NEAR_DUP_THRESHOLD)
    second = split_file_texts(
        'synthetic', make_fusion_splits('synthetic', str(synthetic)),
        NEAR_DUP_THRESHOLD)
    assert first == second
    near = splits['excluded'][1].distance
    assert first['excluded'].splitlines()[2:] == [
        't0 test/a ir 0.0000 exact', f't1 test/b ir {near:.4f} near'
    ]
    assert first['train'].splitlines()[2:] == ['t2', 't3', 't4', 't5']


def test_grey_stored_as_colour_hashes_as_grey():
    grey = np.arange(12, dtype=np.uint8).reshape(3, 4)
    assert pixel_sha256(np.dstack([grey] * 3)) == pixel_sha256(grey)
    colour = np.dstack([grey, grey, grey + 1])
    assert pixel_sha256(colour) != pixel_sha256(grey)


def test_corrupt_image_named(synthetic):
    bad = synthetic / 'train' / 'vi' / 't3.png'
    bad.write_bytes(b'not a png')
    with pytest.raises(OSError, match=r'cannot decode image .*t3\.png'):
        make_fusion_splits('synthetic', str(synthetic))


def _read_list(path):
    with open(path, encoding='utf-8') as f:
        return [ln.split()[0] for ln in f
                if ln.strip() and not ln.startswith('#')]


def _grey_thumb(path):
    """Independent of the module: grey via cv2.IMREAD_GRAYSCALE, 32x32
    area thumbnail, correlation by np.corrcoef."""
    img = cv2.imread(path, cv2.IMREAD_GRAYSCALE)
    assert img is not None, path
    return cv2.resize(img.astype(np.float64), (32, 32),
                      interpolation=cv2.INTER_AREA).ravel()


@pytest.mark.parametrize('source', sorted(REAL_FUSION_SOURCES))
def test_no_test_image_in_training(source, shared_data):
    """Every test image is farther than the threshold from every image of
    the committed train / search lists (exact copies have r = 1)."""
    root = osp.join(shared_data, 'fusion')
    train_set, test_sets = REAL_FUSION_SOURCES[source]
    lists = {
        name: _read_list(osp.join(SPLIT_DIR, source, f'{name}.txt'))
        for name in ('train', 'search_weights', 'search_arch')
    }
    assert sorted(lists['search_weights'] + lists['search_arch']) == \
        lists['train']
    for mod, sub in train_set.prefix.items():
        folder = osp.join(root, train_set.root, sub)
        files = {osp.splitext(f)[0]: f for f in os.listdir(
            folder)}
        train = np.stack(
            [_grey_thumb(osp.join(folder, files[s])) for s in lists['train']])
        for test_set in test_sets:
            tfolder = osp.join(root, test_set.root, test_set.prefix[mod])
            tests = np.stack([
                _grey_thumb(osp.join(tfolder, f))
                for f in sorted(os.listdir(tfolder))
            ])
            corr = np.corrcoef(train, tests)[:len(train), len(train):]
            assert (1 - corr).min() > NEAR_DUP_THRESHOLD, (
                source, mod, test_set.name, (1 - corr).min())


@pytest.mark.parametrize('source', sorted(REAL_FUSION_SOURCES))
def test_split_files_equal_regeneration(source, shared_data):
    splits = make_fusion_splits(source, osp.join(shared_data, 'fusion'))
    texts = split_file_texts(source, splits, NEAR_DUP_THRESHOLD)
    for name in SPLIT_FILES:
        with open(osp.join(SPLIT_DIR, source, f'{name}.txt'),
                  encoding='utf-8') as f:
            assert f.read() == texts[name], (source, name)


@pytest.mark.parametrize('source', sorted(REAL_FUSION_SOURCES))
def test_dataset_config_reads_the_split_lists(source, shared_data):
    """configs/_base_/datasets/<source>_fusion.py: train / search halves
    from the training set's lists, val / test = the test set."""
    from mmengine.config import Config
    from mmengine.registry import init_default_scope

    from mmfusenas.registry import DATASETS
    init_default_scope('mmfusenas')
    cfg = Config.fromfile(
        osp.join(REPO, 'configs', '_base_', 'datasets',
                 f'{source}_fusion.py'))
    assert '_delete_' not in repr(cfg._cfg_dict.to_dict())
    train_set, test_sets = REAL_FUSION_SOURCES[source]
    for key, name in (('train', 'train'), ('search_weights',
                                           'search_weights'),
                      ('search_arch', 'search_arch')):
        ds_cfg = cfg.train_dataloader.dataset if key == 'train' else \
            cfg[f'{key}_dataset']
        dataset = DATASETS.build(ds_cfg)
        stems = [dataset.get_data_info(i)['stem']
                 for i in range(len(dataset))]
        assert stems == sorted(
            _read_list(osp.join(SPLIT_DIR, source, f'{name}.txt')))
        assert dataset.data_root.rstrip('/').endswith(train_set.root)
        assert list(ds_cfg.data_prefix) == list(train_set.prefix)
    test = DATASETS.build(cfg.test_dataloader.dataset)
    assert test.data_root.rstrip('/').endswith(test_sets[0].root)
    assert len(test) == len(
        _read_list(osp.join(SPLIT_DIR, source, 'test.txt')))


def test_tool_writes_the_committed_lists(tmp_path, shared_data):
    tool = load_tool('tools/dataset_converters/make_fusion_splits.py')
    tool.main(['--data-root', osp.join(shared_data, 'fusion'), '--out',
               str(tmp_path), '--sources', 'harvard_ct'])
    for name in SPLIT_FILES:
        with open(osp.join(SPLIT_DIR, 'harvard_ct', f'{name}.txt')) as f:
            assert (tmp_path / 'harvard_ct' / f'{name}.txt').read_text() \
                == f.read(), name
