# HBL genotypes (Zhu et al., IJCAI 2022), transcribed from the official
# zhudear/HBLALS_pytorch genotypes.py (sets {LOL,MIT,SIHR,UIE}genotype{e,d,0-6};
# get_genname picks them by --dataset). Op names: mmfusenas/models/ops/hbl_ops.py.
#   encoder: the 9 positions head, conv1, conv1_2, conv2, conv2_2, conv3,
#            conv3_2, conv4, conv4_2 ({X}genotypee)
#   decoder: conv5, conv5_2, conv6, conv6_2, conv7, conv7_2, conv8, conv8_2,
#            tail ({X}genotyped)
#   units:   7 HNUs ({X}genotype0-6), each r1..r4 then i1..i4
# The integer paired with every op in the official records is never read.
# Parameter counts (encoder / HNUs / decoder / total), tested:
#   LOL 73,136 / 369,664 / 85,040 / 527,840
#   MIT 82,992 / 316,416 / 54,704 / 454,112
#   SIHR 35,888 / 407,552 / 77,232 / 520,672
#   UIE 66,992 / 261,120 / 103,856 / 431,968
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



# the fixed networks of the four official genotypes (HBLNet configs; equal to
# mmfusenas.models.hbl_network_cfg(genotype, bn_test_stats='running')).
# bn_test_stats: 'running' = standard eval mode; 'per_image' = what the
# official test.py computes (it never calls eval(): every image is normalised
# with its own BN statistics).
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
