# The model of deeplabv3plus_r18_msrs.py (TIM's stage-1 N_F + an
# MMSegmentation DeepLabV3+ on a dilated ResNetV1c-18) at toy size on the
# embedded IR/VIS data with its masks (5 classes): N_F at 8 channels,
# ResNetV1c-18 at 1/4 width without pretrained weights, ASPP dilations
# scaled to the 16x16 features of 128x128 inputs. 300 iterations (50 of
# fusion warm-up); validation (mIoU + fusion metrics) every 100.
#   python tools/misc/make_toy_data.py data/toy --num 300 --seed 0
#   python tools/train.py configs/tim/deeplabv3plus_r18_msrs_toy.py
_base_ = [
    '../_base_/models/fusion_deeplabv3plus_r18.py',
    '../_base_/datasets/toy_seg.py',
    '../_base_/schedules/schedule_task_guided_toy.py',
    '../_base_/default_runtime.py',
]

bc = 16  # ResNetV1c-18 at 1/4 width: levels of 16, 32, 64, 128 channels
model = dict(
    fusion_net=dict(channels=8),
    # weight-free l_F (gradient measure) instead of the VGG16 features
    fusion_losses=_base_.tim_fusion_losses_toy,
    segmentor=dict(
        backbone=dict(stem_channels=bc, base_channels=bc, init_cfg=None),
        decode_head=dict(
            in_channels=bc * 8,
            channels=32,
            dilations=(1, 2, 4, 6),
            c1_in_channels=bc,
            c1_channels=8,
            num_classes=5),
        auxiliary_head=dict(in_channels=bc * 4, channels=16, num_classes=5)))

custom_hooks = [
    dict(type='FusionWarmupHook', warmup=50),  # = schedule's warmup_iters
    dict(type='FusedImageSaveHook'),
]
default_hooks = dict(logger=dict(interval=10), checkpoint=dict(interval=100))
