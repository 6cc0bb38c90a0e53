# Retrain ssd300_exdark.py with the scene module and the SSD task cell found
# by search_ssd300_exdark.py: every searched part is rebuilt in its place
# from the one exported genotype (GenotypeNet part=<path in the model>).
#   python tools/train.py configs/ruas/retrain_ssd300_exdark.py
# Another genotype: edit `genotype` here, or override the three parts'
# keys (model.scene_net.genotype, model.detector.neck.genotype,
# model.detector.bbox_head.genotype) with --cfg-options.
_base_ = ['./ssd300_exdark.py']

genotype = 'work_dirs/search_ssd300_exdark/genotypes/latest.yaml'
model = dict(
    scene_net=dict(
        _delete_=True,
        type='GenotypeNet',
        genotype=genotype,
        part='scene_net'),
    detector=dict(
        neck=dict(
            _delete_=True,
            type='mmfusenas.GenotypeNet',
            genotype=genotype,
            part='detector.neck'),
        bbox_head=dict(
            _delete_=True,
            type='mmfusenas.GenotypeNet',
            genotype=genotype,
            part='detector.bbox_head')))
