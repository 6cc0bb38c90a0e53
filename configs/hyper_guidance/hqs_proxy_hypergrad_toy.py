# Toy sibling of hqs_proxy_hypergrad_levin.py (the toy data, schedule and
# width-16 network of hqs_proxy_bilevel_toy.py; the architecture batches of
# the upper level come from a second toy loader).
#   python tools/misc/make_toy_deblur.py data/toy_deblur
#   python tools/train.py configs/hyper_guidance/hqs_proxy_hypergrad_toy.py
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
