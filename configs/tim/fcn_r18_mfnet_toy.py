# The model of fcn_r18_mfnet.py (TIM's stage-1 N_F + an MMSegmentation FCN
# on a dilated ResNetV1c-18) at toy size on the embedded IR/VIS data with
# its masks (5 classes): N_F at 8 channels, ResNetV1c-18 at 1/4 width
# without pretrained weights, 128x128 inputs. The toy set stands in for
# MFNet's RGB-T frames (MFNet stores both modalities in one 4-channel PNG;
# the toy set has one folder per modality).
#   python tools/misc/make_toy_data.py data/toy --num 300 --seed 0
#   python tools/train.py configs/tim/fcn_r18_mfnet_toy.py
_base_ = [
    '../_base_/models/fusion_fcn_r18.py',
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
        decode_head=dict(in_channels=bc * 8, channels=32, num_classes=5),
        auxiliary_head=dict(in_channels=bc * 4, channels=16, num_classes=5)))

custom_hooks = [
    dict(type='FusionWarmupHook', warmup=50),  # = schedule's warmup_iters
    dict(type='FusedImageSaveHook'),
]
default_hooks = dict(logger=dict(interval=10), checkpoint=dict(interval=100))
