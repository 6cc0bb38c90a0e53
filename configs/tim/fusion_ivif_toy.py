# TIM fusion network N_F trained on the embedded procedural IR/VIS toy data
# (its train / val split files are used).
#   python tools/misc/make_toy_data.py data/toy --num 300 --seed 0
#   python tools/train.py configs/tim/fusion_ivif_toy.py
# With the toy meta-initialisation (configs/tim/pmi_fusion_toy.py):
#   python tools/train.py configs/tim/fusion_ivif_toy.py \
#       --cfg-options load_from=work_dirs/pmi_fusion_toy/pmi_init.pth
# Network and losses: configs/tim/fusion_ivif_tno.py; a short schedule.
_base_ = './fusion_ivif_tno.py'

# weight-free l_F (gradient measure) instead of the VGG16 features
model = dict(losses=_base_.tim_fusion_losses_toy)

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

param_scheduler = [
    dict(type='CosineAnnealingLR', by_epoch=False, T_max=1000, eta_min=1e-6)
]
train_cfg = dict(max_iters=1000, val_interval=250)
default_hooks = dict(logger=dict(interval=20), checkpoint=dict(interval=250))
