"""Type hints shared by the whole package (as mmdet's
``mmdet/utils/typing_utils.py``).

``ConfigType`` and its variants are mmdet's, so a signature reads the same
here and there. Most builders of MMFuseNAS also take an already built module
in place of a config: those arguments are ``ModuleConfigType``.
"""
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch.nn as nn
from mmengine.config import ConfigDict
from torch import Tensor

# a config (mmdet's)
ConfigType = Union[ConfigDict, dict]
OptConfigType = Optional[ConfigType]
# one or more configs (mmdet's)
MultiConfig = Union[ConfigType, List[ConfigType]]
OptMultiConfig = Optional[MultiConfig]

# a config, or the module it builds
ModuleConfigType = Union[ConfigDict, dict, nn.Module]
OptModuleConfigType = Optional[ModuleConfigType]

# a model's loss dict: MMEngine sums the keys that contain 'loss'
LossDict = Dict[str, Union[Tensor, List[Tensor]]]

RangeType = Sequence[Tuple[int, int]]

__all__ = [
    'ConfigType', 'OptConfigType', 'MultiConfig', 'OptMultiConfig',
    'ModuleConfigType', 'OptModuleConfigType', 'LossDict', 'RangeType'
]
