# Backbone recipe: retinanet_ivif_fpn.py with a ResNet-50 (from scratch)
# Guide: docs/user_guides/task_guided.md
_base_ = './retinanet_ivif_fpn.py'

model = dict(
    detector=dict(
        backbone=dict(depth=50),
        neck=dict(in_channels=[256, 512, 1024, 2048])))
