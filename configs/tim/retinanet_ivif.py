# Task-guided fusion: TIM's N_F + RetinaNet R18 with a searched neck on M3FD
# (toy-data genotype, NOT evaluated on M3FD: re-derive it before relying)
# Guide: docs/methods/tim_task_necks.md
_base_ = './retinanet_ivif_fpn.py'

neck_channels = 64
model = dict(
    detector=dict(
        neck=dict(
            _delete_=True,
            type='mmfusenas.GenotypeNet',
            genotype='{{ fileDirname }}/genotypes/'
            'retinanet_ivif_neck_toydata_s0.yaml',
            out_channels=neck_channels),
        bbox_head=dict(in_channels=neck_channels)))
