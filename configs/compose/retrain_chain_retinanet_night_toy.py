# Retrain chain_retinanet_night_toy.py with the three parts found by
# search_chain_retinanet_night_toy.py -- the RUAS scene module, TIM's N_F and
# the RetinaNet neck -- each rebuilt in its place from the one exported
# genotype (GenotypeNet part=<path in the model config>); same stages and
# schedule as the hand-designed chain.
#   python tools/train.py configs/compose/retrain_chain_retinanet_night_toy.py
# Another genotype: edit `genotype` here, or override
#   --cfg-options genotype=... is not enough (it is read at parse time): set
#   model.chain_net.stages.0.module.genotype, model.chain_net.stages.1.module
#   .genotype and model.detector.neck.genotype.
_base_ = ['./chain_retinanet_night_toy.py']

genotype = 'work_dirs/search_chain_retinanet_night_toy/genotypes/latest.yaml'
neck_channels = 32
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
        bbox_head=dict(in_channels=neck_channels)))
