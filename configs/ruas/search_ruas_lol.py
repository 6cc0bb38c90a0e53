# RUAS cooperative search of the scene module and the denoiser on LOL
# (unsupervised; the official CVPR search settings) (docs/methods/ruas.md)
_base_ = [
    '../_base_/models/ruas_search_space.py',
    '../_base_/default_runtime.py',
]

model = dict(
    type='CooperativeSearchAlgorithm',
    architecture=dict(
        type='ImageEnhancer',
        data_preprocessor=dict(type='EnhanceDataPreprocessor'),
        network={{_base_.ruas_supernet}},
        losses=[
            dict(type='RUASSceneLoss', prior='weighted_tv', guide='rgb'),
            dict(type='RUASDenoiseLoss'),
        ]),
    strategy=dict(
        type='CooperativeStrategy',
        mode='cooperative',  # 'independent' / 'global': Table 4 baselines
        beta=1.0,
        # official: weight decay 3e-4 in the unrolled step only
        scene_strategy=dict(
            type='DartsSecondOrderStrategy',
            use_optimizer_state=True,
            unroll_weight_decay=3e-4),
        task_strategy=dict(
            type='DartsSecondOrderStrategy',
            use_optimizer_state=True,
            unroll_weight_decay=3e-4),
        coupling_strategy=dict(type='DartsFirstOrderStrategy')),
    scene_path='network.scene',
    task_path='network.denoiser',
    scene_losses=['loss_scene'],
    task_losses=['loss_denoise'],
    space_path='network',
    task_update_interval=10)

dataset_type = 'LowLightDataset'
data_root = 'data/LOL/'
search_pipeline = [
    dict(type='LoadEnhanceImages'),
    dict(type='PairedRandomCrop', crop_size=(320, 320)),
    dict(type='PackEnhanceInputs'),
]
# our485 split in two (the official code tunes alpha on eval15, the
# test split); make the halves with
#   cd data/LOL/our485 && mkdir -p splits && ls low | sed 's/\.png$//' \
#     | awk 'NR % 2 {print > "splits/search_weights.txt"; next}
#            {print > "splits/search_arch.txt"}'
train_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root + 'our485/',
        data_prefix=dict(low='low'),
        ann_file='splits/search_weights.txt',
        with_gt=False,
        img_suffixes=['.png'],
        pipeline=search_pipeline))
train_cfg = dict(
    type='BilevelEpochBasedTrainLoop',
    max_epochs=20,
    arch_dataloader=dict(
        batch_size=1,
        num_workers=2,
        persistent_workers=True,
        sampler=dict(type='DefaultSampler', shuffle=True),
        dataset=dict(
            type=dataset_type,
            data_root=data_root + 'our485/',
            data_prefix=dict(low='low'),
            ann_file='splits/search_arch.txt',
            with_gt=False,
            img_suffixes=['.png'],
            pipeline=search_pipeline)))
optim_wrapper = dict(
    constructor='BilevelOptimWrapperConstructor',
    weights=dict(
        type='OptimWrapper',
        optimizer=dict(type='SGD', lr=0.005, momentum=0.9, weight_decay=0.0),
        clip_grad=dict(max_norm=5.0)),
    arch=dict(
        type='OptimWrapper',
        optimizer=dict(
            type='Adam', lr=3e-4, betas=(0.5, 0.999), weight_decay=1e-3)))
param_scheduler = dict(
    weights=[
        dict(type='CosineAnnealingLR', by_epoch=True, eta_min=0.001)
    ],
    arch=[])
default_hooks = dict(
    checkpoint=dict(interval=1, by_epoch=True, max_keep_ckpts=2))
custom_hooks = [
    dict(type='ArchLoggingHook', interval=1),
    dict(type='GenotypeExportHook', interval=1),
]
