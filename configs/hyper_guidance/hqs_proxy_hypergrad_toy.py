# Toy sibling of hqs_proxy_hypergrad_levin.py (docs/methods/hyper_guidance.md)
_base_ = ['./hqs_proxy_bilevel_toy.py']
model = dict(
    scheme='hypergradient',
    strategy=dict(type='DartsSecondOrderStrategy'),
    architecture=dict(guidance_stages='all'))
train_cfg = dict(
    type='BilevelIterBasedTrainLoop',
    arch_dataloader=dict(
        batch_size=2,
        num_workers=0,
        persistent_workers=False,
        sampler=dict(type='InfiniteSampler', shuffle=True),
        dataset=dict(
            type='SyntheticDeblurDataset',
            img_dirs='data/toy_deblur/train',
            kernels='data/toy_deblur/kernels',
            crop_size=64,
            kernel_pad=13,
            length=8,
            seed=1)))
