# Hand-crafted reference: Laplacian-pyramid fusion (4 levels; max-abs
# details, mean base) of infrared and visible luminance;
# the visible chroma is re-attached. No weights: fuse with the checkpoint
# written by tools/model_converters/fusion_baselines_to_mmfusenas.py
# --empty (an empty state dict), e.g.
# python tools/model_converters/fusion_baselines_to_mmfusenas.py --empty \
#     work_dirs/baselines/empty.pth
# python tools/fuse.py configs/baselines/classical_laplacian_ivif.py \
#     work_dirs/baselines/empty.pth --ir DIR/ir --vi DIR/vi --out OUT
_base_ = [
    '../_base_/datasets/ivif_fusion.py',
    '../_base_/default_runtime.py',
]

model = dict(
    type='ImageFusor',
    fusion_net=dict(type='LaplacianPyramidFusion', num_levels=4))
