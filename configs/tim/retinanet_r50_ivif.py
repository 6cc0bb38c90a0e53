# Backbone recipe: retinanet_ivif_fpn.py with a ResNet-50 (mmdet) instead of the
# ResNet-18. Bottleneck stages end at 4x the width of the basic ones, so the
# FPN's in_channels change. Tested: tests/test_tools/test_backbone_recipes.py.
# From scratch (nothing downloaded); for ImageNet weights set a LOCAL file:
#   backbone=dict(init_cfg=dict(type='Pretrained',
#                               checkpoint='checkpoints/resnet50.pth'))
_base_ = './retinanet_ivif_fpn.py'

model = dict(
    detector=dict(
        backbone=dict(depth=50),
        neck=dict(in_channels=[256, 512, 1024, 2048])))
