# Toy sibling of hqs_proxy_derain_rain100l.py (docs/methods/hyper_guidance.md)
_base_ = ['./hqs_proxy_derain_rain100l.py']
data_root = 'data/toy_restoration/derain/'
model = dict(
    architecture=dict(
        network=dict(proxy=dict(width=16), denoiser=dict(width=16))))
train_dataloader = dict(
    batch_size=2,
    dataset=dict(img_dirs=data_root + 'train', crop_size=48, length=8))
val_dataloader = dict(dataset=dict(data_root=data_root + 'test'))
test_dataloader = val_dataloader
train_cfg = dict(max_iters=20, val_interval=20)
default_hooks = dict(
    logger=dict(interval=5), checkpoint=dict(interval=20, max_keep_ckpts=1))
