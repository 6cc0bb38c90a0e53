# N_R, the deformable registration network of TIM's joint registration and
# fusion (Sec. 5.1.2, Table 3), trained on TNO pairs whose IR image is
# warped by random affine + elastic fields (configs/_base_/datasets/
# ivif_misaligned.py). ImageRegistrator: the VIS luminance is fixed, the IR
# image moves; unsupervised NGF + smoothness losses (the ground-truth field
# is only used by the metric; add dict(type='FlowEPELoss') to `losses` to
# supervise with it). Validation: end-point error of the field.
#   python tools/train.py configs/tim/registration_ivif_tno.py
# The trained N_R initialises the registration stage of the joint chain
# (configs/compose/chain_registration_fusion_retinanet_toy.py, stage
# `init`). See docs/registration.md.
_base_ = [
    '../_base_/datasets/ivif_misaligned.py',
    '../_base_/models/registration_net.py',
    '../_base_/default_runtime.py',
]

model = dict(
    type='ImageRegistrator',
    data_preprocessor=dict(type='FusionDataPreprocessor'),
    registration_net={{_base_.registration_net}},
    losses={{_base_.registration_losses}},
    fixed='vi',
    moving='ir')

optim_wrapper = dict(type='OptimWrapper', optimizer=dict(type='Adam', lr=1e-4))
param_scheduler = [
    dict(type='CosineAnnealingLR', by_epoch=False, T_max=10000, eta_min=1e-6)
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=10000, val_interval=1000)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(logger=dict(interval=50), checkpoint=dict(interval=1000))
