# TIM's searchable detection neck (Sec. 4.3.1): feature-distillation cells
# fusing ResNet-18 levels top-down then bottom-up, every edge choosing among
# the 11 task operators of Sec. 4.3 (normal conv k in {1,3,5,7}, dilated conv
# k in {3,5,7} rate 2, residual conv k in {3,5,7}, skip); one architecture
# key per edge, neck/cell<c>/edge<e>. Used by the RetinaNet neck searches
# (configs/tim/search_retinanet_{ivif,multispectral}{,_toy}.py).
tim_task_ops = [
    'conv_1', 'conv_3', 'conv_5', 'conv_7', 'dil_conv_3_2', 'dil_conv_5_2',
    'dil_conv_7_2', 'res_conv_3', 'res_conv_5', 'res_conv_7', 'skip'
]
# ResNet-18 C3-C5 (FPN's start_level=1) + 2 extra levels, strides 8-128
# (checked against the head's anchors), 4-node cells, a 64-channel supernet
# (the retrain configs rebuild the derived neck at 256)
tim_neck_space = dict(
    type='mmfusenas.SearchableDistillationNeck',
    in_channels=[64, 128, 256, 512],
    out_channels=64,
    start_level=1,
    num_outs=5,
    strides=[8, 16, 32, 64, 128],
    num_nodes=4,
    edge_cfg=dict(type='DiffMixedOp', key='neck', candidates=tim_task_ops))
# the toy detectors' quarter-width ResNet-18 (levels of 16-128 channels) and
# their RetinaHead anchor strides 4-32; 2-node cells: 6 cells x 3 edges
tim_neck_space_toy = dict(
    type='mmfusenas.SearchableDistillationNeck',
    in_channels=[16, 32, 64, 128],
    out_channels=32,
    num_outs=4,
    strides=[4, 8, 16, 32],
    num_nodes=2,
    edge_cfg=dict(type='DiffMixedOp', key='neck', candidates=tim_task_ops))
