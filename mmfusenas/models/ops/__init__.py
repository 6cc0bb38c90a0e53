from .attention import (SKFF, ECABlock, ECALayer, NonLocalBlock,
                        SpatialAttentionBlock, SpatialMask)
from .blocks import DenseBlock, EnhanceResidualBlock, ResidualBlock
from .conv_ops import (DilConv, ReflectPadConv2d, ReLUConvBN, SepConv,
                       SkipConnect, Zero, conv_lrelu, depthwise_conv,
                       same_padding)
from .edges import EdgeSpec, build_chain, build_edge
from .hbl_ops import (BN_TEST_STATS, HBL_CODEC_OPS, HBL_HNU_OPS, HBL_OP_NAMES,
                      HBLConv, HBLDenseBlock, StatsBatchNorm2d,
                      hbl_op_cfg)
from .gisr_fusion_ops import (FUSION_OP_NAMES, GUIDE_FREE_FUSION_OPS,
                              CatFusion, EnergyFusion, FusionSkip,
                              MeanFusion, MMAFusion, SelectGuide,
                              SelectTarget, build_fusion_op)
from .guided_filter import GuidedFilter, box_sum, guided_filter
from .mobile_blocks import (MB_KERNELS, MB_OP_NAMES, MB_RATIOS, ConvAct,
                            ElasticMBConv, MBConvSE, SqueezeExcite,
                            build_mb_op, parse_mb_name)
from .ruas_ops import (RUAS_OP_NAMES, RUAS_PAPER_OP_NAMES, RUAS_SEARCH_OPS,
                       RUASConv, RUASPool, ruas_op_cfg, ruas_paper_op_cfg)
from .ruas_ops import RUAS_PAPER_ONLY_OP_NAMES, RUAS_TASK_OPS
from .sampling import (AntiAliasDownsample, DownSample, ResidualDownSample,
                       ResidualUpSample, UpSample)
from .task_ops import TASK_OP_NAMES, TaskConv, build_task_op, task_op_cfg
from .op_names import (build_named_op, known_op_names, op_name_cfg,
                       register_op_names)
from .tim_op_names import TIM_OP_NAMES, build_tim_op, tim_op_cfg

__all__ = [
    'known_op_names', 'SKFF', 'ECABlock', 'ECALayer', 'NonLocalBlock',
    'SpatialAttentionBlock', 'SpatialMask', 'DenseBlock',
    'EnhanceResidualBlock', 'ResidualBlock', 'DilConv', 'ReflectPadConv2d',
    'ReLUConvBN', 'SepConv', 'SkipConnect', 'Zero', 'conv_lrelu',
    'depthwise_conv',
    'same_padding', 'GuidedFilter', 'box_sum', 'guided_filter',
    'AntiAliasDownsample', 'DownSample', 'ResidualDownSample',
    'ResidualUpSample', 'UpSample', 'TIM_OP_NAMES', 'build_tim_op',
    'tim_op_cfg', 'TASK_OP_NAMES', 'TaskConv', 'build_task_op', 'task_op_cfg',
    'build_named_op', 'op_name_cfg', 'register_op_names', 'RUAS_OP_NAMES',
    'RUAS_PAPER_OP_NAMES', 'RUAS_SEARCH_OPS', 'RUASConv', 'RUASPool',
    'ruas_op_cfg', 'ruas_paper_op_cfg', 'RUAS_TASK_OPS',
    'RUAS_PAPER_ONLY_OP_NAMES', 'EdgeSpec', 'build_chain', 'build_edge',
    'BN_TEST_STATS', 'HBL_CODEC_OPS', 'HBL_HNU_OPS', 'HBL_OP_NAMES',
    'HBLConv', 'HBLDenseBlock', 'StatsBatchNorm2d', 'hbl_op_cfg',
    'FUSION_OP_NAMES', 'GUIDE_FREE_FUSION_OPS', 'CatFusion',
    'EnergyFusion', 'FusionSkip', 'MeanFusion', 'MMAFusion', 'SelectGuide',
    'SelectTarget', 'build_fusion_op', 'MB_KERNELS', 'MB_OP_NAMES',
    'MB_RATIOS', 'ConvAct', 'ElasticMBConv', 'MBConvSE', 'SqueezeExcite',
    'build_mb_op', 'parse_mb_name'
]
