"""RUAS noise removal (``DenoiseNetwork``) and noise estimation
(``Estimation``) networks (TPAMI 2022, Sec. 5.1).
"""
from typing import Tuple

import torch
import torch.nn as nn

from mmfusenas.registry import MODELS
from .ruas_illumination import CellCfgs, build_cells, stage_cell_cfgs


@MODELS.register_module()
class RUASDenoiseNet(nn.Module):
    """Noise removal network (official ``DenoiseNetwork``)::

        feat = stem(u)                         # 3x3 conv, in -> C
        feat = cells[K-1](...cells[0](feat))
        noise = head(feat)                     # 3x3 conv, C -> in
        return u - noise, noise                # not clamped

    Args:
        cell (dict | Sequence[dict]): cell config(s) built at ``channels``.
        num_cells (int): number of cells. Defaults to 3.
        in_channels (int): image channels. Defaults to 3.
        channels (int): feature width. Defaults to 6 (official).
    """

    def __init__(self,
                 cell: CellCfgs,
                 num_cells: int = 3,
                 in_channels: int = 3,
                 channels: int = 6) -> None:
        super().__init__()
        if not isinstance(num_cells, int) or num_cells < 1:
            raise ValueError(
                f'num_cells must be an int >= 1, got {num_cells!r}')
        self.in_channels = in_channels
        self.stem = nn.Conv2d(in_channels, channels, 3, padding=1)
        self.cells = build_cells(
            stage_cell_cfgs(cell, num_cells,
                            type(self).__name__), channels)
        self.head = nn.Conv2d(channels, in_channels, 3, padding=1)

    def forward(self, u: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """Return ``(u - noise, noise)``."""
        feat = self.stem(u)
        for cell in self.cells:
            feat = cell(feat)
        noise = self.head(feat)
        return u - noise, noise


@MODELS.register_module()
class RUASNoiseEstimator(nn.Module):
    """Noise estimation network (official ``Estimation``).

    ``num_layers`` biased 3x3 convs with ReLUs between them give a map ``e``;
    the level is ``sum|e| / (C H W)`` for the batch (official, N times the mean
    for N > 1) or the mean ``|e|`` per sample.

    Args:
        in_channels (int): image channels. Defaults to 3.
        channels (int): hidden width. Defaults to 32.
        num_layers (int): number of convs (>= 2). Defaults to 5.
    """

    def __init__(self,
                 in_channels: int = 3,
                 channels: int = 32,
                 num_layers: int = 5) -> None:
        super().__init__()
        if not isinstance(num_layers, int) or num_layers < 2:
            raise ValueError(
                f'num_layers must be an int >= 2, got {num_layers!r}')
        widths = [in_channels] + [channels] * (num_layers - 1) + [in_channels]
        layers = []
        for i in range(num_layers):
            if i:
                # in place: exact, autograd-safe after a conv, and one
                # (N, C, H, W) allocation less per layer
                layers.append(nn.ReLU(inplace=True))
            layers.append(nn.Conv2d(widths[i], widths[i + 1], 3, padding=1))
        self.layers = nn.Sequential(*layers)

    def forward(self,
                x: torch.Tensor,
                per_sample: bool = False) -> torch.Tensor:
        """Noise level, ``()`` (official) or ``(N,)`` with ``per_sample``."""
        est = self.layers(x)
        # the official torch.norm(e, 1) is this vector norm (same reduction)
        if per_sample:
            return torch.linalg.vector_norm(
                est, ord=1, dim=(1, 2, 3)) / est[0].numel()
        return torch.linalg.vector_norm(est, ord=1) / est[0].numel()
