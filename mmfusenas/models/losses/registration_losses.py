"""Losses of deformable registration (fields as in
:mod:`mmfusenas.models.registration.spatial_transformer`).

Each loss declares the fields it reads in ``inputs`` (``fixed``,
``moving``, ``warped``, ``flow``, ``gt_flow``) and returns a scalar times
``loss_weight``.
"""
from typing import Optional

import torch
import torch.nn.functional as F

from mmfusenas.registry import MODELS
from .restoration_losses import _NamedLoss



def _check_images(a: torch.Tensor, b: torch.Tensor, owner: str) -> None:
    if a.dim() != 4 or a.shape != b.shape:
        raise ValueError(f'{owner}: expected two (N, C, H, W) images of one '
                         f'shape, got {tuple(a.shape)} and {tuple(b.shape)}')


@MODELS.register_module()
class FlowSmoothnessLoss(_NamedLoss):
    """Diffusion regulariser ``(mean(dx u)^2 + mean(dy u)^2) / 2`` of a
    displacement field (VoxelMorph ``Grad``, forward differences).

    Args:
        penalty (str): ``'l2'`` (the only penalty).
        loss_weight (float): Defaults to 1.0.
        loss_name (str, optional): Defaults to 'loss_smooth'.
    """
    default_name = 'loss_smooth'
    inputs = ('flow', )

    def __init__(self, penalty: str = 'l2', **kwargs) -> None:
        super().__init__(**kwargs)
        if penalty != 'l2':
            raise ValueError(f"FlowSmoothnessLoss: penalty must be 'l2', "
                             f'got {penalty!r}')

    def forward(self, flow: torch.Tensor) -> torch.Tensor:
        if flow.dim() != 4 or flow.shape[1] != 2:
            raise ValueError('FlowSmoothnessLoss: flow must be (N, 2, H, W), '
                             f'got {tuple(flow.shape)}')
        dx = flow[..., :, 1:] - flow[..., :, :-1]
        dy = flow[..., 1:, :] - flow[..., :-1, :]
        return self.loss_weight * (dx.pow(2).mean() + dy.pow(2).mean()) / 2


def image_gradients(x: torch.Tensor):
    """Central differences (replicate border): ``(gx, gy)`` of ``x``."""
    padded = F.pad(x, (1, 1, 1, 1), mode='replicate')
    gx = (padded[..., 1:-1, 2:] - padded[..., 1:-1, :-2]) / 2
    gy = (padded[..., 2:, 1:-1] - padded[..., :-2, 1:-1]) / 2
    return gx, gy


@MODELS.register_module()
class NGFLoss(_NamedLoss):
    """Normalised gradient field distance (Haber & Modersitzki 2006)::

        NGF = 1 - mean_p (ga.gb)^2 / ((|ga|^2 + eps^2)(|gb|^2 + eps^2))

    Args:
        eps (float): edge scale per pixel. Defaults to 0.01.
        loss_weight (float): Defaults to 1.0.
        loss_name (str, optional): Defaults to 'loss_ngf'.
    """
    default_name = 'loss_ngf'
    inputs = ('warped', 'fixed')

    def __init__(self, eps: float = 0.01, **kwargs) -> None:
        super().__init__(**kwargs)
        if not eps > 0:
            raise ValueError(f'NGFLoss: eps must be > 0, got {eps}')
        self.eps = float(eps)

    def forward(self, warped: torch.Tensor,
                fixed: torch.Tensor) -> torch.Tensor:
        _check_images(warped, fixed, 'NGFLoss')
        ax, ay = image_gradients(warped)
        bx, by = image_gradients(fixed)
        eps2 = self.eps**2
        dot = ax * bx + ay * by
        norm = (ax.pow(2) + ay.pow(2) + eps2) * (bx.pow(2) + by.pow(2) + eps2)
        return self.loss_weight * (1 - dot.pow(2) / norm).mean()


@MODELS.register_module()
class LocalNCCLoss(_NamedLoss):
    """``1 - mean_p cc(p)``, VoxelMorph's windowed squared NCC.

    Args:
        window (int): odd box size. Defaults to 9.
        eps (float): Defaults to 1e-5.
        loss_weight (float): Defaults to 1.0.
        loss_name (str, optional): Defaults to 'loss_ncc'.
    """
    default_name = 'loss_ncc'
    inputs = ('warped', 'fixed')

    def __init__(self, window: int = 9, eps: float = 1e-5, **kwargs) -> None:
        super().__init__(**kwargs)
        if window < 1 or window % 2 == 0:
            raise ValueError(f'LocalNCCLoss: window must be an odd number '
                             f'>= 1, got {window}')
        self.window = int(window)
        self.eps = float(eps)

    def forward(self, warped: torch.Tensor,
                fixed: torch.Tensor) -> torch.Tensor:
        _check_images(warped, fixed, 'LocalNCCLoss')
        channels = warped.shape[1]
        box = warped.new_ones(channels, 1, self.window, self.window)
        pad = self.window // 2

        def wsum(x):
            return F.conv2d(x, box, padding=pad, groups=channels)

        a, b = warped, fixed
        size = float(self.window**2)
        sa, sb = wsum(a), wsum(b)
        cross = wsum(a * b) - sa * sb / size
        var_a = wsum(a * a) - sa * sa / size
        var_b = wsum(b * b) - sb * sb / size
        cc = cross.pow(2) / (var_a * var_b + self.eps)
        return self.loss_weight * (1 - cc.mean())


@MODELS.register_module()
class FlowEPELoss(_NamedLoss):
    """End-point error ``mean_p sqrt(|u - u*|^2 + eps)`` to ``gt_flow``.

    Args:
        eps (float): keeps the gradient finite. Defaults to 1e-6.
        loss_weight (float): Defaults to 1.0.
        loss_name (str, optional): Defaults to 'loss_epe'.
    """
    default_name = 'loss_epe'
    inputs = ('flow', 'gt_flow')

    def __init__(self, eps: float = 1e-6, **kwargs) -> None:
        super().__init__(**kwargs)
        self.eps = float(eps)

    def forward(self, flow: torch.Tensor,
                gt_flow: Optional[torch.Tensor]) -> torch.Tensor:
        if flow.shape != gt_flow.shape or flow.dim() != 4 or \
                flow.shape[1] != 2:
            raise ValueError('FlowEPELoss: flow and gt_flow must be (N, 2, '
                             f'H, W) of one shape, got {tuple(flow.shape)} '
                             f'and {tuple(gt_flow.shape)}')
        epe = ((flow - gt_flow).pow(2).sum(1) + self.eps).sqrt()
        return self.loss_weight * epe.mean()
