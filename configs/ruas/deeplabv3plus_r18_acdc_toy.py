# Toy sibling of deeplabv3plus_r18_acdc.py (ACDC-layout toy scenes)
# Guide: docs/methods/ruas_search_tasks.md
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
    # RUAS Table 6's best; end to end: custom_hooks.0.strategy=end_to_end
    dict(type='RUASTrainingStrategyHook', strategy='hierarchical',
         scene_iters=50, freeze_scene=False, scene_weight=0.1),
]
default_hooks = dict(logger=dict(interval=10), checkpoint=dict(interval=100))
