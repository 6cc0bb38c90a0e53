# Retrain the fusion network found by configs/tim/search_fusion_ivif_toy.py
# from scratch on the toy IR/VIS data: an ordinary ImageFusor whose network
# is rebuilt from the exported genotype file.
#   python tools/train.py configs/tim/search_fusion_ivif_toy.py
#   python tools/train.py configs/tim/retrain_fusion_ivif_toy.py
# Another genotype (e.g. of an earlier epoch) or width:
#   python tools/train.py configs/tim/retrain_fusion_ivif_toy.py \
#       --cfg-options model.fusion_net.genotype=PATH/epoch_2.yaml \
#                     model.fusion_net.channels=16
# (keys besides `genotype` / `space` override the stored network config).
_base_ = [
    '../_base_/datasets/toy_fusion.py',
    '../_base_/schedules/schedule_300i.py',
    '../_base_/default_runtime.py',
]

model = dict(
    type='ImageFusor',
    # the multi-scale cell needs H, W multiples of 4 (predictions are
    # cropped back to the image size)
    data_preprocessor=dict(type='FusionDataPreprocessor', pad_size_divisor=4),
    fusion_net=dict(
        type='GenotypeNet',
        genotype='work_dirs/search_fusion_ivif_toy/genotypes/latest.yaml'),
    losses=[
        dict(type='MaxIntensityLoss', loss_weight=1.0),
        dict(type='MaxGradientLoss', loss_weight=2.0),
    ])

# write the fused validation / test images next to the logs
custom_hooks = [dict(type='FusedImageSaveHook')]
