# Retrain retinanet_multispectral.py with the neck its search found
# Guide: docs/methods/tim_task_necks.md
_base_ = './retinanet_multispectral.py'

model = dict(
    detector=dict(
        neck=dict(
            _delete_=True,
            type='mmfusenas.GenotypeNet',
            genotype='work_dirs/search_retinanet_multispectral/genotypes/'
            'latest.yaml',
            out_channels=256)))
