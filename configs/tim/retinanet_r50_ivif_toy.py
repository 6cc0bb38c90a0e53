# Backbone recipe on the toy sibling: retinanet_ivif_fpn_toy.py with a ResNet-50
# at the toy's 1/4 width (base_channels=16 is inherited: the Bottleneck
# stages then end at 64, 128, 256, 512 channels, which the FPN must be told).
# Tested: tests/test_tools/test_backbone_recipes.py.
#   python tools/train.py configs/tim/retinanet_r50_ivif_toy.py
_base_ = './retinanet_ivif_fpn_toy.py'

bc = 16
model = dict(
    detector=dict(
        backbone=dict(depth=50, base_channels=bc),
        neck=dict(in_channels=[bc * 4, bc * 8, bc * 16, bc * 32])))
