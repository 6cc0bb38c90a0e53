# HBL search space (IJCAI 2022; official model_search_architecture.py): every
# position of the encoder (9), the decoder (9) and the 8 edges of each of the
# 7 Hadamard units is a DiffMixedOp. Keys: enc/<position>, dec/<position>
# (official attribute names, see HBL_ENCODER_POSITIONS / HBL_DECODER_POSITIONS)
# and hnu<u>/<edge> (edges r1..r4, i1..i4): 74 keys, nothing shared.
# Encoder / decoder candidates: hbl_codec_ops (4, official PRIMITIVES2); HNU
# candidates: hbl_hnu_ops (9, PRIMITIVES). Supernet weights (tested): encoder
# 233,536, HNUs 3,899,392, decoder 233,536.
# fix_space_cfg(hbl_supernet, hbl_genotype_choices(genotype)) is the fixed
# network of a genotype (tested for the four official ones).
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

# A small space of the same structure for toy runs on 2 CPU cores: 2 HNUs of
# width 16, encoder (3, 8, 16), decoder (16, 8, 3); same keys for the units
# it has (hnu0/*, hnu1/*), enc/* and dec/*.
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
