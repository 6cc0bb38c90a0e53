# Backbone recipe: retinanet_ivif_fpn.py with an mmdet MobileNetV2. `_delete_`
# drops the ResNet keys (depth, num_stages, style, ...) MobileNetV2 does not
# take. Stages 2, 4, 6 (strides 8, 16, 32; 32, 96, 320 channels) feed the
# FPN from its first input (start_level=0); with the two extra levels the
# FPN gives num_outs=5 maps at strides 8-128, the five anchor strides of the
# RetinaNet head. Tested: tests/test_tools/test_backbone_recipes.py.
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
