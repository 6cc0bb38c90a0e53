# RUAS scene module + DeepLabV3+ R18 on ACDC night (Sec. 7.2), hierarchical
# Guide: docs/methods/ruas_search_tasks.md
_base_ = [
    '../_base_/models/scene_deeplabv3plus_r18.py',
    '../_base_/datasets/acdc_night_seg.py',
    '../_base_/schedules/schedule_ruas_task_20k.py',
    '../_base_/default_runtime.py',
]

custom_hooks = [
    # RUAS Table 6's best; end to end: custom_hooks.0.strategy=end_to_end
    dict(type='RUASTrainingStrategyHook', strategy='hierarchical',
         scene_iters=2000, freeze_scene=False, scene_weight=0.1),
]
default_hooks = dict(checkpoint=dict(interval=2000))
