# TIM two-stage model trained jointly on MRI-CT (Sec. 4.2); short runs:
# --cfg-options optim_wrapper.optimizer.lr=1e-3 (docs/methods/tim.md)
_base_ = ['./fusion_mri_ct.py', '../_base_/models/tim_two_stage_search.py']

model = dict(
    fusion_net=dict(
        _delete_=True,
        type='TIMTwoStageFusionNet',
        stage1=_base_.tim_nf,
        stage1_init='work_dirs/fusion_mri_ct/iter_10000.pth',
        stage2=dict(
            type='GenotypeNet',
            genotype='work_dirs/search_enhance_mri_ct/genotypes/latest.yaml'),
        branch_names=_base_.tim_branch_names),
    losses=[_base_.tim_stage1_info_loss] + _base_.medical_branch_losses +
    [_base_.tim_saliency_loss])

train_dataloader = dict(
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(ann_file='splits/train.txt'))
val_dataloader = dict(dataset=dict(ann_file='splits/val.txt'))
test_dataloader = val_dataloader
train_cfg = dict(
    _delete_=True, type='EpochBasedTrainLoop', max_epochs=100, val_interval=10)
optim_wrapper = dict(type='OptimWrapper', optimizer=dict(type='Adam', lr=1e-4))
param_scheduler = [
    dict(type='CosineAnnealingLR', by_epoch=True, T_max=100, eta_min=1e-6)
]
default_hooks = dict(
    logger=dict(interval=10),
    checkpoint=dict(interval=10, by_epoch=True))
