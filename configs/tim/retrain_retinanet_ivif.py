# Retrain retinanet_ivif_fpn.py with the distillation neck found by
# configs/tim/search_retinanet_ivif.py (TIM Sec. 4.3.1) in place of the
# FPN. The search ran the supernet at 64 channels; the fixed neck is
# rebuilt from the genotype file at 256 (keys given next to `genotype`
# override the stored network config).
#   python tools/train.py configs/tim/search_retinanet_ivif.py
#   python tools/train.py configs/tim/retrain_retinanet_ivif.py
_base_ = './retinanet_ivif_fpn.py'

model = dict(
    detector=dict(
        # outputs: 3 fused levels (strides 8, 16, 32) + 2 extras (64, 128),
        # as the FPN it replaces
        neck=dict(
            _delete_=True,
            type='mmfusenas.GenotypeNet',
            genotype='work_dirs/search_retinanet_ivif/genotypes/latest.yaml',
            out_channels=256)))
