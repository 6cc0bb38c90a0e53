# The night-time chain of pre-modules, defined once for every compose config
# (docs/methods/compose.md):
#   vi --RUAS scene module (ruas_scene.py)--> vi_enh
#   (ir, vi_enh:y) --TIM N_F--> fused
#   fused + the chroma of vi_enh --> the task model
# loss = l_T + 0.1 * l_scene(vi_enh) + 0.5 * l_F(fused); every image of the
# chain is attached to the predictions (pred_vi_enh, pred_fused, ...).
# `chain_model` is a ChainDetector without its detector and without the
# fusion stage's network (N_F), the two things the configs that use it set
# (configs/_base_/models/chain_scene_fusion_retinanet_r18.py: TIM's N_F at
# 48 channels and a RetinaNet R18; configs/compose/chain_retinanet_night_toy
# .py: N_F at 8 channels and the toy RetinaNet):
#   _chain = _base_.chain_model.chain_net
#   model = dict(
#       _base_.chain_model, _delete_=True,
#       chain_net=dict(_chain, stages=[
#           _chain.stages[0], dict(_chain.stages[1], module=<N_F>)]),
#       detector=<detector>)
# Stage options (init=, freeze=, ...): docs/methods/compose.md. Official weights as
# stage initialisations: stages[0].init = the official RUAS weights
# converted with tools/model_converters/ruas_official_to_mmfusenas.py
# --scene-only, or a SceneDetector / ImageEnhancer checkpoint;
# stages[1].init = a FusionDetector / ImageFusor / PMI checkpoint of the
# same N_F.
_base_ = ['./ruas_scene.py']

chain_model = dict(
    type='ChainDetector',
    # IR as 1 channel, the VIS kept as RGB: the batch is (N, 1 + 3, H, W)
    data_preprocessor=dict(
        type='FusionDataPreprocessor', pad_size_divisor=32, keep_rgb=['vi']),
    chain_net=dict(
        type='PreModuleChain',
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
        ]),
    task_input='fused',
    color_from='vi_enh',
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375])
