# RUAS scene module + SSD300 on DARK FACE (Sec. 7.1), hierarchical
# Guide: docs/methods/ruas_search_tasks.md
_base_ = [
    '../_base_/models/scene_ssd300_vgg16.py',
    '../_base_/datasets/darkface_det.py',
    '../_base_/schedules/schedule_ruas_task_20k.py',
    '../_base_/default_runtime.py',
]

model = dict(detector=dict(bbox_head=dict(num_classes=1)))
custom_hooks = [
    # RUAS Table 6's best; end to end: custom_hooks.0.strategy=end_to_end
    dict(type='RUASTrainingStrategyHook', strategy='hierarchical',
         scene_iters=2000, freeze_scene=False, scene_weight=0.1),
]
default_hooks = dict(checkpoint=dict(interval=2000))
