# RUAS_A (TPAMI 2022, Table 5: 0.037 M params): the official TPAMI network
# (vis-opt-group/RUAS model_enhance/model.py `Network`, weights
# weights/{lol,mit,darkface}.pt), 36,653 params: scene 1,161 (3 IEM stages,
# clamp t >= 1e-4) + denoiser 5,985 (3 NRM cells of the TPAMI genotype at
# width 6) + noise estimator 29,507 (5 convs, width 32). The denoiser runs
# when the estimated noise level of u_3 is >= 0.035 (one decision per batch,
# as in the official code; gate='sample' decides per image).
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
