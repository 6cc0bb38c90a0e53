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
    '../_base_/models/ifcnn_max.py',
    '../_base_/datasets/ivif_fusion.py',
    '../_base_/default_runtime.py',
]
