"""Per-pixel gated fusion: a softmax gate over the sources.

The whole extension is this module: the class registers into MMFuseNAS's
``MODELS`` registry, and a config names it after importing the package
with ``custom_imports``. It follows the fusion-network contract of
MMFuseNAS: ``(N, M, H, W)`` sources in ``[0, 1]`` (e.g. IR and the visible
luminance) → ``(N, 1, H, W)`` fused luminance in ``[0, 1]``.
"""
import torch
import torch.nn as nn

from mmfusenas.registry import MODELS


@MODELS.register_module()
class GatedFusionNet(nn.Module):
    """``fused = Σ_m softmax_m(g(x)) · x_m`` with a small CNN ``g``.

    The output is a per-pixel convex combination of the sources, so it
    stays in ``[0, 1]`` and, with the gate's last layer at zero (the
    initialisation), starts as the mean of the sources.

    Args:
        in_channels (int): number of sources ``M``. Defaults to 2.
        channels (int): width of the gate CNN. Defaults to 16.
        num_layers (int): 3x3 conv + ReLU layers before the gate's
            1x1 output. Defaults to 2.
    """

    def __init__(self,
                 in_channels: int = 2,
                 channels: int = 16,
                 num_layers: int = 2) -> None:
        super().__init__()
        if in_channels < 1 or channels < 1 or num_layers < 1:
            raise ValueError(
                f'GatedFusionNet: in_channels, channels and num_layers must '
                f'be >= 1, got {in_channels}, {channels}, {num_layers}')
        self.in_channels = in_channels
        layers, width = [], in_channels
        for _ in range(num_layers):
            layers += [nn.Conv2d(width, channels, 3, padding=1), nn.ReLU()]
            width = channels
        self.features = nn.Sequential(*layers)
        self.gate = nn.Conv2d(channels, in_channels, 1)
        nn.init.zeros_(self.gate.weight)
        nn.init.zeros_(self.gate.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 4 or x.shape[1] != self.in_channels:
            raise ValueError(
                f'GatedFusionNet expects (N, {self.in_channels}, H, W) '
                f'sources, got {tuple(x.shape)}')
        weights = self.gate(self.features(x)).softmax(dim=1)
        return (weights * x).sum(dim=1, keepdim=True)
