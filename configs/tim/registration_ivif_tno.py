# N_R, the deformable registration network of TIM's joint registration and
# fusion (Sec. 5.1.2, Table 3), trained on TNO pairs whose IR image is
# warped by random affine + elastic fields (configs/_base_/datasets/
# ivif_misaligned.py). ImageRegistrator: the VIS luminance is fixed, the IR
# image moves. Validation: end-point error of the field.
# Network: PyramidCorrRegNet of registration_net.py (coarse-to-fine cost
# volumes, learned + NGF correlation; the U-Net did not learn on IR/VIS
# pairs, docs/tim.md, Table 3 section) reading the contrast-free
# orientation image of each source (inputs='orientation': on real IR/VIS
# pairs the former luminance + gradient-magnitude input did not learn, the
# orientation input did, docs/tim.md). Losses: NGF (edge
# scale 0.1 on 8-bit real pairs) + smoothness + the end-point error to the
# known synthetic field (drop FlowEPELoss for unsupervised training).
# Training crops are warped with the sizes of a whole TNO image
# (reference_size), so they see the displacements of the validation
# images; without it a 128-px crop sees about a sixth of them.
#   python tools/train.py configs/tim/registration_ivif_tno.py
# The trained N_R initialises the registration stage of the joint chain
# (configs/compose/chain_registration_fusion_retinanet_toy.py, stage
# `init`). See docs/registration.md.
_base_ = [
    '../_base_/datasets/ivif_misaligned.py',
    '../_base_/models/registration_net.py',
    '../_base_/default_runtime.py',
]

# the typical TNO image (576 x 768); RoadScene overrides it
reference_size = (576, 768)
# the pipeline of ivif_misaligned.py, the warp with the reference size
train_pipeline = _base_.train_pipeline[:-2] + [
    dict(_base_.misalignment, reference_size=reference_size),
    dict(type='PackFusionInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))

model = dict(
    type='ImageRegistrator',
    data_preprocessor=dict(type='FusionDataPreprocessor'),
    registration_net=dict(_base_.registration_net, inputs='orientation'),
    losses=[
        dict(type='NGFLoss', eps=0.1, loss_weight=1.0),
        dict(type='FlowSmoothnessLoss', penalty='l2', loss_weight=1.0),
        dict(type='FlowEPELoss', loss_weight=1.0),
    ],
    fixed='vi',
    moving='ir')

optim_wrapper = dict(type='OptimWrapper', optimizer=dict(type='Adam', lr=1e-3))
param_scheduler = [
    dict(type='CosineAnnealingLR', by_epoch=False, T_max=10000, eta_min=1e-5)
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=10000, val_interval=1000)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(logger=dict(interval=50), checkpoint=dict(interval=1000))
