# Baseline: a small hand-designed fusion CNN on the embedded toy data.
# python tools/misc/make_toy_data.py data/toy --num 300 --seed 0
# python tools/train.py configs/baselines/fusion_toy.py
_base_ = [
    '../_base_/models/simple_fusion.py',
    '../_base_/datasets/toy_fusion.py',
    '../_base_/schedules/schedule_300i.py',
    '../_base_/default_runtime.py',
]

# write the fused validation / test images next to the logs
custom_hooks = [dict(type='FusedImageSaveHook')]
