# ChainDetector: the night-time chain of pre-modules (chain_scene_fusion.py:
# RUAS scene module -> TIM N_F) in front of a real MMDetection RetinaNet
# (ResNet-18, FPN; the detector of fusion_retinanet_r18.py), N_F at TIM's 48
# channels (fusion_retinanet_r18.py's tim_fusion_net):
#   vi --RUAS scene module--> vi_enh
#   (ir, vi_enh:y) --TIM N_F (tim_fusion_net)--> fused
#   fused + the chroma of vi_enh --> RetinaNet
# loss = l_T + 0.1 * l_scene(vi_enh) + 0.5 * l_F(fused). See docs/methods/compose.md.
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
