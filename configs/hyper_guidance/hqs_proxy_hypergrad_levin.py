# Proxy-based bilevel training with a true hypergradient (ours, not in the
# official code): upper level = denoisers (+ unsupervised proxies) on the
# reconstruction loss of a validation batch, lower level = the supervised
# proxies on the guidance loss; one-step unrolled DARTS hypergradient
# (DartsSecondOrderStrategy, xi = the proxies' learning rate). All five
# proxies are supervised (guidance_stages='all') so that the lower problem
# depends on the denoisers (stage-1 alone would make the second-order term
# vanish).
#   python tools/train.py configs/hyper_guidance/hqs_proxy_hypergrad_levin.py
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
