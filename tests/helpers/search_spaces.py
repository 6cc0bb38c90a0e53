"""Tiny search-space configs shared by the tests and the benchmarks."""

#: the candidates of every mixed op of :func:`tiny_search_space`
TINY_OPS = ('DilConv_3_2', 'SPAattention_3')


def _op(key: str) -> dict:
    return dict(type='DiffMixedOp', key=key, candidates=list(TINY_OPS))


def tiny_search_space(channels: int = 4) -> dict:
    """A two-cell TIM space: which cell at position 0 and the ops."""
    return dict(
        type='TIMFusionNet',
        channels=channels,
        cells=[
            dict(
                type='DiffMixedOp',
                key='cell0',
                candidates=dict(
                    sc=dict(
                        type='SuccessiveCell',
                        ops=[_op('cell0/sc/op0'),
                             _op('cell0/sc/op1')]),
                    ms=dict(
                        type='MultiScaleFusionCell',
                        ops=[_op('cell0/ms/op0')]))),
            dict(type='SuccessiveCell', ops=[_op('cell1/op0')]),
        ])
