# The night-time chain with TIM's 48-channel N_F and RetinaNet R18
# (docs/methods/compose.md)
_base_ = ['./fusion_retinanet_r18.py', './chain_scene_fusion.py']

_stages = _base_.chain_model.stages
model = dict(
    _base_.chain_model,
    _delete_=True,
    stages=[_stages[0], dict(_stages[1], module=_base_.tim_fusion_net)],
    detector=_base_.model.detector)
