# TarDAL's generator with VIF-Benchmark's input / output conventions
# Guide: docs/methods/fusion_baselines.md
model = dict(
    type='ImageFusor',
    fusion_net=dict(type='TarDALGenerator', dim=32, depth=3, bn_mode='eval'),
    preprocess=dict(quantize='round'),
    postprocess=dict(
        luma_quantize='floor', chroma_quantize='round', rounding='round'))
