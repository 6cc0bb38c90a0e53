# RUAS (TPAMI 2022, Table 5: 0.003 M params): scene module + noise removal,
# without noise estimation: the denoiser always runs. This is the network of
# the CVPR 2021 code (KarelZhang/RUAS model.py), 3,438 params: scene 1,161
# (IEM cells, clamp t >= 1e-3 as in that code) + denoiser 2,277 (stem, 3 NRM
# cells of the CVPR genotype at width 6, head). Its weights are the CVPR
# checkpoints ckpt/{lol,upe,dark}.pt (not shipped here), converted with
# tools/model_converters/ruas_official_to_mmfusenas.py. The CVPR test script
# saves u_list[-2] (the scene output, denoiser ignored) for 'upe' and 'dark':
# use ruas_s.py with t_min=1e-3 for those.
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
