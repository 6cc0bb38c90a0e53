# RUAS low-light face detection on DARK FACE (TPAMI 2022 Sec. 7.1): the RUAS
# scene module + SSD300 (VGG16, one class) with the official searched task
# cell, trained hierarchically (Table 6's best; options: see
# ssd300_exdark.py).
#   python tools/train.py configs/ruas/ssd300_darkface.py
_base_ = [
    '../_base_/models/scene_ssd300_vgg16.py',
    '../_base_/datasets/darkface_det.py',
    '../_base_/schedules/schedule_ruas_task_20k.py',
    '../_base_/default_runtime.py',
]

model = dict(detector=dict(bbox_head=dict(num_classes=1)))
custom_hooks = [
    # RUAS Table 6's best strategy ("pretrain + finetune", 0.693 mAP vs 0.685
    # end to end on l_t and 0.660 on l_t + lambda l_s): the scene module on
    # l_s alone for scene_iters, then the whole model on l_t. End to end:
    #   --cfg-options custom_hooks.0.strategy=end_to_end
    dict(type='RUASTrainingStrategyHook', strategy='hierarchical',
         scene_iters=2000, freeze_scene=False, scene_weight=0.1),
]
default_hooks = dict(checkpoint=dict(interval=2000))
