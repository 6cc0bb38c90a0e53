# Searched-neck variant of retinanet_ivif_msrs.py (task-guided fusion on
# real MSRS pairs): the detector's FPN is replaced by the feature
# distillation neck of genotypes/retinanet_ivif_neck_toydata_s0.yaml (the
# neck of configs/tim/retinanet_ivif.py, a genotype of
# search_retinanet_ivif.py's space found on the toy data; not searched on
# MSRS), rebuilt on the half-width ResNet-18's C2-C5 channels
# (32 / 64 / 128 / 256) at the FPN's width (128). Everything else (data,
# budget, initialisation, N_F, losses) is retinanet_ivif_msrs.py's, so the
# two differ in the neck alone; its initial weights differ in the neck too,
# so `model.task_init` loads the protocol's seed file with the neck left
# out: pass the backbone and head by
#   --cfg-options model.task_init.checkpoint=work_dirs/task_protocol/init/\
#       seed_S.pth model.task_init.prefix=''
# only for retinanet_ivif_msrs.py; here the detector starts from its own
# random initialisation of seed S (randomness.seed=S).
#   python tools/train.py configs/tim/retinanet_ivif_msrs_searched_neck.py
_base_ = './retinanet_ivif_msrs.py'

neck_channels = 128
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
