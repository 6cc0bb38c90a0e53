# Backbone recipe: retinanet_ivif_fpn.py with an mmdet MobileNetV2
# Guide: docs/user_guides/task_guided.md
_base_ = './retinanet_ivif_fpn.py'

model = dict(
    detector=dict(
        backbone=dict(
            _delete_=True,
            type='MobileNetV2',
            out_indices=(2, 4, 6),
            norm_cfg=dict(type='BN', requires_grad=True),
            init_cfg=None),
        neck=dict(in_channels=[32, 96, 320], start_level=0, num_outs=5)))
