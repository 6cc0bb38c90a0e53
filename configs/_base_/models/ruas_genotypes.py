# RUAS genotypes transcribed from the official code (docs/methods/ruas.md);
# op names: mmfusenas/models/ops/ruas_ops.py
ruas_iem_genotype = [
    'skip_connect', 'resconv_1x1', 'resdilconv_3x3', 'conv_3x3', 'conv_3x3',
    'skip_connect', 'conv_3x3'
]
# noise removal cell (NRM, width 6), TPAMI (RUAS_A weights)
ruas_nrm_genotype = [
    'resconv_1x1', 'resconv_3x3', 'dilconv_3x3', 'resconv_1x1', 'resconv_3x3',
    'conv_3x3', 'resconv_3x3'
]
ruas_nrm_genotype_cvpr = [
    'resconv_1x1', 'resconv_1x1', 'resdilconv_3x3', 'skip_connect',
    'resconv_1x1', 'resconv_1x1', 'skip_connect'
]
ruas_search_ops = [
    'skip_connect', 'conv_1x1', 'conv_3x3', 'dilconv_3x3', 'resconv_1x1',
    'resconv_3x3', 'resdilconv_3x3'
]

# the searched SSD task cell of the official detection network
ruas_det_neck_genotype = ['7-C', '3-C', '3-C', '3-C']
ruas_det_head_genotype = dict(
    reg=['7-C', '3-2-DC', '3-2-DC', '3-2-DC', '3-2-DC', '3-C'],
    cls=['3-2-DC', '7-C', '7-C', '5-C', '5-2-DC', '7-C'])
