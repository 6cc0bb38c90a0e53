# FPN alternative of the toy headline retinanet_ivif_toy.py (TIM's stage-1
# N_F + an MMDetection RetinaNet R18 with mmdet's FPN, trained on
# l_T + eta * l_F) at toy size, on the embedded procedural IR/VIS data: N_F
# at 8 channels, ResNet-18 at 1/4 width without pretrained weights (nothing
# is downloaded), FPN strides 4-32 for the small toy objects, 128x128
# inputs. 300 iterations (50 of fusion warm-up), validation (COCO bbox mAP +
# fusion metrics) and a checkpoint every 100; sized for a CPU.
# The headline retinanet_ivif_toy.py puts the searched neck in place of the
# FPN (the two compared: docs/methods/tim_task_necks.md). The
# toy configs that swap the neck, backbone, head or put modules in front
# (direct fusion, R50, MobileNetV2, Mask R-CNN, SSD, the chains, the neck
# retrain) build on this one, so their documented numbers stay reproducible.
#   python tools/misc/make_toy_data.py data/toy --num 300 --seed 0
#   python tools/train.py configs/tim/retinanet_ivif_fpn_toy.py
#   python tools/test.py configs/tim/retinanet_ivif_fpn_toy.py \
#       work_dirs/retinanet_ivif_fpn_toy/iter_300.pth
# Direct-fusion baseline: configs/tim/retinanet_ivif_direct_toy.py.
_base_ = [
    '../_base_/models/fusion_retinanet_r18.py',
    '../_base_/datasets/toy_det.py',
    '../_base_/schedules/schedule_task_guided_toy.py',
    '../_base_/default_runtime.py',
]

bc = 16  # ResNet-18 at 1/4 width: levels of 16, 32, 64, 128 channels
model = dict(
    fusion_net=dict(channels=8),
    # weight-free l_F (gradient measure) instead of the VGG16 features
    fusion_losses=_base_.tim_fusion_losses_toy,
    detector=dict(
        backbone=dict(
            base_channels=bc, frozen_stages=-1, norm_eval=False,
            init_cfg=None),
        neck=dict(
            in_channels=[bc, bc * 2, bc * 4, bc * 8],
            out_channels=64,
            start_level=0,
            num_outs=4),
        bbox_head=dict(
            num_classes=4,
            in_channels=64,
            stacked_convs=2,
            feat_channels=64,
            anchor_generator=dict(
                octave_base_scale=2,
                scales_per_octave=2,
                strides=[4, 8, 16, 32]),
            bbox_coder=dict(target_stds=[0.1, 0.1, 0.2, 0.2]))))

custom_hooks = [
    dict(type='FusionWarmupHook', warmup=50),  # = schedule's warmup_iters
    dict(type='FusedImageSaveHook'),
]
default_hooks = dict(logger=dict(interval=10), checkpoint=dict(interval=100))
