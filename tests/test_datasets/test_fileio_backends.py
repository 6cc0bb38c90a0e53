"""Datasets and image loading go through mmengine.fileio (``backend_args``):
datasets on a storage backend that is not the local disk (an in-memory
backend), equal to the same files read from disk."""
import os
import os.path as osp
from typing import Dict, Iterator, List, Optional, Tuple, Union

import cv2
import numpy as np
import pytest
from mmengine.fileio import BaseStorageBackend, register_backend

from mmfusenas.datasets import PairedImageDataset
from mmfusenas.datasets.paired_image_dataset import detect_layout
from mmfusenas.datasets.transforms import LoadPairedImages

BACKEND = 'mmfusenas_test_memory'
ROOT = '/no/such/disk/folder/pairs'  # exists only in the memory backend


class MemoryBackend(BaseStorageBackend):
    """Files held in a dict (no disk), recording every call."""

    files: Dict[str, bytes] = {}
    calls: List[Tuple[str, str]] = []

    def __init__(self, **kwargs) -> None:
        pass

    def _record(self, name: str, path) -> str:
        path = str(path).rstrip('/')
        self.calls.append((name, path))
        return path

    def get(self, filepath) -> bytes:
        path = self._record('get', filepath)
        if path not in self.files:
            raise FileNotFoundError(path)
        return self.files[path]

    def get_text(self, filepath, encoding: str = 'utf-8') -> str:
        return self.get(filepath).decode(encoding)

    def exists(self, filepath) -> bool:
        return self.isfile(filepath) or self.isdir(filepath)

    def isdir(self, filepath) -> bool:
        path = self._record('isdir', filepath) + '/'
        return any(key.startswith(path) for key in self.files)

    def isfile(self, filepath) -> bool:
        return self._record('isfile', filepath) in self.files

    def join_path(self, filepath, *filepaths) -> str:
        return '/'.join([str(filepath).rstrip('/')] +
                        [str(p).strip('/') for p in filepaths])

    def list_dir_or_file(self,
                         dir_path,
                         list_dir: bool = True,
                         list_file: bool = True,
                         suffix: Optional[Union[str, Tuple[str]]] = None,
                         recursive: bool = False) -> Iterator[str]:
        root = self._record('list', dir_path) + '/'
        entries = set()
        for key in self.files:
            if key.startswith(root):
                head, sep, _ = key[len(root):].partition('/')
                if sep and list_dir:
                    entries.add(head)
                elif not sep and list_file:
                    entries.add(head)
        yield from sorted(entries)


register_backend(BACKEND, MemoryBackend, force=True)
BACKEND_ARGS = dict(backend=BACKEND)


def png(arr: np.ndarray) -> bytes:
    ok, buf = cv2.imencode('.png', arr)
    assert ok
    return buf.tobytes()


@pytest.fixture
def memory_pairs():
    rng = np.random.default_rng(0)
    images = {}
    MemoryBackend.files.clear()
    MemoryBackend.calls.clear()
    for stem in ('a', 'b', 'c'):
        ir = rng.integers(0, 256, (6, 8), dtype=np.uint8)
        vi = rng.integers(0, 256, (6, 8, 3), dtype=np.uint8)
        images[stem] = (ir, vi)
        MemoryBackend.files[f'{ROOT}/ir/{stem}.png'] = png(ir)
        MemoryBackend.files[f'{ROOT}/vi/{stem}.png'] = png(vi)
    # ignored: a hidden file, a file of another type, a sub-folder's file
    MemoryBackend.files[f'{ROOT}/ir/._a.png'] = b'junk'
    MemoryBackend.files[f'{ROOT}/ir/notes.txt'] = b'junk'
    MemoryBackend.files[f'{ROOT}/vi/extra/a.png'] = b'junk'
    MemoryBackend.files[f'{ROOT}/split.txt'] = b'# val\nc\na\n'
    yield images
    MemoryBackend.files.clear()
    MemoryBackend.calls.clear()


def test_paired_dataset_lists_reads_and_loads_through_the_backend(
        memory_pairs):
    assert not osp.exists(ROOT)
    dataset = PairedImageDataset(
        data_root=ROOT,
        data_prefix=dict(ir='ir', vi='vi'),
        ann_file='split.txt',
        check_sizes=True,
        backend_args=BACKEND_ARGS,
        pipeline=[dict(type='LoadPairedImages', backend_args=BACKEND_ARGS)])
    assert [dataset.get_data_info(i)['stem'] for i in range(2)] == ['a', 'c']
    assert dataset.get_data_info(0)['img_path'] == dict(
        ir=f'{ROOT}/ir/a.png', vi=f'{ROOT}/vi/a.png')
    sample = dataset[1]
    ir, vi = memory_pairs['c']
    assert np.array_equal(sample['ir'][..., 0], ir)
    assert np.array_equal(sample['vi'], vi[..., ::-1])  # BGR file -> RGB
    called = {name for name, _ in MemoryBackend.calls}
    assert {'list', 'isdir', 'isfile', 'get'} <= called
    assert ('get', f'{ROOT}/split.txt') in MemoryBackend.calls
    assert ('get', f'{ROOT}/vi/c.png') in MemoryBackend.calls


def test_layout_detection_through_the_backend(memory_pairs):
    assert dict(detect_layout(ROOT, BACKEND_ARGS)) == dict(ir='ir', vi='vi')
    assert ('list', ROOT) in MemoryBackend.calls
    with pytest.raises(FileNotFoundError, match='is not a folder'):
        detect_layout(ROOT + '_missing', BACKEND_ARGS)


def test_load_errors_name_the_file_on_any_backend(memory_pairs):
    load = LoadPairedImages(backend_args=BACKEND_ARGS)
    with pytest.raises(FileNotFoundError, match=r"'/no/such/disk/folder/"
                       r"pairs/ir/z.png' \(modality 'ir'\) does not exist"):
        load(dict(img_path=dict(ir=f'{ROOT}/ir/z.png')))
    with pytest.raises(OSError, match='cannot decode'):
        load(dict(img_path=dict(ir=f'{ROOT}/ir/notes.txt')))
    assert 'backend_args=' in repr(load)


def test_default_backend_is_inferred_from_the_path(tmp_path):
    """``backend_args=None`` (the default) reads plain paths from disk."""
    arr = np.arange(48, dtype=np.uint8).reshape(6, 8)
    for mod in ('ir', 'vi'):
        (tmp_path / mod).mkdir()
        assert cv2.imwrite(str(tmp_path / mod / 'x.png'), arr)
    dataset = PairedImageDataset(
        data_root=str(tmp_path), pipeline=[dict(type='LoadPairedImages')])
    assert dataset.backend_args is None
    assert np.array_equal(dataset[0]['vi'][..., 0], arr)


def test_coco_detection_annotations_through_the_backend(memory_pairs):
    import json

    from mmfusenas.datasets import PairedDetDataset
    MemoryBackend.files[f'{ROOT}/ann.json'] = json.dumps(dict(
        images=[dict(id=3, file_name='a.png', width=8, height=6)],
        annotations=[dict(id=1, image_id=3, category_id=2,
                          bbox=[3, 1.5, 2, 3])],
        categories=[dict(id=1, name='person'),
                    dict(id=2, name='car')])).encode()
    dataset = PairedDetDataset(
        data_root=ROOT,
        data_prefix=dict(ir='ir', vi='vi'),
        ann_file='ann.json',
        backend_args=BACKEND_ARGS)
    assert dataset.metainfo['classes'] == ('person', 'car')
    info = dataset.get_data_info(0)
    assert (info['stem'], info['width'], info['height']) == ('a', 8, 6)
    (inst, ) = info['instances']
    assert inst['bbox'] == [3, 1.5, 5, 4.5] and inst['bbox_label'] == 1
    assert ('get', f'{ROOT}/ann.json') in MemoryBackend.calls
    assert ('isfile', f'{ROOT}/vi/a.png') in MemoryBackend.calls
    # an image the backend lacks is named
    MemoryBackend.files.pop(f'{ROOT}/vi/a.png')
    with pytest.raises(FileNotFoundError, match=f'\n  {ROOT}/vi/a.png'):
        PairedDetDataset(data_root=ROOT, data_prefix=dict(ir='ir', vi='vi'),
                         ann_file='ann.json', backend_args=BACKEND_ARGS)


def test_label_maps_through_the_backend(memory_pairs):
    from mmfusenas.datasets.transforms import LoadPairedAnnotations
    seg = np.zeros((6, 8), np.uint8)
    seg[2:4, 3:6] = 1
    MemoryBackend.files[f'{ROOT}/seg/a.png'] = png(seg)
    load = LoadPairedAnnotations(
        with_bbox=False, with_label=False, with_seg=True,
        backend_args=BACKEND_ARGS)
    out = load(dict(seg_map_path=f'{ROOT}/seg/a.png', img_shape=(6, 8),
                    stem='a', reduce_zero_label=False, label_map=None,
                    num_classes=2, ignore_index=255))
    assert np.array_equal(out['gt_seg_map'], seg)
    with pytest.raises(FileNotFoundError, match='label map .* does not'):
        load(dict(seg_map_path=f'{ROOT}/seg/z.png', img_shape=(6, 8)))


def test_lowlight_layout_and_images_through_the_backend(memory_pairs):
    from mmfusenas.datasets import HazeDataset, LowLightDataset
    rng = np.random.default_rng(1)
    low = rng.integers(0, 256, (4, 5, 3), dtype=np.uint8)
    MemoryBackend.files[f'{ROOT}/lol/low/x.png'] = png(low)
    MemoryBackend.files[f'{ROOT}/lol/high/x.png'] = png(low // 2)
    MemoryBackend.files[f'{ROOT}/haze/hazy/y_1.png'] = png(low)
    MemoryBackend.files[f'{ROOT}/haze/clear/y.png'] = png(low)
    pipeline = [dict(type='LoadEnhanceImages', backend_args=BACKEND_ARGS)]
    dataset = LowLightDataset(data_root=f'{ROOT}/lol', pipeline=pipeline,
                              backend_args=BACKEND_ARGS)
    assert dataset.modalities == ('low', 'gt')  # {low,high} detected
    sample = dataset[0]
    assert np.array_equal(sample['low'], low[..., ::-1])  # BGR file -> RGB
    assert np.array_equal(sample['gt'], (low // 2)[..., ::-1])
    haze = HazeDataset(data_root=f'{ROOT}/haze', backend_args=BACKEND_ARGS)
    assert haze.get_data_info(0)['img_path'] == dict(
        low=f'{ROOT}/haze/hazy/y_1.png', gt=f'{ROOT}/haze/clear/y.png')


def test_darkface_folder_dataset_through_the_backend(memory_pairs):
    from mmfusenas.datasets import DarkFaceDataset
    img = np.zeros((6, 8, 3), np.uint8)
    MemoryBackend.files[f'{ROOT}/dark/image/1.png'] = png(img)
    MemoryBackend.files[f'{ROOT}/dark/label/1.txt'] = b'1\n1 1 5 4\n'
    dataset = DarkFaceDataset(data_root=f'{ROOT}/dark',
                              backend_args=BACKEND_ARGS)
    info = dataset.get_data_info(0)
    assert (info['img_path'], info['width'], info['height']) == (
        f'{ROOT}/dark/image/1.png', 8, 6)
    assert [i['bbox'] for i in info['instances']] == [[1.0, 1.0, 5.0, 4.0]]
    assert ('get', f'{ROOT}/dark/label/1.txt') in MemoryBackend.calls


def test_gisr_dataset_and_loading_through_the_backend(memory_pairs):
    import io

    from mmfusenas.datasets import GISRDataset
    from mmfusenas.datasets.transforms import LoadGISRSample
    rgb = np.full((4, 4, 3), 7, np.uint8)
    depth = np.arange(16, dtype=np.float32).reshape(4, 4)
    buf = io.BytesIO()
    np.save(buf, depth)
    MemoryBackend.files[f'{ROOT}/nyu/RGB/1.png'] = png(rgb)
    MemoryBackend.files[f'{ROOT}/nyu/Depth/1.npy'] = buf.getvalue()
    dataset = GISRDataset(
        data_root=f'{ROOT}/nyu', backend_args=BACKEND_ARGS,
        pipeline=[LoadGISRSample(backend_args=BACKEND_ARGS)])
    sample = dataset[0]
    assert sample['sample_id'] == '1'
    assert np.array_equal(sample['gt'], depth)
    assert np.array_equal(sample['rgb'], rgb)


def test_deblur_images_and_levin_mats_through_the_backend(memory_pairs):
    import io

    from scipy.io import savemat

    from mmfusenas.datasets import LevinDataset, list_images, read_image
    assert list_images(f'{ROOT}/ir', BACKEND_ARGS) == [
        f'{ROOT}/ir/a.png', f'{ROOT}/ir/b.png', f'{ROOT}/ir/c.png']
    ir, _ = memory_pairs['b']
    assert np.array_equal(
        read_image(f'{ROOT}/ir/b.png', backend_args=BACKEND_ARGS),
        ir / 255.0)
    x = np.random.default_rng(2).random((12, 12))
    f = np.ones((3, 3)) / 9
    buf = io.BytesIO()
    savemat(buf, dict(x=x, y=x, f=f))
    MemoryBackend.files[f'{ROOT}/levin/im01_flit01.mat'] = buf.getvalue()
    levin = LevinDataset(f'{ROOT}/levin', backend_args=BACKEND_ARGS)
    assert [d['mat_path'] for d in levin.data_list] == [
        f'{ROOT}/levin/im01_flit01.mat']
    sample = levin[0]
    assert sample['data_samples'].gt_img.shape[-2:] == (12, 12)


@pytest.fixture
def memory():
    MemoryBackend.files.clear()
    MemoryBackend.calls.clear()
    yield MemoryBackend
    MemoryBackend.files.clear()
    MemoryBackend.calls.clear()


def mirror(local_root, root: str = ROOT) -> None:
    """Copy every file under ``local_root`` into the memory backend under
    ``root`` (same relative paths)."""
    local_root = str(local_root)
    for folder, _, names in os.walk(local_root):
        for name in names:
            path = osp.join(folder, name)
            rel = osp.relpath(path, local_root).replace(os.sep, '/')
            with open(path, 'rb') as f:
                MemoryBackend.files[f'{root}/{rel}'] = f.read()


def remote(path: str, local_root) -> str:
    """The memory-backend path of a file under ``local_root``."""
    return ROOT + path[len(str(local_root)):]


def assert_items_equal(a, b) -> None:
    """Two dataset items hold equal tensors / values (paths aside)."""
    assert np.array_equal(a['inputs'].numpy(), b['inputs'].numpy())
    sa, sb = a['data_samples'], b['data_samples']
    assert set(sa.keys()) == set(sb.keys())
    for key in sa.keys():
        va, vb = sa.get(key), sb.get(key)
        if hasattr(va, 'numpy'):
            assert np.array_equal(va.numpy(), vb.numpy()), key
        else:
            assert va == vb, key


def _write_kernels(folder) -> None:
    from scipy.io import savemat
    folder.mkdir(parents=True)
    np.save(folder / 'a.npy', np.ones((3, 3)))
    np.savetxt(folder / 'b.dlm', 2 * np.eye(5))
    k16 = np.zeros((7, 7), np.uint16)
    k16[2:5, 3] = 1000
    k16[3, 2:5] = 3000
    assert cv2.imwrite(str(folder / 'c.png'), k16)  # 16-bit kernel image
    stack = np.random.default_rng(3).random((5, 5, 2))
    savemat(str(folder / 'd.mat'), dict(kernels=stack))
    (folder / '._a.npy').write_bytes(b'junk')  # hidden: skipped
    (folder / 'notes.md').write_bytes(b'junk')  # not a kernel: skipped


def test_kernel_sources_through_the_backend(tmp_path, memory):
    from mmfusenas.datasets import load_kernels
    _write_kernels(tmp_path / 'kernels')
    mirror(tmp_path)
    assert not osp.exists(ROOT)
    on_disk = load_kernels(str(tmp_path / 'kernels'))
    remote_ks = load_kernels(f'{ROOT}/kernels', backend_args=BACKEND_ARGS)
    assert [k.shape for k in on_disk] == [(3, 3), (5, 5), (7, 7), (5, 5),
                                          (5, 5)]
    assert len(remote_ks) == len(on_disk)
    assert all(np.array_equal(x, y) for x, y in zip(on_disk, remote_ks))
    np.testing.assert_allclose(remote_ks[1], np.eye(5) / 5)
    assert ('list', f'{ROOT}/kernels') in memory.calls
    assert ('get', f'{ROOT}/kernels/d.mat') in memory.calls
    assert ('get', f'{ROOT}/kernels/._a.npy') not in memory.calls
    single = load_kernels([f'{ROOT}/kernels/c.png'], backend_args=BACKEND_ARGS)
    assert np.array_equal(single[0], on_disk[2])
    with pytest.raises(FileNotFoundError, match='kernels/z.npy does not'):
        load_kernels(f'{ROOT}/kernels/z.npy', backend_args=BACKEND_ARGS)


def test_synthetic_deblur_kernels_through_the_backend(tmp_path, memory):
    from mmfusenas.datasets import SyntheticDeblurDataset
    rng = np.random.default_rng(4)
    (tmp_path / 'img').mkdir()
    assert cv2.imwrite(str(tmp_path / 'img' / 'x.png'),
                       rng.integers(0, 256, (24, 24), dtype=np.uint8))
    _write_kernels(tmp_path / 'kernels')
    mirror(tmp_path)
    kwargs = dict(crop_size=16, kernel_pad=9, length=3, fixed=True)
    disk = SyntheticDeblurDataset(str(tmp_path / 'img'),
                                  str(tmp_path / 'kernels'), **kwargs)
    mem = SyntheticDeblurDataset(f'{ROOT}/img', f'{ROOT}/kernels',
                                 backend_args=BACKEND_ARGS, **kwargs)
    assert all(np.array_equal(x, y) for x, y in zip(disk.kernels,
                                                    mem.kernels))
    for i in range(3):
        assert_items_equal(disk[i], mem[i])


def test_restoration_folder_through_the_backend(tmp_path, memory):
    from mmfusenas.datasets import RestorationFolderDataset
    from mmfusenas.datasets.restoration_folder_dataset import \
        restoration_sample
    rng = np.random.default_rng(5)
    for d in ('blurry', 'gt', 'kernels'):
        (tmp_path / d).mkdir()
    for i in (1, 2):
        img = rng.integers(0, 256, (12, 10, 3), dtype=np.uint8)
        assert cv2.imwrite(str(tmp_path / 'blurry' / f'rain-00{i}.png'), img)
        assert cv2.imwrite(str(tmp_path / 'gt' / f'norain-00{i}.png'),
                           img // 2)
    np.save(tmp_path / 'kernels' / 'rain-001.npy', np.ones((3, 3)))
    np.savetxt(tmp_path / 'kernels' / 'rain-002.txt', np.eye(3))
    mirror(tmp_path)
    kwargs = dict(color=True, noise_sigma=0.01)
    disk = RestorationFolderDataset(
        str(tmp_path / 'blurry'), str(tmp_path / 'kernels'),
        str(tmp_path / 'gt'), **kwargs)
    mem = RestorationFolderDataset(
        f'{ROOT}/blurry', f'{ROOT}/kernels', f'{ROOT}/gt',
        backend_args=BACKEND_ARGS, **kwargs)
    infos = [(disk.get_data_info(i), mem.get_data_info(i)) for i in (0, 1)]
    assert [m['img_path'] for _, m in infos] == [
        {k: remote(f, tmp_path) for k, f in d['img_path'].items()}
        for d, _ in infos]
    assert [m['kernel'] for _, m in infos] == [
        f'{ROOT}/kernels/rain-001.npy', f'{ROOT}/kernels/rain-002.txt']
    for i in range(2):
        assert_items_equal(disk[i], mem[i])
    assert mem[0]['data_samples'].crop_pad == (1, 1, 1, 1)
    one = restoration_sample(f'{ROOT}/blurry/rain-002.png',
                             f'{ROOT}/kernels/rain-001.npy',
                             backend_args=BACKEND_ARGS)
    assert_items_equal(
        one,
        restoration_sample(str(tmp_path / 'blurry' / 'rain-002.png'),
                           str(tmp_path / 'kernels' / 'rain-001.npy')))
    with pytest.raises(FileNotFoundError, match='kernel folder / file'):
        RestorationFolderDataset(f'{ROOT}/blurry', f'{ROOT}/nokernels',
                                 backend_args=BACKEND_ARGS)
    with pytest.raises(FileNotFoundError, match="no kernel for 'rain-001'"):
        RestorationFolderDataset(f'{ROOT}/blurry', f'{ROOT}/gt',
                                 backend_args=BACKEND_ARGS)


def test_derain_dehaze_datasets_through_the_backend(tmp_path, memory):
    from mmfusenas.datasets import (PairedRestorationDataset,
                                    SyntheticHazeDataset,
                                    SyntheticRainDataset)
    rng = np.random.default_rng(6)
    for d in ('rgb', 'depth', 'sots/hazy', 'sots/clear'):
        (tmp_path / d).mkdir(parents=True)
    for name in ('p', 'q'):
        rgb = rng.integers(0, 256, (20, 24, 3), dtype=np.uint8)
        depth = rng.integers(1, 60000, (20, 24), dtype=np.uint16)
        assert cv2.imwrite(str(tmp_path / 'rgb' / f'{name}_c.png'), rgb)
        assert cv2.imwrite(str(tmp_path / 'depth' / f'{name}_d.png'), depth)
        assert cv2.imwrite(str(tmp_path / 'sots/hazy' / f'{name}_0.8.png'),
                           rgb)
        assert cv2.imwrite(str(tmp_path / 'sots/clear' / f'{name}.png'),
                           rgb // 3)
    mirror(tmp_path)
    rain = dict(crop_size=16, length=2, fixed=True)
    disk = SyntheticRainDataset(str(tmp_path / 'rgb'), **rain)
    mem = SyntheticRainDataset(f'{ROOT}/rgb', backend_args=BACKEND_ARGS,
                               **rain)
    haze = dict(rgb_suffix='_c', depth_suffix='_d', crop_size=16, length=2,
                fixed=True)
    disk_h = SyntheticHazeDataset(str(tmp_path / 'rgb'),
                                  str(tmp_path / 'depth'), **haze)
    mem_h = SyntheticHazeDataset(f'{ROOT}/rgb', f'{ROOT}/depth',
                                 backend_args=BACKEND_ARGS, **haze)
    assert [d['depth_path'] for d in mem_h.data_list] == [
        f'{ROOT}/depth/p_d.png', f'{ROOT}/depth/q_d.png']
    disk_p = PairedRestorationDataset(str(tmp_path / 'sots'), 'sots')
    mem_p = PairedRestorationDataset(f'{ROOT}/sots', 'sots',
                                     backend_args=BACKEND_ARGS)
    assert [mem_p.get_data_info(i)['img_path'] for i in (0, 1)] == [
        {k: remote(f, tmp_path)
         for k, f in disk_p.get_data_info(i)['img_path'].items()}
        for i in (0, 1)]
    for a, b in ((disk, mem), (disk_h, mem_h), (disk_p, mem_p)):
        for i in range(2):
            assert_items_equal(a[i], b[i])
    assert ('get', f'{ROOT}/depth/q_d.png') in memory.calls
    assert ('isdir', f'{ROOT}/sots/hazy') in memory.calls
    memory.files[f'{ROOT}/depth/p_d.png'] = b'not an image'
    broken = SyntheticHazeDataset(f'{ROOT}/rgb', f'{ROOT}/depth',
                                  backend_args=BACKEND_ARGS, **haze)
    with pytest.raises(ValueError, match='p_d.png: cannot be read as a '
                       'depth map'):
        broken[0]
    with pytest.raises(ValueError, match=r"needs one of the folders "
                       r"\['hazy'\]"):
        PairedRestorationDataset(f'{ROOT}/rgb', 'sots',
                                 backend_args=BACKEND_ARGS)


def test_real_fusion_splits_through_the_backend(tmp_path, memory,
                                                monkeypatch):
    from mmfusenas.datasets.real_fusion_splits import (REAL_FUSION_SOURCES,
                                                       FusionSet,
                                                       make_fusion_splits)
    from mmfusenas.utils.fileio import read_image
    rng = np.random.default_rng(7)
    small = {s: rng.uniform(0, 255, (6, 6)) for s in 'abcdef'}
    scenes = {
        s: cv2.resize(v, (40, 40)).clip(0, 255).astype(np.uint8)
        for s, v in small.items()
    }
    sets = dict(train=dict(t0=scenes['a'], t1=scenes['c'], t2=scenes['d'],
                           t3=scenes['e']),
                test=dict(a=scenes['a'], b=scenes['b'], f=scenes['f']))
    for name, pairs in sets.items():
        for stem, img in pairs.items():
            for mod, arr in (('ir', img), ('vi', 255 - img)):
                path = tmp_path / 'fusion' / name / mod / f'{stem}.png'
                path.parent.mkdir(parents=True, exist_ok=True)
                assert cv2.imwrite(str(path), arr)
    (tmp_path / 'fusion' / 'train' / 'ir' / '.hidden.png').write_bytes(b'x')
    mirror(tmp_path)
    prefix = {'ir': 'ir', 'vi': 'vi'}
    monkeypatch.setitem(
        REAL_FUSION_SOURCES, 'synthetic',
        (FusionSet('train', 'train', prefix),
         (FusionSet('test', 'test', prefix), )))
    disk = make_fusion_splits('synthetic', str(tmp_path / 'fusion'))
    mem = make_fusion_splits('synthetic', f'{ROOT}/fusion',
                             backend_args=BACKEND_ARGS)
    assert mem == disk
    assert [m.stem for m in mem['excluded']] == ['t0']
    assert mem['excluded'][0].exact and mem['excluded'][0].test == 'test/a'
    assert mem['test'] == ['a', 'b', 'f']
    assert ('list', f'{ROOT}/fusion/test/vi') in memory.calls
    assert ('get', f'{ROOT}/fusion/train/vi/t3.png') in memory.calls
    assert np.array_equal(
        read_image(f'{ROOT}/fusion/test/ir/b.png', 'unchanged',
                   BACKEND_ARGS), scenes['b'])
    with pytest.raises(OSError, match=r'ir/z\.png'):
        read_image(f'{ROOT}/fusion/test/ir/z.png', 'unchanged', BACKEND_ARGS)
