# N_R (TIM Sec. 5.1.2) on synthetically misaligned TNO pairs; needs
# splits/{train,val,test}.txt (docs/methods/registration.md)
_base_ = [
    '../_base_/datasets/ivif_misaligned.py',
    '../_base_/models/registration_net.py',
    '../_base_/default_runtime.py',
]

# the typical TNO image (576 x 768); RoadScene overrides it
reference_size = (576, 768)
# crops warped at the size of a whole image, as the validation images
train_pipeline = _base_.train_pipeline[:-2] + [
    dict(_base_.misalignment, reference_size=reference_size),
    dict(type='PackFusionInputs'),
]
train_dataloader = dict(
    dataset=dict(ann_file='splits/train.txt', pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(ann_file='splits/val.txt'))
test_dataloader = dict(dataset=dict(ann_file='splits/test.txt'))

model = dict(
    type='ImageRegistrator',
    data_preprocessor=dict(type='FusionDataPreprocessor'),
    registration_net=_base_.registration_net,
    losses=[
        dict(type='NGFLoss', eps=0.1, loss_weight=1.0),
        dict(type='FlowSmoothnessLoss', penalty='l2', loss_weight=1.0),
        dict(type='FlowEPELoss', loss_weight=1.0),
    ],
    fixed='vi',
    moving='ir')

optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='Adam', lr=1e-3),
    clip_grad=dict(max_norm=10.0, norm_type=2))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0,
         end=500),
    dict(type='CosineAnnealingLR', by_epoch=False, begin=500, end=10000,
         T_max=9500, eta_min=1e-5),
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=10000, val_interval=500)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(
    logger=dict(interval=50),
    checkpoint=dict(
        interval=1000, save_best='registration/EPE', rule='less'))
