"""Registry and scope: mmfusenas <-> mmdet / mmseg in both directions."""
import pytest
import torch
import torch.nn as nn
from mmengine.registry import DefaultScope, init_default_scope

from mmfusenas.registry import DATASETS, HOOKS, METRICS, MODELS, TRANSFORMS


class ScopeProbeNeck(nn.Module):
    """FPN-shaped neck defined on the mmfusenas side of the boundary."""

    def __init__(self, in_channels, out_channels, num_outs):
        super().__init__()
        self.lateral = nn.ModuleList(
            nn.Conv2d(c, out_channels, 1) for c in in_channels)
        self.num_outs = num_outs

    def forward(self, feats):
        outs = [conv(f) for conv, f in zip(self.lateral, feats)]
        while len(outs) < self.num_outs:
            outs.append(nn.functional.max_pool2d(outs[-1], 1, stride=2))
        return tuple(outs)


class ScopeProbeCompound(nn.Module):
    """An mmfusenas model holding real mmdet / mmseg sub-models."""

    def __init__(self, detector, segmentor):
        super().__init__()
        self.detector = MODELS.build(detector)
        self.segmentor = MODELS.build(segmentor)


@pytest.fixture(scope='module', autouse=True)
def probes():
    MODELS.register_module(module=ScopeProbeNeck, force=True)
    MODELS.register_module(module=ScopeProbeCompound, force=True)
    yield
    MODELS._module_dict.pop('ScopeProbeNeck')
    MODELS._module_dict.pop('ScopeProbeCompound')


def retinanet_cfg(neck):
    return dict(
        type='RetinaNet',
        data_preprocessor=dict(
            type='DetDataPreprocessor',
            mean=[0., 0., 0.],
            std=[255., 255., 255.],
            pad_size_divisor=32),
        backbone=dict(
            type='ResNet',
            depth=18,
            num_stages=4,
            out_indices=(1, 2, 3),
            norm_cfg=dict(type='BN'),
            init_cfg=None),
        neck=neck,
        bbox_head=dict(
            type='RetinaHead',
            num_classes=4,
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


def fcn_r18_cfg():
    return dict(
        type='EncoderDecoder',
        data_preprocessor=dict(
            type='SegDataPreProcessor',
            mean=[0., 0., 0.],
            std=[255., 255., 255.],
            size_divisor=32),
        backbone=dict(
            type='ResNetV1c', depth=18, out_indices=(3, ), init_cfg=None),
        decode_head=dict(
            type='FCNHead',
            in_channels=512,
            in_index=0,
            channels=16,
            num_convs=1,
            num_classes=5,
            norm_cfg=dict(type='BN')),
        train_cfg=dict(),
        test_cfg=dict(mode='whole'))


def det_sample(h=64, w=64):
    from mmdet.structures import DetDataSample
    from mmengine.structures import InstanceData
    sample = DetDataSample(
        metainfo=dict(img_shape=(h, w), ori_shape=(h, w), pad_shape=(h, w)))
    sample.gt_instances = InstanceData(
        bboxes=torch.tensor([[8., 8., 40., 40.]]), labels=torch.tensor([2]))
    return sample


def test_locations_make_our_components_visible_without_imports():
    # each name resolves through the registry's lazy `locations=` import
    assert MODELS.get('ImageFusor').__name__ == 'ImageFusor'
    assert MODELS.get('FusionDataPreprocessor') is not None
    assert DATASETS.get('PairedImageDataset').__name__ == \
        'PairedImageDataset'
    assert TRANSFORMS.get('LoadPairedImages').__name__ == 'LoadPairedImages'
    assert HOOKS.get('FusedImageSaveHook').__name__ == 'FusedImageSaveHook'
    assert METRICS.get('FusionMetric').__name__ == 'FusionMetric'
    # and the children fall back to MMEngine's root components
    assert HOOKS.get('CheckpointHook').__module__.startswith('mmengine')


def test_mmdet_retinanet_with_mmfusenas_neck_trains_a_step():
    from mmdet.registry import MODELS as DET_MODELS
    with DefaultScope.overwrite_default_scope('mmdet'):
        init_default_scope('mmdet')
        det = DET_MODELS.build(
            retinanet_cfg(
                dict(
                    type='mmfusenas.ScopeProbeNeck',
                    in_channels=[128, 256, 512],
                    out_channels=32,
                    num_outs=5)))
    assert type(det).__module__.startswith('mmdet.')
    assert isinstance(det.neck, ScopeProbeNeck)
    data = dict(inputs=[torch.randint(0, 255, (3, 64, 64), dtype=torch.uint8)],
                data_samples=[det_sample()])
    data = det.data_preprocessor(data, True)
    losses = det(**data, mode='loss')
    assert set(losses) == {'loss_cls', 'loss_bbox'}
    total = sum(sum(v) if isinstance(v, list) else v for v in losses.values())
    total.backward()
    assert det.neck.lateral[0].weight.grad.abs().sum() > 0


def test_mmfusenas_model_holds_real_mmdet_and_mmseg_models():
    from mmdet.models.detectors import RetinaNet
    from mmseg.models.segmentors import EncoderDecoder
    det = retinanet_cfg(
        dict(
            type='FPN',
            in_channels=[128, 256, 512],
            out_channels=32,
            start_level=0,
            add_extra_convs='on_input',
            num_outs=5))
    det['_scope_'] = 'mmdet'
    seg = fcn_r18_cfg()
    seg['_scope_'] = 'mmseg'
    with DefaultScope.overwrite_default_scope('mmfusenas'):
        model = MODELS.build(
            dict(type='ScopeProbeCompound', detector=det, segmentor=seg))
        # the scope switch for the sub-configs is temporary
        assert DefaultScope.get_current_instance().scope_name == 'mmfusenas'
    assert isinstance(model.detector, RetinaNet)
    assert isinstance(model.segmentor, EncoderDecoder)
    model.eval()
    x = torch.rand(1, 3, 64, 64)
    with torch.no_grad():
        det_feats = model.detector.extract_feat(x)
        seg_logits = model.segmentor.encode_decode(
            x, [dict(img_shape=(64, 64), pad_shape=(64, 64))])
    assert [f.shape[-1] for f in det_feats] == [8, 4, 2, 1, 1]
    assert seg_logits.shape == (1, 5, 64, 64)
