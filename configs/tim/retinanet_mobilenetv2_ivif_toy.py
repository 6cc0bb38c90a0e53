# Backbone recipe: retinanet_ivif_fpn_toy.py with a MobileNetV2 (four
# FPN outputs for the toy head's four strides)
# Guide: docs/user_guides/task_guided.md
_base_ = './retinanet_ivif_fpn_toy.py'

model = dict(
    detector=dict(
        backbone=dict(
            _delete_=True,
            type='MobileNetV2',
            out_indices=(1, 2, 4, 6),
            norm_cfg=dict(type='BN', requires_grad=True),
            init_cfg=None),
        neck=dict(in_channels=[24, 32, 96, 320])))
