# Retrain chain_retinanet_llvip.py with the parts its search found
# Guide: docs/methods/compose.md
_base_ = './chain_retinanet_llvip.py'

genotype = 'work_dirs/search_chain_retinanet_llvip/genotypes/latest.yaml'
neck_channels = 64
model = dict(
    stages=[
        dict(
            stage,
            module=dict(
                type='GenotypeNet', genotype=genotype,
                part=f'stages.{i}.module'))
        for i, stage in enumerate(_base_.model.stages)
    ],
    detector=dict(
        neck=dict(
            _delete_=True,
            type='mmfusenas.GenotypeNet',
            genotype=genotype,
            part='detector.neck'),
        bbox_head=dict(
            in_channels=neck_channels, feat_channels=neck_channels)))
