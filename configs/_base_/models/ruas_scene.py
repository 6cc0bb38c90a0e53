# RUAS scene module and task ops for the high-level tasks
# (docs/methods/ruas_search_tasks.md)
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
ruas_scene_losses = [dict(type='RUASSceneLoss', prior='weighted_tv')]

ruas_task_ops = [
    '1-C', '3-C', '5-C', '7-C', '3-2-DC', '5-2-DC', '7-2-DC', '3-6-DC',
    '3-12-DC', '3-18-DC'
]
