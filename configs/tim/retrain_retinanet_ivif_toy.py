# Retrain retinanet_ivif_fpn_toy.py with the neck found by
# search_retinanet_ivif_toy.py (docs/methods/tim_task_necks.md)
_base_ = './retinanet_ivif_fpn_toy.py'

neck_channels = 32
model = dict(
    detector=dict(
        neck=dict(
            _delete_=True,
            type='mmfusenas.GenotypeNet',
            genotype='work_dirs/search_retinanet_ivif_toy/genotypes/'
            'latest.yaml',
            out_channels=neck_channels),
        bbox_head=dict(in_channels=neck_channels)))
