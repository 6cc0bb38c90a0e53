# HBL genotypes transcribed from the official genotypes.py
# (docs/methods/hbl.md); op names: mmfusenas/models/ops/hbl_ops.py
hbl_hnu_ops = [
    'skip_connect', 'conv_1x1', 'conv_3x3', 'dilconv_3x3', 'resconv_1x1',
    'resconv_3x3', 'resdilconv_3x3', 'denseblocks_1x1', 'denseblocks_3x3'
]
hbl_codec_ops = ['conv_5x5', 'conv_1x1', 'conv_3x3', 'dilconv_3x3']

hbl_lol_genotype = dict(
    encoder=[
        'dilconv_3x3', 'dilconv_3x3', 'conv_5x5', 'dilconv_3x3',
        'dilconv_3x3', 'conv_5x5', 'conv_3x3', 'conv_3x3', 'dilconv_3x3'
    ],
    decoder=[
        'conv_3x3', 'conv_5x5', 'conv_3x3', 'conv_3x3', 'conv_5x5',
        'conv_5x5', 'conv_5x5', 'conv_5x5', 'conv_1x1'
    ],
    units=[
        ['conv_3x3', 'conv_1x1', 'conv_1x1', 'conv_1x1',
         'skip_connect', 'skip_connect', 'skip_connect', 'skip_connect'],
        ['resdilconv_3x3', 'conv_3x3', 'denseblocks_3x3', 'dilconv_3x3',
         'skip_connect', 'skip_connect', 'resconv_3x3', 'skip_connect'],
        ['conv_1x1', 'dilconv_3x3', 'denseblocks_1x1', 'denseblocks_3x3',
         'skip_connect', 'resdilconv_3x3', 'resconv_3x3', 'skip_connect'],
        ['denseblocks_1x1', 'denseblocks_3x3', 'denseblocks_3x3', 'conv_1x1',
         'resconv_1x1', 'resdilconv_3x3', 'skip_connect', 'skip_connect'],
        ['dilconv_3x3', 'conv_1x1', 'denseblocks_1x1', 'conv_1x1',
         'skip_connect', 'skip_connect', 'skip_connect', 'skip_connect'],
        ['denseblocks_3x3', 'dilconv_3x3', 'dilconv_3x3', 'conv_1x1',
         'resconv_3x3', 'resconv_3x3', 'skip_connect', 'skip_connect'],
        ['denseblocks_3x3', 'conv_1x1', 'denseblocks_3x3', 'conv_3x3',
         'resdilconv_3x3', 'skip_connect', 'resconv_3x3', 'skip_connect'],
    ])

hbl_mit_genotype = dict(
    encoder=[
        'conv_1x1', 'conv_5x5', 'conv_5x5', 'conv_1x1', 'conv_3x3',
        'conv_5x5', 'conv_5x5', 'conv_1x1', 'conv_3x3'
    ],
    decoder=[
        'conv_1x1', 'dilconv_3x3', 'conv_5x5', 'conv_1x1', 'conv_3x3',
        'dilconv_3x3', 'conv_5x5', 'conv_1x1', 'dilconv_3x3'
    ],
    units=[
        ['resconv_3x3', 'skip_connect', 'resconv_1x1', 'skip_connect',
         'denseblocks_3x3', 'skip_connect', 'skip_connect', 'resconv_3x3'],
        ['skip_connect', 'skip_connect', 'skip_connect', 'skip_connect',
         'resdilconv_3x3', 'denseblocks_3x3', 'conv_1x1', 'denseblocks_3x3'],
        ['skip_connect', 'skip_connect', 'skip_connect', 'skip_connect',
         'resconv_1x1', 'conv_3x3', 'conv_1x1', 'denseblocks_3x3'],
        ['denseblocks_3x3', 'skip_connect', 'skip_connect', 'resconv_1x1',
         'resconv_1x1', 'conv_1x1', 'conv_3x3', 'dilconv_3x3'],
        ['conv_1x1', 'conv_3x3', 'skip_connect', 'denseblocks_1x1',
         'denseblocks_1x1', 'denseblocks_1x1', 'conv_1x1', 'denseblocks_3x3'],
        ['conv_1x1', 'conv_3x3', 'skip_connect', 'conv_1x1',
         'denseblocks_1x1', 'conv_1x1', 'conv_1x1', 'skip_connect'],
        ['dilconv_3x3', 'resdilconv_3x3', 'skip_connect', 'denseblocks_3x3',
         'conv_1x1', 'denseblocks_1x1', 'conv_1x1', 'skip_connect'],
    ])

hbl_sihr_genotype = dict(
    encoder=[
        'conv_1x1', 'conv_1x1', 'conv_1x1', 'conv_3x3', 'conv_5x5',
        'conv_3x3', 'conv_1x1', 'conv_1x1', 'dilconv_3x3'
    ],
    decoder=[
        'conv_3x3', 'conv_5x5', 'dilconv_3x3', 'dilconv_3x3', 'conv_5x5',
        'conv_3x3', 'dilconv_3x3', 'conv_5x5', 'dilconv_3x3'
    ],
    units=[
        ['resconv_3x3', 'resconv_3x3', 'skip_connect', 'conv_3x3',
         'resconv_3x3', 'skip_connect', 'resconv_3x3', 'skip_connect'],
        ['conv_3x3', 'conv_3x3', 'conv_1x1', 'denseblocks_1x1',
         'resconv_1x1', 'resconv_3x3', 'resconv_3x3', 'resconv_3x3'],
        ['conv_3x3', 'conv_1x1', 'dilconv_3x3', 'resconv_1x1',
         'resconv_3x3', 'resconv_3x3', 'resconv_3x3', 'resdilconv_3x3'],
        ['conv_1x1', 'conv_1x1', 'dilconv_3x3', 'denseblocks_1x1',
         'resconv_3x3', 'resconv_3x3', 'resdilconv_3x3', 'resconv_3x3'],
        ['dilconv_3x3', 'conv_1x1', 'conv_3x3', 'conv_1x1',
         'resdilconv_3x3', 'resconv_3x3', 'resdilconv_3x3', 'skip_connect'],
        ['conv_3x3', 'denseblocks_3x3', 'resconv_1x1', 'denseblocks_1x1',
         'resdilconv_3x3', 'resconv_3x3', 'resconv_3x3', 'resconv_1x1'],
        ['resdilconv_3x3', 'denseblocks_3x3', 'resconv_3x3', 'conv_1x1',
         'resdilconv_3x3', 'resconv_3x3', 'resconv_3x3', 'resconv_3x3'],
    ])

hbl_uie_genotype = dict(
    encoder=[
        'dilconv_3x3', 'conv_1x1', 'conv_5x5', 'conv_5x5', 'dilconv_3x3',
        'conv_1x1', 'conv_5x5', 'conv_3x3', 'dilconv_3x3'
    ],
    decoder=[
        'conv_3x3', 'conv_5x5', 'conv_5x5', 'conv_5x5', 'conv_1x1',
        'conv_5x5', 'dilconv_3x3', 'conv_3x3', 'dilconv_3x3'
    ],
    units=[
        ['conv_1x1', 'skip_connect', 'resconv_3x3', 'skip_connect',
         'denseblocks_1x1', 'denseblocks_3x3', 'skip_connect', 'conv_1x1'],
        ['resconv_1x1', 'resconv_1x1', 'resdilconv_3x3', 'denseblocks_1x1',
         'skip_connect', 'skip_connect', 'skip_connect', 'skip_connect'],
        ['denseblocks_3x3', 'conv_1x1', 'dilconv_3x3', 'resconv_3x3',
         'skip_connect', 'skip_connect', 'resdilconv_3x3', 'skip_connect'],
        ['denseblocks_3x3', 'conv_3x3', 'conv_1x1', 'skip_connect',
         'skip_connect', 'skip_connect', 'skip_connect', 'skip_connect'],
        ['conv_1x1', 'conv_3x3', 'dilconv_3x3', 'dilconv_3x3',
         'skip_connect', 'skip_connect', 'skip_connect', 'skip_connect'],
        ['denseblocks_3x3', 'dilconv_3x3', 'denseblocks_1x1', 'dilconv_3x3',
         'skip_connect', 'skip_connect', 'skip_connect', 'resconv_1x1'],
        ['denseblocks_1x1', 'conv_1x1', 'dilconv_3x3', 'dilconv_3x3',
         'skip_connect', 'resdilconv_3x3', 'skip_connect', 'skip_connect'],
    ])



# bn_test_stats='per_image': what the official test.py computes
def _net(g):
    return dict(
        type='HBLNet',
        encoder=dict(type='HBLEncoder', ops=g['encoder']),
        units=[
            dict(type='HadamardUnit', channels=32, ops=ops)
            for ops in g['units']
        ],
        decoder=dict(type='HBLDecoder', ops=g['decoder']),
        bn_test_stats='running')


hbl_lol_network = _net(hbl_lol_genotype)
hbl_mit_network = _net(hbl_mit_genotype)
hbl_sihr_network = _net(hbl_sihr_genotype)
hbl_uie_network = _net(hbl_uie_genotype)
