# Beyond the papers: a chain of pre-modules in front of a real detector on
# night-time IR/VIS pairs whose VIS is dark and noisy. RUAS's scene module
# enhances the VIS image (vi -> vi_enh), TIM's N_F fuses IR with the
# enhanced VIS luminance ((ir, vi_enh:y) -> fused), and an MMDetection
# RetinaNet (R18/4 + FPN, as configs/tim/retinanet_ivif_fpn_toy.py) detects on
# the fused image coloured with the enhanced VIS chroma. Loss:
#   l_T + 0.1 * l_scene(vi_enh) + 0.5 * l_F(fused)
# Stages (ChainStagingHook): the scene module alone on its own loss for 25
# iterations, then N_F alone (scene frozen) for 25, both at 3x the chain's
# lr (lr_mult=3.0: 3e-3), then everything jointly
# under the detector's loss (the task model's LR schedule starts at 50).
#   python tools/misc/make_toy_data.py data/toy_night --num 300 --seed 0 \
#       --night-fraction 1.0 --night-darkness 4
#   python tools/train.py configs/compose/chain_retinanet_night_toy.py
# Official weights as stage initialisations: set
#   model.chain_net.stages[0].init = 'checkpoints/ruas_lol_converted.pth'
#   (tools/model_converters/ruas_official_to_mmfusenas.py --scene-only) and
#   model.chain_net.stages[1].init = a FusionDetector / ImageFusor / PMI
#   checkpoint of the same N_F. See docs/methods/compose.md.
_base_ = [
    '../tim/retinanet_ivif_fpn_toy.py',
    '../_base_/models/chain_scene_fusion.py',
]

data_root = 'data/toy_night/'
# the chain of chain_scene_fusion.py with two overrides: N_F at 8 channels
# (TIM's fusion_M genotype, as the toy FusionDetector's) and the toy
# RetinaNet of retinanet_ivif_fpn_toy.py (R18/4 + FPN, strides 4-32)
_chain = _base_.chain_model.chain_net
model = dict(
    _base_.chain_model,
    _delete_=True,
    chain_net=dict(
        _chain,
        stages=[
            _chain.stages[0],
            dict(
                _chain.stages[1],
                module=dict(_base_.tim_fusion_net, channels=8)),
        ]),
    detector=_base_.model.detector)

# IR as one channel, VIS as RGB (the scene module enhances colour images)
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
    # the default metric list (DEFAULT_FUSION_METRICS), as fuse.py --metrics
    # and eval_fusion.py report it
    dict(type='FusionMetric', preset='cddfuse'),
]
test_evaluator = val_evaluator

optim_wrapper = dict(
    paramwise_cfg=dict(
        _delete_=True, custom_keys={'chain_net': dict(lr_mult=0.5)}))
custom_hooks = [
    dict(
        type='ChainStagingHook',
        phases=[
            # both warm-ups at 3x the chain's lr: at 1x N_F ended with a
            # negative SSIM on the enhanced VIS in 2 of 3 toy seeds and
            # joint training did not repair it; 3x on N_F alone did not fix
            # seed 2, 3x on both fixed seeds 0 and 2 (docs/methods/compose.md)
            dict(begin=0, train=['scene'], task=False, lr_mult=3.0),
            dict(begin=25, train=['fusion'], task=False, lr_mult=3.0),
            dict(begin=50, train='all'),  # = the schedule's warmup_iters
        ],
        # a stage frozen after its warm-up re-estimates its BN statistics
        # with its final weights over the first 10 iterations of the next
        # phase (stale warm-up statistics made the frozen N_F output a
        # near-constant image, docs/methods/compose.md)
        recalibrate_bn=10),
    # the fused images and, in vi_enh/, the enhanced VIS images
    dict(type='FusedImageSaveHook', extra_fields=['pred_vi_enh']),
]
