from .attention import (SKFF, ECABlock, ECALayer, NonLocalBlock,
                        SpatialAttentionBlock, SpatialMask)
from .blocks import DenseBlock, EnhanceResidualBlock, ResidualBlock
from .conv_ops import (DilConv, ReflectPadConv2d, ReLUConvBN, SepConv,
                       SkipConnect, Zero, depthwise_conv, same_padding)
from .guided_filter import GuidedFilter, box_sum, guided_filter
from .sampling import (AntiAliasDownsample, DownSample, ResidualDownSample,
                       ResidualUpSample, UpSample)
from .tim_op_names import TIM_OP_NAMES, build_tim_op, tim_op_cfg

__all__ = [
    'SKFF', 'ECABlock', 'ECALayer', 'NonLocalBlock', 'SpatialAttentionBlock',
    'SpatialMask', 'DenseBlock', 'EnhanceResidualBlock', 'ResidualBlock',
    'DilConv', 'ReflectPadConv2d', 'ReLUConvBN', 'SepConv', 'SkipConnect',
    'Zero', 'depthwise_conv', 'same_padding', 'GuidedFilter', 'box_sum',
    'guided_filter', 'AntiAliasDownsample', 'DownSample', 'ResidualDownSample',
    'ResidualUpSample', 'UpSample', 'TIM_OP_NAMES', 'build_tim_op',
    'tim_op_cfg'
]
