"""IFCNN (Zhang et al., Information Fusion 2020), inference part, from the
released ``IFCNN-MAX.pth`` layer names.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

from mmfusenas.registry import MODELS

FUSE_RULES = ('max', 'sum', 'mean')


class _ConvBlock(nn.Module):
    """Replicate pad 1, 3x3 conv (no bias), BN, ReLU."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, 3, bias=False)
        self.bn = nn.BatchNorm2d(out_channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.pad(x, (1, 1, 1, 1), mode='replicate')
        return F.relu(self.bn(self.conv(x)))


@MODELS.register_module()
class IFCNN(nn.Module):
    """IFCNN with an elementwise fusion rule.

    Input ``(N, 3 M, H, W)`` (M ImageNet-normalised 3-channel sources), output
    ``(N, 3, H, W)`` in the normalised space.

    Args:
        fuse_rule (str): ``'max'``, ``'sum'`` or ``'mean'``. Defaults to 'max'.
        channels (int): feature width. Defaults to 64.
        frozen_stem (bool): keep ``conv1`` frozen, as released. Defaults to
            True.
    """

    def __init__(self,
                 fuse_rule: str = 'max',
                 channels: int = 64,
                 frozen_stem: bool = True) -> None:
        super().__init__()
        if fuse_rule not in FUSE_RULES:
            raise ValueError(f'IFCNN: fuse_rule must be one of {FUSE_RULES},'
                             f' got {fuse_rule!r}')
        self.fuse_rule = fuse_rule
        self.conv1 = nn.Conv2d(3, channels, 7, bias=False)
        # the released model: a frozen ImageNet ResNet-101 conv1
        self.conv1.weight.requires_grad_(not frozen_stem)
        self.conv2 = _ConvBlock(channels, channels)
        self.conv3 = _ConvBlock(channels, channels)
        self.conv4 = nn.Conv2d(channels, 3, 1)

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        n, c, h, w = inputs.shape
        if c == 3:  # one source would pass through as its own "fusion"
            raise ValueError('IFCNN expects (N, 3 * M, H, W) inputs with M '
                             '>= 2 three-channel sources, got '
                             f'{tuple(inputs.shape)}')
        x = inputs.reshape(n * (c // 3), 3, h, w)  # sources into the batch
        x = F.pad(x, (3, 3, 3, 3), mode='replicate')
        x = self.conv2(self.conv1(x))
        x = x.reshape(n, c // 3, *x.shape[1:])
        if self.fuse_rule == 'max':
            x = x.amax(dim=1)
        elif self.fuse_rule == 'sum':
            x = x.sum(dim=1)
        else:
            x = x.mean(dim=1)
        return self.conv4(self.conv3(x))
