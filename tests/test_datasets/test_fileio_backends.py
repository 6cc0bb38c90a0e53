"""Datasets and image loading go through mmengine.fileio (``backend_args``):
a paired dataset on a storage backend that is not the local disk."""
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


def test_yolo_detection_annotations_through_the_backend(memory_pairs):
    from mmfusenas.datasets import PairedDetDataset
    MemoryBackend.files[f'{ROOT}/labels/classes.txt'] = b'person\ncar\n'
    MemoryBackend.files[f'{ROOT}/labels/a.txt'] = b'1 0.5 0.5 0.25 0.5\n'
    MemoryBackend.files[f'{ROOT}/labels/c.txt'] = b''
    MemoryBackend.files[f'{ROOT}/labels/b.txt'] = b'0 0.5 0.5 1 1\n'
    dataset = PairedDetDataset(
        ann_format='yolo',
        data_root=ROOT,
        data_prefix=dict(ir='ir', vi='vi'),
        ann_dir='labels',
        backend_args=BACKEND_ARGS)
    assert dataset.metainfo['classes'] == ('person', 'car')
    info = dataset.get_data_info(0)
    assert (info['stem'], info['width'], info['height']) == ('a', 8, 6)
    (inst, ) = info['instances']
    # cx 4, cy 3, w 2, h 3 in pixels of the 8 x 6 image
    assert inst['bbox'] == [3.0, 1.5, 5.0, 4.5] and inst['bbox_label'] == 1
    assert ('list', f'{ROOT}/labels') in MemoryBackend.calls
    assert ('get', f'{ROOT}/labels/a.txt') in MemoryBackend.calls


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
    assert levin.paths == [f'{ROOT}/levin/im01_flit01.mat']
    sample = levin[0]
    assert sample['data_samples'].gt_img.shape[-2:] == (12, 12)
