# N_R, the deformable registration network of TIM's joint registration and
# fusion (Sec. 5.1.2, Table 3), trained on TNO pairs whose IR image is
# warped by random affine + elastic fields (configs/_base_/datasets/
# ivif_misaligned.py). ImageRegistrator: the VIS luminance is fixed, the IR
# image moves. Validation: end-point error of the field.
# Network: PyramidCorrRegNet of registration_net.py (coarse-to-fine cost
# volumes, learned + NGF correlation; the U-Net did not learn on IR/VIS
# pairs, docs/methods/registration.md) reading the contrast-free
# orientation image of each source (inputs='orientation': on real IR/VIS
# pairs the former luminance + gradient-magnitude input did not learn, the
# orientation input did, docs/methods/tim.md). Losses: NGF (edge
# scale 0.1 on 8-bit real pairs) + smoothness + the end-point error to the
# known synthetic field (drop FlowEPELoss for unsupervised training).
# Training crops are warped with the sizes of a whole TNO image
# (reference_size), so they see the displacements of the validation
# images; without it a 128-px crop sees about a sixth of them.
#   python tools/train.py configs/tim/registration_ivif_tno.py
# Stability and selection
# (docs/methods/registration.md#stability-of-the-field): at lr 1e-3 the
# field can run away after the network has learned the IR/VIS alignment;
# the config bounds the field (flow_bound), clips the global gradient norm
# (optim_wrapper.clip_grad), warms the lr up over 500 iterations, and keeps the checkpoint with the lowest validation EPE
# (save_best) on a validation split carved from the training pairs, never
# on the test split. Split files (one stem per line, under data/TNO/):
#   splits/train.txt  the training pairs
#   splits/val.txt    a few training pairs set aside (checkpoint selection)
#   splits/test.txt   the held-out pairs (tools/test.py, at the end only)
# e.g. from data/TNO: ls ir | sed 's/\.[^.]*$//' | sort > /tmp/stems; mkdir
# -p splits; head -n -8 /tmp/stems > /tmp/trainval; tail -n 8 /tmp/stems >
# splits/test.txt; awk 'NR % 6 == 0' /tmp/trainval > splits/val.txt; awk
# 'NR % 6 != 0' /tmp/trainval > splits/train.txt
# The trained N_R initialises the registration stage of the joint chain
# (configs/compose/chain_registration_fusion_retinanet_toy.py, stage
# `init`). See docs/methods/registration.md.
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
train_dataloader = dict(
    dataset=dict(ann_file='splits/train.txt', pipeline=train_pipeline))
# validation (checkpoint selection): training pairs set aside, one fixed
# warp each; the test split is another split file
val_dataloader = dict(dataset=dict(ann_file='splits/val.txt'))
test_dataloader = dict(dataset=dict(ann_file='splits/test.txt'))

model = dict(
    type='ImageRegistrator',
    data_preprocessor=dict(type='FusionDataPreprocessor'),
    # flow_bound: every level's field bounded to 64 px (TNO's training warps
    # reach ~45 px at 576 x 768) and the decoders read it normalised: an
    # unbounded field can run away (a growing field fed back as a decoder
    # input), which clipping does not stop
    # (docs/methods/registration.md#stability-of-the-field)
    registration_net=dict(
        _base_.registration_net, inputs='orientation', flow_bound=64.0),
    losses=[
        dict(type='NGFLoss', eps=0.1, loss_weight=1.0),
        dict(type='FlowSmoothnessLoss', penalty='l2', loss_weight=1.0),
        dict(type='FlowEPELoss', loss_weight=1.0),
    ],
    fixed='vi',
    moving='ir')

# clip_grad: 10 lies above the global norm of N_R's gradient (EPE + NGF +
# smoothness) in normal steps and cuts only the spikes
# (docs/methods/registration.md#stability-of-the-field)
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
# keep the checkpoint of the lowest validation EPE (best_registration_EPE_
# iter_<n>.pth) besides the periodic ones
default_hooks = dict(
    logger=dict(interval=50),
    checkpoint=dict(
        interval=1000, save_best='registration/EPE', rule='less'))
