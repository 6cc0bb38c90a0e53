# The headline task-guided job of MMFuseNAS (TIM's l_T + eta * l_F with a
# real MMDetection RetinaNet on the embedded toy data; its FPN variant) with the fusion
# network replaced by this project's GatedFusionNet. Run from the
# repository root:
#   python tools/misc/make_toy_data.py data/toy --num 300 --seed 0
#   PYTHONPATH=projects/custom_fusion_net python tools/train.py \
#       projects/custom_fusion_net/configs/gated_fusion_retinanet_toy.py
_base_ = ['../../../configs/tim/retinanet_ivif_fpn_toy.py']

# import the package before the model is built: it registers GatedFusionNet
custom_imports = dict(imports=['custom_fusion_net'], allow_failed_imports=False)

model = dict(
    fusion_net=dict(
        _delete_=True, type='GatedFusionNet', in_channels=2, channels=8))
