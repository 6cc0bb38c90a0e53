# RUAS: the CVPR 2021 network (scene + always-on denoiser)
# Guide: docs/methods/ruas.md
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
            t_min=1e-3,
            cell=dict(
                type='RUASDistillationCell',
                ops={{_base_.ruas_iem_genotype}})),
        denoiser=dict(
            type='RUASDenoiseNet',
            num_cells=3,
            in_channels=3,
            channels=6,
            cell=dict(
                type='RUASDistillationCell',
                ops={{_base_.ruas_nrm_genotype_cvpr}}))))
