# Retrain ssd_exdark_toy.py with the parts its search found
# Guide: docs/methods/ruas_search_tasks.md
_base_ = ['./ssd_exdark_toy.py']

genotype = 'work_dirs/search_ssd_exdark_toy/genotypes/latest.yaml'
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
