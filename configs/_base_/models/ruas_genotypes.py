# RUAS genotypes (Liu et al., TPAMI 2022), transcribed from the official code:
# TPAMI vis-opt-group/RUAS @461172c model_enhance/genotypes.py, CVPR
# KarelZhang/RUAS @f621bb1 genotypes.py. A genotype lists the operators of the
# 7 edges of a RUASDistillationCell in edge order (official SearchBlock
# attributes c1_d, c1_r, c2_d, c2_r, c3_d, c3_r, c4); the integer the
# official records pair with every op is never read and is not kept.
# Op names: mmfusenas/models/ops/ruas_ops.py.

# scene module cell (IEM, width 3): TPAMI = CVPR
ruas_iem_genotype = [
    'skip_connect', 'resconv_1x1', 'resdilconv_3x3', 'conv_3x3', 'conv_3x3',
    'skip_connect', 'conv_3x3'
]
# noise removal cell (NRM, width 6), TPAMI (RUAS_A weights)
ruas_nrm_genotype = [
    'resconv_1x1', 'resconv_3x3', 'dilconv_3x3', 'resconv_1x1', 'resconv_3x3',
    'conv_3x3', 'resconv_3x3'
]
# noise removal cell of the CVPR 2021 network (the RUAS version of Table 5)
ruas_nrm_genotype_cvpr = [
    'resconv_1x1', 'resconv_1x1', 'resdilconv_3x3', 'skip_connect',
    'resconv_1x1', 'resconv_1x1', 'skip_connect'
]
# the 7 candidates of the enhancement search (paper Sec. 4.1, CVPR PRIMITIVES)
ruas_search_ops = [
    'skip_connect', 'conv_1x1', 'conv_3x3', 'dilconv_3x3', 'resconv_1x1',
    'resconv_3x3', 'resdilconv_3x3'
]

# The searched SSD task cell of the official RUAS detection network
# (``model_detection/`` of github.com/vis-opt-group/RUAS, the code of Liu et
# al., "Learning with Nested Scene Modeling and Cooperative Architecture
# Search for Low-Light Vision", TPAMI 2022, Sec. 5), in Table 1's op names. Official positions: 2 extra layers
# ([0] conv_7x7 1024->256, [1] conv_7x7 256->512 stride 2, [2] conv_7x7
# 512->128, [3] conv_3x3 128->256 stride 2), 6 loc and 6 conf head convs.
# mmdet's SSD300 neck has 4 extra layers whose 1x1 reductions are fixed: its
# searched stride-2 / valid convs take the official [1] and [3] ops, the two
# extra levels repeat [3] (ours). Head: loc -> reg, conf -> cls, per level.
ruas_det_neck_genotype = ['7-C', '3-C', '3-C', '3-C']
ruas_det_head_genotype = dict(
    reg=['7-C', '3-2-DC', '3-2-DC', '3-2-DC', '3-2-DC', '3-C'],
    cls=['3-2-DC', '7-C', '7-C', '5-C', '5-2-DC', '7-C'])
