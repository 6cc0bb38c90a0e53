# SeAFusion's fusion network (Tang et al., Information Fusion 2022) with the
# input / output conventions of its test script
# (docs/methods/fusion_baselines.md): visible Y of YCrCb (float) + infrared
# grey in [0, 1]; the fused Y gets the visible chroma back; the RGB image is
# min-max stretched (the script's save_img_single always normalises) and
# truncated to 8 bit. Shared by the inference config
# (configs/baselines/seafusion_ivif.py, official weights) and the training
# config (seafusion_ivif_roadscene221_cpu.py), so a trained checkpoint runs
# exactly as the official one.
model = dict(
    type='ImageFusor',
    fusion_net=dict(type='SeAFusionNet'),
    postprocess=dict(normalize='minmax', rounding='floor'))
