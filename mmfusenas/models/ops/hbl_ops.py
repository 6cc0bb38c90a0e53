"""Operators of HBL (Zhu et al., IJCAI 2022), after the official
``zhudear/HBLALS_pytorch`` ``operations.py``.

The official op names are registered with the prefix ``hbl_`` and resolved
by :func:`hbl_op_cfg`; HNU edges choose among :data:`HBL_HNU_OPS`, encoder /
decoder positions among :data:`HBL_CODEC_OPS`.
"""
from typing import Optional

import torch
import torch.nn as nn
import torch.nn.functional as F

from mmfusenas.registry import MODELS
from .op_names import register_op_names

#: HNU edge candidates (official ``PRIMITIVES``), in the official order
HBL_HNU_OPS = ('skip_connect', 'conv_1x1', 'conv_3x3', 'dilconv_3x3',
               'resconv_1x1', 'resconv_3x3', 'resdilconv_3x3',
               'denseblocks_1x1', 'denseblocks_3x3')
#: encoder / decoder candidates (official ``PRIMITIVES2``)
HBL_CODEC_OPS = ('conv_5x5', 'conv_1x1', 'conv_3x3', 'dilconv_3x3')

#: name -> (class, kernel_size, dilation, residual)
_HBL_OP_TABLE = {
    'conv_1x1': ('HBLConv', 1, 1, False),
    'conv_3x3': ('HBLConv', 3, 1, False),
    'conv_5x5': ('HBLConv', 5, 1, False),
    'dilconv_3x3': ('HBLConv', 3, 2, False),
    'resconv_1x1': ('HBLConv', 1, 1, True),
    'resconv_3x3': ('HBLConv', 3, 1, True),
    'resdilconv_3x3': ('HBLConv', 3, 2, True),
    'denseblocks_1x1': ('HBLDenseBlock', 1, 1, False),
    'denseblocks_3x3': ('HBLDenseBlock', 3, 1, False),
}
#: every HBL op name
HBL_OP_NAMES = ('skip_connect', ) + tuple(_HBL_OP_TABLE)

#: test-time statistics of :class:`StatsBatchNorm2d`
BN_TEST_STATS = ('running', 'per_image')


def hbl_op_cfg(name: str, out_channels: Optional[int] = None) -> dict:
    """The module config of an official HBL op name (:data:`HBL_OP_NAMES`).

    Args:
        name (str): the op name.
        out_channels (int, optional): output width when it differs from the
            input width.
    """
    if name == 'skip_connect':
        if out_channels is not None:
            raise ValueError('skip_connect cannot change the width (asked '
                             f'for out_channels={out_channels})')
        return dict(type='SkipConnect')
    if name not in _HBL_OP_TABLE:
        raise KeyError(f'unknown HBL op {name!r}; known: {HBL_OP_NAMES}')
    kind, k, d, res = _HBL_OP_TABLE[name]
    cfg = dict(type=kind, kernel_size=k)
    if kind == 'HBLConv':
        cfg.update(dilation=d, residual=res)
    if out_channels is not None:
        cfg['out_channels'] = out_channels
    return cfg


@MODELS.register_module()
class HBLConv(nn.Module):
    """Bias-free conv with "same" padding: ``conv(x)`` or ``conv(x) + x``.

    Args:
        channels (int): input width.
        kernel_size (int): odd kernel size.
        dilation (int): dilation. Defaults to 1.
        residual (bool): add the input. Defaults to False.
        out_channels (int, optional): output width (defaults to the input's).
    """

    def __init__(self,
                 channels: int,
                 kernel_size: int,
                 dilation: int = 1,
                 residual: bool = False,
                 out_channels: Optional[int] = None) -> None:
        super().__init__()
        out_channels = channels if out_channels is None else out_channels
        if kernel_size % 2 != 1:
            raise ValueError(f'HBLConv: kernel_size must be odd, got '
                             f'{kernel_size}')
        if residual and out_channels != channels:
            raise ValueError('HBLConv: a residual conv needs out_channels = '
                             f'channels, got {channels} -> {out_channels}')
        self.residual = residual
        self.conv = nn.Conv2d(
            channels,
            out_channels,
            kernel_size,
            padding=dilation * (kernel_size - 1) // 2,
            dilation=dilation,
            bias=False)

    @property
    def bn_fold_conv(self) -> Optional[str]:
        """``'conv'`` when a following BatchNorm folds into the conv, else
        None."""
        return None if self.residual else 'conv'

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.conv(x)
        return out + x if self.residual else out


@MODELS.register_module()
class HBLDenseBlock(nn.Module):
    """``conv2(cat[x, ReLU(conv1(x))])`` (official ``DenseBlock``).

    Args:
        channels (int): input width.
        kernel_size (int): odd kernel size of both convs.
        out_channels (int, optional): output width (defaults to the input's).
    """

    def __init__(self,
                 channels: int,
                 kernel_size: int,
                 out_channels: Optional[int] = None) -> None:
        super().__init__()
        out_channels = channels if out_channels is None else out_channels
        pad = (kernel_size - 1) // 2
        self.bn_fold_conv = 'conv2'
        self.conv1 = nn.Conv2d(
            channels, out_channels, kernel_size, padding=pad, bias=False)
        self.conv2 = nn.Conv2d(
            channels + out_channels,
            out_channels,
            kernel_size,
            padding=pad,
            bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x1 = F.relu(self.conv1(x))
        return self.conv2(torch.cat((x, x1), 1))


@MODELS.register_module()
class StatsBatchNorm2d(nn.BatchNorm2d):
    """``BatchNorm2d`` with a choice of statistics in eval mode.

    ``test_stats='per_image'`` normalises every image with its own
    per-channel statistics in eval mode (the official HBL test, which never
    calls ``eval()``); ``'running'`` is the usual eval mode.

    Args:
        num_features (int): channels.
        affine (bool): learnable scale / shift. Defaults to False (HBL).
        test_stats (str): ``'running'`` or ``'per_image'``.
        **kwargs: other ``BatchNorm2d`` arguments.
    """

    def __init__(self,
                 num_features: int,
                 affine: bool = False,
                 test_stats: str = 'running',
                 **kwargs) -> None:
        super().__init__(num_features, affine=affine, **kwargs)
        self.test_stats = test_stats

    @property
    def test_stats(self) -> str:
        """``'running'`` or ``'per_image'``."""
        return self._test_stats

    @test_stats.setter
    def test_stats(self, value: str) -> None:
        if value not in BN_TEST_STATS:
            raise ValueError(f'test_stats must be one of {BN_TEST_STATS}, '
                             f'got {value!r}')
        self._test_stats = value

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.training or self._test_stats == 'running':
            return super().forward(x)
        return F.instance_norm(
            x, weight=self.weight, bias=self.bias, eps=self.eps)

    @property
    def folds_as_batchnorm(self) -> bool:
        """True when eval mode uses the running statistics (foldable)."""
        return not self.training and self._test_stats == 'running'

    def extra_repr(self) -> str:
        return f'{super().extra_repr()}, test_stats={self._test_stats!r}'


register_op_names('HBL', HBL_OP_NAMES, hbl_op_cfg, prefix='hbl_')
