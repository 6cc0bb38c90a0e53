# TIM stage-2 (N_T) search on the embedded toy IR/VIS data: a small, fast
# version of search_enhance_ivif.py (C = 8 in both stages, 32x32 patches,
# 2 epochs, T = 5, alpha lr 3e-3), sized for a CPU.
# There is no trained toy N_F, so stage 1 starts from scratch and is trained
# with the weights (no stage1_init, nothing frozen); the real config loads
# the trained N_F and holds it fixed.
#   python tools/misc/make_toy_data.py data/toy --num 300 --seed 0
#   python tools/train.py configs/tim/search_enhance_ivif_toy.py
#   -> work_dirs/search_enhance_ivif_toy/genotypes/latest.yaml
#   python tools/train.py configs/tim/train_two_stage_ivif_toy.py
# Data halves: splits/search_weights.txt (weights) and splits/search_arch.txt
# (alpha), the two halves of the toy training split; splits/val.txt, on which
# train_two_stage_ivif_toy.py evaluates, stays unseen.
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
# alpha at 10x the real search's lr, so that it moves in a short search
optim_wrapper = dict(arch=dict(optimizer=dict(lr=3e-3)))
default_hooks = dict(checkpoint=dict(max_keep_ckpts=1))
