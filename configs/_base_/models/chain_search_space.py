# The search space of the night-time chain (configs/compose/search_chain_*):
# the RUAS scene cell (keys scene/edge<e>, shared by the 3 stages), the ops
# of N_F's two cells (fusion/cell<c>/op<o>, TIM's 7 fusion operators), and
# the edges of RetinaNet's distillation neck (neck/cell<c>/edge<e>, TIM's 11
# task operators: tim_neck_search_space.py's tim_neck_space(_toy)), plus
# the three parts of the cooperative search over them (data-flow order).
_base_ = ['./tim_neck_search_space.py']
# The scene space itself is ruas_search_space.py's ruas_scene_space, which
# the chain model configs already import (through ruas_scene.py):
#   scene_space = dict(type='RUASNet', scene={{_base_.ruas_scene_space}})

chain_tim_ops = [
    'Denseblocks_3_1', 'Residualblocks_3_1', 'Residualblocks_5_1',
    'DilConv_3_2', 'SepConv_3_1', 'ECAattention_3', 'SPAattention_3'
]
chain_fusion_space = dict(
    type='TIMFusionNet',
    channels=8,
    in_channels=2,
    cells=[
        dict(
            type=cell,
            ops=[
                dict(
                    type='DiffMixedOp',
                    key=f'fusion/cell{c}/op{i}',
                    candidates=chain_tim_ops) for i in range(2)
            ]) for c, cell in enumerate(
                ['MultiScaleFusionCell', 'SuccessiveCell'])
    ])
chain_search_parts = [
    dict(name='scene', path='chain_net.modules_.scene', losses=['scene.*']),
    dict(name='fusion', path='chain_net.modules_.fusion',
         losses=['fusion.*']),
    dict(name='task', path='detector', losses=['loss_cls', 'loss_bbox']),
]
# RUAS's cooperative strategy (first order in every part), beta-coupled to
# every later part's validation loss
chain_search_strategy = dict(
    type='CooperativeStrategy',
    mode='cooperative',  # 'independent' / 'global' (RUAS Table 4)
    beta=1.0,
    coupling_reach='downstream',
    scene_strategy=dict(type='DartsFirstOrderStrategy'),
    task_strategy=dict(type='DartsFirstOrderStrategy'),
    coupling_strategy=dict(type='DartsFirstOrderStrategy'))
