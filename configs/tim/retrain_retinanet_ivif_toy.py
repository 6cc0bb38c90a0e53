# Retrain retinanet_ivif_fpn_toy.py with the distillation neck found by
# configs/tim/search_retinanet_ivif_toy.py (TIM Sec. 4.3.1) in place of the
# FPN: the neck is rebuilt from the exported genotype file; N_F, data and
# schedule are those of retinanet_ivif_fpn_toy.py (task-guided training from
# scratch).
#   python tools/train.py configs/tim/search_retinanet_ivif_toy.py
#   python tools/train.py configs/tim/retrain_retinanet_ivif_toy.py
# Another genotype: --cfg-options model.detector.neck.genotype=PATH.
_base_ = './retinanet_ivif_fpn_toy.py'

neck_channels = 32
model = dict(
    detector=dict(
        # outputs: the 4 fused backbone levels (strides 4-32), as the FPN
        neck=dict(
            _delete_=True,
            type='mmfusenas.GenotypeNet',
            genotype='work_dirs/search_retinanet_ivif_toy/genotypes/'
            'latest.yaml',
            out_channels=neck_channels),
        bbox_head=dict(in_channels=neck_channels)))
