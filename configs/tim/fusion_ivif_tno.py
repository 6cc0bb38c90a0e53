# TIM's official stage-1 N_F trained on TNO pairs (PMI start: load_from
# =work_dirs/pmi_fusion/pmi_init.pth) (docs/methods/tim.md)
_base_ = [
    '../_base_/models/tim_fusion_losses.py',
    '../_base_/models/tim_fusion_net.py',
    '../_base_/datasets/ivif_fusion.py',
    '../_base_/default_runtime.py',
]

model = dict(
    type='ImageFusor',
    data_preprocessor=dict(type='FusionDataPreprocessor', pad_size_divisor=4),
    fusion_net=_base_.tim_fusion_net,
    losses=_base_.tim_fusion_losses)

optim_wrapper = dict(type='OptimWrapper', optimizer=dict(type='Adam', lr=1e-4))
param_scheduler = [
    dict(type='CosineAnnealingLR', by_epoch=False, T_max=10000, eta_min=1e-6)
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=10000, val_interval=1000)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')

default_hooks = dict(logger=dict(interval=50), checkpoint=dict(interval=1000))
custom_hooks = [dict(type='FusedImageSaveHook')]
