# Toy sibling of deeplabv3plus_r18_acdc.py: darkened toy scenes in the ACDC
# night layout, the RUAS scene module + DeepLabV3+ (ResNetV1c-18 at 1/4
# width) with the searchable feature-conversion head.
#   python tools/misc/make_toy_lowlight_tasks.py data/toy_acdc --task acdc
#   python tools/train.py configs/ruas/deeplabv3plus_r18_acdc_toy.py
_base_ = [
    '../_base_/models/scene_deeplabv3plus_r18.py',
    '../_base_/datasets/toy_acdc_seg.py',
    '../_base_/schedules/schedule_ruas_task_toy.py',
    '../_base_/default_runtime.py',
]

bc = 16  # ResNetV1c-18 at 1/4 width: levels of 16, 32, 64, 128 channels
model = dict(
    segmentor=dict(
        backbone=dict(stem_channels=bc, base_channels=bc),
        decode_head=dict(
            in_channels=bc * 8,
            channels=32,
            ops=['1-C', '3-2-DC', '3-6-DC', '3-12-DC'],
            c1_in_channels=bc,
            c1_channels=8),
        auxiliary_head=dict(in_channels=bc * 4, channels=16)))

custom_hooks = [
    # RUAS Table 6's best strategy ("pretrain + finetune", 0.693 mAP vs 0.685
    # end to end on l_t and 0.660 on l_t + lambda l_s): the scene module on
    # l_s alone for scene_iters, then the whole model on l_t. End to end:
    #   --cfg-options custom_hooks.0.strategy=end_to_end
    dict(type='RUASTrainingStrategyHook', strategy='hierarchical',
         scene_iters=50, freeze_scene=False, scene_weight=0.1),
]
default_hooks = dict(logger=dict(interval=10), checkpoint=dict(interval=100))
