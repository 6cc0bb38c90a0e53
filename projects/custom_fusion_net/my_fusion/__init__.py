"""An outside fusion network registered into MMFuseNAS (one module)."""
import torch
import torch.nn as nn

from mmfusenas.registry import MODELS


@MODELS.register_module()
class WeightedAverageFusionNet(nn.Module):
    """``sigmoid(w) * a + (1 - sigmoid(w)) * b`` plus a small residual CNN.

    Any ``nn.Module`` mapping the ``(N, M, H, W)`` stacked sources to an
    ``(N, 1, H, W)`` image can be an ``ImageFusor``'s ``fusion_net``.

    Args:
        in_channels (int): number of sources. Defaults to 2.
        channels (int): width of the residual CNN. Defaults to 8.
    """

    def __init__(self, in_channels: int = 2, channels: int = 8) -> None:
        super().__init__()
        self.logits = nn.Parameter(torch.zeros(in_channels))
        self.residual = nn.Sequential(
            nn.Conv2d(in_channels, channels, 3, padding=1), nn.ReLU(),
            nn.Conv2d(channels, 1, 3, padding=1))

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        weights = self.logits.softmax(0).view(1, -1, 1, 1)
        return (inputs * weights).sum(1, keepdim=True) + \
            self.residual(inputs)
