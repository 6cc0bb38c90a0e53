# Proxy-based bilevel training with a true (one-step unrolled) hypergradient
# (ours); all proxies supervised, else the second-order term vanishes
# Guide: docs/methods/hyper_guidance.md
_base_ = ['./hqs_proxy_bilevel_levin.py']
model = dict(
    scheme='hypergradient',
    strategy=dict(type='DartsSecondOrderStrategy'),
    architecture=dict(guidance_stages='all'))
train_cfg = dict(
    _delete_=True,
    type='BilevelIterBasedTrainLoop',
    max_iters=100010,
    val_interval=10000,
    arch_dataloader=dict(
        batch_size=3,
        num_workers=0,
        persistent_workers=False,
        sampler=dict(type='InfiniteSampler', shuffle=True),
        dataset=dict(
            type='SyntheticDeblurDataset',
            img_dirs='data/BSDS300/images/train',
            kernels=dict(type='motion', num=20, size=(15, 19, 23, 27)),
            crop_size=320,
            length=200,
            seed=1)))
