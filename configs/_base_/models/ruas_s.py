# RUAS_s: the scene module alone (docs/methods/ruas.md)
_base_ = ['./ruas_genotypes.py']

model = dict(
    type='ImageEnhancer',
    data_preprocessor=dict(type='EnhanceDataPreprocessor'),
    network=dict(
        type='RUASNet',
        scene=dict(
            type='RUASIlluminationNet',
            num_stages=3,
            channels=3,
            gamma=0.5,
            t_min=1e-4,
            cell=dict(
                type='RUASDistillationCell',
                ops={{_base_.ruas_iem_genotype}}))))
