# HBL search space (official model_search_architecture.py): 74 keys
# enc/<position>, dec/<position>, hnu<u>/<edge> (docs/methods/hbl.md)
_base_ = ['./hbl_genotypes.py']

_enc = ['head', 'conv1', 'conv1_2', 'conv2', 'conv2_2', 'conv3', 'conv3_2',
        'conv4', 'conv4_2']
_dec = ['conv5', 'conv5_2', 'conv6', 'conv6_2', 'conv7', 'conv7_2', 'conv8',
        'conv8_2', 'tail']
_edges = ['r1', 'r2', 'r3', 'r4', 'i1', 'i2', 'i3', 'i4']

hbl_supernet = dict(
    type='HBLNet',
    encoder=dict(
        type='HBLEncoder',
        ops=[
            dict(type='DiffMixedOp', key=f'enc/{p}',
                 candidates={{_base_.hbl_codec_ops}}) for p in _enc
        ]),
    units=[
        dict(
            type='HadamardUnit',
            channels=32,
            ops=[
                dict(type='DiffMixedOp', key=f'hnu{u}/{e}',
                     candidates={{_base_.hbl_hnu_ops}}) for e in _edges
            ]) for u in range(7)
    ],
    decoder=dict(
        type='HBLDecoder',
        ops=[
            dict(type='DiffMixedOp', key=f'dec/{p}',
                 candidates={{_base_.hbl_codec_ops}}) for p in _dec
        ]))

hbl_toy_supernet = dict(
    type='HBLNet',
    encoder=dict(
        type='HBLEncoder',
        channels=(3, 8, 16),
        ops=[
            dict(type='DiffMixedOp', key=f'enc/{p}',
                 candidates={{_base_.hbl_codec_ops}}) for p in _enc
        ]),
    units=[
        dict(
            type='HadamardUnit',
            channels=16,
            ops=[
                dict(type='DiffMixedOp', key=f'hnu{u}/{e}',
                     candidates={{_base_.hbl_hnu_ops}}) for e in _edges
            ]) for u in range(2)
    ],
    decoder=dict(
        type='HBLDecoder',
        channels=(16, 8, 3),
        ops=[
            dict(type='DiffMixedOp', key=f'dec/{p}',
                 candidates={{_base_.hbl_codec_ops}}) for p in _dec
        ]))
