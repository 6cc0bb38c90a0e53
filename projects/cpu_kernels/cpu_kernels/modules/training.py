"""The classes of the fast training path
(:mod:`~cpu_kernels.fast_training`,
:mod:`~cpu_kernels.grouped_conv`) and where the path applies: the
pre-module of the compound fusion models (N_F of ``FusionDetector`` /
``FusionSegmentor``)."""
import torch.nn as nn

from mmfusenas.models.compound import FusionDetector, FusionSegmentor
from ..fast_training import FastPReLU, PointwiseConv2d
from ..grouped_conv import FastGroupedConv2d
from ..registry import fast_training_host, kernel_class

kernel_class(nn.PReLU)(FastPReLU)
kernel_class(nn.Conv2d)(PointwiseConv2d)
kernel_class(nn.Conv2d)(FastGroupedConv2d)


@fast_training_host(FusionSegmentor)
@fast_training_host(FusionDetector)
def _fusion_pre_module(model: nn.Module):
    """The fusion network of a compound fusion model (its one stage)."""
    return ['fusion_net']
