"""Low-light detection / segmentation datasets (ExDark, DARK FACE, ACDC,
Cityscapes layout) and their toy generators, read through mmdet's and
mmseg's own pipelines."""
import importlib.util
import json
import os
import os.path as osp

import numpy as np
import pytest
from mmengine.registry import DefaultScope
from PIL import Image

from mmfusenas.datasets import (EXDARK_CLASSES, ACDCDataset, DarkFaceDataset,
                                ExDarkDataset)
from mmfusenas.registry import DATASETS
from mmfusenas.testing.toy_data import (TOY_TO_CITYSCAPES, TOY_TO_EXDARK,
                                        generate_toy_acdc,
                                        generate_toy_darkface,
                                        generate_toy_exdark)
from mmfusenas.testing.toy_data.ivif import render_toy_scene
from mmfusenas.testing.toy_data.lowlight_tasks import toy_to_cityscapes

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
SIZE = 96
DET_PIPELINE = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='Resize', scale=(64, 64)),
    dict(type='PackDetInputs'),
]


def det_pipeline(cfgs=DET_PIPELINE):
    """mmdet transforms, built under mmdet's scope whatever is current."""
    from mmdet.registry import TRANSFORMS
    with DefaultScope.overwrite_default_scope('mmdet'):
        return [TRANSFORMS.build(dict(c)) for c in cfgs]


def seg_pipeline(crop=None):
    from mmseg.registry import TRANSFORMS
    cfgs = [dict(type='LoadImageFromFile'), dict(type='LoadAnnotations')]
    if crop:
        cfgs.append(dict(type='RandomCrop', crop_size=crop))
    cfgs.append(dict(type='PackSegInputs'))
    with DefaultScope.overwrite_default_scope('mmseg'):
        return [TRANSFORMS.build(c) for c in cfgs]


def read(path):
    return np.asarray(Image.open(path))


# --------------------------------------------------------------------------
# toy data, generated once per module
# --------------------------------------------------------------------------
@pytest.fixture(scope='module')
def toy(tmp_path_factory):
    root = tmp_path_factory.mktemp('toy_tasks')
    out = {}
    out['exdark'] = generate_toy_exdark(
        str(root / 'exdark'), num_train=3, num_val=2, size=SIZE, seed=3)
    out['darkface'] = generate_toy_darkface(
        str(root / 'darkface'), num_train=3, num_val=2, size=SIZE, seed=3)
    out['acdc'] = generate_toy_acdc(
        str(root / 'acdc'), num_train=3, num_val=2, size=SIZE, seed=3)
    out['cityscapes'] = generate_toy_acdc(
        str(root / 'cityscapes'),
        num_train=3,
        num_val=2,
        size=SIZE,
        seed=3,
        layout='cityscapes')
    return {k: v['out_dir'] for k, v in out.items()}


# --------------------------------------------------------------------------
# ExDark on the real samples
# --------------------------------------------------------------------------
# 2015_02446.jpg.xml, read by hand: nine 'Car' boxes (xmin, ymin, xmax, ymax)
EXDARK_02446 = [(22, 204, 159, 285), (169, 196, 235, 238),
                (243, 194, 282, 215), (284, 193, 311, 211),
                (307, 192, 331, 205), (334, 190, 355, 205),
                (422, 195, 444, 209), (446, 196, 470, 209),
                (19, 186, 129, 213)]


def test_exdark_real_samples(shared_data):
    root = osp.join(shared_data, 'lowlight', 'exdark3')
    ds = ExDarkDataset(data_root=root)
    assert ds.metainfo['classes'] == EXDARK_CLASSES
    assert EXDARK_CLASSES == ('Bicycle', 'Boat', 'Bottle', 'Bus', 'Car',
                              'Cat', 'Chair', 'Cup', 'Dog', 'Motorbike',
                              'People', 'Table')
    assert len(ds) == 3
    infos = [ds.get_data_info(i) for i in range(3)]
    assert [i['img_id'] for i in infos] == [
        '2015_00003', '2015_02446', '2015_06400'
    ]
    assert [(i['width'], i['height']) for i in infos] == [(500, 375),
                                                          (478, 359),
                                                          (640, 360)]
    # the file names of the xml include the image extension
    assert infos[1]['ann_path'].endswith('2015_02446.jpg.xml')
    car = infos[1]
    assert [i['bbox'] for i in car['instances']
            ] == [[float(v - 1) for v in box] for box in EXDARK_02446]
    assert {i['bbox_label'] for i in car['instances']} == {4}  # Car
    assert not any(i['ignore_flag'] for i in car['instances'])
    # Bicycle, Bus, Chair / People, People
    assert [i['bbox_label'] for i in infos[0]['instances']] == [0, 3, 6]
    assert infos[0]['instances'][1]['bbox'] == [2., 127., 37., 148.]
    assert [i['bbox_label'] for i in infos[2]['instances']] == [10, 10]
    assert ds.ann_stats['num_instances'] == 14

    # through a real mmdet pipeline: boxes scaled with the image
    ds = ExDarkDataset(data_root=root, pipeline=det_pipeline())
    item = ds[1]
    assert tuple(item['inputs'].shape) == (3, 64, 64)
    sample = item['data_samples']
    assert sample.ori_shape == (359, 478) and sample.img_id == '2015_02446'
    scale = np.array([64 / 478, 64 / 359] * 2)
    expected = (np.array(EXDARK_02446, np.float64) - 1) * scale
    np.testing.assert_allclose(
        sample.gt_instances.bboxes.tensor.numpy(), expected, atol=1e-3)
    assert sample.gt_instances.labels.tolist() == [4] * 9


def test_exdark_split_file_and_config_build(shared_data, tmp_path):
    root = osp.join(shared_data, 'lowlight', 'exdark3')
    split = tmp_path / 'split.txt'
    split.write_text('# comment\n2015_06400.jpg\n\n2015_00003\n')
    # built from a config of ours (default_scope='mmfusenas'), the mmdet
    # transforms named by scope prefix
    with DefaultScope.overwrite_default_scope('mmfusenas'):
        ds = DATASETS.build(
            dict(
                type='ExDarkDataset',
                data_root=root,
                ann_file=str(split),
                pipeline=[
                    dict(type='mmdet.LoadImageFromFile'),
                    dict(type='mmdet.LoadAnnotations', with_bbox=True),
                    dict(type='mmdet.PackDetInputs')
                ]))
    assert [ds.get_data_info(i)['img_id']
            for i in range(2)] == ['2015_06400', '2015_00003']
    sample = ds[0]['data_samples']
    assert sample.gt_instances.bboxes.tensor.tolist()[0] == [
        204., 13., 356., 209.
    ]
    split.write_text('2015_00003\nnope\n')
    with pytest.raises(ValueError, match=r"line 2: 'nope'"):
        ExDarkDataset(data_root=root, ann_file=str(split))
    split.write_text('2015_00003\n2015_00003.png\n')
    with pytest.raises(ValueError, match='lists .2015_00003.png. again'):
        ExDarkDataset(data_root=root, ann_file=str(split))
    with pytest.raises(FileNotFoundError, match='split file'):
        ExDarkDataset(data_root=root, ann_file=str(tmp_path / 'none.txt'))


# --------------------------------------------------------------------------
# ExDark on small hand-written files
# --------------------------------------------------------------------------
def voc(objects, size=(40, 30)):
    """VOC xml; objects: (name, (xmin, ymin, xmax, ymax), difficult)."""
    parts = ['<Annotation><filename>x</filename>']
    if size is not None:
        parts.append(f'<size><width>{size[0]}</width><height>{size[1]}'
                     '</height><depth>3</depth></size>')
    for name, box, diff in objects:
        coords = ''.join(f'<{k}>{v}</{k}>'
                         for k, v in zip(('xmin', 'ymin', 'xmax', 'ymax'),
                                         box))
        parts.append(f'<object><name>{name}</name><difficult>{diff}'
                     f'</difficult><bndbox>{coords}</bndbox></object>')
    return ''.join(parts) + '</Annotation>'


def exdark_dir(tmp_path, anns, images=(('a.png', (40, 30)), )):
    (tmp_path / 'images').mkdir()
    (tmp_path / 'Annotations').mkdir()
    for name, (w, h) in images:
        Image.fromarray(np.zeros((h, w, 3), np.uint8)).save(tmp_path /
                                                            'images' / name)
    for name, text in anns.items():
        (tmp_path / 'Annotations' / name).write_text(text)
    return str(tmp_path)


def test_exdark_parsing_rules(tmp_path):
    root = exdark_dir(
        tmp_path, {
            'a.png.xml':
            voc([('people', (1, 1, 11, 21), 0), ('CAR', (5, 6, 45, 40), 1),
                 ('Dog', (0, 0, 3, 3), 0)])
        })
    ds = ExDarkDataset(data_root=root)
    inst = ds.get_data_info(0)['instances']
    # case-insensitive names; -1 on all four; clipped to 40x30; difficult
    assert inst == [
        dict(bbox=[0., 0., 10., 20.], bbox_label=10, ignore_flag=0),
        dict(bbox=[4., 5., 40., 30.], bbox_label=4, ignore_flag=1),
        dict(bbox=[0., 0., 2., 2.], bbox_label=8, ignore_flag=0),
    ]
    # custom classes: other ExDark names are dropped silently
    ds = ExDarkDataset(
        data_root=root, metainfo=dict(classes=('People', 'Car')))
    assert [i['bbox_label']
            for i in ds.get_data_info(0)['instances']] == [0, 1]
    assert ds.ann_stats['num_excluded'] == 1
    # bbox_min_size marks small boxes ignored; voc_minus_one=False
    ds = ExDarkDataset(
        data_root=root, filter_cfg=dict(bbox_min_size=5), voc_minus_one=False)
    inst = ds.get_data_info(0)['instances']
    assert inst[0]['bbox'] == [1., 1., 11., 21.]
    assert [i['ignore_flag'] for i in inst] == [0, 1, 1]


def test_exdark_annotation_names(tmp_path):
    # <name>.xml is accepted as well
    root = exdark_dir(tmp_path, {'a.xml': voc([])})
    ds = ExDarkDataset(data_root=root)
    assert ds.get_data_info(0)['instances'] == []
    assert ds.get_data_info(0)['ann_path'].endswith('a.xml')
    (tmp_path / 'Annotations' / 'a.png.xml').write_text(voc([]))
    with pytest.raises(ValueError, match='several annotation files'):
        ExDarkDataset(data_root=root)


@pytest.mark.parametrize('anns,images,kwargs,exc,match', [
    ({'a.png.xml': voc([('Horse', (1, 1, 5, 5), 0)])}, None, {}, ValueError,
     r"a.png.xml' object #0 has unknown class 'Horse'"),
    ({}, None, {}, ValueError,
     r"1 image\(s\) have no annotation file .*\n  a.png"),
    ({'a.png.xml': voc([]), 'b.jpg.xml': voc([])}, None, {}, ValueError,
     r'have no image .*\n  b.jpg.xml'),
    ({'a.png.xml': voc([], size=(50, 30))}, None, {}, ValueError,
     r"a.png.xml' gives the image size 50x30 \(width x height\) but the "
     r"image '.*a.png' is 40x30"),
    ({'a.png.xml': '<Annotation><object>'}, None, {}, ValueError,
     'cannot parse VOC annotation .*a.png.xml'),
    ({'a.png.xml': voc([('Car', (1, 'abc', 5, 5), 0)])}, None, {},
     ValueError, r"a.png.xml' object #0 <ymin>: expected a finite number, "
     r"got 'abc'"),
    ({'a.png.xml': voc([]).replace(
        '</Annotation>', '<object><name>Car</name></object></Annotation>')},
     None, {}, ValueError, r"object #0 \('Car'\) has no <bndbox>"),
    ({'a.png.xml': voc([('Car', (9, 1, 9, 5), 0)])}, None, {}, ValueError,
     r'object #0: box .* is degenerate'),
    ({'a.png.xml': voc([('Car', (50, 1, 60, 5), 0)])}, None, {},
     ValueError, r'lies outside the 30x40 \(HxW\) image'),
    ({'a.png.xml': voc([])}, None, dict(unknown_class='maybe'), ValueError,
     'unknown_class must be one of'),
    ({'a.png.xml': voc([])}, None, dict(data_prefix=dict(imgs='x')),
     ValueError, r"unknown \['imgs'\]"),
    ({'a.png.xml': voc([])}, None, dict(filter_cfg=dict(min_area=3)),
     ValueError, 'unknown filter_cfg keys'),
    ({'a.png.xml': voc([])}, None, dict(data_prefix=dict(ann='none')),
     FileNotFoundError, 'annotation folder .*none.* does not exist'),
])
def test_exdark_errors(tmp_path, anns, images, kwargs, exc, match):
    root = exdark_dir(tmp_path, anns,
                      **({} if images is None else dict(images=images)))
    with pytest.raises(exc, match=match):
        ExDarkDataset(data_root=root, **kwargs)


def test_exdark_error_options(tmp_path):
    root = exdark_dir(
        tmp_path, {
            'a.png.xml':
            voc([('Horse', (1, 1, 5, 5), 0), ('Car', (9, 1, 9, 5), 0),
                 ('Car', (1, 1, 5, 5), 0)]),
            'orphan.jpg.xml':
            voc([])
        },
        images=(('a.png', (40, 30)), ('b.png', (40, 30))))
    ds = ExDarkDataset(
        data_root=root,
        unknown_class='ignore',
        on_invalid_box='skip',
        on_missing_ann='empty',
        on_orphan_ann='ignore')
    assert len(ds) == 2
    assert ds.get_data_info(0)['instances'] == [
        dict(bbox=[0., 0., 4., 4.], bbox_label=4, ignore_flag=0)
    ]
    assert ds.get_data_info(1)['instances'] == []
    assert ds.ann_stats['num_unknown_dropped'] == 1
    assert ds.ann_stats['num_invalid_dropped'] == 1
    # filter_cfg as mmdet: drop empty images / small images, not in test
    for cfg, num in ((dict(filter_empty_gt=True), 1), (dict(min_size=30), 2),
                     (dict(min_size=31), 0)):
        kwargs = dict(
            data_root=root,
            unknown_class='ignore',
            on_invalid_box='skip',
            on_missing_ann='empty',
            on_orphan_ann='ignore',
            filter_cfg=cfg)
        assert len(ExDarkDataset(test_mode=True, **kwargs)) == 2
        if num:
            assert len(ExDarkDataset(**kwargs)) == num
        else:
            with pytest.raises(ValueError, match='removes all 2 image'):
                ExDarkDataset(**kwargs)
    # an unreadable image
    (tmp_path / 'images' / 'b.png').write_bytes(b'not an image')
    with pytest.raises(ValueError, match=r"cannot read the size of image "
                       r"'.*b.png'"):
        ExDarkDataset(
            data_root=root,
            unknown_class='ignore',
            on_invalid_box='skip',
            on_missing_ann='empty',
            on_orphan_ann='ignore')
    # a missing annotation folder is fine for inference only
    os.remove(tmp_path / 'images' / 'b.png')
    ds = ExDarkDataset(
        data_root=root, data_prefix=dict(ann='absent'), test_mode=True)
    assert ds.get_data_info(0)['instances'] == []
    assert ds.get_data_info(0)['ann_path'] is None


# --------------------------------------------------------------------------
# DARK FACE
# --------------------------------------------------------------------------
def test_darkface_test_mode_on_real_images(shared_data):
    root = osp.join(shared_data, 'lowlight', 'darkface')
    ds = DarkFaceDataset(
        data_root=root, data_prefix=dict(img=''), test_mode=True)
    assert ds.metainfo['classes'] == ('face', )
    assert len(ds) == 5
    assert [ds.get_data_info(i)['img_id']
            for i in range(5)] == ['31', '51', '564', '750', '756']
    info = ds.get_data_info(0)
    assert (info['width'], info['height']) == (1080, 720)
    assert info['instances'] == []
    with pytest.raises(FileNotFoundError, match='required for training'):
        DarkFaceDataset(data_root=root, data_prefix=dict(img=''))


def darkface_dir(tmp_path, label, size=(40, 30)):
    for sub in ('image', 'label'):
        (tmp_path / sub).mkdir()
    Image.fromarray(np.zeros((size[1], size[0], 3),
                             np.uint8)).save(tmp_path / 'image' / '1.png')
    if label is not None:
        (tmp_path / 'label' / '1.txt').write_text(label)
    return str(tmp_path)


def test_darkface_parsing(tmp_path):
    root = darkface_dir(tmp_path, '3\n1 2 10 12\n-3 4 8 9\n\n30 20 45 40\n')
    inst = DarkFaceDataset(data_root=root).get_data_info(0)['instances']
    # no shift; partly outside boxes clipped to the 40x30 image
    assert [i['bbox'] for i in inst] == [[1., 2., 10., 12.], [0., 4., 8., 9.],
                                         [30., 20., 40., 30.]]
    assert {i['bbox_label'] for i in inst} == {0}
    (tmp_path / 'label' / '1.txt').write_text('0\n')
    assert DarkFaceDataset(data_root=root).get_data_info(0)['instances'] == []


@pytest.mark.parametrize('label,kwargs,exc,match', [
    ('2\n1 2 10 12\n', {}, ValueError,
     r"1.txt' line 1 says 2 face\(s\) but 1 box line\(s\) follow"),
    ('x\n', {}, ValueError, r"1.txt' line 1: expected the number of faces"),
    ('1\n1 2 a 12\n', {}, ValueError,
     r"1.txt' line 2: expected a finite number, got 'a'"),
    ('1\n1 2 10\n', {}, ValueError, r'line 2: expected 4 numbers'),
    ('', {}, ValueError, r'1.txt.* is empty'),
    ('1\n5 5 5 9\n', {}, ValueError, r'line 2: box .* is degenerate'),
    ('1\n50 5 60 9\n', {}, ValueError, r'lies outside the 30x40 \(HxW\) image'),
    (None, {}, ValueError, r'have no annotation file \(<name>.txt\)'),
])
def test_darkface_errors(tmp_path, label, kwargs, exc, match):
    root = darkface_dir(tmp_path, label)
    with pytest.raises(exc, match=match):
        DarkFaceDataset(data_root=root, **kwargs)


def test_darkface_toy_round_trip(toy):
    root = toy['darkface']
    ds = DarkFaceDataset(data_root=root, ann_file='splits/val.txt')
    assert [ds.get_data_info(i)['img_id'] for i in range(2)] == [
        '00003', '00004'
    ]
    full = DarkFaceDataset(data_root=root, pipeline=det_pipeline())
    assert len(full) == 5
    for i in range(5):
        scene = render_toy_scene(
            3, i, size=SIZE, night_fraction=0.0,
            class_weights=dict(person=1.0))
        assert scene.objects and {o['name'] for o in scene.objects
                                  } == {'person'}
        expected = [[float(x), float(y), float(x + w),
                     float(y + h)] for x, y, w, h in
                    (o['bbox'] for o in scene.objects)]
        assert [j['bbox'] for j in full.get_data_info(i)['instances']
                ] == expected
        if i == 0:
            sample = full[i]['data_samples']
            np.testing.assert_allclose(
                sample.gt_instances.bboxes.tensor.numpy(),
                np.array(expected) * 64 / SIZE,
                atol=1e-4)
            assert sample.gt_instances.labels.tolist() == [0] * len(expected)


# --------------------------------------------------------------------------
# ExDark toy through mmdet
# --------------------------------------------------------------------------
def test_exdark_toy_through_mmdet_pipeline(toy):
    root = toy['exdark']
    ds = ExDarkDataset(
        data_root=root, ann_file='splits/train.txt', pipeline=det_pipeline())
    assert len(ds) == 3
    label_of = {c: EXDARK_CLASSES.index(n) for c, n in TOY_TO_EXDARK.items()}
    assert label_of == dict(person=10, car=4, bicycle=0)
    names = set()
    for i in range(3):
        scene = render_toy_scene(
            3, i, size=SIZE, night_fraction=0.0,
            class_weights=dict(person=0.4, car=0.35, bicycle=0.25))
        names |= {o['name'] for o in scene.objects}
        expected = np.array([[x, y, x + w, y + h] for x, y, w, h in
                             (o['bbox'] for o in scene.objects)], float)
        item = ds[i]
        assert tuple(item['inputs'].shape) == (3, 64, 64)
        sample = item['data_samples']
        assert sample.ori_shape == (SIZE, SIZE)
        # mmdet's VOC -1 gives back the toy's tight box, scaled by 64/96
        np.testing.assert_allclose(
            sample.gt_instances.bboxes.tensor.numpy(),
            expected * 64 / SIZE,
            atol=1e-4)
        assert sample.gt_instances.labels.tolist() == [
            label_of[o['name']] for o in scene.objects
        ]
        # the image is the darkened png, resized
        assert item['inputs'].float().mean() < 40
    assert 'cone' not in names and len(names) >= 2


# --------------------------------------------------------------------------
# ACDC and Cityscapes layouts through mmseg
# --------------------------------------------------------------------------
@pytest.mark.parametrize('layout', ['acdc', 'cityscapes'])
def test_seg_toy_layouts_through_mmseg(toy, layout):
    from mmseg.datasets import CityscapesDataset
    root = toy[layout]
    if layout == 'acdc':
        ds = ACDCDataset(data_root=root, pipeline=seg_pipeline())
        assert ds.data_prefix['img_path'].endswith('rgb_anon/night/train')
        assert ds.data_prefix['seg_map_path'].endswith('gt/night/train')
        assert len(ACDCDataset(data_root=root, split='val')) == 2
    else:
        ds = CityscapesDataset(
            data_root=root,
            data_prefix=dict(
                img_path='leftImg8bit/train', seg_map_path='gtFine/train'),
            pipeline=seg_pipeline())
    assert len(ds) == 3 and len(ds.metainfo['classes']) == 19
    assert TOY_TO_CITYSCAPES == {0: 0, 1: 11, 2: 13, 3: 18, 4: 7, 255: 255}
    for i in range(3):
        scene = render_toy_scene(3, i, size=SIZE, night_fraction=0.0)
        item = ds[i]
        gt = item['data_samples'].gt_sem_seg.data[0].numpy()
        expected = np.zeros_like(scene.semantic)
        for src, dst in TOY_TO_CITYSCAPES.items():
            expected[scene.semantic == src] = dst
        np.testing.assert_array_equal(gt, expected)
        assert set(np.unique(gt).tolist()) <= {0, 7, 11, 13, 18, 255}
        # mmseg loads BGR; the file is the darkened RGB image
        img = item['inputs'].numpy().transpose(1, 2, 0)[..., ::-1]
        np.testing.assert_array_equal(
            img, read(ds.get_data_info(i)['img_path']))
    # a crop keeps image and map aligned
    ds = ACDCDataset(data_root=toy['acdc'], pipeline=seg_pipeline((48, 40)))
    sample = ds[0]['data_samples']
    assert tuple(sample.gt_sem_seg.data.shape) == (1, 48, 40)
    np.testing.assert_array_equal(
        toy_to_cityscapes(np.array([[0, 1, 2], [3, 4, 255]], np.uint8)),
        [[0, 11, 13], [18, 7, 255]])


def test_acdc_errors(toy, tmp_path):
    import shutil
    root = tmp_path / 'acdc'
    shutil.copytree(toy['acdc'], root)
    gt = root / 'gt' / 'night' / 'train' / 'GOPR0000'
    os.remove(gt / '00001_gt_labelTrainIds.png')
    with pytest.raises(FileNotFoundError,
                       match=r'1 image\(s\) have no label map .*\n.*'
                       r'00001_gt_labelTrainIds.png'):
        ACDCDataset(data_root=str(root))
    # test split without labels: inference only
    shutil.rmtree(root / 'gt' / 'night' / 'train')
    with pytest.raises(FileNotFoundError, match='label folder .* does not '
                       'exist'):
        ACDCDataset(data_root=str(root))
    ds = ACDCDataset(data_root=str(root), test_mode=True)
    assert len(ds) == 3 and 'seg_map_path' not in ds.get_data_info(0)
    with pytest.raises(FileNotFoundError, match=r'image folder .*rgb_anon/'
                       'fog/train'):
        ACDCDataset(data_root=str(root), condition='fog')
    with pytest.raises(ValueError, match='condition must be a folder name'):
        ACDCDataset(data_root=str(root), condition='night/train')
    (root / 'rgb_anon' / 'snow' / 'val').mkdir(parents=True)
    (root / 'gt' / 'snow' / 'val').mkdir(parents=True)
    with pytest.raises(ValueError, match=r'no \*_rgb_anon.png images'):
        ACDCDataset(data_root=str(root), condition='snow', split='val')
    split = tmp_path / 'split.txt'
    split.write_text('GOPR0000/00000\nGOPR0000/00042\n')
    with pytest.raises(FileNotFoundError, match=r'00042_rgb_anon.png'):
        ACDCDataset(data_root=str(root), ann_file=str(split), test_mode=True)


# --------------------------------------------------------------------------
# generators
# --------------------------------------------------------------------------
def tree(root):
    out = {}
    for dirpath, _, files in os.walk(root):
        for f in files:
            p = osp.join(dirpath, f)
            with open(p, 'rb') as fh:
                out[osp.relpath(p, root)] = fh.read()
    return out


def test_generators_deterministic_and_dark(toy, tmp_path):
    for task, fn, kwargs in (('exdark', generate_toy_exdark, {}),
                             ('darkface', generate_toy_darkface, {}),
                             ('acdc', generate_toy_acdc, {}),
                             ('cityscapes', generate_toy_acdc,
                              dict(layout='cityscapes'))):
        again = fn(
            str(tmp_path / task),
            num_train=3,
            num_val=2,
            size=SIZE,
            seed=3,
            **kwargs)
        assert again['task'] == task and again['num_train'] == 3
        a, b = tree(toy[task]), tree(again['out_dir'])
        assert a.keys() == b.keys() and a == b, task
        meta = json.loads(a['meta.json'])
        assert meta['generator'] == 'mmfusenas.toy_data.lowlight_tasks'
        assert meta['task'] == task and meta['seed'] == 3
    other = generate_toy_exdark(
        str(tmp_path / 'other'), num_train=1, num_val=0, size=SIZE, seed=4)
    assert read(osp.join(other['out_dir'], 'images', '00000.png')).tobytes() \
        != read(osp.join(toy['exdark'], 'images', '00000.png')).tobytes()
    # low-light images are dark, the normal-light ones are not
    low = [read(osp.join(toy['exdark'], 'images', f'{i:05d}.png'))
           for i in range(5)]
    normal = [read(osp.join(toy['exdark'], 'normal', f'{i:05d}.png'))
              for i in range(5)]
    assert max(x.mean() for x in low) < 30
    assert min(x.mean() for x in normal) > 50
    acdc = toy['acdc']
    low = read(osp.join(acdc, 'rgb_anon/night/val/GOPR0000/'
                        '00003_rgb_anon.png'))
    ref = read(osp.join(acdc, 'rgb_anon/night/val_ref/GOPR0000/'
                        '00003_rgb_ref_anon.png'))
    assert low.mean() < 30 < 50 < ref.mean()
    assert sorted(os.listdir(toy['exdark'])) == [
        'Annotations', 'images', 'meta.json', 'normal', 'splits'
    ]
    with open(osp.join(toy['exdark'], 'splits', 'val.txt')) as f:
        assert f.read() == '00003.png\n00004.png\n'
    with open(osp.join(toy['darkface'], 'splits', 'train.txt')) as f:
        assert f.read() == '00000\n00001\n00002\n'


def test_generator_out_dir_and_argument_checks(tmp_path):
    foreign = tmp_path / 'foreign'
    foreign.mkdir()
    (foreign / 'keep.txt').write_text('x')
    with pytest.raises(FileExistsError, match='not a toy low-light task'):
        generate_toy_darkface(str(foreign), num_train=1, num_val=0, size=64)
    assert (foreign / 'keep.txt').exists()
    info = generate_toy_darkface(
        str(foreign), num_train=1, num_val=0, size=64, overwrite=True,
        write_normal=False)
    assert not (foreign / 'keep.txt').exists()
    assert sorted(os.listdir(foreign)) == [
        'image', 'label', 'meta.json', 'splits'
    ]
    # our own data set is replaced without overwrite
    generate_toy_acdc(info['out_dir'], num_train=1, num_val=0, size=64)
    assert 'rgb_anon' in os.listdir(foreign)
    assert not [p for p in os.listdir(tmp_path) if p.startswith('.')]
    with pytest.raises(ValueError, match='no ExDark class'):
        generate_toy_exdark(str(tmp_path / 'c'), class_weights=dict(cone=1))
    with pytest.raises(ValueError, match='num_train'):
        generate_toy_exdark(str(tmp_path / 'c'), num_train=0)
    with pytest.raises(ValueError, match='layout must be one of'):
        generate_toy_acdc(str(tmp_path / 'c'), layout='voc')
    assert not (tmp_path / 'c').exists()


def test_cli(tmp_path):
    spec = importlib.util.spec_from_file_location(
        'make_toy_lowlight_tasks',
        osp.join(REPO, 'tools', 'misc', 'make_toy_lowlight_tasks.py'))
    cli = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(cli)
    out = tmp_path / 'ex'
    info = cli.main([
        str(out), '--task', 'exdark', '--num-train', '2', '--num-val', '1',
        '--size', '64', '--seed', '1', '--no-normal'
    ])
    assert info['num_train'] == 2 and not (out / 'normal').exists()
    assert len(ExDarkDataset(data_root=str(out))) == 3
    info = cli.main(
        [str(tmp_path / 'cs'), '--task', 'cityscapes', '--size', '64'])
    assert info['task'] == 'cityscapes' and info['num_val'] == 4
    assert (tmp_path / 'cs' / 'gtFine' / 'val' / 'toycity' /
            '00019_gtFine_labelTrainIds.png').exists()
