# RUAS low-light detection on ExDark (TPAMI 2022 Sec. 7.1, Table 10): the
# RUAS scene module + SSD300 (VGG16) with the official searched task cell,
# trained end to end on l_t + lambda * l_s (Table 6). The hierarchical
# strategy (scene module pre-trained on l_s alone, then frozen while the
# detector trains) is
#   --cfg-options custom_hooks.0.strategy=hierarchical \
#                 custom_hooks.0.scene_iters=2000
# A scene module trained for enhancement (or the official weights converted
# with --scene-only) initialises it with model.scene_init=PATH.
#   python tools/train.py configs/ruas/ssd300_exdark.py
_base_ = [
    '../_base_/models/scene_ssd300_vgg16.py',
    '../_base_/datasets/exdark_det.py',
    '../_base_/schedules/schedule_ruas_task_20k.py',
    '../_base_/default_runtime.py',
]

custom_hooks = [
    dict(type='RUASTrainingStrategyHook', strategy='end_to_end',
         scene_weight=0.1),
]
default_hooks = dict(checkpoint=dict(interval=2000))
