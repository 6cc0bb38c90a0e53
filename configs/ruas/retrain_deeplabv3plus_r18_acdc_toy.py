# Retrain deeplabv3plus_r18_acdc_toy.py with the parts its search found
# Guide: docs/methods/ruas_search_tasks.md
_base_ = ['./deeplabv3plus_r18_acdc_toy.py']

genotype = 'work_dirs/search_deeplabv3plus_r18_acdc_toy/genotypes/latest.yaml'
model = dict(
    scene_net=dict(
        _delete_=True,
        type='GenotypeNet',
        genotype=genotype,
        part='scene_net'),
    segmentor=dict(
        decode_head=dict(
            _delete_=True,
            type='mmfusenas.GenotypeNet',
            genotype=genotype,
            part='segmentor.decode_head')))
