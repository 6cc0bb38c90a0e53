# IFCNN-MAX (Zhang et al., Information Fusion 2020) with its official
# weights, run with the conventions of VIF-Benchmark's IFCNN script
# (docs/methods/fusion_baselines.md): both sources read as 8-bit grey, repeated to 3
# channels and ImageNet-normalised; the 3-channel output is de-normalised,
# clamped, reduced to grey as OpenCV BGR2GRAY does, truncated to 8 bit and
# recombined with the visible image's chroma by Pillow (8-bit YCbCr merge).
# python tools/model_converters/fusion_baselines_to_mmfusenas.py ifcnn_max \
#     ../shared/checkpoints/fusion_baselines/ifcnn_max.pth \
#     work_dirs/baselines/ifcnn_max.pth
# python tools/fuse.py configs/baselines/ifcnn_max_ivif.py \
#     work_dirs/baselines/ifcnn_max.pth --ir DIR/ir --vi DIR/vi --out OUT
_base_ = [
    '../_base_/datasets/ivif_fusion.py',
    '../_base_/default_runtime.py',
]

imagenet_mean = (0.485, 0.456, 0.406)
imagenet_std = (0.229, 0.224, 0.225)
model = dict(
    type='ImageFusor',
    fusion_net=dict(type='IFCNN', fuse_rule='max'),
    preprocess=dict(
        quantize='round', repeat=3, mean=imagenet_mean, std=imagenet_std),
    postprocess=dict(
        mean=imagenet_mean,
        std=imagenet_std,
        gray_weights=(0.114, 0.587, 0.299),
        luma_quantize='floor',
        color_convert='pillow'))
