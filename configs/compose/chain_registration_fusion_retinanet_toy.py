# Joint registration, fusion and detection by config (TIM Sec. 5.1.2 /
# Table 3, N_R in front of N_F, with the detector of retinanet_ivif_fpn_toy.py):
#   (vi:y, ir)      --N_R (PyramidCorrRegNet)--> ir_reg  (IR onto VIS)
#   (ir_reg, vi:y)  --N_F (TIM fusion net)-->   fused
#   fused + the chroma of vi --> RetinaNet (R18/4 + FPN)
# on toy pairs whose IR image is warped by a random affine + elastic field
# (RandomElasticAffineWarp; the boxes stay in the VIS frame, which the
# registration keeps). Loss:
#   l_T + 1.0 * l_R(ir_reg, vi) + 0.5 * l_F(fused)
# l_R = NGF(ir_reg, vi:y) + smoothness of the field (no ground truth).
# Stages (ChainStagingHook): N_R alone for 25 iterations, N_F alone (N_R
# frozen) for 25, then everything jointly (the detector's schedule starts
# at 50).
#   python tools/misc/make_toy_data.py data/toy --num 300 --seed 0
#   python tools/train.py configs/compose/chain_registration_fusion_retinanet_toy.py
# A trained N_R (configs/tim/registration_ivif_toy.py) as the start:
#   --cfg-options model.chain_net.stages.0.init=work_dirs/registration_ivif_toy/iter_300.pth
# FusionMetric compares the fused image with the batch's (misaligned)
# sources; projects/reproductions/bench_registration.py scores against the aligned ones.
# See docs/methods/registration.md.
_base_ = [
    '../tim/retinanet_ivif_fpn_toy.py',
    '../_base_/models/registration_net.py',
    '../_base_/models/chain_scene_fusion.py',
]

# the chain of chain_scene_fusion.py with N_R in place of the scene module:
# its fusion stage (l_F, eta) reads the registered IR; N_F at 8 channels
# and the toy RetinaNet as in chain_retinanet_night_toy.py
_chain = _base_.chain_model.chain_net
model = dict(
    _base_.chain_model,
    _delete_=True,
    chain_net=dict(
        _chain,
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
                _chain.stages[1],
                module=dict(_base_.tim_fusion_net, channels=8),
                inputs=['ir_reg', 'vi:y']),
        ]),
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
        _delete_=True, custom_keys={'chain_net': dict(lr_mult=0.5)}))
custom_hooks = [
    dict(
        type='ChainStagingHook',
        phases=[
            dict(begin=0, train=['registration'], task=False),
            dict(begin=25, train=['fusion'], task=False),
            dict(begin=50, train='all'),  # = the schedule's warmup_iters
        ]),
    # the fused images and, in ir_reg/, the registered IR images
    dict(type='FusedImageSaveHook', extra_fields=['pred_ir_reg']),
]
