# Toy sibling of train_two_stage_ivif_tno.py (C = 8, 2 epochs)
# Guide: docs/methods/tim.md
_base_ = './train_two_stage_ivif_tno.py'

model = dict(
    fusion_net=dict(
        stage1=dict(channels=8),
        stage1_init=None,
        stage2=dict(
            genotype='work_dirs/search_enhance_ivif_toy/genotypes/'
            'latest.yaml')),
    losses=[_base_.tim_stage1_info_loss_toy] + _base_.ivif_branch_losses +
    [_base_.tim_saliency_loss])

data_root = 'data/toy/'
train_dataloader = dict(
    batch_size=4,
    num_workers=0,
    persistent_workers=False,
    dataset=dict(data_root=data_root, ann_file='splits/train.txt'))
val_dataloader = dict(
    batch_size=4,
    num_workers=0,
    persistent_workers=False,
    dataset=dict(data_root=data_root, ann_file='splits/val.txt'))
test_dataloader = val_dataloader
train_cfg = dict(max_epochs=2, val_interval=1)
param_scheduler = [
    dict(type='CosineAnnealingLR', by_epoch=True, T_max=2, eta_min=1e-6)
]
default_hooks = dict(checkpoint=dict(interval=1, max_keep_ckpts=1))
