"""NYU v2 .mat (HDF5) -> GISR layout, on a synthetic file of that layout."""
import importlib.util
import os.path as osp
import re

import cv2
import numpy as np
import pytest

from mmfusenas.datasets import GISRDataset

h5py = pytest.importorskip('h5py', reason='h5py (requirements/tests.txt)')
ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def _tool():
    spec = importlib.util.spec_from_file_location(
        'nyu_conv', osp.join(ROOT, 'tools', 'dataset_converters',
                             'nyu_mat_to_gisr.py'))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_synthetic_mat_round_trip(tmp_path):
    rng = np.random.default_rng(0)
    n, h, w = 5, 32, 48
    rgb = rng.integers(0, 256, (n, h, w, 3), dtype=np.uint8)
    depth = rng.uniform(0.5, 9.0, (n, h, w)).astype(np.float32)
    mat = str(tmp_path / 'nyu.mat')
    with h5py.File(mat, 'w') as f:  # MATLAB v7.3 stores column-major
        f['images'] = rgb.transpose(0, 3, 2, 1)  # (N, 3, W, H)
        f['depths'] = depth.transpose(0, 2, 1)  # (N, W, H)
    out = str(tmp_path / 'nyu')
    info = _tool().main([mat, out, '--num-train', '3'])
    assert info == dict(total=5, train=3, test=2)
    assert open(osp.join(out, 'test.txt')).read().split() == ['3', '4']
    got = cv2.cvtColor(cv2.imread(osp.join(out, 'RGB', '4.png')),
                       cv2.COLOR_BGR2RGB)
    assert np.array_equal(got, rgb[4])
    assert np.array_equal(np.load(osp.join(out, 'Depth', '4.npy')), depth[4])
    ds = GISRDataset(out, split_file='test.txt')
    assert [ds.get_data_info(i)['sample_id'] for i in range(2)] == ['3', '4']
    with h5py.File(str(tmp_path / 'bad.mat'), 'w') as f:
        f['images'] = rgb.transpose(0, 3, 2, 1)
    with pytest.raises(KeyError, match='depths'):
        _tool().main([str(tmp_path / 'bad.mat'), out])


def test_search_splits_partition_the_training_ids(tmp_path):
    """search_val (the last tenth of train) scores a search's paths; the
    supernet trains on search_train, the rest: disjoint, together train."""
    n, h, w = 11, 8, 8
    with h5py.File(str(tmp_path / 'nyu.mat'), 'w') as f:
        f['images'] = np.zeros((n, 3, w, h), np.uint8)
        f['depths'] = np.ones((n, w, h), np.float32)
    out = tmp_path / 'nyu'
    _tool().main([str(tmp_path / 'nyu.mat'), str(out), '--num-train', '10'])
    ids = {name: (out / f'{name}.txt').read_text().split()
           for name in ('train', 'search_train', 'search_val', 'test')}
    assert ids['search_val'] == ['9'] and ids['test'] == ['10']
    assert ids['search_train'] + ids['search_val'] == ids['train'] == [
        str(i) for i in range(10)]


def test_not_hdf5_is_an_error_naming_the_file(tmp_path):
    mat = tmp_path / 'v5.mat'
    mat.write_bytes(b'MATLAB 5.0 MAT-file' + b'\0' * 200)
    with pytest.raises(OSError, match=re.escape(str(mat))):
        _tool().main([str(mat), str(tmp_path / 'out')])
    assert not (tmp_path / 'out').exists()


def test_nan_depth_leaves_nothing_written(tmp_path):
    rng = np.random.default_rng(0)
    n, h, w = 4, 8, 12
    rgb = rng.integers(0, 256, (n, h, w, 3), dtype=np.uint8)
    depth = rng.uniform(0.5, 9.0, (n, h, w)).astype(np.float32)
    depth[2, 3, 4] = np.nan
    mat = str(tmp_path / 'nyu.mat')
    with h5py.File(mat, 'w') as f:
        f['images'] = rgb.transpose(0, 3, 2, 1)
        f['depths'] = depth.transpose(0, 2, 1)
    out = tmp_path / 'nyu'
    with pytest.raises(ValueError, match=re.escape(mat) + '.*depth map 2'):
        _tool().main([mat, str(out)])
    assert not out.exists()
