# TIM task-guided fusion + detection on MultiSpectral (Sec. 4.3.1, Table 4):
# the stage-1 N_F feeding a RetinaNet (ResNet-18, FPN), trained jointly on
# l_T + eta * l_F (l_F weight-free by default; the paper's VGG16 feature
# measure is an option, configs/_base_/models/tim_fusion_losses.py). This is the FPN baseline of the searched detector;
# the searched neck is search_retinanet_multispectral.py ->
# retrain_retinanet_multispectral.py.
# Data: configs/_base_/datasets/multispectral_det.py (data/MultiSpectral/).
# Schedule (Sec. 4.3.1, training): 160k steps, lr 2e-3 decayed by cosine
# annealing to 1e-8. The optimiser is not named in the paper: SGD with
# momentum 0.9 and weight decay 1e-4 (mmdet's RetinaNet default family).
#   python tools/train.py configs/tim/retinanet_multispectral.py
# No data / no VGG16 file? retinanet_multispectral_toy.py.
_base_ = [
    '../_base_/models/fusion_retinanet_r18.py',
    '../_base_/datasets/multispectral_det.py',
    '../_base_/default_runtime.py',
]

model = dict(detector=dict(bbox_head=dict(num_classes=5)))

max_iters = 160000
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=2e-3, momentum=0.9, weight_decay=1e-4),
    clip_grad=dict(max_norm=35, norm_type=2))
param_scheduler = [
    dict(
        type='CosineAnnealingLR',
        by_epoch=False,
        begin=0,
        end=max_iters,
        T_max=max_iters,
        eta_min=1e-8)
]
train_cfg = dict(
    type='IterBasedTrainLoop', max_iters=max_iters, val_interval=10000)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')

# N_F from a fusion-only start is trained jointly from the first step; to
# start from a trained N_F give model.fusion_init (docs/user_guides/task_guided.md)
custom_hooks = [dict(type='FusedImageSaveHook')]
default_hooks = dict(
    logger=dict(interval=50), checkpoint=dict(interval=10000))
