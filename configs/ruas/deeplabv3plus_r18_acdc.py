# RUAS low-light semantic segmentation on ACDC night (TPAMI 2022 Sec. 7.2,
# Table 11): the RUAS scene module + DeepLabV3+ (ResNetV1c-18) whose feature
# conversion is the searched task cell (here fixed to DeepLabV3+'s own ASPP
# ops; a searched one: retrain_deeplabv3plus_r18_acdc.py), trained end to end
# on l_t + lambda * l_s. Hierarchical strategy:
#   --cfg-options custom_hooks.0.strategy=hierarchical \
#                 custom_hooks.0.scene_iters=2000
#   python tools/train.py configs/ruas/deeplabv3plus_r18_acdc.py
_base_ = [
    '../_base_/models/scene_deeplabv3plus_r18.py',
    '../_base_/datasets/acdc_night_seg.py',
    '../_base_/schedules/schedule_ruas_task_20k.py',
    '../_base_/default_runtime.py',
]

custom_hooks = [
    dict(type='RUASTrainingStrategyHook', strategy='end_to_end',
         scene_weight=0.1),
]
default_hooks = dict(checkpoint=dict(interval=2000))
