# RUAS cooperative architecture search (TPAMI 2022 Alg. 1) on darkened toy
# scenes: a small, fast version of search_ruas_lol.py (32x32 crops, batch 2,
# 2 epochs). Scene module: the illumination net (one α per edge shared by
# its 3 stages, keys scene/edge<e>); task module: the denoiser (keys
# denoise/edge<e>). Both α updates are one-step finite-difference DARTS
# (the official architects), the scene one plus β·∇α_s L_val^t.
# Data: the toy train/ pairs split in two (train/splits/search_weights.txt
# for the weights, search_arch.txt for α); val/ is the evaluation split.
#   python tools/misc/make_toy_lowlight.py data/toy_lowlight
#   python tools/train.py configs/ruas/search_ruas_toy.py
#   -> work_dirs/search_ruas_toy/genotypes/latest.yaml (scene + denoiser)
#   python tools/train.py configs/ruas/retrain_ruas_toy.py
# Strategy: the cooperative DARTS of RUAS. Evidence against random
# genotypes of this space on the toy data: benchmarks/bench_search_vs_random.py
# --quick --spaces ruas_scene (docs/user_guides/search_controls.md).
_base_ = ['./search_ruas_lol.py']

data_root = 'data/toy_lowlight/'
crop = (32, 32)
search_pipeline = [
    dict(type='LoadEnhanceImages'),
    dict(type='PairedRandomCrop', crop_size=crop),
    dict(type='PackEnhanceInputs'),
]
train_dataloader = dict(
    batch_size=2,
    num_workers=0,
    persistent_workers=False,
    dataset=dict(
        data_root=data_root + 'train/',
        data_prefix=dict(low='low'),
        ann_file='splits/search_weights.txt',
        img_suffixes=['.png'],
        pipeline=search_pipeline))
train_cfg = dict(
    max_epochs=2,
    arch_dataloader=dict(
        batch_size=2,
        num_workers=0,
        persistent_workers=False,
        dataset=dict(
            data_root=data_root + 'train/',
            data_prefix=dict(low='low'),
            ann_file='splits/search_arch.txt',
            img_suffixes=['.png'],
            pipeline=search_pipeline)))
model = dict(task_update_interval=1)
# α moves visibly in a few steps
optim_wrapper = dict(arch=dict(optimizer=dict(lr=3e-3)))
default_hooks = dict(
    logger=dict(interval=2),
    checkpoint=dict(interval=1, by_epoch=True, max_keep_ckpts=1))
