# Backbone recipe: retinanet_ivif_fpn_toy.py with a ResNet-50 at 1/4 width
# Guide: docs/user_guides/task_guided.md
_base_ = './retinanet_ivif_fpn_toy.py'

bc = 16
model = dict(
    detector=dict(
        backbone=dict(depth=50, base_channels=bc),
        neck=dict(in_channels=[bc * 4, bc * 8, bc * 16, bc * 32])))
