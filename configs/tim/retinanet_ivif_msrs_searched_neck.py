# retinanet_ivif_msrs.py with the searched neck of retinanet_ivif.py
# Guide: docs/methods/tim_task_real.md
_base_ = './retinanet_ivif_msrs.py'

neck_channels = 128
# under the protocol the detector starts from the seed file (task_init)
# but for this neck, which keeps its own seed-S initialisation
model = dict(
    detector=dict(
        neck=dict(
            _delete_=True,
            type='mmfusenas.GenotypeNet',
            genotype='{{ fileDirname }}/genotypes/'
            'retinanet_ivif_neck_toydata_s0.yaml',
            in_channels=[32, 64, 128, 256],
            out_channels=neck_channels),
        bbox_head=dict(in_channels=neck_channels)))
