# Baseline: a small hand-designed fusion CNN on the toy data
# (docs/user_guides/toy_data.md)
_base_ = [
    '../_base_/models/simple_fusion.py',
    '../_base_/datasets/toy_fusion.py',
    '../_base_/schedules/schedule_300i.py',
    '../_base_/default_runtime.py',
]

custom_hooks = [dict(type='FusedImageSaveHook')]
