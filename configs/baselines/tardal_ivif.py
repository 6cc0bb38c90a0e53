# TarDAL (Liu et al., CVPR 2022) generator with its official weights, run
# with the conventions of VIF-Benchmark's TarDAL script in float32
# (docs/methods/fusion_baselines.md): infrared grey and visible grey (OpenCV
# BGR2GRAY, 8-bit) in [0, 1]; the output is clipped to [0, 1], truncated to
# 8 bit and recombined with the visible image's 8-bit chroma.
# The three weight files share this architecture:
#   tardal_plusplus.pt (TarDAL++, the one VIF-Benchmark runs) and
#   tardal_plus.pt (TarDAL+): this config as is (BatchNorm on its running
#   statistics, bn_mode='eval');
#   tardal.pt (TarDAL): BatchNorm on batch statistics as the original TarDAL
#   script runs it: configs/baselines/tardal_ivif_bntrain.py, or this config
#   with --cfg-options model.fusion_net.bn_mode=train
# python tools/model_converters/fusion_baselines_to_mmfusenas.py tardal \
#     ../shared/checkpoints/fusion_baselines/tardal_plusplus.pt \
#     work_dirs/baselines/tardal_plusplus.pth
# python tools/fuse.py configs/baselines/tardal_ivif.py \
#     work_dirs/baselines/tardal_plusplus.pth --ir DIR/ir --vi DIR/vi --out OUT
_base_ = [
    '../_base_/models/tardal.py',
    '../_base_/datasets/ivif_fusion.py',
    '../_base_/default_runtime.py',
]
