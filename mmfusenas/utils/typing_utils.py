"""Type hints shared by the package (mmdet's ``ConfigType`` family is in
``mmdet.utils``)."""
from typing import Dict, List, Optional, Union

import torch.nn as nn
from mmengine.config import ConfigDict
from torch import Tensor

#: a builder argument that also takes a built module
ModuleConfigType = Union[ConfigDict, dict, nn.Module]
OptModuleConfigType = Optional[ModuleConfigType]
#: a model's loss dict: MMEngine sums the keys that contain 'loss'
LossDict = Dict[str, Union[Tensor, List[Tensor]]]
