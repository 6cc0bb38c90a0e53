# The toy sibling of retinanet_multispectral.py: the toy detector of
# retinanet_ivif_fpn_toy.py (C = 8 N_F, quarter-width ResNet-18, weight-free l_F,
# 300 iterations of lr 2e-3 with cosine decay) on procedural pairs written in
# the MultiSpectral layout with its five classes (no car_stop instances: the
# toy scenes have none); a few minutes on 2 CPU cores.
#   python tools/misc/make_toy_data.py data/toy_multispectral \
#       --layout multispectral --num 300 --seed 0
#   python tools/train.py configs/tim/retinanet_multispectral_toy.py
_base_ = './retinanet_ivif_fpn_toy.py'

data_root = 'data/toy_multispectral/'
classes = ('color_cone', 'car_stop', 'car', 'person', 'bike')
model = dict(detector=dict(bbox_head=dict(num_classes=5)))
train_dataloader = dict(
    dataset=dict(
        data_root=data_root,
        ann_file='annotations/train.json',
        metainfo=dict(classes=classes)))
val_dataloader = dict(
    dataset=dict(
        data_root=data_root,
        ann_file='annotations/test.json',
        metainfo=dict(classes=classes)))
test_dataloader = val_dataloader
val_evaluator = [
    dict(type='mmdet.CocoMetric', metric='bbox', classwise=True),
    # the default metric list (DEFAULT_FUSION_METRICS), as fuse.py --metrics
    # and eval_fusion.py report it
    dict(type='FusionMetric', preset='cddfuse'),
]
test_evaluator = val_evaluator
