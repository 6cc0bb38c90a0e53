# Train retinanet_multispectral.py with the distillation neck found by
# search_retinanet_multispectral.py (TIM Sec. 4.3.1, Table 4: "the major
# improvement comes from the FPN re-design by automatic search") in place of
# the FPN: 160k steps, lr 2e-3 cosine to 1e-8. The search ran the supernet
# at 64 channels; the fixed neck is rebuilt from the genotype at 256.
#   python tools/train.py configs/tim/search_retinanet_multispectral.py
#   python tools/train.py configs/tim/retrain_retinanet_multispectral.py
_base_ = './retinanet_multispectral.py'

model = dict(
    detector=dict(
        neck=dict(
            _delete_=True,
            type='mmfusenas.GenotypeNet',
            genotype='work_dirs/search_retinanet_multispectral/genotypes/'
            'latest.yaml',
            out_channels=256)))
