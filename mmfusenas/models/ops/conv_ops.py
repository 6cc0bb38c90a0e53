"""Convolutional operators: dilated / separable convs, pre-processing,
reflection-padded convs, identity and zero.

Every operator here maps ``C -> C`` channels. Convolutions are bias-free
unless stated; BN layers use the PyTorch defaults (eps 1e-5, momentum 0.1,
affine).
"""
from typing import Optional

import torch
import torch.nn as nn

from mmfusenas.registry import MODELS


def same_padding(kernel_size: int, dilation: int = 1) -> int:
    """Zero padding that keeps H x W for a stride-1 (dilated) conv.

    Equals the padding table of the official TIM ``BasicConv`` for
    ``kernel_size`` in (3, 5, 7) and ``dilation`` in (1, 2), the only
    combinations :func:`build_tim_op` accepts (outside it the official table
    falls back to padding 0, which would shrink the feature map).

    Args:
        kernel_size (int): odd kernel size.
        dilation (int): dilation. Defaults to 1.

    Returns:
        int: ``dilation * (kernel_size - 1) // 2``.
    """
    if kernel_size < 1 or kernel_size % 2 == 0:
        raise ValueError(
            f'kernel_size must be a positive odd number, got {kernel_size}')
    if dilation < 1:
        raise ValueError(f'dilation must be >= 1, got {dilation}')
    return dilation * (kernel_size - 1) // 2


def depthwise_conv(channels: int,
                   kernel_size: int,
                   dilation: int = 1) -> nn.Conv2d:
    """Bias-free, size-preserving depthwise conv (``groups = channels``).

    Args:
        channels (int): input = output channels.
        kernel_size (int): odd kernel size.
        dilation (int): dilation. Defaults to 1.

    Returns:
        nn.Conv2d: the conv.
    """
    return nn.Conv2d(
        channels,
        channels,
        kernel_size,
        padding=same_padding(kernel_size, dilation),
        dilation=dilation,
        groups=channels,
        bias=False)


@MODELS.register_module()
class ReflectPadConv2d(nn.Module):
    """Reflection padding followed by a biased conv (stems and heads).

    Official name: ``ConvLayer`` (``model/model_searched.py``); the padding is
    ``(kernel_size - 1) // 2`` on every side, so H x W is kept.

    Args:
        in_channels (int): input channels.
        out_channels (int): output channels.
        kernel_size (int): odd kernel size (the official networks use 3
            and 1).
    """
    #: the output is this conv's output (BatchNorm folding, see
    #: :func:`mmfusenas.utils.fold_batchnorm`)
    bn_fold_conv = 'conv'

    def __init__(self, in_channels: int, out_channels: int,
                 kernel_size: int) -> None:
        super().__init__()
        self.pad = nn.ReflectionPad2d(same_padding(kernel_size))
        self.conv = nn.Conv2d(in_channels, out_channels, kernel_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(self.pad(x))


@MODELS.register_module()
class ReLUConvBN(nn.Module):
    """ReLU -> size-preserving conv ``C -> C`` -> BN.

    Official name: ``ReLUConvBN`` (the ``preprocess1`` of every TIM cell, a
    1x1 conv there).

    Args:
        channels (int): input = output channels.
        kernel_size (int): odd kernel size. Defaults to 1.
    """

    def __init__(self, channels: int, kernel_size: int = 1) -> None:
        super().__init__()
        self.layers = nn.Sequential(
            nn.ReLU(),
            nn.Conv2d(
                channels,
                channels,
                kernel_size,
                padding=same_padding(kernel_size),
                bias=False), nn.BatchNorm2d(channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x)


@MODELS.register_module()
class DilConv(nn.Module):
    """Dilated depthwise-separable conv: ReLU -> dw conv -> 1x1 -> BN.

    Official name: ``DilConv`` (genotype string ``DilConv_<k>_<d>``). The
    official TIM version adds the input (``out = op(x) + x``), unlike the
    DARTS ``dil_conv``; ``residual=False`` gives the DARTS form.

    Args:
        channels (int): input = output channels ``C``.
        kernel_size (int): odd depthwise kernel size. Defaults to 3.
        dilation (int): depthwise dilation. Defaults to 2.
        residual (bool): add the input to the output. Defaults to True.
    """

    def __init__(self,
                 channels: int,
                 kernel_size: int = 3,
                 dilation: int = 2,
                 residual: bool = True) -> None:
        super().__init__()
        self.residual = residual
        self.layers = nn.Sequential(
            nn.ReLU(), depthwise_conv(channels, kernel_size, dilation),
            nn.Conv2d(channels, channels, 1, bias=False),
            nn.BatchNorm2d(channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.layers(x)
        return out + x if self.residual else out


@MODELS.register_module()
class SepConv(nn.Module):
    """Separable conv pair: (ReLU -> dw conv -> 1x1 -> BN) twice.

    Official name: ``SepConv`` (genotype string ``SepConv_<k>_<s>``), the
    DARTS ``sep_conv`` structure without a residual. ``stride`` applies to
    the first depthwise conv only and there is no dilation.

    Official quirk (kept by :func:`build_tim_op`): the operator factory passes
    the genotype's third number (meant as a dilation) as ``stride`` and fixes
    ``padding=1`` for every kernel size, so ``SepConv_3_1`` preserves H x W,
    ``SepConv_5_1`` shrinks H and W by 4 and ``SepConv_3_2`` halves them. The
    paper describes size-preserving 3x3 / 5x5 separable convolutions; we
    follow the code.

    Args:
        channels (int): input = output channels ``C``.
        kernel_size (int): depthwise kernel size. Defaults to 3.
        stride (int): stride of the first depthwise conv. Defaults to 1.
        padding (int, optional): zero padding of both depthwise convs;
            ``None`` means ``(kernel_size - 1) // 2``. Defaults to None.
    """

    def __init__(self,
                 channels: int,
                 kernel_size: int = 3,
                 stride: int = 1,
                 padding: Optional[int] = None) -> None:
        super().__init__()
        if padding is None:
            padding = same_padding(kernel_size)

        def dw(conv_stride: int) -> nn.Conv2d:
            return nn.Conv2d(
                channels,
                channels,
                kernel_size,
                stride=conv_stride,
                padding=padding,
                groups=channels,
                bias=False)

        self.layers = nn.Sequential(
            nn.ReLU(), dw(stride),
            nn.Conv2d(channels, channels, 1, bias=False),
            nn.BatchNorm2d(channels), nn.ReLU(), dw(1),
            nn.Conv2d(channels, channels, 1, bias=False),
            nn.BatchNorm2d(channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x)


@MODELS.register_module()
class SkipConnect(nn.Module):
    """Identity operator (``skip`` in a search space; no official TIM
    genotype uses it).

    Args:
        channels (int): accepted for the uniform ``(channels)`` operator
            interface; unused.
    """

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.channels = channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x


@MODELS.register_module()
class Zero(nn.Module):
    """Zero operator (``zero`` / DARTS ``none``): returns zeros like x.

    Args:
        channels (int): accepted for the uniform ``(channels)`` operator
            interface; unused.
    """

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.channels = channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.zeros_like(x)
