# TIM's two-level search space of the fusion network N_F (TIM Sec. 4.1,
# Fig. 1b): two cell positions; each position chooses its cell among the
# successive (C_SC), multi-scale fusion (C_MS) and decomposition (C_DC)
# cells, and every cell's two edges ("blocks") choose their operator among
# `tim_search_ops` (the official genotype strings). Keys:
#   cell<p>                 which cell at position p        (3 candidates)
#   cell<p>/<cell>/op<e>    which op on edge e of that cell (7 candidates)
# so 2 + 2 * 3 * 2 = 14 architecture vectors. Only the chosen cell's edges
# are part of the derived network.
#
# This file is plain config data: edit the lists to define another space
# (add 'skip', 'zero', 'Denseblocks_5_1', 'SepConv_5_1', 'NonLocalattention_3'
# ..., more positions, a fixed cell at a position); no code is needed. Every
# choice point is dict(type='DiffMixedOp', key=<unique key without '.'>,
# candidates=<list of op names | dict name -> config>); mutables that share a
# key share one α. The multi-scale cell needs H, W multiples of 4 (use
# pad_size_divisor=4 in the data preprocessor).
tim_search_ops = [
    'Denseblocks_3_1', 'Residualblocks_3_1', 'Residualblocks_5_1',
    'DilConv_3_2', 'SepConv_3_1', 'ECAattention_3', 'SPAattention_3'
]

tim_search_space = dict(
    type='TIMFusionNet',
    channels=48,
    in_channels=2,
    cells=[
        dict(
            type='DiffMixedOp',
            key='cell0',
            candidates=dict(
                sc=dict(
                    type='SuccessiveCell',
                    ops=[
                        dict(
                            type='DiffMixedOp',
                            key='cell0/sc/op0',
                            candidates=tim_search_ops),
                        dict(
                            type='DiffMixedOp',
                            key='cell0/sc/op1',
                            candidates=tim_search_ops),
                    ]),
                ms=dict(
                    type='MultiScaleFusionCell',
                    ops=[
                        dict(
                            type='DiffMixedOp',
                            key='cell0/ms/op0',
                            candidates=tim_search_ops),
                        dict(
                            type='DiffMixedOp',
                            key='cell0/ms/op1',
                            candidates=tim_search_ops),
                    ]),
                dc=dict(
                    type='DecompositionCell',
                    ops=[
                        dict(
                            type='DiffMixedOp',
                            key='cell0/dc/op0',
                            candidates=tim_search_ops),
                        dict(
                            type='DiffMixedOp',
                            key='cell0/dc/op1',
                            candidates=tim_search_ops),
                    ]))),
        dict(
            type='DiffMixedOp',
            key='cell1',
            candidates=dict(
                sc=dict(
                    type='SuccessiveCell',
                    ops=[
                        dict(
                            type='DiffMixedOp',
                            key='cell1/sc/op0',
                            candidates=tim_search_ops),
                        dict(
                            type='DiffMixedOp',
                            key='cell1/sc/op1',
                            candidates=tim_search_ops),
                    ]),
                ms=dict(
                    type='MultiScaleFusionCell',
                    ops=[
                        dict(
                            type='DiffMixedOp',
                            key='cell1/ms/op0',
                            candidates=tim_search_ops),
                        dict(
                            type='DiffMixedOp',
                            key='cell1/ms/op1',
                            candidates=tim_search_ops),
                    ]),
                dc=dict(
                    type='DecompositionCell',
                    ops=[
                        dict(
                            type='DiffMixedOp',
                            key='cell1/dc/op0',
                            candidates=tim_search_ops),
                        dict(
                            type='DiffMixedOp',
                            key='cell1/dc/op1',
                            candidates=tim_search_ops),
                    ]))),
    ])
