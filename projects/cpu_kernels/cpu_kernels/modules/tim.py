"""Kernel classes of the TIM networks and their operators.

At CPU inference the TIM networks run channels-last: their stems take a
channels-last input (:class:`~.chains.CpuChannelsLastStem`), so that oneDNN
reads and writes every later map as it is; on such maps the wide 3 x 3
convolutions run by Winograd's algorithm
(:mod:`~cpu_kernels.winograd_conv`, reading the reflection padding
at the border), convolutions to few channels as one product over the taps
(:mod:`~cpu_kernels.tap_product_conv`), 1 x 1 convolutions as matrix
products (:class:`~cpu_kernels.fast_training.PointwiseConv2d`), the
selective-kernel fusion branch by branch and the residual up-sampling in
the commuted order. Outputs equal the plain networks' within float
rounding (``tests/test_projects/test_cpu_kernels/test_transform.py``); the switch
``channels_last=False`` (:mod:`cpu_kernels.switches`) keeps NCHW.
The operator classes serve the fast training path too (channels-last maps
while autograd records).
"""
from typing import Sequence

import torch
import torch.nn as nn

from mmfusenas.models.fusion.tim_enhance_net import TIMEnhanceNet
from mmfusenas.models.fusion.tim_fusion_net import TIMFusionNet
from mmfusenas.models.ops import (SKFF, ECABlock, ReflectPadConv2d,
                                  ResidualUpSample)
from ..switches import get_cpu_kernels
from ..direct_conv import conv2d_at_inference, reflect_conv2d_at_inference
from ..fast_training import PointwiseConv2d, is_pointwise_conv
from ..layout import is_channels_last
from ..registry import kernel_children_for, kernel_module_for
from .chains import CpuChannelsLastStem

__all__ = [
    'CpuReflectPadConv2d', 'CpuECABlock', 'CpuSKFF', 'CpuResidualUpSample'
]


@kernel_module_for(ReflectPadConv2d)
class CpuReflectPadConv2d(ReflectPadConv2d):
    """:class:`~mmfusenas.models.ops.ReflectPadConv2d` that, on a
    channels-last map at inference, runs Winograd's algorithm reading the
    reflection directly where it pays
    (:func:`~cpu_kernels.direct_conv.reflect_conv2d_at_inference`)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return reflect_conv2d_at_inference(self.pad, self.conv, x)


@kernel_module_for(ECABlock)
class CpuECABlock(ECABlock):
    """:class:`~mmfusenas.models.ops.ECABlock` whose 3 x 3 convolution runs
    by Winograd's algorithm on a channels-last map at inference where it
    pays (:func:`~cpu_kernels.direct_conv.conv2d_at_inference`)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(
            conv2d_at_inference(self.conv, self.eca(x), direct=False))


@kernel_module_for(SKFF)
class CpuSKFF(SKFF):
    """:class:`~mmfusenas.models.ops.SKFF` that sums channels-last branches
    one by one: a stacked ``(N, branches, C, H, W)`` view of them is
    strided across the branch axis, where the reductions of the plain
    module are several times slower."""

    def forward(self, feats: Sequence[torch.Tensor]) -> torch.Tensor:
        if not all(is_channels_last(f) for f in feats):
            return super().forward(feats)
        self._check(feats)
        total = feats[0]
        for f in feats[1:]:
            total = total + f
        weights = self._weights_of_sum(total)
        out = feats[0] * weights[:, 0]
        for i in range(1, len(feats)):
            out = out + feats[i] * weights[:, i]
        return out


@kernel_module_for(ResidualUpSample)
class CpuResidualUpSample(ResidualUpSample):
    """:class:`~mmfusenas.models.ops.ResidualUpSample` computing ``bot`` in
    the cheaper order ``bilinear x2 (conv1x1(x))`` (the same function; the
    product runs on a quarter of the pixels, the resampling on half the
    channels) on channels-last maps and in exported or compiled graphs
    (ONNX, ``torch.export``, ``torch.compile``). Eager NCHW maps keep the
    official order, bit-identical to the authors' code; so does the switch
    ``commuted_upsampling=False`` (:mod:`cpu_kernels.switches`)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if (is_channels_last(x) or torch.compiler.is_compiling()
                or torch.onnx.is_in_onnx_export()) \
                and get_cpu_kernels().commuted_upsampling:
            resample, conv = self.bot
            return self.top(x) + resample(conv(x))
        return super().forward(x)


def _pointwise_convs(module: nn.Module):
    """``(name, PointwiseConv2d)`` for every 1 x 1 convolution inside."""
    return [(name, PointwiseConv2d) for name, m in module.named_modules()
            if is_pointwise_conv(m)]


@kernel_children_for(TIMFusionNet)
def _fusion_net(module: TIMFusionNet):
    """N_F: the stem takes a channels-last input; 1 x 1 convolutions of
    channels-last maps as matrix products."""
    return [('stem', CpuChannelsLastStem)] + _pointwise_convs(module)


@kernel_children_for(TIMEnhanceNet)
def _enhance_net(module: TIMEnhanceNet):
    """N_T: as N_F, for both stems."""
    return [('first_stem', CpuChannelsLastStem),
            ('second_stem', CpuChannelsLastStem)] + _pointwise_convs(module)
