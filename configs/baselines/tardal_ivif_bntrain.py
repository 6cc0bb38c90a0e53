# TarDAL with the weight file tardal.pt, BatchNorm on batch statistics (the
# original TarDAL script runs this weight without --eval; its stored running
# statistics are unusable). Everything else as tardal_ivif.py.
# python tools/model_converters/fusion_baselines_to_mmfusenas.py tardal \
#     ../shared/checkpoints/fusion_baselines/tardal.pt \
#     work_dirs/baselines/tardal.pth
# python tools/fuse.py configs/baselines/tardal_ivif_bntrain.py \
#     work_dirs/baselines/tardal.pth --ir DIR/ir --vi DIR/vi --out OUT
_base_ = ['./tardal_ivif.py']

model = dict(fusion_net=dict(bn_mode='train'))
