# The RUAS scene module for the high-level applications (TPAMI 2022 Sec. 5):
# RUAS_s, 3 illumination stages with the official IEM cell (width 3), the
# prediction u_3 (no noise removal, as the official detection network). Its
# search space is ruas_search_space.py's ruas_scene_space (one alpha per edge
# shared by the 3 stages, keys scene/edge<e>).
_base_ = ['./ruas_search_space.py']  # also the genotypes

ruas_scene_net = dict(
    type='RUASNet',
    scene=dict(
        type='RUASIlluminationNet',
        num_stages=3,
        channels=3,
        gamma=0.5,
        t_min=1e-4,
        cell=dict(
            type='RUASDistillationCell', ops={{_base_.ruas_iem_genotype}})))
# the unsupervised scene loss l_s (official weighted TV + fidelity on t_K)
ruas_scene_losses = [dict(type='RUASSceneLoss', prior='weighted_tv')]

# The high-level task-cell search space of Table 1 (m-C, n-2-DC, 3-k-DC).
ruas_task_ops = [
    '1-C', '3-C', '5-C', '7-C', '3-2-DC', '5-2-DC', '7-2-DC', '3-6-DC',
    '3-12-DC', '3-18-DC'
]
