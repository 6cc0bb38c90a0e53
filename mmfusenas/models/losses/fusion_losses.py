"""Unsupervised fusion losses: ``forward(fused (N, 1, H, W), sources (N, M,
H, W)) -> scalar * loss_weight``; ``output`` names the network output read.
"""
from typing import Optional

import torch
import torch.nn as nn
import torch.nn.functional as F

from mmfusenas.registry import MODELS

_SOBEL_X = torch.tensor([[-1., 0., 1.], [-2., 0., 2.], [-1., 0., 1.]])


BORDERS = ('replicate', 'zeros')


def sobel_magnitude(x: torch.Tensor,
                    border: str = 'replicate') -> torch.Tensor:
    """``|G_x| + |G_y|`` of the 3x3 Sobel operator per channel; ``border``
    ``'replicate'`` or ``'zeros'`` (SeAFusion's official padding)."""
    if border not in BORDERS:
        raise ValueError(f'border must be one of {BORDERS}, got {border!r}')
    channels = x.shape[1]
    kernel_x = _SOBEL_X.to(x)
    weight = torch.stack([kernel_x, kernel_x.t()]).unsqueeze(1)
    weight = weight.repeat(channels, 1, 1, 1)  # (2C, 1, 3, 3)
    padded = F.pad(x, (1, 1, 1, 1), mode='replicate') if border == \
        'replicate' else F.pad(x, (1, 1, 1, 1))
    grads = F.conv2d(padded, weight, groups=channels)
    gx, gy = grads[:, 0::2], grads[:, 1::2]
    return gx.abs() + gy.abs()


class _NamedLoss(nn.Module):
    """``loss_name`` / ``loss_weight`` plumbing of the loss modules."""

    default_name = 'loss'

    def __init__(self, loss_weight: float = 1.0,
                 loss_name: Optional[str] = None) -> None:
        super().__init__()
        self.loss_weight = float(loss_weight)
        self._loss_name = loss_name or self.default_name

    @property
    def loss_name(self) -> str:
        """Key of the loss in the model's loss dict."""
        return self._loss_name

    def extra_repr(self) -> str:
        return f'loss_name={self._loss_name!r}, loss_weight={self.loss_weight}'


class _FusionLoss(_NamedLoss):
    """Base of the fusion losses.

    Args:
        loss_weight (float): multiplier of the loss. Defaults to 1.0.
        loss_name (str): log key. Defaults to ''.
        output (str): ``'fused'`` or a name the network declares in
            ``output_names``. Defaults to 'fused'.
    """
    default_name = ''

    def __init__(self,
                 loss_weight: float = 1.0,
                 loss_name: str = '',
                 output: str = 'fused') -> None:
        super().__init__(loss_weight, loss_name)
        if not isinstance(output, str) or not output:
            raise ValueError(f'{type(self).__name__}: output must be a '
                             f'non-empty output name, got {output!r}')
        self.output = output

    @staticmethod
    def _check(fused: torch.Tensor, sources: torch.Tensor) -> None:
        if fused.dim() != 4 or fused.shape[1] != 1:
            raise ValueError(f'fused must be (N, 1, H, W), got '
                             f'{tuple(fused.shape)}')
        if sources.shape[0] != fused.shape[0] or \
                sources.shape[-2:] != fused.shape[-2:]:
            raise ValueError(f'sources {tuple(sources.shape)} do not match '
                             f'fused {tuple(fused.shape)}')


@MODELS.register_module()
class MaxIntensityLoss(_FusionLoss):
    """``w * mean |F - max_m S_m|`` (SeAFusion-style intensity term)."""

    def __init__(self,
                 loss_weight: float = 1.0,
                 loss_name: str = 'loss_int',
                 output: str = 'fused') -> None:
        super().__init__(loss_weight, loss_name, output)

    def forward(self, fused: torch.Tensor,
                sources: torch.Tensor) -> torch.Tensor:
        self._check(fused, sources)
        target = sources.amax(dim=1, keepdim=True)
        return self.loss_weight * F.l1_loss(fused, target)


@MODELS.register_module()
class MaxGradientLoss(_FusionLoss):
    """``w * mean |grad F - max_m grad S_m|`` with Sobel magnitudes
    (:func:`sobel_magnitude`; ``border='zeros'`` pads as SeAFusion's
    official ``Sobelxy``)."""

    def __init__(self,
                 loss_weight: float = 1.0,
                 loss_name: str = 'loss_grad',
                 output: str = 'fused',
                 border: str = 'replicate') -> None:
        super().__init__(loss_weight, loss_name, output)
        if border not in BORDERS:
            raise ValueError(f'MaxGradientLoss: border must be one of '
                             f'{BORDERS}, got {border!r}')
        self.border = border

    def forward(self, fused: torch.Tensor,
                sources: torch.Tensor) -> torch.Tensor:
        self._check(fused, sources)
        target = sobel_magnitude(sources, self.border).amax(dim=1,
                                                            keepdim=True)
        return self.loss_weight * F.l1_loss(
            sobel_magnitude(fused, self.border), target)
