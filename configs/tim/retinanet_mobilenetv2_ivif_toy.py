# Backbone recipe on the toy sibling: retinanet_ivif_fpn_toy.py with an mmdet
# MobileNetV2. The toy head has FOUR anchor strides (4, 8, 16, 32), so the
# FPN needs four outputs from four backbone stages: out_indices (1, 2, 4, 6)
# are strides 4, 8, 16, 32 with 24, 32, 96, 320 channels, num_outs=4 (as
# inherited). `_delete_` drops the ResNet keys.
# Tested: tests/test_tools/test_backbone_recipes.py.
#   python tools/train.py configs/tim/retinanet_mobilenetv2_ivif_toy.py
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
