# TIM's searchable detection neck (Sec. 4.3.1), one key per edge
# Guide: docs/methods/tim_neck_search.md
tim_task_ops = [
    'conv_1', 'conv_3', 'conv_5', 'conv_7', 'dil_conv_3_2', 'dil_conv_5_2',
    'dil_conv_7_2', 'res_conv_3', 'res_conv_5', 'res_conv_7', 'skip'
]
# a 64-channel supernet (the retrain configs rebuild it at 256)
tim_neck_space = dict(
    type='mmfusenas.SearchableDistillationNeck',
    in_channels=[64, 128, 256, 512],
    out_channels=64,
    start_level=1,
    num_outs=5,
    strides=[8, 16, 32, 64, 128],
    num_nodes=4,
    edge_cfg=dict(type='DiffMixedOp', key='neck', candidates=tim_task_ops))
tim_neck_space_toy = dict(
    type='mmfusenas.SearchableDistillationNeck',
    in_channels=[16, 32, 64, 128],
    out_channels=32,
    num_outs=4,
    strides=[4, 8, 16, 32],
    num_nodes=2,
    edge_cfg=dict(type='DiffMixedOp', key='neck', candidates=tim_task_ops))
