# TarDAL's generator (Liu et al., CVPR 2022) with the conventions of
# VIF-Benchmark's TarDAL script in float32 (docs/methods/fusion_baselines.md):
# infrared grey and visible grey (OpenCV BGR2GRAY, 8-bit) in [0, 1]; the
# output is clipped to [0, 1], truncated to 8 bit and recombined with the
# visible image's 8-bit chroma. Shared by the inference config
# (configs/baselines/tardal_ivif.py) and the training config
# (tardal_ivif_roadscene221_cpu.py).
model = dict(
    type='ImageFusor',
    fusion_net=dict(type='TarDALGenerator', dim=32, depth=3, bn_mode='eval'),
    preprocess=dict(quantize='round'),
    postprocess=dict(
        luma_quantize='floor', chroma_quantize='round', rounding='round'))
