# Pretext meta-initialisation (docs/methods/pmi.md) on generated data only: two tasks
# built from the embedded IR/VIS toy data (train split), so it runs anywhere:
#   python tools/misc/make_toy_data.py data/toy --num 300 --seed 0
#   python tools/train.py configs/tim/pmi_fusion_toy.py
#   python tools/train.py configs/tim/fusion_ivif_toy.py \
#       --cfg-options load_from=work_dirs/pmi_fusion_toy/pmi_init.pth
#
# Tasks:
#   ivif -- toy pairs stacked (ir, vi) (the config's train_dataloader);
#   viir -- the same pairs stacked (vi, ir): the network sees the two
#           modalities in swapped roles, a different input -> output mapping,
#           much as MRI-CT differs from IR-VIS.
# Everything else (network, loss, K = 4, inner Adam lr 1e-3, outer lr 1e-4)
# is configs/tim/pmi_fusion.py.
_base_ = './pmi_fusion.py'

# weight-free l_F (gradient measure) instead of the VGG16 features
model = dict(losses=[_base_.tim_info_loss_toy])

# train_dataloader (task ivif): the toy train split of pmi_fusion.py
train_cfg = dict(
    _delete_=True,
    type='PMILoop',
    tasks=[
        dict(name='ivif'),  # uses train_dataloader
        dict(
            name='viir',
            dataloader=dict(
                batch_size=4,
                num_workers=0,
                persistent_workers=False,
                sampler=dict(type='InfiniteSampler', shuffle=True),
                dataset=dict(
                    type='PairedImageDataset',
                    data_root='data/toy/',
                    data_prefix=dict(vi='vi', ir='ir'),
                    ann_file='splits/train.txt',
                    pipeline={{_base_.train_pipeline}}))),
    ],
    max_iters=200,
    inner_steps=4,
    inner_lr=1e-3,
    inner_optimizer='adam',
    order='first')
default_hooks = dict(checkpoint=dict(interval=100))
