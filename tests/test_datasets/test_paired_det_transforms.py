"""Box / mask alignment through the paired transforms, annotation loading and
the detection packer (down to a real mmdet loss and metrics)."""
import copy
import json
import os.path as osp

import cv2
import numpy as np
import pytest
import torch
from mmcv.transforms import Compose
from mmdet.structures import DetDataSample
from mmdet.structures.bbox import HorizontalBoxes
from mmengine.registry import DefaultScope
from mmengine.structures import InstanceData

from mmfusenas.datasets import PairedDetDataset
from mmfusenas.datasets.transforms import (LoadPairedAnnotations,
                                           LoadPairedImages,
                                           PackFusionDetInputs,
                                           PairedRandomCrop,
                                           PairedRandomFlip,
                                           PairedRandomRot90, PairedResize)
from mmfusenas.datasets.transforms.box_ops import (crop_boxes, flip_boxes,
                                                   rescale_boxes, rot90_boxes)
from mmfusenas.models.data_preprocessors import FusionDataPreprocessor
from helpers import load_tool
from mmfusenas.testing.toy_data.ivif import generate_toy_dataset

PAIRS = dict(ir='ir', vi='vi')
LOAD = [dict(type='LoadPairedImages'), dict(type='LoadPairedAnnotations')]


def tight_box(mask):
    rows, cols = np.nonzero(mask)
    return [cols.min(), rows.min(), cols.max() + 1, rows.max() + 1]


def synthetic(rng):
    """Random images with random integer boxes, each also drawn as a mask."""
    h, w = (int(v) for v in rng.integers(12, 48, 2))
    n = int(rng.integers(1, 7))
    x1 = rng.integers(0, w, n)
    x2 = x1 + 1 + (rng.integers(0, w, n) % (w - x1))
    y1 = rng.integers(0, h, n)
    y2 = y1 + 1 + (rng.integers(0, h, n) % (h - y1))
    boxes = np.stack([x1, y1, x2, y2], 1).astype(np.float32)
    masks = np.zeros((h, w, n), np.uint8)
    for i, (a, b, c, d) in enumerate(boxes.astype(int)):
        masks[b:d, a:c, i] = 1
    flags = rng.random(n) < 0.3
    return dict(
        ir=rng.integers(0, 256, (h, w, 1), dtype=np.uint8),
        vi=rng.integers(0, 256, (h, w, 3), dtype=np.uint8),
        modalities=('ir', 'vi'),
        img_shape=(h, w),
        ori_shape=(h, w),
        stem='s',
        gt_bboxes=boxes,
        gt_bboxes_labels=np.arange(n, dtype=np.int64),
        gt_ignore_flags=flags,
        box_masks=masks,
        seg_fields=['box_masks'])


def check_alignment(out, num, flags, tol=0.0):
    """Every kept box is the tight box of its transformed mask."""
    masks, labels = out['box_masks'], out['gt_bboxes_labels']
    assert masks.shape[:2] == tuple(out['img_shape'])
    assert out['ir'].shape[:2] == tuple(out['img_shape'])
    assert out['gt_bboxes'].dtype == np.float32
    for box, label in zip(out['gt_bboxes'], labels):
        np.testing.assert_allclose(
            box, tight_box(masks[..., label]), rtol=0, atol=tol)
    dropped = sorted(set(range(num)) - set(labels.tolist()))
    assert all(not masks[..., i].any() for i in dropped)
    assert out.get('num_dropped_boxes', 0) == len(dropped)
    np.testing.assert_array_equal(out['gt_ignore_flags'], flags[labels])


# ---------------------------------------------------------------------------
# alignment over many seeds
# ---------------------------------------------------------------------------
def test_crop_flip_rot90_keep_boxes_tight_on_masks():
    rng = np.random.default_rng(0)
    total_dropped = 0
    for seed in range(300):
        results = synthetic(rng)
        num, flags = len(results['gt_bboxes']), results['gt_ignore_flags']
        crop = tuple(int(v) for v in rng.integers(6, 56, 2))
        pipeline = Compose([
            PairedRandomCrop(crop, pad_if_needed=True),
            PairedRandomFlip(
                prob=0.9, direction=['horizontal', 'vertical', 'diagonal']),
            PairedRandomRot90(prob=0.9),
        ])
        np.random.seed(seed)
        out = pipeline(results)
        check_alignment(out, num, flags)
        total_dropped += out['num_dropped_boxes']
    assert total_dropped > 20  # crops do drop boxes in this set-up


@pytest.mark.parametrize('direction', ['horizontal', 'vertical', 'diagonal'])
def test_each_flip_direction_aligned(direction):
    rng = np.random.default_rng(1)
    for seed in range(30):
        results = synthetic(rng)
        out = PairedRandomFlip(prob=1.0, direction=direction)(results)
        assert out['flip_direction'] == direction
        check_alignment(out, len(results['gt_bboxes']),
                        results['gt_ignore_flags'])


def test_resize_scales_boxes_with_the_masks():
    rng = np.random.default_rng(2)
    for seed in range(100):
        results = synthetic(rng)
        num, flags = len(results['gt_bboxes']), results['gt_ignore_flags']
        out = PairedResize(scale_factor=2.0)(copy.deepcopy(results))
        check_alignment(out, num, flags)  # exact for an integer factor
        factors = tuple(float(f) for f in rng.uniform(0.4, 2.5, 2))
        out = PairedResize(scale_factor=factors)(results)
        assert out['gt_bboxes'].shape == (num, 4)
        for box, label in zip(out['gt_bboxes'], out['gt_bboxes_labels']):
            mask = out['box_masks'][..., label]
            if mask.any():  # nearest resampling: within one pixel
                np.testing.assert_allclose(
                    box, tight_box(mask), rtol=0, atol=1.0)
            else:  # a box thinner than a pixel may miss every sample
                assert min(box[2] - box[0], box[3] - box[1]) < 1


def test_toy_boxes_follow_instance_masks_through_training_pipeline(
        tmp_path_factory):
    root = str(tmp_path_factory.mktemp('toy_det'))
    generate_toy_dataset(root, num=6, seed=5, size=64)
    with open(osp.join(root, 'annotations/instances_train.json')) as f:
        coco = json.load(f)
    ids = {img['id']: [] for img in coco['images']}
    for a in coco['annotations']:
        ids[a['image_id']].append(a['instance_id'])

    def add_instance_masks(results):
        """One mask per box (json order = box order); labels := box index."""
        inst = cv2.imread(
            osp.join(root, 'instance_masks', results['stem'] + '.png'),
            cv2.IMREAD_UNCHANGED)
        results['box_masks'] = np.stack(
            [inst == k for k in ids[results['img_id']]], -1).astype(np.uint8)
        results['seg_fields'] = ['box_masks']
        results['gt_bboxes_labels'] = np.arange(len(results['gt_bboxes']))
        return results

    def build(crop):
        return PairedDetDataset(
            data_root=root,
            data_prefix=PAIRS,
            ann_file='annotations/instances_train.json',
            metainfo=dict(classes=('person', 'car', 'bicycle', 'cone')),
            pipeline=LOAD + [add_instance_masks] + crop + [
                dict(type='PairedResize', scale_factor=2.0),
                dict(
                    type='PairedRandomFlip',
                    prob=0.75,
                    direction=['horizontal', 'vertical', 'diagonal']),
                dict(type='PairedRandomRot90', prob=0.75),
            ])

    exact, cropped = build([]), build(
        [dict(type='PairedRandomCrop', crop_size=40)])
    checked = 0
    for seed in range(15):
        for i in range(len(exact)):
            np.random.seed(seed)
            out = exact[i]
            # the toy boxes are the tight boxes of the visible instance masks
            for box, j in zip(out['gt_bboxes'], out['gt_bboxes_labels']):
                np.testing.assert_array_equal(box,
                                              tight_box(out['box_masks'][...,
                                                                         j]))
                checked += 1
            np.random.seed(seed)
            out = cropped[i]
            # a crop clips the box: it still holds what is left of the mask
            masks, labels = out['box_masks'], out['gt_bboxes_labels']
            for box, j in zip(out['gt_bboxes'], labels):
                if masks[..., j].any():
                    x1, y1, x2, y2 = tight_box(masks[..., j])
                    assert (box[0] <= x1 and box[1] <= y1 and x2 <= box[2]
                            and y2 <= box[3])
            gone = set(range(masks.shape[2])) - set(labels.tolist())
            assert all(not masks[..., j].any() for j in gone)
            assert out['num_dropped_boxes'] == len(gone)
    assert checked > 100


# ---------------------------------------------------------------------------
# exact values by hand
# ---------------------------------------------------------------------------
def test_box_ops_by_hand():
    # a 4 x 6 (H x W) image, box covering columns 1-2 and rows 0-1
    base = dict(gt_bboxes=np.array([[1, 0, 3, 2]], np.float32))
    for direction, expected in [('horizontal', [3, 0, 5, 2]),
                                ('vertical', [1, 2, 3, 4]),
                                ('diagonal', [3, 2, 5, 4])]:
        res = copy.deepcopy(base)
        flip_boxes(res, (4, 6), direction, 'test')
        np.testing.assert_array_equal(res['gt_bboxes'], [expected])
    for k, expected in [(0, [1, 0, 3, 2]), (1, [0, 3, 2, 5]),
                        (2, [3, 2, 5, 4]), (3, [2, 1, 4, 3])]:
        res = copy.deepcopy(base)
        rot90_boxes(res, (4, 6), k, 'test')
        np.testing.assert_array_equal(res['gt_bboxes'], [expected])
        img = np.zeros((4, 6), np.uint8)
        img[0:2, 1:3] = 1
        assert tight_box(np.rot90(img, k)) == expected
    res = copy.deepcopy(base)
    rescale_boxes(res, (2.0, 0.5), 'test')
    np.testing.assert_array_equal(res['gt_bboxes'], [[2, 0, 6, 1]])
    res = dict(
        gt_bboxes=np.array([[0, 0, 3, 3], [5, 5, 6, 6], [2, 1, 5, 4]],
                           np.float32),
        gt_bboxes_labels=np.array([7, 8, 9]),
        gt_ignore_flags=np.array([False, True, False]))
    crop_boxes(res, (2, 1, 5, 4), 'test')
    np.testing.assert_array_equal(res['gt_bboxes'], [[0, 0, 1, 2],
                                                     [0, 0, 3, 3]])
    np.testing.assert_array_equal(res['gt_bboxes_labels'], [7, 9])
    np.testing.assert_array_equal(res['gt_ignore_flags'], [False, False])
    assert res['num_dropped_boxes'] == 1
    crop_boxes(res, (0, 0, 1, 1), 'test')  # counts accumulate
    assert res['num_dropped_boxes'] == 1 and len(res['gt_bboxes']) == 2


def test_box_errors():
    results = synthetic(np.random.default_rng(3))
    results['gt_bboxes'] = HorizontalBoxes(torch.zeros(1, 4))
    with pytest.raises(TypeError, match=r'gt_bboxes"\] must be an \(N, 4\) '
                       'numpy array'):
        PairedRandomFlip(prob=1.0)(results)
    results = synthetic(np.random.default_rng(3))
    results['gt_bboxes_labels'] = results['gt_bboxes_labels'][:0]
    with pytest.raises(ValueError, match='gt_bboxes_labels.* has 0 entries'):
        PairedRandomCrop(8, pad_if_needed=True)(results)


# ---------------------------------------------------------------------------
# LoadPairedAnnotations + PackFusionDetInputs on real data
# ---------------------------------------------------------------------------
def kaist(shared_data, pipeline, **kwargs):
    return PairedDetDataset(
        data_root=osp.join(shared_data, 'detection/kaist8'),
        data_prefix=PAIRS,
        ann_file='annotations_test20.json',
        metainfo=dict(classes=('person', )),
        pipeline=pipeline,
        **kwargs)


def test_load_annotations_arrays(shared_data):
    ds = kaist(shared_data, LOAD)
    out = ds[1]  # set08_V001_I02579: 19 boxes, 2 ignored
    assert out['gt_bboxes'].dtype == np.float32
    assert out['gt_bboxes'].shape == (19, 4)
    assert out['gt_ignore_flags'].dtype == bool
    assert out['gt_ignore_flags'].sum() == 2
    assert out['gt_bboxes_labels'].dtype == np.int64
    assert (out['gt_bboxes_labels'] == 0).all()
    bad = dict(ds.get_data_info(1), width=600)
    with pytest.raises(ValueError, match='annotations_test20.json.* is '
                       r'512x600 \(HxW\) but the images'):
        Compose([LoadPairedImages(), LoadPairedAnnotations()])(bad)
    with pytest.raises(KeyError, match='no "instances"'):
        LoadPairedAnnotations()(dict(stem='x'))
    with pytest.raises(ValueError, match='nothing to load'):
        LoadPairedAnnotations(False, False, False)
    labels_only = LoadPairedAnnotations(with_bbox=False)(
        dict(ds.get_data_info(0)))
    assert 'gt_bboxes' not in labels_only and len(
        labels_only['gt_bboxes_labels']) == 8


def test_pack_det_inputs(shared_data):
    ds = kaist(shared_data, LOAD + [dict(type='PackFusionDetInputs')])
    packed = ds[1]
    assert set(packed['inputs']) == {'ir', 'vi'}
    assert packed['inputs']['ir'].dtype == torch.uint8
    assert packed['inputs']['ir'].shape == (1, 512, 640)
    assert packed['inputs']['vi'].shape == (3, 512, 640)
    sample = packed['data_samples']
    assert isinstance(sample, DetDataSample)
    assert isinstance(sample.gt_instances.bboxes, torch.Tensor)
    assert sample.gt_instances.bboxes.dtype == torch.float32
    assert sample.gt_instances.bboxes.shape == (17, 4)
    assert sample.gt_instances.labels.dtype == torch.int64
    assert sample.ignored_instances.bboxes.tolist() == [
        [379.0, 220.0, 441.0, 359.0], [280.0, 219.0, 314.0, 284.0]
    ]
    meta = sample.metainfo
    assert meta['img_id'] == 1310 and meta['stem'] == 'set08_V001_I02579'
    assert meta['modalities'] == ('ir', 'vi')
    assert meta['color_modality'] == 'vi'
    assert meta['ori_shape'] == meta['img_shape'] == (512, 640)
    assert meta['scale_factor'] == (1.0, 1.0)
    assert len(meta['instances']) == 19
    assert meta['ann_path'].endswith('annotations_test20.json')
    hbox = PackFusionDetInputs(box_type='hbox')(
        Compose([LoadPairedImages(),
                 LoadPairedAnnotations()])(ds.get_data_info(1)))
    assert isinstance(hbox['data_samples'].gt_instances.bboxes,
                      HorizontalBoxes)
    with pytest.raises(ValueError, match='box_type must be one of'):
        PackFusionDetInputs(box_type='rbox')


def test_pack_det_without_boxes_and_bad_lengths():
    results = dict(
        modalities=('ir', ),
        ir=np.zeros((3, 4, 1), np.uint8),
        img_shape=(3, 4),
        ori_shape=(3, 4),
        stem='s')
    sample = PackFusionDetInputs()(dict(results))['data_samples']
    assert len(sample.gt_instances) == 0 and len(
        sample.ignored_instances) == 0
    with pytest.raises(ValueError, match='differ in length'):
        PackFusionDetInputs()(
            dict(
                results,
                gt_bboxes=np.zeros((2, 4), np.float32),
                gt_bboxes_labels=np.zeros(3, np.int64)))


def test_training_pipeline_on_msrs17(shared_data, tmp_path):
    root = osp.join(shared_data, 'detection/msrs17')
    load_tool('tools/dataset_converters/paired_to_coco.py').main(
        ['yolo', root, str(tmp_path / 'fusion.json'), '--labels',
         'labels/fusion'])
    ds = PairedDetDataset(
        data_root=root,
        data_prefix=PAIRS,
        ann_file=str(tmp_path / 'fusion.json'),
        pipeline=LOAD + [
            dict(type='PairedResize', scale_factor=0.5),
            dict(type='PairedRandomCrop', crop_size=(160, 200)),
            dict(type='PairedRandomFlip', prob=0.5),
            dict(type='PairedRandomRot90', prob=0.5),
            dict(type='PackFusionDetInputs'),
        ])
    np.random.seed(0)
    for i in range(len(ds)):
        packed = ds[i]
        sample = packed['data_samples']
        h, w = sample.img_shape
        assert packed['inputs']['vi'].shape[1:] == (h, w)
        boxes = sample.gt_instances.bboxes
        assert ((boxes >= 0).all() and (boxes[:, 0::2] <= w).all()
                and (boxes[:, 1::2] <= h).all())
        assert (boxes[:, 2:] > boxes[:, :2]).all()
        assert len(boxes) + sample.num_dropped_boxes == len(
            sample.instances)
        assert sample.scale_factor == (0.5, 0.5)


# ---------------------------------------------------------------------------
# what mmdet's RetinaNet.loss, CocoMetric and VOCMetric accept
# ---------------------------------------------------------------------------
def retinanet_cfg():
    return dict(
        type='RetinaNet',
        data_preprocessor=dict(type='DetDataPreprocessor'),
        backbone=dict(
            type='ResNet',
            depth=18,
            num_stages=4,
            out_indices=(1, 2, 3),
            norm_cfg=dict(type='BN'),
            init_cfg=None),
        neck=dict(
            type='FPN',
            in_channels=[128, 256, 512],
            out_channels=32,
            start_level=0,
            add_extra_convs='on_input',
            num_outs=5),
        bbox_head=dict(
            type='RetinaHead',
            num_classes=1,
            in_channels=32,
            stacked_convs=1,
            feat_channels=32,
            anchor_generator=dict(
                type='AnchorGenerator',
                octave_base_scale=4,
                scales_per_octave=3,
                ratios=[0.5, 1.0, 2.0],
                strides=[8, 16, 32, 64, 128]),
            bbox_coder=dict(
                type='DeltaXYWHBBoxCoder',
                target_means=[0., 0., 0., 0.],
                target_stds=[1., 1., 1., 1.]),
            loss_cls=dict(
                type='FocalLoss', use_sigmoid=True, gamma=2.0, alpha=0.25),
            loss_bbox=dict(type='L1Loss')),
        train_cfg=dict(
            assigner=dict(
                type='MaxIoUAssigner',
                pos_iou_thr=0.5,
                neg_iou_thr=0.4,
                min_pos_iou=0),
            sampler=dict(type='PseudoSampler'),
            allowed_border=-1,
            pos_weight=-1,
            debug=False),
        test_cfg=dict(
            nms_pre=100,
            min_bbox_size=0,
            score_thr=0.05,
            nms=dict(type='nms', iou_threshold=0.5),
            max_per_img=10))


@pytest.fixture(scope='module')
def retinanet():
    from mmdet.registry import MODELS as DET_MODELS
    torch.manual_seed(0)
    with DefaultScope.overwrite_default_scope('mmdet'):
        return DET_MODELS.build(retinanet_cfg())


@pytest.mark.parametrize('box_type', [None, 'hbox'])
def test_packed_batch_trains_a_real_retinanet(shared_data, retinanet,
                                              one_thread, box_type):
    ds = kaist(
        shared_data, LOAD + [
            dict(type='PairedResize', scale_factor=0.125),
            dict(type='PackFusionDetInputs', box_type=box_type)
        ])
    packed = [ds[0], ds[1]]
    # what a fusion -> detector model receives: the dataloader's collation
    batch = dict(
        inputs={m: [p['inputs'][m] for p in packed]
                for m in ('ir', 'vi')},
        data_samples=[p['data_samples'] for p in packed])
    data = FusionDataPreprocessor(pad_size_divisor=32)(batch, True)
    assert data['inputs'].shape == (2, 2, 64, 96)
    # stand-in for the fusion network: mean of the sources, as 3 channels
    fused = data['inputs'].mean(1, keepdim=True).expand(-1, 3, -1, -1)
    samples = data['data_samples']
    assert samples[0].batch_input_shape == (64, 96)
    assert samples[1].gt_instances.bboxes.shape == (17, 4)
    retinanet.zero_grad()
    losses = retinanet.loss(fused.contiguous(), samples)
    assert set(losses) == {'loss_cls', 'loss_bbox'}
    total = sum(sum(v) for v in losses.values())
    assert torch.isfinite(total) and total > 0
    total.backward()
    assert retinanet.backbone.conv1.weight.grad.abs().sum() > 0


def test_coco_and_voc_metrics_read_the_packed_samples(shared_data):
    from mmdet.evaluation import CocoMetric, VOCMetric
    ds = kaist(shared_data, LOAD + [dict(type='PackFusionDetInputs')])
    coco, voc = CocoMetric(metric='bbox'), VOCMetric()
    for metric in (coco, voc):
        metric.dataset_meta = ds.metainfo
    for i in (0, 1):
        sample = ds[i]['data_samples']
        gt = sample.gt_instances  # perfect predictions
        sample.pred_instances = InstanceData(
            bboxes=gt.bboxes.clone(),
            scores=torch.ones(len(gt)),
            labels=gt.labels.clone())
        for metric in (coco, voc):
            metric.process({}, [sample.to_dict()])
    assert coco.evaluate(2)['coco/bbox_mAP'] == pytest.approx(1.0)
    assert voc.evaluate(2)['pascal_voc/mAP'] == pytest.approx(1.0)
