# Retrain chain_retinanet_llvip.py with the parts found by
# search_chain_retinanet_llvip.py (scene module, N_F and the RetinaNet
# neck, each rebuilt in its place from the one genotype); same stages and
# schedule as the hand-designed chain (docs/methods/compose.md).
#   python tools/train.py configs/compose/retrain_chain_retinanet_llvip.py
_base_ = './chain_retinanet_llvip.py'

genotype = 'work_dirs/search_chain_retinanet_llvip/genotypes/latest.yaml'
neck_channels = 64
_chain = _base_.model.chain_net
model = dict(
    chain_net=dict(
        _chain,
        stages=[
            dict(
                _chain.stages[0],
                module=dict(
                    type='GenotypeNet',
                    genotype=genotype,
                    part='chain_net.stages.0.module')),
            dict(
                _chain.stages[1],
                module=dict(
                    type='GenotypeNet',
                    genotype=genotype,
                    part='chain_net.stages.1.module')),
        ]),
    detector=dict(
        neck=dict(
            _delete_=True,
            type='mmfusenas.GenotypeNet',
            genotype=genotype,
            part='detector.neck'),
        bbox_head=dict(
            in_channels=neck_channels, feat_channels=neck_channels)))
