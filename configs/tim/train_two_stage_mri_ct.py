# TIM two-stage model (N_F + searched N_T) trained jointly on MRI-CT
# (Sec. 4.2, Table 2): N_F from fusion_mri_ct.py, N_T derived by
# search_enhance_mri_ct.py. Losses as train_two_stage_ivif_tno.py with the
# medical branch losses (l_int to CT on the target branch, l_ssim to MRI on
# the detail branch); Adam 1e-4, 100 epochs.
# Short runs (hundreds of steps, e.g. on the shared samples): the stage-2
# merge head has no output activation and starts far below the image range;
# at lr 1e-4 it rises slowly, so short runs validate constant (clamped)
# images. Use --cfg-options optim_wrapper.optimizer.lr=1e-3
# (projects/reproductions/bench_tim_two_stage.py, docs/methods/tim.md).
# Split hygiene: trains on splits/train.txt and evaluates on splits/val.txt;
# the N_T search read only the two halves of splits/train.txt.
#   python tools/train.py configs/tim/fusion_mri_ct.py
#   python tools/train.py configs/tim/search_enhance_mri_ct.py
#   python tools/train.py configs/tim/train_two_stage_mri_ct.py
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
