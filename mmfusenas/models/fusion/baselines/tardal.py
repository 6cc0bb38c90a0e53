"""TarDAL generator (Liu et al., CVPR 2022), inference part, from the
released ``Generator(dim=32, depth=3)`` weights.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

from mmfusenas.registry import MODELS

BN_MODES = ('eval', 'train', 'standard')


class _BatchNorm(nn.BatchNorm2d):
    """BatchNorm2d whose statistics source is fixed by ``mode``, not by
    ``Module.training``."""

    def __init__(self, channels: int, mode: str = 'eval') -> None:
        super().__init__(channels)
        self.mode = mode

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.mode == 'standard':
            return super().forward(x)
        if self.mode == 'train':
            return F.batch_norm(x, None, None, self.weight, self.bias, True,
                                0.0, self.eps)
        return F.batch_norm(x, self.running_mean, self.running_var,
                            self.weight, self.bias, False, 0.0, self.eps)


def _block(in_channels: int, out_channels: int, bn_mode: str,
           act: nn.Module, with_bn: bool = True) -> nn.Sequential:
    layers = [nn.Conv2d(in_channels, out_channels, 3, padding=1)]
    if with_bn:
        layers.append(_BatchNorm(out_channels, bn_mode))
    layers.append(act)
    return nn.Sequential(*layers)


@MODELS.register_module()
class TarDALGenerator(nn.Module):
    """TarDAL's fusion generator: ``(N, 2, H, W)`` (ir, vi) -> ``(N, 1, H, W)``
    in ``[-1, 1]``.

    Args:
        dim (int): width. Defaults to 32.
        depth (int): dense layers. Defaults to 3.
        bn_mode (str): ``'eval'`` (running statistics), ``'train'`` (batch
            statistics, as ``tardal.pt`` is run) or ``'standard'``
            (``nn.BatchNorm2d``). Defaults to 'eval'.
    """

    def __init__(self, dim: int = 32, depth: int = 3,
                 bn_mode: str = 'eval') -> None:
        super().__init__()
        if bn_mode not in BN_MODES:
            raise ValueError(f'TarDALGenerator: bn_mode must be one of '
                             f'{BN_MODES}, got {bn_mode!r}')
        self.bn_mode = bn_mode
        self.encoder = _block(2, dim, bn_mode, nn.ReLU())
        self.dense = nn.ModuleList(
            _block(dim * (i + 1), dim, bn_mode, nn.ReLU())
            for i in range(depth))
        width = dim * (depth + 1)
        self.fuse = nn.Sequential(
            _block(width, dim * 4, bn_mode, nn.ReLU(), with_bn=False),
            _block(dim * 4, dim * 2, bn_mode, nn.ReLU()),
            _block(dim * 2, dim, bn_mode, nn.ReLU()),
            _block(dim, 1, bn_mode, nn.Tanh(), with_bn=False))

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        x = self.encoder(inputs)
        for layer in self.dense:
            x = torch.cat([x, layer(x)], dim=1)
        return self.fuse(x)
