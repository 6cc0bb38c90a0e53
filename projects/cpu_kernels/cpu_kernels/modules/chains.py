"""Kernel classes of ``nn.Sequential`` chains and the networks that hold
them: conv / ReLU chains in oneDNN's blocked layout
(:func:`~cpu_kernels.blocked_conv_chain.run_conv_chain`) and stems
fed a channels-last map
(:func:`~cpu_kernels.blocked_conv_chain.channels_last_at_inference`),
both at CPU inference only.

A chain's kernel class is given by the rule of the network holding it
(:func:`~cpu_kernels.registry.kernel_children_for`), never to every
``nn.Sequential``.
"""
import torch
import torch.nn as nn

from mmfusenas.models.restoration.proxy_nets import (DilatedDenoiser,
                                                     NoiseLevelProxy)
from ..blocked_conv_chain import channels_last_at_inference, run_conv_chain
from ..registry import kernel_children_for, kernel_class

__all__ = ['CpuConvChain', 'CpuChannelsLastStem']


@kernel_class(nn.Sequential)
class CpuConvChain(nn.Sequential):
    """An ``nn.Sequential`` of ``Conv2d`` and activation layers whose
    intermediate maps stay in oneDNN's blocked layout at CPU inference
    (bit-identical; Winograd's convolutions on channels-last maps where
    they pay, within float rounding): see
    :func:`~cpu_kernels.blocked_conv_chain.run_conv_chain`."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return run_conv_chain(self, x)


@kernel_class(nn.Sequential)
class CpuChannelsLastStem(nn.Sequential):
    """An ``nn.Sequential`` that runs on its input in channels-last layout
    at CPU inference (oneDNN then reads and writes every later map as it
    is, no reorder around each convolution; equal within float rounding)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(channels_last_at_inference(x))


@kernel_children_for(NoiseLevelProxy)
@kernel_children_for(DilatedDenoiser)
def _proxy_chain(module: nn.Module):
    """The proxy's and the denoiser's conv chain runs in oneDNN's blocked
    layout."""
    return [('body', CpuConvChain)]
