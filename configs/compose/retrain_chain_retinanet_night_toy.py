# Retrain chain_retinanet_night_toy.py with the parts its search found
# Guide: docs/methods/compose.md
_base_ = ['./chain_retinanet_night_toy.py']

# read at parse time: --cfg-options genotype=... is not enough; set
# the three `genotype` keys of model instead
genotype = 'work_dirs/search_chain_retinanet_night_toy/genotypes/latest.yaml'
neck_channels = 32
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
        bbox_head=dict(in_channels=neck_channels)))
