# Retrain retinanet_ivif_fpn.py with the neck found by search_retinanet_ivif.py
# Guide: docs/methods/tim_task_necks.md
_base_ = './retinanet_ivif_fpn.py'

model = dict(
    detector=dict(
        neck=dict(
            _delete_=True,
            type='mmfusenas.GenotypeNet',
            genotype='work_dirs/search_retinanet_ivif/genotypes/latest.yaml',
            out_channels=256)))
