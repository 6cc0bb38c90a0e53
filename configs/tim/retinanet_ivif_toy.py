# The toy headline: TIM's N_F + RetinaNet R18/4 with the searched neck
# (genotype header: the command that derives it)
# Guide: docs/methods/tim_task_necks.md
_base_ = './retinanet_ivif_fpn_toy.py'

neck_channels = 24
model = dict(
    detector=dict(
        neck=dict(
            _delete_=True,
            type='mmfusenas.GenotypeNet',
            genotype='{{ fileDirname }}/genotypes/'
            'retinanet_ivif_toy_neck_darts1_s4.yaml',
            out_channels=neck_channels),
        bbox_head=dict(in_channels=neck_channels)))
