# An outside fusion network (projects/custom_fusion_net/my_fusion) trained
# with our data, losses and schedule. Run from the repository root with the
# project importable:
#   PYTHONPATH=.:$PYTHONPATH python tools/train.py \
#       projects/custom_fusion_net/configs/my_fusion_toy.py
_base_ = ['../../../configs/tim/fusion_ivif_toy.py']

custom_imports = dict(
    imports=['projects.custom_fusion_net.my_fusion'],
    allow_failed_imports=False)

model = dict(
    fusion_net=dict(
        _delete_=True, type='WeightedAverageFusionNet', channels=8))
