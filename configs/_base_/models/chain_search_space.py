# Search space of the night-time chain (scene, fusion and neck keys) and
# its cooperative strategy (docs/methods/compose.md)
_base_ = ['./tim_neck_search_space.py']

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
    dict(name='scene', path='scene_net', losses=['scene.*']),
    dict(name='fusion', path='fusion_net', losses=['fusion.*']),
    dict(name='task', path='detector', losses=['loss_cls', 'loss_bbox']),
]
chain_search_strategy = dict(
    type='CooperativeStrategy',
    mode='cooperative',  # 'independent' / 'global' (RUAS Table 4)
    beta=1.0,
    coupling_reach='downstream',
    scene_strategy=dict(type='DartsFirstOrderStrategy'),
    task_strategy=dict(type='DartsFirstOrderStrategy'),
    coupling_strategy=dict(type='DartsFirstOrderStrategy'))
