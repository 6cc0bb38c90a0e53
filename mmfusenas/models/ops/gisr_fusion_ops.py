"""Cross-modality feature fusion ops ``forward(d, g)`` (guided SR, DCNAS).

:data:`FUSION_OP_NAMES` is the official DCNAS order; the ops of
:data:`GUIDE_FREE_FUSION_OPS` do not read ``g``.
"""
from typing import Optional

import torch
import torch.nn as nn
import torch.nn.functional as F

from mmfusenas.registry import MODELS
from .mobile_blocks import ConvAct

FUSION_OP_NAMES = ('skip', 'cat', 'sum', 'energy', 'mmaf', 'skip_dep',
                   'skip_rgb')
#: fusion ops that ignore the guidance feature
GUIDE_FREE_FUSION_OPS = ('skip', 'skip_rgb')


@MODELS.register_module()
class FusionSkip(nn.Module):
    """``skip``: contributes nothing (returns ``None``)."""

    def forward(self, d: torch.Tensor, g: Optional[torch.Tensor] = None):
        return None


@MODELS.register_module()
class SelectTarget(nn.Module):
    """``skip_rgb``: returns the target feature ``d``."""

    def forward(self, d: torch.Tensor, g: Optional[torch.Tensor] = None):
        return d


@MODELS.register_module()
class SelectGuide(nn.Module):
    """``skip_dep``: returns the guidance feature ``g``."""

    def forward(self, d: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
        return g


@MODELS.register_module()
class CatFusion(nn.Module):
    """``cat``: ``conv1x1([d, g])``, ``2C -> C``, no bias, no activation."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(2 * channels, channels, 1, bias=False)

    def forward(self, d: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
        return self.conv(torch.cat((d, g), dim=1))


@MODELS.register_module()
class MeanFusion(nn.Module):
    """``sum``: ``(d + g) / 2``."""

    def forward(self, d: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
        return (d + g) / 2


@MODELS.register_module()
class EnergyFusion(nn.Module):
    """``energy``: ``d`` where its local energy exceeds ``g``'s, else ``g``
    (FCFR-Net; ``window`` odd, default 5).
    """

    def __init__(self, window: int = 5) -> None:
        super().__init__()
        self.window = window

    def _energy(self, x: torch.Tensor) -> torch.Tensor:
        k, c = self.window, x.shape[1]
        ones = x.new_ones(c, 1, k, k)
        return F.conv2d(x * x, ones, padding=k // 2, groups=c)

    def forward(self, d: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
        return torch.where(self._energy(d) > self._energy(g), d, g)


class GateConv(nn.Module):
    """``sigmoid(conv3(x)) * PReLU(conv3(x))``, both convs with bias."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.att = nn.Conv2d(channels, channels, 3, padding=1)
        self.feat = nn.Conv2d(channels, channels, 3, padding=1)
        self.act = nn.PReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.att(x)) * self.act(self.feat(x))


@MODELS.register_module()
class MMAFusion(nn.Module):
    """``mmaf``: AHMF multi-modal attention fusion of the gated ``d`` and
    ``g``.

    Args:
        channels (int): ``C``.
        reduction (int): squeeze reduction. Defaults to 4.
    """

    def __init__(self, channels: int, reduction: int = 4) -> None:
        super().__init__()
        mid = 2 * channels // reduction
        self.gate_g = GateConv(channels)
        self.gate_d = GateConv(channels)
        self.squeeze = ConvAct(2 * channels, mid, 3, 'PReLU', bias=True)
        self.excite_d = nn.Conv2d(mid, channels, 1)
        self.excite_g = nn.Conv2d(mid, channels, 1)

    def forward(self, d: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
        g = self.gate_g(g)
        d = self.gate_d(d)
        z = self.squeeze(torch.cat((d, g), dim=1))
        mean = z.mean(dim=(2, 3), keepdim=True)
        v = mean + (z - mean).pow(2).mean(dim=(2, 3), keepdim=True)
        return (torch.sigmoid(self.excite_d(v)) * d / 2 +
                torch.sigmoid(self.excite_g(v)) * g / 2)


def build_fusion_op(name: str, channels: int) -> nn.Module:
    """The fusion op ``name`` of :data:`FUSION_OP_NAMES` at ``channels``."""
    table = dict(
        skip=FusionSkip,
        cat=lambda: CatFusion(channels),
        sum=MeanFusion,
        energy=EnergyFusion,
        mmaf=lambda: MMAFusion(channels),
        skip_dep=SelectGuide,
        skip_rgb=SelectTarget)
    if name not in table:
        raise ValueError(f'unknown fusion op {name!r}; valid: '
                         f'{list(FUSION_OP_NAMES)}')
    return table[name]()
