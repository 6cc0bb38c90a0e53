"""HQS data steps for deraining and dehazing (our design, not in the paper's
code: the official code covers deblurring only).

Both solve ``min_x ‖D(x) − y‖² + ρ‖x − x_t‖²`` in closed form, per pixel,
for a degradation ``D`` that is linear in ``x`` once the guidance is known:
:class:`AdditiveDataStep` for the additive rain-layer model ``y = x + r``
(``x̃ = (y + ρ·x_t) / (1 + ρ)``; the proxy predicts a rain-density map) and
:class:`HazeDataStep` for atmospheric scattering ``y = t·x + A·(1 − t)``,
with ``[t, A]`` predicted by the proxy from the hazy input
(``x̃ = (t·(y − A(1 − t)) + ρ·x_t) / (t² + ρ)``).
"""
from typing import Optional

import torch
import torch.nn as nn
from torch import Tensor

from mmfusenas.registry import MODELS

__all__ = ['AdditiveDataStep', 'HazeDataStep']


class _RhoStep(nn.Module):

    def __init__(self, rho: float) -> None:
        super().__init__()
        if not rho > 0:
            raise ValueError(f'{type(self).__name__}: rho must be > 0, got '
                             f'{rho}')
        self.register_buffer('rho', torch.tensor(float(rho)))

    def extra_repr(self) -> str:
        return f'rho={float(self.rho):.6g}'


@MODELS.register_module()
class AdditiveDataStep(_RhoStep):
    """``x̃ = argmin ‖x − y‖² + ρ‖x − x_t‖² = (y + ρ x_t) / (1 + ρ)``.

    Args:
        rho (float): ``ρ_t > 0``.
    """

    def forward(self, y: Tensor, x: Optional[Tensor] = None,
                guidance: Optional[Tensor] = None) -> Tensor:
        x = y if x is None else x
        return (y + self.rho * x) / (1 + self.rho)


@MODELS.register_module()
class HazeDataStep(_RhoStep):
    """Closed-form data step of the atmospheric scattering model.

    ``guidance``: ``(N, 1 + A_c, H, W)``, channel 0 the transmission ``t``
    (clamped to ``[t_min, 1]``), the others the airlight ``A`` (1 channel,
    broadcast, or one per image channel).

    Args:
        rho (float): ``ρ_t > 0``.
        t_min (float): lower clamp of ``t``. Defaults to 0.05.
    """

    def __init__(self, rho: float, t_min: float = 0.05) -> None:
        super().__init__(rho)
        self.t_min = t_min

    def forward(self, y: Tensor, x: Optional[Tensor] = None,
                guidance: Optional[Tensor] = None) -> Tensor:
        if guidance is None or guidance.shape[1] < 2:
            raise ValueError('HazeDataStep needs guidance = [t, A] with >= 2 '
                             'channels (UnrolledHQSNet proxy_input="y")')
        x = y if x is None else x
        t = guidance[:, :1].clamp(self.t_min, 1.0)
        a = guidance[:, 1:]
        return (t * (y - a * (1 - t)) + self.rho * x) / (t * t + self.rho)
