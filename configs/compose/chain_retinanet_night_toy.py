# RUAS scene -> TIM N_F -> RetinaNet chain on night-time toy pairs
# Guide (toy data command): docs/methods/compose.md
_base_ = [
    '../tim/retinanet_ivif_fpn_toy.py',
    '../_base_/models/chain_scene_fusion.py',
]

data_root = 'data/toy_night/'
_stages = _base_.chain_model.stages
model = dict(
    _base_.chain_model,
    _delete_=True,
    stages=[
        _stages[0],
        dict(_stages[1], module=dict(_base_.tim_fusion_net, channels=8)),
    ],
    detector=_base_.model.detector)

# IR as one channel, VIS as RGB (the scene module enhances colour)
color_type = dict(ir='gray', vi='color')
img_scale = (128, 128)
train_pipeline = [
    dict(type='LoadPairedImages', color_type=color_type),
    dict(type='LoadPairedAnnotations'),
    dict(type='PairedResize', scale=img_scale),
    dict(type='PairedRandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackFusionDetInputs'),
]
test_pipeline = [
    dict(type='LoadPairedImages', color_type=color_type),
    dict(type='PairedResize', scale=img_scale),
    dict(type='PackFusionDetInputs'),
]
train_dataloader = dict(
    dataset=dict(data_root=data_root, pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(data_root=data_root, pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = [
    dict(
        type='mmdet.CocoMetric',
        ann_file=data_root + 'annotations/instances_val.json',
        metric='bbox'),
    dict(type='FusionMetric', preset='cddfuse'),
]
test_evaluator = val_evaluator

optim_wrapper = dict(
    paramwise_cfg=dict(
        _delete_=True, custom_keys={
            'scene_net': dict(lr_mult=0.5),
            'fusion_net': dict(lr_mult=0.5)
        }))
custom_hooks = [
    dict(
        type='ChainStagingHook',
        phases=[
            # 3x: at 1x, N_F's warm-up could end with a negative SSIM on vi_enh
            dict(begin=0, train=['scene'], task=False, lr_mult=3.0),
            dict(begin=25, train=['fusion'], task=False, lr_mult=3.0),
            dict(begin=50, train='all'),  # = the schedule's warmup_iters
        ],
        recalibrate_bn=10),
    dict(type='FusedImageSaveHook', extra_fields=['pred_vi_enh']),
]
