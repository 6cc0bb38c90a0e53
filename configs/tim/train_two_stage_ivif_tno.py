# TIM two-stage model (N_F + the searched N_T) trained jointly on TNO
# (Sec. 4.2); short runs: --cfg-options optim_wrapper.optimizer.lr=1e-3
# Guide: docs/methods/tim.md
_base_ = [
    './fusion_ivif_tno.py',
    '../_base_/models/tim_two_stage_search.py',
]

model = dict(
    fusion_net=dict(
        _delete_=True,
        type='TIMTwoStageFusionNet',
        stage1=_base_.tim_nf,
        stage1_init='work_dirs/fusion_ivif_tno/iter_10000.pth',
        stage2=dict(
            type='GenotypeNet',
            genotype='work_dirs/search_enhance_ivif/genotypes/latest.yaml'),
        branch_names=_base_.tim_branch_names),
    losses=[_base_.tim_stage1_info_loss] + _base_.ivif_branch_losses +
    [_base_.tim_saliency_loss])

train_dataloader = dict(sampler=dict(type='DefaultSampler', shuffle=True))
train_cfg = dict(
    _delete_=True, type='EpochBasedTrainLoop', max_epochs=100, val_interval=10)
optim_wrapper = dict(type='OptimWrapper', optimizer=dict(type='Adam', lr=1e-4))
param_scheduler = [
    dict(type='CosineAnnealingLR', by_epoch=True, T_max=100, eta_min=1e-6)
]
default_hooks = dict(
    logger=dict(interval=10),
    checkpoint=dict(interval=10, by_epoch=True))
