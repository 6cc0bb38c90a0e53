# Toy sibling of ssd300_exdark.py (ExDark-layout toy scenes, a small SSD)
# Guide: docs/methods/ruas_search_tasks.md
_base_ = [
    '../_base_/models/scene_ssd300_vgg16.py',
    '../_base_/datasets/toy_exdark_det.py',
    '../_base_/schedules/schedule_ruas_task_toy.py',
    '../_base_/default_runtime.py',
]

bc = 16  # ResNet-18 at 1/4 width: C3-C5 with 32, 64, 128 channels
levels = (bc * 2, bc * 4, bc * 8, 64, 64)
model = dict(
    detector=dict(
        backbone=dict(
            _delete_=True,
            type='ResNet',
            depth=18,
            base_channels=bc,
            num_stages=4,
            out_indices=(1, 2, 3),
            norm_cfg=dict(type='BN', requires_grad=True),
            norm_eval=False,
            style='pytorch',
            init_cfg=None),
        neck=dict(
            in_channels=levels[:3],
            out_channels=levels,
            level_strides=(2, 2),
            level_paddings=(1, 1),
            ops=['7-C', '3-C']),
        bbox_head=dict(
            in_channels=levels,
            ops=dict(
                reg=['7-C', '3-2-DC', '3-2-DC', '3-2-DC', '3-C'],
                cls=['3-2-DC', '7-C', '7-C', '5-C', '7-C']),
            anchor_generator=dict(
                _delete_=True,
                type='SSDAnchorGenerator',
                scale_major=False,
                input_size=128,
                strides=[8, 16, 32, 64, 128],
                ratios=[[2], [2, 3], [2, 3], [2], [2]],
                min_sizes=[8, 20, 40, 64, 96],
                max_sizes=[20, 40, 64, 96, 128]))))

custom_hooks = [
    # RUAS Table 6's best; end to end: custom_hooks.0.strategy=end_to_end
    dict(type='RUASTrainingStrategyHook', strategy='hierarchical',
         scene_iters=50, freeze_scene=False, scene_weight=0.1),
]
default_hooks = dict(logger=dict(interval=10), checkpoint=dict(interval=100))
