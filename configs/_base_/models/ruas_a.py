# RUAS_A: the official TPAMI network with the gated denoiser
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
            t_min=1e-4,
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
                ops={{_base_.ruas_nrm_genotype}})),
        estimator=dict(
            type='RUASNoiseEstimator',
            in_channels=3,
            channels=32,
            num_layers=5),
        gate_threshold=0.035,
        gate='batch'))
