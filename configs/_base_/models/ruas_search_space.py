# RUAS search spaces (TPAMI Sec. 4); one alpha per edge shared by the
# scene stages and by the noise-removal cells (docs/methods/ruas.md)
_base_ = ['./ruas_genotypes.py']

# the same keys at every stage: shared alpha
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
