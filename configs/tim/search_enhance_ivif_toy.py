# Toy sibling of search_enhance_ivif.py (no trained N_F: stage 1 trains too)
# Guide: docs/methods/tim.md
_base_ = './search_enhance_ivif.py'

model = dict(
    architecture=dict(
        fusion_net=dict(
            stage1=dict(channels=8),
            stage1_init=None,
            stage2=dict(channels=8))),
    frozen_modules=[],
    arch_update_interval=5)

data_root = 'data/toy/'
toy_pipeline = [
    dict(type='LoadPairedImages'),
    dict(type='PairedRandomCrop', crop_size=(32, 32)),
    dict(
        type='PairedRandomFlip',
        prob=0.5,
        direction=['horizontal', 'vertical']),
    dict(type='PairedRandomRot90', prob=0.5),
    dict(type='PackFusionInputs'),
]
train_dataloader = dict(
    num_workers=0,
    dataset=dict(data_root=data_root, pipeline=toy_pipeline))
train_cfg = dict(
    max_epochs=2,
    arch_dataloader=dict(
        num_workers=0,
        dataset=dict(data_root=data_root, pipeline=toy_pipeline)))
# alpha at 10x the real search's lr, to move in a short search
optim_wrapper = dict(arch=dict(optimizer=dict(lr=3e-3)))
default_hooks = dict(checkpoint=dict(max_keep_ckpts=1))
