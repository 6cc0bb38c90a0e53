# SeAFusion (Tang et al., Information Fusion 2022) with its official weights,
# run with the conventions of its test script (docs/methods/fusion_baselines.md):
# visible Y of YCrCb (float) + infrared grey in [0, 1]; the fused Y gets the
# visible chroma back; the RGB image is min-max stretched (the script's
# save_img_single always normalises) and truncated to 8 bit.
# python tools/model_converters/fusion_baselines_to_mmfusenas.py seafusion \
#     ../shared/checkpoints/fusion_baselines/seafusion.pth \
#     work_dirs/baselines/seafusion.pth
# python tools/fuse.py configs/baselines/seafusion_ivif.py \
#     work_dirs/baselines/seafusion.pth --ir DIR/ir --vi DIR/vi --out OUT
_base_ = [
    '../_base_/models/seafusion.py',
    '../_base_/datasets/ivif_fusion.py',
    '../_base_/default_runtime.py',
]
