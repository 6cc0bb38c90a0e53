# RUAS low-light face detection on DARK FACE (TPAMI 2022 Sec. 7.1): the RUAS
# scene module + SSD300 (VGG16, one class) with the official searched task
# cell, trained end to end (options: see ssd300_exdark.py).
#   python tools/train.py configs/ruas/ssd300_darkface.py
_base_ = [
    '../_base_/models/scene_ssd300_vgg16.py',
    '../_base_/datasets/darkface_det.py',
    '../_base_/schedules/schedule_ruas_task_20k.py',
    '../_base_/default_runtime.py',
]

model = dict(detector=dict(bbox_head=dict(num_classes=1)))
custom_hooks = [
    dict(type='RUASTrainingStrategyHook', strategy='end_to_end',
         scene_weight=0.1),
]
default_hooks = dict(checkpoint=dict(interval=2000))
