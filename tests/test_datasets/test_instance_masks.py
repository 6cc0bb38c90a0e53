"""Instance masks: toy COCO RLE / polygons -> paired pipeline -> Mask R-CNN
behind the fusion network, evaluated with COCO segm mAP."""
import copy
import json
import os.path as osp

import cv2
import numpy as np
import pytest
import torch
from pycocotools import mask as mask_utils

from mmfusenas.datasets.transforms.annotation_loading import decode_coco_mask
from mmfusenas.registry import DATASETS, METRICS, MODELS, TRANSFORMS
from mmfusenas.testing.toy_data.ivif import generate_toy_dataset
from helpers.task_models import distillation_neck, mask_rcnn

SIZE = 64
CLASSES = ('person', 'car', 'bicycle', 'cone')


@pytest.fixture(scope='module')
def toy(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('toy_masks') / 'toy')
    generate_toy_dataset(root, num=6, seed=5, size=SIZE, val_fraction=0.34)
    return root


def dataset(root, split, pipeline, **kwargs):
    kwargs.setdefault('ann_file', f'annotations/instances_{split}.json')
    return DATASETS.build(
        dict(
            type='PairedDetDataset',
            data_root=root,
            data_prefix=dict(ir='ir', vi='vi'),
            metainfo=dict(classes=CLASSES),
            pipeline=pipeline,
            **kwargs))


def test_decode_polygons_and_rle_by_hand():
    # a 2x3 rectangle as a polygon, an uncompressed RLE and a compressed one
    poly = [[1, 1, 4, 1, 4, 3, 1, 3]]
    m = decode_coco_mask(poly, 5, 6)
    assert m.dtype == np.uint8 and m.shape == (5, 6)
    want = np.zeros((5, 6), np.uint8)
    want[1:3, 1:4] = 1
    # pycocotools rasterises the polygon's boundary inclusively
    assert (m[1:3, 1:4] == 1).all() and m.sum() >= 6
    # column-major runs: 6 zeros (col 0 + 1 of col 1), then ...
    counts = mask_utils.encode(np.asfortranarray(want))
    assert np.array_equal(
        decode_coco_mask(dict(size=[5, 6], counts=counts['counts'].decode()),
                         5, 6), want)
    uncompressed = dict(size=[5, 6], counts=[6, 2, 3, 2, 3, 2, 12])
    assert np.array_equal(decode_coco_mask(uncompressed, 5, 6), want)
    with pytest.raises(ValueError, match='RLE of size'):
        decode_coco_mask(dict(size=[4, 6], counts=[24]), 5, 6)
    with pytest.raises(ValueError, match='expected lists of >= 3'):
        decode_coco_mask([[1, 2, 3, 4]], 5, 6)
    with pytest.raises(ValueError, match='expected COCO polygons or RLE'):
        decode_coco_mask('nope', 5, 6)


def test_toy_rle_masks_match_the_instance_pngs_through_the_pipeline(toy):
    ds = dataset(toy, 'train', [
        dict(type='LoadPairedImages'),
        dict(type='LoadPairedAnnotations', with_mask=True),
    ])
    for i in range(len(ds)):
        info = ds.get_data_info(i)
        results = ds[i]
        inst_png = cv2.imread(
            osp.join(toy, 'instance_masks', info['stem'] + '.png'),
            cv2.IMREAD_UNCHANGED)
        with open(info['ann_path']) as f:
            anns = [a for a in json.load(f)['annotations']
                    if a['image_id'] == info['img_id']]
        masks = results['gt_masks']
        assert masks.shape == (SIZE, SIZE, len(anns)) and 'gt_masks' in \
            results['seg_fields']
        for k, ann in enumerate(anns):
            assert np.array_equal(masks[..., k],
                                  inst_png == ann['instance_id'])
            assert masks[..., k].sum() == ann['area']

    # resize + flip + crop move the masks with the boxes; the packer makes
    # BitmapMasks at the packed size
    np.random.seed(0)
    pipeline = [
        dict(type='LoadPairedImages'),
        dict(type='LoadPairedAnnotations', with_mask=True),
        dict(type='PairedResize', scale=(32, 32)),
        dict(type='PairedRandomFlip', prob=1.0, direction='horizontal'),
        dict(type='PairedRandomCrop', crop_size=(24, 24)),
    ]
    ds = dataset(toy, 'train', pipeline)
    results = ds[0]
    boxes, masks = results['gt_bboxes'], results['gt_masks']
    assert masks.shape[:2] == (24, 24) and masks.shape[2] == len(boxes)
    for box, m in zip(boxes, masks.transpose(2, 0, 1)):
        ys, xs = np.nonzero(m == 1)
        if len(xs):  # the mask lies inside its (resized) box
            assert xs.min() >= np.floor(box[0]) - 1 and \
                xs.max() <= np.ceil(box[2]) + 1
    packed = TRANSFORMS.build(dict(type='PackFusionDetInputs'))(results)
    gt = packed['data_samples'].gt_instances
    assert type(gt.masks).__name__ == 'BitmapMasks'
    assert gt.masks.masks.shape == (len(gt.bboxes), 24, 24)


def test_with_mask_needs_segmentations(toy, tmp_path):
    with open(osp.join(toy, 'annotations', 'instances_val.json')) as f:
        coco = json.load(f)
    for ann in coco['annotations']:
        ann.pop('segmentation')
    path = tmp_path / 'no_masks.json'
    path.write_text(json.dumps(coco))
    ds = dataset(toy, 'val', [
        dict(type='LoadPairedImages'),
        dict(type='LoadPairedAnnotations', with_mask=True),
    ], ann_file=str(path))
    with pytest.raises(KeyError, match='has no mask'):
        ds[0]


def test_mask_rcnn_behind_the_fusion_network_trains_and_reports_segm(toy):
    torch.manual_seed(0)
    neck = distillation_neck('conv_3')
    model = MODELS.build(
        dict(
            type='FusionDetector',
            fusion_net=dict(
                type='SimpleFusionNet',
                in_channels=2,
                base_channels=4,
                num_dense=1,
                decoder_channels=(4, )),
            fusion_losses=[dict(type='MaxIntensityLoss', loss_weight=1.0)],
            detector=mask_rcnn(neck=neck)))
    train = dataset(toy, 'train', [
        dict(type='LoadPairedImages'),
        dict(type='LoadPairedAnnotations', with_mask=True),
        dict(type='PairedRandomFlip', prob=0.5),
        dict(type='PackFusionDetInputs'),
    ])
    batch = [train[i] for i in range(len(train))]
    data = dict(
        inputs=dict(
            ir=[b['inputs']['ir'] for b in batch],
            vi=[b['inputs']['vi'] for b in batch]),
        data_samples=[b['data_samples'] for b in batch])
    model.train()
    optim = torch.optim.AdamW(model.parameters(), lr=1e-3)
    mask_head = model.detector.roi_head.mask_head
    before = mask_head.conv_logits.weight.detach().clone()
    for _ in range(2):
        losses = model(**model.data_preprocessor(copy.deepcopy(data), True),
                       mode='loss')
        assert {'loss_mask', 'loss_rpn_cls', 'loss_cls',
                'fusion.loss_int'} <= set(losses)
        loss, _ = model.parse_losses(losses)
        optim.zero_grad()
        loss.backward()
        optim.step()
    assert not torch.equal(before, mask_head.conv_logits.weight)

    val = dataset(toy, 'val', [
        dict(type='LoadPairedImages'),
        dict(type='PackFusionDetInputs'),
    ], test_mode=True)
    metric = METRICS.build(
        dict(
            type='mmdet.CocoMetric',
            ann_file=osp.join(toy, 'annotations', 'instances_val.json'),
            metric=['bbox', 'segm']))
    metric.dataset_meta = dict(classes=CLASSES)
    model.eval()
    batch = [val[i] for i in range(len(val))]
    vdata = dict(
        inputs=dict(
            ir=[b['inputs']['ir'] for b in batch],
            vi=[b['inputs']['vi'] for b in batch]),
        data_samples=[b['data_samples'] for b in batch])
    with torch.no_grad():
        preds = model.val_step(vdata)
    masks = preds[0].pred_instances.masks
    assert masks.shape[-2:] == (SIZE, SIZE) and masks.dtype == torch.bool
    metric.process({}, [p.to_dict() for p in preds])
    res = metric.compute_metrics(metric.results)
    assert 0 <= res['segm_mAP'] <= 1 and 0 <= res['bbox_mAP'] <= 1
