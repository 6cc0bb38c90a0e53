# PMI on toy data only: tasks ivif and viir (the pairs swapped)
# Guide: docs/methods/pmi.md
_base_ = './pmi_fusion.py'

model = dict(losses=[_base_.tim_info_loss_toy])

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
