"""Tests of PairedDetDataset (mmdet's CocoDataset over paired folders) on
the real shared samples and on bad inputs.

Expected counts and coordinates were read by hand from the raw files in
``../shared/data/detection`` (the KAIST json, the YOLO lines); the YOLO
folders are converted by ``tools/dataset_converters/paired_to_coco.py``.
"""
import json
import logging
import os
import os.path as osp

import cv2
import numpy as np
import pytest
from mmengine.logging import MMLogger

from mmfusenas.datasets import PairedDetDataset
from mmfusenas.registry import DATASETS
from helpers.paired_files import make_pairs, write_text
from helpers import load_tool
from mmfusenas.testing.toy_data.ivif import generate_toy_dataset

PAIRS = dict(ir='ir', vi='vi')
MSRS_CLASSES = ('person', 'bicycle', 'car')


def boxes_of(info):
    return np.array([inst['bbox'] for inst in info['instances']]).reshape(
        -1, 4)


def by_stem(ds):
    return {ds[i]['stem']: ds[i] for i in range(len(ds))}


def yolo_box(cx, cy, w, h, width=640, height=480):
    return [(cx - w / 2) * width, (cy - h / 2) * height,
            (cx + w / 2) * width, (cy + h / 2) * height]


class LogCollector(logging.Handler):

    def __init__(self):
        super().__init__(level=logging.DEBUG)
        self.records = []

    def emit(self, record):
        self.records.append(record)

    def text(self, level=logging.DEBUG):
        return '\n'.join(r.getMessage() for r in self.records
                         if r.levelno >= level)


@pytest.fixture
def mm_log():
    logger = MMLogger.get_current_instance()
    handler = LogCollector()
    logger.addHandler(handler)
    yield handler
    logger.removeHandler(handler)


@pytest.fixture(scope='module')
def msrs17(shared_data, tmp_path_factory):
    """msrs17's three YOLO label sets as COCO jsons: labels -> path."""
    tool = load_tool('tools/dataset_converters/paired_to_coco.py')
    out = tmp_path_factory.mktemp('msrs17_coco')
    root = osp.join(shared_data, 'detection/msrs17')
    for labels in ('infrared', 'fusion', 'visible'):
        tool.main(['yolo', root, str(out / f'{labels}.json'), '--labels',
                   f'labels/{labels}'])
    return root, {k: str(out / f'{k}.json')
                  for k in ('infrared', 'fusion', 'visible')}


# ---------------------------------------------------------------------------
# msrs17 (YOLO, converted)
# ---------------------------------------------------------------------------
@pytest.mark.parametrize('labels,total', [('infrared', 103), ('fusion', 90),
                                          ('visible', 48)])
def test_msrs17_counts(msrs17, labels, total):
    root, jsons = msrs17
    ds = PairedDetDataset(data_root=root, data_prefix=PAIRS,
                          ann_file=jsons[labels])
    assert len(ds) == 17
    assert ds.metainfo['classes'] == MSRS_CLASSES  # the json categories
    assert ds.metainfo['modalities'] == ('ir', 'vi')
    assert ds.ann_stats['num_boxes'] == total
    assert ds.ann_stats['num_ignored'] == 0
    infos = by_stem(ds)
    assert all(info['width'] == 640 and info['height'] == 480
               for info in infos.values())
    assert [info['img_id'] for info in infos.values()] == list(range(1, 18))
    assert infos['00001D']['img_path'] == {
        m: osp.join(root, m, '00001D.png') for m in ('ir', 'vi')}
    assert infos['00001D']['ann_path'] == jsons[labels]


def test_msrs17_infrared_boxes(msrs17):
    root, jsons = msrs17
    ds = PairedDetDataset(data_root=root, data_prefix=PAIRS,
                          ann_file=jsons['infrared'],
                          metainfo=dict(classes=MSRS_CLASSES))
    info = by_stem(ds)['00001D']
    # labels/infrared/00001D.txt:
    # 0 0.700781 0.460417 0.057813 0.233333
    # 0 0.343750 0.547917 0.206250 0.620833
    # 0 0.745313 0.417708 0.012500 0.039583
    # 2 0.266406 0.492708 0.201563 0.193750
    assert [i['bbox_label'] for i in info['instances']] == [0, 0, 0, 2]
    np.testing.assert_allclose(
        boxes_of(info), [
            yolo_box(0.700781, 0.460417, 0.057813, 0.233333),
            yolo_box(0.343750, 0.547917, 0.206250, 0.620833),
            yolo_box(0.745313, 0.417708, 0.012500, 0.039583),
            yolo_box(0.266406, 0.492708, 0.201563, 0.193750)
        ],
        rtol=0,
        atol=1e-9)
    # first box by hand: x1 = (0.700781 - 0.0289065) * 640 = 429.99968
    np.testing.assert_allclose(
        boxes_of(info)[0], [429.99968, 165.00024, 467.0, 277.00008],
        atol=1e-4)
    assert len(by_stem(ds)['00005N']['instances']) == 13


def test_msrs17_classes_subset_maps_by_name(msrs17, mm_log):
    root, jsons = msrs17
    ds = PairedDetDataset(data_root=root, data_prefix=PAIRS,
                          ann_file=jsons['infrared'],
                          metainfo=dict(classes=('car', 'person')))
    info = by_stem(ds)['00001D']
    assert [i['bbox_label'] for i in info['instances']] == [1, 1, 1, 0]
    # the infrared labels hold 83 persons, 8 bicycles, 12 cars
    assert ds.ann_stats['unmapped'] == {'bicycle': 8}
    assert ds.ann_stats['num_boxes'] == 95
    assert "other categories left out: {'bicycle': 8}" in mm_log.text()


def test_msrs17_visible_empty_and_filter(msrs17, mm_log):
    root, jsons = msrs17
    kwargs = dict(data_root=root, data_prefix=PAIRS,
                  ann_file=jsons['visible'])
    ds = PairedDetDataset(**kwargs)
    empty = sorted(s for s, i in by_stem(ds).items() if not i['instances'])
    assert empty == ['00858N', '01023N']  # empty txt files
    filtered = PairedDetDataset(
        filter_cfg=dict(filter_empty_gt=True), **kwargs)
    assert len(filtered) == 15 and filtered.ann_stats['filtered'] == 2
    assert 'drops 2 sample(s); 15 left' in mm_log.text()
    # test_mode never filters (as mmdet)
    assert len(
        PairedDetDataset(
            filter_cfg=dict(filter_empty_gt=True), test_mode=True,
            **kwargs)) == 17
    assert len(PairedDetDataset(filter_cfg=dict(min_size=480),
                                **kwargs)) == 17
    with pytest.raises(ValueError, match=r"filter_cfg \{'min_size': 481\} "
                       'drops every sample of'):
        PairedDetDataset(filter_cfg=dict(min_size=481), **kwargs)


# ---------------------------------------------------------------------------
# KAIST's own json, read as it is
# ---------------------------------------------------------------------------
def kaist(shared_data, **kwargs):
    return PairedDetDataset(
        data_root=osp.join(shared_data, 'detection/kaist8'),
        data_prefix=PAIRS,
        ann_file='annotations_test20.json',
        **kwargs)


def test_kaist8_boxes_and_ignore(shared_data):
    ds = kaist(shared_data, metainfo=dict(classes=('person', )))
    assert len(ds) == 8
    assert ds.metainfo['classes'] == ('person', )
    assert ds.ann_stats['num_boxes'] == 57
    assert ds.ann_stats['num_ignored'] == 6  # the 6 'ignore': 1 records
    infos = by_stem(ds)
    first = infos['set06_V001_I00459']
    assert first['img_id'] == 98
    assert (first['width'], first['height']) == (640, 512)
    assert len(first['instances']) == 8
    # annotation id 189: bbox [282, 209, 52, 111]
    assert first['instances'][0] == dict(
        bbox=[282, 209, 334, 320], bbox_label=0, ignore_flag=0)
    busy = infos['set08_V001_I02579']
    assert busy['img_id'] == 1310 and len(busy['instances']) == 19
    ignored = [i['bbox'] for i in busy['instances'] if i['ignore_flag']]
    # annotation ids 2193 ([379, 220, 62, 139]) and 2202 ([280, 219, 34, 65])
    assert ignored == [[379, 220, 441, 359], [280, 219, 314, 284]]


def test_kaist8_class_sources(shared_data):
    # no classes: every json category in id order
    ds = kaist(shared_data)
    assert ds.metainfo['classes'] == ('__ignore__', 'person', 'cyclist',
                                      'people', 'person?')
    assert {i['bbox_label']
            for d in by_stem(ds).values() for i in d['instances']} == {1}
    # the classes are matched by name, whatever their order in the json
    ds = kaist(shared_data, metainfo=dict(classes=('cyclist', 'person')))
    assert {i['bbox_label']
            for d in by_stem(ds).values() for i in d['instances']} == {1}
    # categories that are no class are left out and counted
    ds = kaist(shared_data, metainfo=dict(classes=('cyclist', )))
    assert ds.ann_stats['num_boxes'] == 0
    assert ds.ann_stats['unmapped'] == {'person': 57}
    with pytest.raises(ValueError, match="class 'dog' is no category of "
                       ".*annotations_test20.json"):
        kaist(shared_data, metainfo=dict(classes=('dog', )))


# ---------------------------------------------------------------------------
# toy COCO
# ---------------------------------------------------------------------------
@pytest.fixture(scope='module')
def toy_root(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('toy'))
    generate_toy_dataset(root, num=8, seed=3, size=64)
    return root


def test_toy_coco_matches_json_and_masks(toy_root):
    ds = DATASETS.build(
        dict(
            type='PairedDetDataset',
            data_root=toy_root,
            data_prefix=PAIRS,
            ann_file='annotations/instances_train.json',
            metainfo=dict(classes=('person', 'car', 'bicycle', 'cone'))))
    with open(osp.join(toy_root, 'annotations/instances_train.json')) as f:
        coco = json.load(f)
    assert len(ds) == len(coco['images'])
    assert ds.ann_stats['num_boxes'] == len(coco['annotations'])
    for info in by_stem(ds).values():
        anns = [a for a in coco['annotations']
                if a['image_id'] == info['img_id']]
        inst = cv2.imread(
            osp.join(toy_root, 'instance_masks', info['stem'] + '.png'),
            cv2.IMREAD_UNCHANGED)
        assert len(anns) == len(info['instances'])
        for ann, got in zip(anns, info['instances']):
            x, y, w, h = ann['bbox']
            assert got['bbox'] == [x, y, x + w, y + h]
            assert got['bbox_label'] == ann['category_id'] - 1
            rows, cols = np.nonzero(inst == ann['instance_id'])
            assert got['bbox'] == [
                cols.min(), rows.min(), cols.max() + 1, rows.max() + 1
            ]


# ---------------------------------------------------------------------------
# bad inputs
# ---------------------------------------------------------------------------
IMG = dict(id=1, file_name='a.png', width=10, height=8)
ANN = dict(id=1, image_id=1, category_id=1, bbox=[1, 1, 3, 3])


def coco_json(path, images, annotations, categories=None):
    cats = categories or [dict(id=1, name='person')]
    return write_text(
        path,
        json.dumps(
            dict(images=images, annotations=annotations, categories=cats)))


@pytest.mark.parametrize('images,annotations,message', [
    ([IMG], [dict(ANN, image_id=5)], r'annotations\[0\] \(id=1\) refers to '
     'image_id 5, which is not among its images'),
    ([IMG], [dict(ANN, category_id=3)], r'annotations\[0\] \(id=1\) has '
     r'category_id 3, which is not among its categories \[1\]'),
    ([IMG], [dict(ANN, bbox='x')], r"annotations\[0\] \(id=1\) has bbox 'x'"),
    ([IMG], [dict(ANN, bbox=[1, float('nan'), 2, 2])], 'has bbox .*nan.*'
     'finite numbers'),
    ([IMG], [ANN, ANN], r'annotations\[1\] \(id=1\) is no dict with a unique '
     'id'),
    ([IMG, dict(IMG, file_name='b.png')], [], r'images\[1\] \(id=1\) is no '
     'dict with a unique id'),
    ([dict(IMG, width=0)], [], r'images\[0\] \(id=1\) needs a file_name and '
     'positive int width and height'),
])
def test_coco_bad_records_are_named(tmp_path, images, annotations, message):
    root = str(tmp_path)
    make_pairs(root, ['a', 'b'])
    coco_json(osp.join(root, 'ann.json'), images, annotations)
    with pytest.raises(ValueError, match=f"PairedDetDataset: '{root}/ann."
                       f"json'.* {message}"):
        PairedDetDataset(data_root=root, data_prefix=PAIRS,
                         ann_file='ann.json')


@pytest.mark.parametrize('categories', [
    [dict(id=1)],  # no name
    ['person'],  # no dict
    [dict(id=1, name='person'), dict(id=1, name='car')],  # id twice
    [dict(id='1', name='person')],
    [dict(id=1, name=3)],
])
def test_coco_bad_categories_are_named(tmp_path, categories):
    root = str(tmp_path)
    make_pairs(root, ['a'])
    coco_json(osp.join(root, 'ann.json'), [IMG], [], categories)
    bad = len(categories) - 1
    with pytest.raises(ValueError, match=f"PairedDetDataset: '{root}/ann."
                       rf"json'.* categories\[{bad}\] .* is no dict with a "
                       'unique int id and a string name'):
        PairedDetDataset(data_root=root, data_prefix=PAIRS,
                         ann_file='ann.json')


def test_coco_json_not_utf8_is_named(tmp_path):
    root = str(tmp_path)
    make_pairs(root, ['a'])
    with open(osp.join(root, 'ann.json'), 'wb') as f:
        f.write(b'{"images": [], "annotations": [], "categories": '
                b'[{"id": 1, "name": "\xe9"}]}')
    with pytest.raises(ValueError, match=f"PairedDetDataset: '{root}/ann."
                       "json': 'utf-8' codec can't decode byte 0xe9"):
        PairedDetDataset(data_root=root, data_prefix=PAIRS,
                         ann_file='ann.json')


def test_coco_bad_files(tmp_path):
    root = str(tmp_path)
    make_pairs(root, ['a'])
    kwargs = dict(data_root=root, data_prefix=PAIRS)
    write_text(osp.join(root, 'bad.json'), '{"images": [\n  {"id": 1,}\n]}')
    with pytest.raises(ValueError, match=r"bad.json': Expecting property "
                       r'name .*line 2'):
        PairedDetDataset(ann_file='bad.json', **kwargs)
    write_text(osp.join(root, 'list.json'), '[]')
    with pytest.raises(ValueError, match='not a COCO detection file'):
        PairedDetDataset(ann_file='list.json', **kwargs)
    with pytest.raises(FileNotFoundError, match='nope.json.* not found; '
                       '`python tools/dataset_converters/paired_to_coco.py`'):
        PairedDetDataset(ann_file='nope.json', **kwargs)
    # an image missing in one modality, named
    coco_json(osp.join(root, 'ann.json'),
              [IMG, dict(IMG, id=2, file_name='b.png')], [ANN])
    os.remove(osp.join(root, 'vi', 'a.png'))
    with pytest.raises(FileNotFoundError) as info:
        PairedDetDataset(ann_file='ann.json', **kwargs)
    assert str(info.value).startswith(
        f"PairedDetDataset: 3 image file(s) of '{root}/ann.json'")
    assert str(info.value).endswith(
        f'\n  {root}/vi/a.png\n  {root}/ir/b.png\n  {root}/vi/b.png')
    # the toy data command for a toy folder
    toy = osp.join(root, 'data', 'toy')
    with pytest.raises(FileNotFoundError, match='write it with `python '
                       f'tools/misc/make_toy_data.py {toy} --num 300'):
        PairedDetDataset(data_root=toy, data_prefix=PAIRS,
                         ann_file='annotations/instances_val.json')


def test_coco_degenerate_crowd_and_clipped(tmp_path, mm_log):
    root = str(tmp_path)
    make_pairs(root, ['a'])  # 10 x 8 images
    coco_json(
        osp.join(root, 'ann.json'), [IMG], [
            ANN,
            dict(ANN, id=2, bbox=[1, 1, 0, 3]),  # empty
            dict(ANN, id=3, bbox=[20, 1, 3, 3]),  # outside
            dict(ANN, id=4, bbox=[2, 2, 3, 3], iscrowd=1),
            dict(ANN, id=5, bbox=[-2, 1, 5, 3]),  # partly outside
            dict(ANN, id=6, bbox=[6, 5, 6, 6], ignore=1),
        ])
    ds = PairedDetDataset(data_root=root, data_prefix=PAIRS,
                          ann_file='ann.json')
    np.testing.assert_array_equal(
        boxes_of(ds[0]), [[1, 1, 4, 4], [2, 2, 5, 5], [0, 1, 3, 4],
                          [6, 5, 10, 8]])
    assert [i['ignore_flag'] for i in ds[0]['instances']] == [0, 1, 0, 1]
    assert ds.ann_stats['degenerate'] == 2 and ds.ann_stats['clipped'] == 2
    text = mm_log.text(logging.WARNING)
    assert f"2 box(es) of '{root}/ann.json' dropped: empty or outside it " \
        "(x1, y1, x2, y2):\n  'a' (annotation id=2): [1, 1, 1, 4]" in text
    assert "'a' (annotation id=5): [-2, 1, 3, 4] -> [0, 1, 3, 4]" in text


def test_argument_errors(tmp_path):
    root = str(tmp_path)
    make_pairs(root, ['a'])
    coco_json(osp.join(root, 'ann.json'), [IMG], [])
    with pytest.raises(ValueError, match='reads the boxes of a COCO json, '
                       'ann_file; `python tools/dataset_converters/'):
        PairedDetDataset(data_root=root)
    # the layout is detected as for PairedImageDataset
    ds = PairedDetDataset(data_root=root, ann_file='ann.json')
    assert ds.modalities == ('ir', 'vi')
    with pytest.raises(ValueError, match='collide with annotation keys'):
        os.rename(osp.join(root, 'vi'), osp.join(root, 'instances'))
        PairedDetDataset(data_root=root, ann_file='ann.json',
                         data_prefix=dict(ir='ir', instances='instances'))
    coco_json(osp.join(root, 'two.json'), [IMG], [],
              [dict(id=1, name='p'), dict(id=2, name='p')])
    with pytest.raises(ValueError, match=r"class 'p' names categories "
                       r'\[1, 2\]'):
        PairedDetDataset(data_root=root, ann_file='two.json',
                         data_prefix=PAIRS, metainfo=dict(classes=('p', )))
