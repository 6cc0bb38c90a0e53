# The night-time chain: RUAS scene module -> TIM N_F -> the task model;
# a config sets N_F and the detector (docs/methods/compose.md)
_base_ = ['./ruas_scene.py']

chain_model = dict(
    type='ChainDetector',
    # IR as 1 channel, the VIS kept as RGB: the batch is (N, 1 + 3, H, W)
    data_preprocessor=dict(
        type='FusionDataPreprocessor', pad_size_divisor=32, keep_rgb=['vi']),
    sources=dict(ir=1, vi=3),  # batch order = the data_prefix order
    stages=[
        dict(
            name='scene',
            kind='scene',
            module={{_base_.ruas_scene_net}},
            inputs=['vi'],
            output='vi_enh',
            losses={{_base_.ruas_scene_losses}},
            loss_weight=0.1),  # RUAS's lambda
        dict(
            name='fusion',
            kind='fusion',
            module=None,  # N_F: set by the config that uses the chain
            inputs=['ir', 'vi_enh:y'],
            output='fused',
            losses=[
                dict(type='InfoPreservationLoss', loss_weight=1.0),
                dict(
                    type='SaliencyWeightedLoss',
                    ssim_weight=1.0,
                    loss_weight=1.0),
            ],
            loss_weight=0.5),  # TIM's eta
    ],
    task_input='fused',
    color_from='vi_enh',
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375])
