"""A small hand-designed fusion CNN (the baseline of ``configs/baselines``)."""
from typing import Sequence

import torch
import torch.nn as nn

from mmfusenas.models.ops import conv_lrelu
from mmfusenas.registry import MODELS


@MODELS.register_module()
class SimpleFusionNet(nn.Module):
    """Densely connected encoder + conv decoder (DenseFuse-like), sigmoid
    output.

    Args:
        in_channels (int): number of sources. Defaults to 2.
        base_channels (int): width of stem and dense layers. Defaults to 16.
        num_dense (int): dense layers in the encoder. Defaults to 3.
        decoder_channels (Sequence[int]): decoder widths before the final conv.
            Defaults to (32, 16).
    """

    def __init__(self,
                 in_channels: int = 2,
                 base_channels: int = 16,
                 num_dense: int = 3,
                 decoder_channels: Sequence[int] = (32, 16)) -> None:
        super().__init__()
        self.in_channels = in_channels
        self.stem = conv_lrelu(in_channels, base_channels)
        self.dense = nn.ModuleList(
            conv_lrelu(base_channels * (i + 1), base_channels)
            for i in range(num_dense))
        layers = []
        width = base_channels * (num_dense + 1)
        for out in decoder_channels:
            layers.append(conv_lrelu(width, out))
            width = out
        layers.append(nn.Conv2d(width, 1, 3, padding=1))
        self.decoder = nn.Sequential(*layers)

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        feats = [self.stem(inputs)]
        for layer in self.dense:
            feats.append(layer(torch.cat(feats, dim=1)))
        return torch.sigmoid(self.decoder(torch.cat(feats, dim=1)))
