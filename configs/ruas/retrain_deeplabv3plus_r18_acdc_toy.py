# Retrain deeplabv3plus_r18_acdc_toy.py with the scene module and the feature
# conversion found by search_deeplabv3plus_r18_acdc_toy.py (both rebuilt
# from the one exported genotype with GenotypeNet part=<path>).
#   python tools/train.py configs/ruas/retrain_deeplabv3plus_r18_acdc_toy.py
# Another genotype: edit `genotype`, or override model.scene_net.genotype and
# model.segmentor.decode_head.genotype with --cfg-options.
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
