"""RUAS task module for enhancement: noise removal and noise estimation.

Official names (``vis-opt-group/RUAS``, ``model_enhance/model.py``):
``DenoiseNetwork`` and ``Estimation``. Paper: TPAMI 2022, Sec. 5.1.
"""
from typing import Tuple

import torch
import torch.nn as nn

from mmfusenas.registry import MODELS
from .ruas_illumination import CellCfgs, build_cells, stage_cell_cfgs


@MODELS.register_module()
class RUASDenoiseNet(nn.Module):
    """Noise removal network ``Psi_r`` (official ``DenoiseNetwork``).

    ::

        feat = stem(u)                         # 3x3 conv, in -> C
        feat = cells[K-1](...cells[0](feat))   # K cells at width C
        noise = head(feat)                     # 3x3 conv, C -> in
        return u - noise, noise

    Convs are biased and zero-padded; there is no activation after the head
    (the official attribute ``activate`` holds only the conv) and the
    denoised image is **not** clamped. Each cell has its own weights; cells
    with the same ``DiffMixedOp`` keys share their architecture (the
    official search shares one ``alpha`` over the three NRM cells). Paper vs
    code: the paper feeds the noise estimate to the removal network
    (``Psi_r(u, theta)``); the code does not.

    Args:
        cell (dict | Sequence[dict]): cell config(s) built at
            ``channels`` (official: :class:`RUASDistillationCell` with the
            NRM genotype of ``configs/_base_/models/ruas_genotypes.py``).
        num_cells (int): number of cells ``K``. Defaults to 3.
        in_channels (int): image channels. Defaults to 3.
        channels (int): feature width ``C``. Defaults to 6 (official).
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
        """Remove the estimated noise.

        Args:
            u (Tensor): ``(N, in_channels, H, W)`` enhanced image.

        Returns:
            tuple[Tensor, Tensor]: ``(u - noise, noise)``.
        """
        feat = self.stem(u)
        for cell in self.cells:
            feat = cell(feat)
        noise = self.head(feat)
        return u - noise, noise


@MODELS.register_module()
class RUASNoiseEstimator(nn.Module):
    """Noise estimation network ``Psi_e`` (official ``Estimation``).

    ``num_layers`` biased 3x3 convs ``in -> C -> ... -> C -> in`` with a ReLU
    between consecutive convs and none at the end (official: five convs,
    ``3 -> 32 -> 32 -> 32 -> 32 -> 3``), giving a map ``e``. The noise level
    is its mean absolute value:

    * ``per_sample=False`` (official): one scalar for the whole batch,
      ``||e||_1 / (C H W)`` — the batch size is **not** divided out, so for
      ``N > 1`` it is ``N`` times the mean;
    * ``per_sample=True``: ``(N,)``, the mean ``|e|`` of every sample.

    The training of this network is not in any public code.

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
        """Noise level of ``x``.

        Args:
            x (Tensor): ``(N, in_channels, H, W)``.
            per_sample (bool): one level per sample instead of the official
                batch scalar. Defaults to False.

        Returns:
            Tensor: ``()`` or ``(N,)``.
        """
        est = self.layers(x)
        # the official torch.norm(e, 1) is this vector norm (same reduction)
        if per_sample:
            return torch.linalg.vector_norm(
                est, ord=1, dim=(1, 2, 3)) / est[0].numel()
        return torch.linalg.vector_norm(est, ord=1) / est[0].numel()
