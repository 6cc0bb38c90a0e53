# Toy sibling of retinanet_multispectral.py (toy pairs in its layout)
# Guide: docs/user_guides/toy_data.md
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
    dict(type='FusionMetric', preset='cddfuse'),
]
test_evaluator = val_evaluator
