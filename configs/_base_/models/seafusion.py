# SeAFusion with its test script's input / output conventions
# Guide: docs/methods/fusion_baselines.md
model = dict(
    type='ImageFusor',
    fusion_net=dict(type='SeAFusionNet'),
    postprocess=dict(normalize='minmax', rounding='floor'))
