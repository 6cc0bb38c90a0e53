# The night-time chain with TIM's 48-channel N_F and RetinaNet R18
# (docs/methods/compose.md)
_base_ = ['./fusion_retinanet_r18.py', './chain_scene_fusion.py']

_chain = _base_.chain_model.chain_net
model = dict(
    _base_.chain_model,
    _delete_=True,
    chain_net=dict(
        _chain,
        stages=[
            _chain.stages[0],
            dict(_chain.stages[1], module=_base_.tim_fusion_net),
        ]),
    detector=_base_.model.detector)
