# RUAS low-light semantic segmentation on ACDC night (TPAMI 2022 Sec. 7.2,
# Table 11): the RUAS scene module + DeepLabV3+ (ResNetV1c-18) whose feature
# conversion is the searched task cell (here fixed to DeepLabV3+'s own ASPP
# ops; a searched one: retrain_deeplabv3plus_r18_acdc.py), trained
# hierarchically (RUAS Table 6's best). End to end on l_t + lambda * l_s:
#   --cfg-options custom_hooks.0.strategy=end_to_end
#   python tools/train.py configs/ruas/deeplabv3plus_r18_acdc.py
_base_ = [
    '../_base_/models/scene_deeplabv3plus_r18.py',
    '../_base_/datasets/acdc_night_seg.py',
    '../_base_/schedules/schedule_ruas_task_20k.py',
    '../_base_/default_runtime.py',
]

custom_hooks = [
    # RUAS Table 6's best strategy ("pretrain + finetune", 0.693 mAP vs 0.685
    # end to end on l_t and 0.660 on l_t + lambda l_s): the scene module on
    # l_s alone for scene_iters, then the whole model on l_t. End to end:
    #   --cfg-options custom_hooks.0.strategy=end_to_end
    dict(type='RUASTrainingStrategyHook', strategy='hierarchical',
         scene_iters=2000, freeze_scene=False, scene_weight=0.1),
]
default_hooks = dict(checkpoint=dict(interval=2000))
