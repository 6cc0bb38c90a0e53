# ChainDetector: a chain of pre-modules in front of a real MMDetection
# RetinaNet (ResNet-18, FPN; the detector of fusion_retinanet_r18.py):
#   vi --RUAS scene module (ruas_scene.py)--> vi_enh
#   (ir, vi_enh:y) --TIM N_F (tim_fusion_net)--> fused
#   fused + the chroma of vi_enh --> RetinaNet
# loss = l_T + 0.1 * l_scene(vi_enh) + 0.5 * l_F(fused); every image of the
# chain is attached to the predictions (pred_vi_enh, pred_fused, ...).
# See docs/compose.md.
_base_ = ['./fusion_retinanet_r18.py', './ruas_scene.py']

model = dict(
    _delete_=True,
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
                loss_weight=0.1,  # RUAS's lambda
                # e.g. the official RUAS weights converted with
                # tools/model_converters/ruas_official_to_mmfusenas.py
                # --scene-only, or a SceneDetector / ImageEnhancer checkpoint
                init=None),
            dict(
                name='fusion',
                kind='fusion',
                module={{_base_.tim_fusion_net}},
                inputs=['ir', 'vi_enh:y'],
                output='fused',
                losses=[
                    dict(type='InfoPreservationLoss', loss_weight=1.0),
                    dict(
                        type='SaliencyWeightedLoss',
                        ssim_weight=1.0,
                        loss_weight=1.0),
                ],
                loss_weight=0.5,  # TIM's eta
                # e.g. a FusionDetector / ImageFusor / PMI checkpoint of N_F
                init=None),
        ]),
    task_input='fused',
    color_from='vi_enh',
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    detector={{_base_.model.detector}})
