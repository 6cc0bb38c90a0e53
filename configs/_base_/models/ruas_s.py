# RUAS_s (TPAMI 2022, Table 5: 0.001 M params): the scene module alone, 3
# illumination stages with the official IEM cell (width 3), 1,161 params. The
# prediction is u_3. TPAMI clamp t >= 1e-4; its weights are the scene module
# of the official TPAMI checkpoints (convert with --scene-only).
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
