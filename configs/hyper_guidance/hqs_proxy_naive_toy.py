# Toy sibling of hqs_proxy_naive_levin.py (about a minute on 2 cores)
# Guide: docs/methods/hyper_guidance.md
_base_ = ['./hqs_proxy_naive_levin.py']
data_root = 'data/toy_deblur/'
toy_train_set = dict(
    img_dirs=data_root + 'train',
    kernels=data_root + 'kernels',
    crop_size=64,
    kernel_pad=13,
    length=8)
train_dataloader = dict(batch_size=2, dataset=toy_train_set)
val_dataloader = dict(dataset=dict(data_root=data_root + 'levin'))
test_dataloader = val_dataloader
train_cfg = dict(max_iters=20, val_interval=20)
default_hooks = dict(
    logger=dict(interval=5), checkpoint=dict(interval=20, max_keep_ckpts=1))
# width 16 instead of 64, same structure
model = dict(network=dict(proxy=dict(width=16), denoiser=dict(width=16)))
