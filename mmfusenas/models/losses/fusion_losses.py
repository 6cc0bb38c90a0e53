"""Unsupervised fusion losses computed from the sources alone.

Every loss takes ``fused`` ``(N, 1, H, W)`` and ``sources`` ``(N, M, H, W)``
(values in ``[0, 1]``) and returns a scalar already multiplied by
``loss_weight``. ``loss_name`` is the key under which the model logs it;
``output`` names the output of the fusion network the loss reads
(``'fused'``, the final image, by default; a branch such as TIM's
``'target'`` / ``'detail'``, see
:mod:`mmfusenas.models.fusion.fusion_outputs`).
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

from mmfusenas.registry import MODELS

_SOBEL_X = torch.tensor([[-1., 0., 1.], [-2., 0., 2.], [-1., 0., 1.]])


def sobel_magnitude(x: torch.Tensor) -> torch.Tensor:
    """``|G_x| + |G_y|`` of the 3x3 Sobel operator, per channel.

    Borders use replicate padding, so a constant image has zero gradient
    everywhere. Input and output are ``(N, C, H, W)``.
    """
    channels = x.shape[1]
    kernel_x = _SOBEL_X.to(x)
    weight = torch.stack([kernel_x, kernel_x.t()]).unsqueeze(1)
    weight = weight.repeat(channels, 1, 1, 1)  # (2C, 1, 3, 3)
    padded = F.pad(x, (1, 1, 1, 1), mode='replicate')
    grads = F.conv2d(padded, weight, groups=channels)
    gx, gy = grads[:, 0::2], grads[:, 1::2]
    return gx.abs() + gy.abs()


class _FusionLoss(nn.Module):
    """Base of the fusion losses.

    Args:
        loss_weight (float): multiplier of the loss. Defaults to 1.0.
        loss_name (str): log key. Defaults to ''.
        output (str): the output of the fusion network this loss reads:
            ``'fused'`` (the final image) or a name the network declares in
            ``output_names`` (e.g. ``'stage1'``, ``'target'``, ``'detail'``
            of ``TIMTwoStageFusionNet``). Defaults to 'fused'.
    """

    def __init__(self,
                 loss_weight: float = 1.0,
                 loss_name: str = '',
                 output: str = 'fused') -> None:
        super().__init__()
        if not isinstance(output, str) or not output:
            raise ValueError(f'{type(self).__name__}: output must be a '
                             f'non-empty output name, got {output!r}')
        self.loss_weight = loss_weight
        self._loss_name = loss_name
        self.output = output

    @property
    def loss_name(self) -> str:
        return self._loss_name

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
    """``w * mean |F - max_m S_m|``: keep the brightest source per pixel.

    The intensity term of SeAFusion-style unsupervised fusion: salient
    (hot) infrared targets and bright visible structures both survive.
    """

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
    """``w * mean |∇F - max_m ∇S_m|`` with ``∇ = |G_x| + |G_y|`` (Sobel).

    The texture term of SeAFusion-style fusion: the fused image keeps the
    strongest edge of either source at every pixel.
    """

    def __init__(self,
                 loss_weight: float = 1.0,
                 loss_name: str = 'loss_grad',
                 output: str = 'fused') -> None:
        super().__init__(loss_weight, loss_name, output)

    def forward(self, fused: torch.Tensor,
                sources: torch.Tensor) -> torch.Tensor:
        self._check(fused, sources)
        target = sobel_magnitude(sources).amax(dim=1, keepdim=True)
        return self.loss_weight * F.l1_loss(sobel_magnitude(fused), target)
