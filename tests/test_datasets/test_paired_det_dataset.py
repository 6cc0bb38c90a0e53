"""Tests of PairedDetDataset on the real shared samples and on bad inputs.

Expected counts and coordinates were read by hand from the raw files in
``../shared/data/detection`` (YOLO lines, the KAIST json, the LLVIP xml).
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
from toy_data.ivif import generate_toy_dataset

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


def write_img(path, h=8, w=10, channels=1):
    os.makedirs(osp.dirname(path), exist_ok=True)
    shape = (h, w) if channels == 1 else (h, w, channels)
    assert cv2.imwrite(str(path), np.full(shape, 9, np.uint8))


def write_text(path, text):
    os.makedirs(osp.dirname(path), exist_ok=True)
    with open(path, 'w') as f:
        f.write(text)
    return str(path)


def make_pairs(root, stems, h=8, w=10):
    for stem in stems:
        for mod in ('ir', 'vi'):
            write_img(osp.join(root, mod, stem + '.png'), h, w)


# ---------------------------------------------------------------------------
# YOLO: msrs17
# ---------------------------------------------------------------------------
@pytest.mark.parametrize('labels,total', [('infrared', 103), ('fusion', 90),
                                          ('visible', 48)])
def test_msrs17_yolo_counts(shared_data, labels, total):
    ds = PairedDetDataset(
        ann_format='yolo',
        data_root=osp.join(shared_data, 'detection/msrs17'),
        data_prefix=PAIRS,
        ann_dir=f'labels/{labels}')
    assert len(ds) == 17
    assert ds.metainfo['classes'] == MSRS_CLASSES  # from classes.txt
    assert ds.ann_stats['num_boxes'] == total
    assert ds.ann_stats['num_ignored'] == 0
    infos = by_stem(ds)
    assert all(info['width'] == 640 and info['height'] == 480
               for info in infos.values())
    assert [info['img_id'] for info in infos.values()] == list(range(17))
    assert infos['00001D']['ann_path'].endswith(
        f'labels/{labels}/00001D.txt')


def test_msrs17_yolo_infrared_boxes(shared_data):
    ds = PairedDetDataset(
        ann_format='yolo',
        data_root=osp.join(shared_data, 'detection/msrs17'),
        data_prefix=PAIRS,
        ann_dir='labels/infrared',
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
        atol=1e-6)
    # first box by hand: x1 = (0.700781 - 0.0289065) * 640 = 429.99968
    np.testing.assert_allclose(
        boxes_of(info)[0], [429.99968, 165.00024, 467.0, 277.00008],
        atol=1e-4)
    assert len(by_stem(ds)['00005N']['instances']) == 13


def test_msrs17_yolo_fusion_double_spaces(shared_data):
    # the fusion labels separate fields by two spaces and end lines with one
    ds = PairedDetDataset(
        ann_format='yolo',
        data_root=osp.join(shared_data, 'detection/msrs17'),
        data_prefix=PAIRS,
        ann_dir='labels/fusion',
        classes_file='classes.txt')
    info = by_stem(ds)['00001D']
    assert [i['bbox_label'] for i in info['instances']] == [0, 0, 0, 0, 2, 1,
                                                             1]
    np.testing.assert_allclose(
        boxes_of(info)[4],
        yolo_box(0.3023635786802031, 0.46002538071065996, 0.271256345177665,
                 0.20516074450084604),
        atol=1e-6)


def test_msrs17_visible_empty_files_and_filter(shared_data, mm_log):
    kwargs = dict(
        ann_format='yolo',
        data_root=osp.join(shared_data, 'detection/msrs17'),
        data_prefix=PAIRS,
        ann_dir='labels/visible')
    ds = PairedDetDataset(**kwargs)
    empty = sorted(s for s, i in by_stem(ds).items() if not i['instances'])
    assert empty == ['00858N', '01023N']  # empty txt files
    filtered = PairedDetDataset(
        filter_cfg=dict(filter_empty_gt=True), **kwargs)
    assert len(filtered) == 15
    assert filtered.ann_stats['filtered_empty'] == 2
    assert 'dropped 2 sample(s) without boxes' in mm_log.text()
    # test_mode never filters (as mmdet)
    assert len(
        PairedDetDataset(
            filter_cfg=dict(filter_empty_gt=True), test_mode=True,
            **kwargs)) == 17
    assert len(PairedDetDataset(filter_cfg=dict(min_size=480),
                                **kwargs)) == 17
    with pytest.raises(ValueError, match=r'drops every sample \(0 without '
                       'boxes, 17 smaller than min_size'):
        PairedDetDataset(filter_cfg=dict(min_size=481), **kwargs)


def test_msrs17_metainfo_subset_maps_by_name(shared_data):
    ds = PairedDetDataset(
        ann_format='yolo',
        data_root=osp.join(shared_data, 'detection/msrs17'),
        data_prefix=PAIRS,
        ann_dir='labels/infrared',
        metainfo=dict(classes=('car', 'person')))
    info = by_stem(ds)['00001D']
    assert [i['bbox_label'] for i in info['instances']] == [1, 1, 1, 0]
    # the infrared labels hold 83 persons, 8 bicycles, 12 cars
    assert ds.ann_stats['unmapped'] == {'class index 1': 8}
    assert ds.ann_stats['num_boxes'] == 95


def test_bbox_min_size_sets_ignore(shared_data):
    ds = PairedDetDataset(
        ann_format='yolo',
        data_root=osp.join(shared_data, 'detection/msrs17'),
        data_prefix=PAIRS,
        ann_dir='labels/infrared',
        filter_cfg=dict(bbox_min_size=10))
    info = by_stem(ds)['00001D']
    # the third box is 0.0125 * 640 = 8 px wide
    assert [i['ignore_flag'] for i in info['instances']] == [0, 0, 1, 0]
    assert ds.ann_stats['small_ignored'] >= 1


# ---------------------------------------------------------------------------
# COCO: kaist8
# ---------------------------------------------------------------------------
def kaist(shared_data, **kwargs):
    return PairedDetDataset(
        ann_format='coco',
        data_root=osp.join(shared_data, 'detection/kaist8'),
        data_prefix=PAIRS,
        ann_file='annotations_test20.json',
        **kwargs)


def test_kaist8_coco_boxes_and_ignore(shared_data):
    ds = kaist(
        shared_data,
        metainfo=dict(classes=('person', )),
        cat_ids={
            1: 0,
            2: 0,
            3: 0,
            4: 0
        },
        ignore_cat_ids=(2, 3, 4))
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
        bbox=[282.0, 209.0, 334.0, 320.0], bbox_label=0, ignore_flag=0)
    busy = infos['set08_V001_I02579']
    assert busy['img_id'] == 1310 and len(busy['instances']) == 19
    ignored = [i['bbox'] for i in busy['instances'] if i['ignore_flag']]
    # annotation ids 2193 ([379, 220, 62, 139]) and 2202 ([280, 219, 34, 65])
    assert ignored == [[379.0, 220.0, 441.0, 359.0],
                       [280.0, 219.0, 314.0, 284.0]]


def test_kaist8_class_sources(shared_data):
    # no classes: every json category in id order
    ds = kaist(shared_data)
    assert ds.metainfo['classes'] == ('__ignore__', 'person', 'cyclist',
                                      'people', 'person?')
    assert {i['bbox_label']
            for d in by_stem(ds).values() for i in d['instances']} == {1}
    # classes matched to the category names
    ds = kaist(shared_data, metainfo=dict(classes=('person', )))
    assert ds.ann_stats['num_boxes'] == 57
    # cat_ids as a sequence gives the label order and the class names
    ds = kaist(shared_data, cat_ids=[2, 1])
    assert ds.metainfo['classes'] == ('cyclist', 'person')
    assert {i['bbox_label']
            for d in by_stem(ds).values() for i in d['instances']} == {1}
    # categories left out are dropped and counted
    ds = kaist(shared_data, cat_ids=[2])
    assert ds.ann_stats['num_boxes'] == 0
    assert ds.ann_stats['unmapped'] == {"category 1 ('person')": 57}


def test_kaist8_cat_id_errors(shared_data):
    with pytest.raises(ValueError, match=r'cat_ids \[7\] are not categories'):
        kaist(shared_data, cat_ids=[7])
    with pytest.raises(ValueError, match='needs metainfo'):
        kaist(shared_data, cat_ids={1: 0})
    with pytest.raises(ValueError, match=r'labels outside \[0, 1\)'):
        kaist(shared_data, metainfo=dict(classes=('person', )),
              cat_ids={1: 1})
    with pytest.raises(ValueError, match="class 'dog' is not a category"):
        kaist(shared_data, metainfo=dict(classes=('dog', )))
    with pytest.raises(ValueError, match=r'ignore_cat_ids \[3\] map to no'):
        kaist(shared_data, cat_ids=[1], ignore_cat_ids=(3, ))


# ---------------------------------------------------------------------------
# VOC: llvip6
# ---------------------------------------------------------------------------
def test_llvip6_voc_boxes(shared_data):
    kwargs = dict(
        ann_format='voc',
        data_root=osp.join(shared_data, 'detection/llvip6'),
        data_prefix=PAIRS,
        ann_dir='Annotations',
        metainfo=dict(classes=('person', )))
    ds = PairedDetDataset(**kwargs)
    assert len(ds) == 6 and ds.ann_stats['num_boxes'] == 13
    infos = by_stem(ds)
    assert [len(infos[s]['instances']) for s in sorted(infos)] == [
        3, 2, 1, 5, 1, 1
    ]
    assert (infos['010005']['width'], infos['010005']['height']) == (1280,
                                                                     1024)
    # 010005.xml: (849, 405, 961, 663) (974, 133, 1076, 363)
    # (1155, 39, 1256, 270), minus one as mmdet's VOCDataset
    np.testing.assert_array_equal(
        boxes_of(infos['010005']),
        [[848, 404, 960, 662], [973, 132, 1075, 362], [1154, 38, 1255, 269]])
    # 190003.xml object #3 touches the right border: xmax 1280 -> 1279
    np.testing.assert_array_equal(
        boxes_of(infos['190003'])[3], [1214, 498, 1279, 760])
    raw = PairedDetDataset(voc_minus_one=False, **kwargs)
    np.testing.assert_array_equal(
        boxes_of(by_stem(raw)['190003'])[3], [1215, 499, 1280, 761])


def voc_xml(objects, size=(10, 8)):
    objs = ''.join(
        f'<object><name>{n}</name><difficult>{d}</difficult><bndbox>'
        f'<xmin>{b[0]}</xmin><ymin>{b[1]}</ymin><xmax>{b[2]}</xmax>'
        f'<ymax>{b[3]}</ymax></bndbox></object>' for n, d, b in objects)
    size_xml = ('' if size is None else
                f'<size><width>{size[0]}</width><height>{size[1]}</height>'
                '</size>')
    return f'<annotation>{size_xml}{objs}</annotation>'


def test_voc_difficult_unknown_names_and_header_size(tmp_path, mm_log):
    root = str(tmp_path)
    make_pairs(root, ['a'], h=8, w=10)
    write_text(
        osp.join(root, 'xml', 'a.xml'),
        voc_xml([('person', 0, (2, 2, 5, 6)), ('person', 1, (3, 3, 9, 8)),
                 ('dog', 0, (1, 1, 4, 4))],
                size=None))
    ds = PairedDetDataset(
        ann_format='voc',
        data_root=root,
        data_prefix=PAIRS,
        ann_dir='xml',
        metainfo=dict(classes=('person', )))
    info = ds[0]
    assert (info['width'], info['height']) == (10, 8)  # image header
    assert [i['ignore_flag'] for i in info['instances']] == [0, 1]
    assert ds.ann_stats['unmapped'] == {"name 'dog'": 1}
    assert "name 'dog'" in mm_log.text()


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
def coco_json(path, images, annotations, categories=None):
    cats = categories or [dict(id=1, name='person')]
    return write_text(
        path,
        json.dumps(
            dict(images=images, annotations=annotations, categories=cats)))


def test_coco_bad_inputs(tmp_path):
    root = str(tmp_path)
    make_pairs(root, ['a'])
    img = dict(id=1, file_name='a.png', width=10, height=8)
    ann = dict(id=1, image_id=1, category_id=1, bbox=[1, 1, 3, 3])

    def build(images, annotations, categories=None):
        coco_json(osp.join(root, 'ann.json'), images, annotations, categories)
        return PairedDetDataset(
            data_root=root, data_prefix=PAIRS, ann_file='ann.json')

    assert build([img], [ann]).ann_stats['num_boxes'] == 1
    with pytest.raises(ValueError, match=r'annotations\[0\] \(id=1\) refers '
                       'to image_id 5.*missing image'):
        build([img], [dict(ann, image_id=5)])
    with pytest.raises(ValueError, match=r"image id=2 \(stem 'b'\)"):
        build([img, dict(id=2, file_name='b.png')], [ann])
    with pytest.raises(ValueError, match='has category_id 3'):
        build([img], [dict(ann, category_id=3)])
    with pytest.raises(ValueError, match=r"bbox 'x'"):
        build([img], [dict(ann, bbox='x')])
    with pytest.raises(ValueError, match='bbox: expected a finite number'):
        build([img], [dict(ann, bbox=[1, 'nan', 2, 2])])
    with pytest.raises(ValueError, match='repeats an annotation id'):
        build([img], [ann, ann])
    with pytest.raises(ValueError, match='same stem'):
        build([img, dict(id=2, file_name='sub/a.jpg')], [])
    with pytest.raises(ValueError, match='has width=0'):
        build([dict(img, width=0)], [])
    write_text(osp.join(root, 'bad.json'), '{"images": [\n  {"id": 1,}\n]}')
    with pytest.raises(ValueError, match=r'not valid JSON \(line 2'):
        PairedDetDataset(data_root=root, data_prefix=PAIRS,
                         ann_file='bad.json')
    write_text(osp.join(root, 'list.json'), '[]')
    with pytest.raises(ValueError, match='not a COCO detection file'):
        PairedDetDataset(data_root=root, data_prefix=PAIRS,
                         ann_file='list.json')
    with pytest.raises(FileNotFoundError, match='nope.json'):
        PairedDetDataset(data_root=root, data_prefix=PAIRS,
                         ann_file='nope.json')


def test_coco_degenerate_and_crowd(tmp_path, mm_log):
    root = str(tmp_path)
    make_pairs(root, ['a'])
    coco_json(
        osp.join(root, 'ann.json'), [dict(id=1, file_name='a.png')], [
            dict(id=1, image_id=1, category_id=1, bbox=[1, 1, 3, 3]),
            dict(id=2, image_id=1, category_id=1, bbox=[1, 1, 0, 3]),
            dict(id=3, image_id=1, category_id=1, bbox=[20, 1, 3, 3]),
            dict(id=4, image_id=1, category_id=1, bbox=[2, 2, 3, 3],
                 iscrowd=1),
        ])
    ds = PairedDetDataset(data_root=root, data_prefix=PAIRS,
                          ann_file='ann.json')
    info = ds[0]
    assert (info['width'], info['height']) == (10, 8)  # from the header
    assert [i['ignore_flag'] for i in info['instances']] == [0, 1]
    assert ds.ann_stats['degenerate'] == 2
    assert 'dropped 2 box(es) with zero width' in mm_log.text(
        logging.WARNING)


def test_boxes_partly_outside_are_clipped_and_logged(tmp_path, mm_log):
    """Were kept unclipped and unlogged (ExDark / DARK FACE clip)."""
    root = str(tmp_path)
    make_pairs(root, ['a'])  # 10 x 8 images
    coco_json(
        osp.join(root, 'ann.json'), [dict(id=1, file_name='a.png')], [
            dict(id=1, image_id=1, category_id=1, bbox=[-2, 1, 5, 3]),
            dict(id=2, image_id=1, category_id=1, bbox=[6, 5, 6, 6]),
            dict(id=3, image_id=1, category_id=1, bbox=[1, 1, 3, 3]),
        ])
    ds = PairedDetDataset(data_root=root, data_prefix=PAIRS,
                          ann_file='ann.json')
    np.testing.assert_allclose(boxes_of(ds[0]),
                               [[0, 1, 3, 4], [6, 5, 10, 8], [1, 1, 4, 4]])
    assert ds.ann_stats['clipped'] == 2 and ds.ann_stats['degenerate'] == 0
    text = mm_log.text(logging.WARNING)
    assert 'clipped 2 box(es) partly outside the image' in text
    assert "'a': [-2.0, 1.0, 3.0, 4.0] -> [0.0, 1.0, 3.0, 4.0]" in text


def test_yolo_bad_inputs(tmp_path):
    root = str(tmp_path)
    make_pairs(root, ['a', 'b'])
    write_text(osp.join(root, 'labels', 'b.txt'), '')

    def build(text, **kwargs):
        write_text(osp.join(root, 'labels', 'a.txt'), text)
        return PairedDetDataset(
            ann_format='yolo', data_root=root, data_prefix=PAIRS,
            ann_dir='labels', **dict(dict(metainfo=dict(classes=('p', 'q'))),
                                     **kwargs))

    ds = build('1 0.5 0.5 0.2 0.5\n')
    np.testing.assert_allclose(boxes_of(ds[0]), [[4, 2, 6, 6]])
    with pytest.raises(ValueError, match=r'labels/a.txt:2: class index 2 '
                       r'out of range \[0, 2\)'):
        build('0 0.5 0.5 0.2 0.2\n2 0.5 0.5 0.2 0.2\n')
    with pytest.raises(ValueError, match='a.txt:1: expected 5 fields'):
        build('0 0.5 0.5 0.2\n')
    with pytest.raises(ValueError, match='a.txt:1: non-numeric'):
        build('0 0.5 x 0.2 0.2\n')
    with pytest.raises(ValueError, match='a.txt:1: coordinates .* not '
                       'normalised'):
        build('0 5 4 2 2\n')
    with pytest.raises(ValueError, match="needs the class names"):
        build('0 0.5 0.5 0.2 0.2\n', metainfo=None)
    write_text(osp.join(root, 'names.txt'), 'p\nq\n')
    ds = build('1 0.5 0.5 0.2 0.2\n', metainfo=None, classes_file='names.txt')
    assert ds.metainfo['classes'] == ('p', 'q')
    write_text(osp.join(root, 'names.txt'), '0 p\n2 q\n')
    with pytest.raises(ValueError, match=r'names.txt:2: class index 2 out of '
                       'order'):
        build('0 0.5 0.5 0.2 0.2\n', metainfo=None, classes_file='names.txt')
    write_text(osp.join(root, 'names.txt'), '0 p\n1 q\n')
    with pytest.raises(ValueError, match=r"metainfo classes \['r'\] are not"):
        build('0 0.5 0.5 0.2 0.2\n', metainfo=dict(classes=('r', )),
              classes_file='names.txt')


def test_yolo_duplicate_class_names_are_refused(tmp_path):
    """``person / person / car`` in classes.txt: both ``person`` lines would
    map to one label silently (issue 69); refused with the file and line."""
    root = str(tmp_path)
    make_pairs(root, ['a'])
    write_text(osp.join(root, 'labels', 'a.txt'), '0 0.5 0.5 0.2 0.2\n')
    write_text(osp.join(root, 'classes.txt'), 'person\nperson\ncar\n')
    kwargs = dict(ann_format='yolo', data_root=root, data_prefix=PAIRS,
                  ann_dir='labels', classes_file='classes.txt')
    with pytest.raises(ValueError, match=r"classes.txt:2: class 'person' "
                       r'repeats line 1'):
        PairedDetDataset(**kwargs)
    write_text(osp.join(root, 'classes.txt'), '0 person\n1 car\n2 person\n')
    with pytest.raises(ValueError, match=r"classes.txt:3: class 'person' "
                       r'repeats line 1'):
        PairedDetDataset(**kwargs)
    write_text(osp.join(root, 'classes.txt'), 'person\ncar\n')
    assert PairedDetDataset(**kwargs).metainfo['classes'] == ('person', 'car')


def test_missing_and_orphan_annotation_files(tmp_path, mm_log):
    root = str(tmp_path)
    make_pairs(root, ['a', 'b'])
    write_text(osp.join(root, 'labels', 'a.txt'), '0 0.5 0.5 0.2 0.2\n')
    kwargs = dict(
        ann_format='yolo', data_root=root, data_prefix=PAIRS,
        ann_dir='labels', metainfo=dict(classes=('p', )))
    with pytest.raises(ValueError, match=r"1 sample\(s\) have no annotation "
                       "file.*\n  'b'"):
        PairedDetDataset(**kwargs)
    ds = PairedDetDataset(on_missing_ann='empty', **kwargs)
    assert [d['stem'] for d in by_stem(ds).values()] == ['a', 'b']
    assert by_stem(ds)['b']['instances'] == [] and \
        by_stem(ds)['b']['ann_path'] is None
    assert "sample(s) without annotation file" in mm_log.text(logging.WARNING)
    ds = PairedDetDataset(on_missing_ann='skip', **kwargs)
    assert len(ds) == 1 and ds.ann_stats['missing_ann'] == ['b']
    # an annotation for an image that does not exist
    write_text(osp.join(root, 'labels', 'b.txt'), '')
    write_text(osp.join(root, 'labels', 'zz.txt'), '0 0.5 0.5 0.2 0.2\n')
    with pytest.raises(ValueError, match=r'no paired image.*\n.*zz.txt'):
        PairedDetDataset(**kwargs)
    ds = PairedDetDataset(on_orphan_ann='ignore', **kwargs)
    assert len(ds) == 2 and ds.ann_stats['unused_ann'] == ['zz']
    assert '1 annotation file(s)' in mm_log.text()
    # with a split file the other files belong to other splits
    write_text(osp.join(root, 'split.txt'), 'a\n')
    ds = PairedDetDataset(ann_file='split.txt', **kwargs)
    assert len(ds) == 1 and ds.ann_stats['unused_ann'] == ['b', 'zz']
    with pytest.raises(ValueError, match='on_orphan_ann must be one of'):
        PairedDetDataset(on_orphan_ann='skip', **kwargs)


def test_voc_bad_inputs(tmp_path):
    root = str(tmp_path)
    make_pairs(root, ['a'])

    def build(text):
        write_text(osp.join(root, 'xml', 'a.xml'), text)
        return PairedDetDataset(
            ann_format='voc', data_root=root, data_prefix=PAIRS,
            ann_dir='xml', metainfo=dict(classes=('person', )))

    with pytest.raises(ValueError, match=r'malformed VOC xml .*a.xml.* \(line '
                       '1'):
        build('<annotation><object></annotation>')
    with pytest.raises(ValueError, match='<object> #0 has no <name>'):
        build('<annotation><object><bndbox/></object></annotation>')
    with pytest.raises(ValueError, match=r"<object> #1 \('person'\) has no "
                       '<bndbox>'):
        build(voc_xml([('person', 0, (1, 1, 2, 2))])[:-len('</annotation>')] +
              '<object><name>person</name></object></annotation>')
    with pytest.raises(ValueError, match=r'<object> #0 <bndbox><xmax>: '
                       "expected a finite number, got 'abc'"):
        build(voc_xml([('person', 0, (1, 1, 'abc', 2))]))
    with pytest.raises(ValueError, match='needs metainfo'):
        PairedDetDataset(ann_format='voc', data_root=root,
                         data_prefix=PAIRS, ann_dir='xml')


def test_argument_errors(tmp_path):
    root = str(tmp_path)
    make_pairs(root, ['a'])
    with pytest.raises(ValueError, match='ann_format must be one of'):
        PairedDetDataset(ann_format='kitti', data_root=root)
    with pytest.raises(ValueError, match="'coco' needs ann_file"):
        PairedDetDataset(data_root=root)
    with pytest.raises(ValueError, match="'voc' needs ann_dir"):
        PairedDetDataset(ann_format='voc', data_root=root)
    with pytest.raises(ValueError, match='ann_dir is for'):
        PairedDetDataset(ann_file='x.json', ann_dir='xml', data_root=root)
    with pytest.raises(ValueError, match='unknown filter_cfg keys'):
        PairedDetDataset(ann_file='x.json', data_root=root,
                         filter_cfg=dict(min_area=3))
    with pytest.raises(ValueError, match='on_missing_ann must be one of'):
        PairedDetDataset(ann_file='x.json', data_root=root,
                         on_missing_ann='drop')
    with pytest.raises(ValueError, match='apply to ann_format'):
        PairedDetDataset(ann_format='yolo', ann_dir='l', data_root=root,
                         cat_ids=[1])
    with pytest.raises(FileNotFoundError, match='annotation folder'):
        PairedDetDataset(ann_format='yolo', ann_dir='nope', data_root=root,
                         data_prefix=PAIRS, metainfo=dict(classes=('p', )))
    write_text(osp.join(root, 'l', 'a.txt'), '')
    with pytest.raises(ValueError, match='collide with annotation keys'):
        os.rename(osp.join(root, 'vi'), osp.join(root, 'instances'))
        PairedDetDataset(ann_format='yolo', ann_dir='l', data_root=root,
                         data_prefix=dict(ir='ir', instances='instances'),
                         metainfo=dict(classes=('p', )))
