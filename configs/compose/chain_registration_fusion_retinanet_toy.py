# Joint registration (N_R), fusion (N_F) and RetinaNet on misaligned toy pairs
# Guide: docs/methods/registration.md
_base_ = [
    '../tim/retinanet_ivif_fpn_toy.py',
    '../_base_/models/registration_net.py',
    '../_base_/models/chain_scene_fusion.py',
]

model = dict(
    _base_.chain_model,
    _delete_=True,
    stages=[
        dict(
            name='registration',
            kind='registration',
            module={{_base_.registration_net}},
            inputs=['vi:y', 'ir'],  # [fixed, moving]
            output='ir_reg',
            losses={{_base_.registration_losses}},
            loss_weight=1.0,  # rho
            init=None),
        dict(
            _base_.chain_model.stages[1],
            module=dict(_base_.tim_fusion_net, channels=8),
            inputs=['ir_reg', 'vi:y']),
    ],
    color_from='vi',
    detector=_base_.model.detector)

color_type = dict(ir='gray', vi='color')
img_scale = (128, 128)
misalignment = dict(
    type='RandomElasticAffineWarp',
    key='ir',
    max_rotation=3.0,
    max_scale=0.03,
    max_shear=0.02,
    max_translation=0.02,
    elastic_magnitude=0.015,
    elastic_sigma=0.1)
train_pipeline = [
    dict(type='LoadPairedImages', color_type=color_type),
    dict(type='LoadPairedAnnotations'),
    dict(type='PairedResize', scale=img_scale),
    dict(type='PairedRandomFlip', prob=0.5, direction='horizontal'),
    misalignment,  # after the geometric transforms
    dict(type='PackFusionDetInputs'),
]
test_pipeline = [
    dict(type='LoadPairedImages', color_type=color_type),
    dict(type='PairedResize', scale=img_scale),
    dict(misalignment, seed=0),  # one fixed warp per image
    dict(type='PackFusionDetInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader

optim_wrapper = dict(
    paramwise_cfg=dict(
        _delete_=True, custom_keys={
            'registration_net': dict(lr_mult=0.5),
            'fusion_net': dict(lr_mult=0.5)
        }))
custom_hooks = [
    dict(
        type='ChainStagingHook',
        phases=[
            dict(begin=0, train=['registration'], task=False),
            dict(begin=25, train=['fusion'], task=False),
            dict(begin=50, train='all'),  # = the schedule's warmup_iters
        ]),
    dict(type='FusedImageSaveHook', extra_fields=['pred_ir_reg']),
]
