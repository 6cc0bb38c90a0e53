# RUAS search spaces (TPAMI 2022 Sec. 4; the supernet of the CVPR code
# model_search.py). Every edge of every distillation cell is a DiffMixedOp over
# the 7 enhancement candidates. The official search shares one architecture
# vector per edge across the 3 scene stages (key 'scene/edge<e>') and one
# across the 3 noise-removal cells ('denoise/edge<e>'); weights are never
# shared. 14 keys of 7 candidates; 37,944 weights (scene 7,677, denoiser
# 30,267), as counted on the official supernet. No noise estimator (its
# training is not public).
#
# Plain config data: derive a fixed network with
# mmfusenas.models.mutables.fix_space_cfg(space, choices); choosing the
# official genotypes gives configs/_base_/models/ruas_a.py's scene / denoiser.
_base_ = ['./ruas_genotypes.py']

# one cell config for every stage: the same keys at every stage -> shared alpha
ruas_scene_space = dict(
    type='RUASIlluminationNet',
    num_stages=3,
    channels=3,
    gamma=0.5,
    t_min=1e-4,
    cell=dict(
        type='RUASDistillationCell',
        edge_cfg=dict(
            type='DiffMixedOp',
            key='scene',
            candidates={{_base_.ruas_search_ops}})))

# not shared: one cell config per stage with stage-specific keys
# ('scene/stage<k>/edge<e>', 21 keys)
ruas_scene_space_per_stage = dict(
    type='RUASIlluminationNet',
    num_stages=3,
    channels=3,
    gamma=0.5,
    t_min=1e-4,
    cell=[
        dict(
            type='RUASDistillationCell',
            edge_cfg=dict(
                type='DiffMixedOp',
                key=f'scene/stage{k}',
                candidates={{_base_.ruas_search_ops}})) for k in range(3)
    ])

ruas_denoise_space = dict(
    type='RUASDenoiseNet',
    num_cells=3,
    in_channels=3,
    channels=6,
    cell=dict(
        type='RUASDistillationCell',
        edge_cfg=dict(
            type='DiffMixedOp',
            key='denoise',
            candidates={{_base_.ruas_search_ops}})))

ruas_supernet = dict(
    type='RUASNet', scene=ruas_scene_space, denoiser=ruas_denoise_space)
