# TIM two-stage model (N_F + the N_T found by search_enhance_ivif_toy.py)
# trained jointly on the embedded toy IR/VIS data: the toy sibling of
# train_two_stage_ivif_tno.py (C = 8, weight-free l_F, 2 epochs); about a
# minute on 2 shared CPU cores.
#   python tools/misc/make_toy_data.py data/toy --num 300 --seed 0
#   python tools/train.py configs/tim/search_enhance_ivif_toy.py
#   python tools/train.py configs/tim/train_two_stage_ivif_toy.py
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
