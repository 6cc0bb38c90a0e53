"""Dense displacement fields and the spatial transformer that applies them.

A field ``flow`` is ``(N, 2, H, W)`` in pixels (channel 0: x, 1: y);
warping is backward, ``warped(p) = moving(p + flow(p))`` (bilinear,
``align_corners=True``), and a registration network predicts the field with
``warped ~ fixed``.
"""
from typing import Optional

import torch
import torch.nn as nn
import torch.nn.functional as F

from mmfusenas.registry import MODELS

PADDING_MODES = ('zeros', 'border', 'reflection')


def check_flow(flow: torch.Tensor, like: torch.Tensor, owner: str) -> None:
    """Raise unless ``flow`` is ``(N, 2, H, W)`` with ``like``'s N, H, W."""
    if flow.dim() != 4 or flow.shape[1] != 2 or \
            flow.shape[0] != like.shape[0] or \
            flow.shape[-2:] != like.shape[-2:]:
        raise ValueError(
            f'{owner}: a displacement field must be (N, 2, H, W) matching the '
            f'image {tuple(like.shape)}, got {tuple(flow.shape)}')


def check_pair(fixed: torch.Tensor, moving: torch.Tensor,
               owner: str) -> None:
    """Raise unless ``fixed`` and ``moving`` are ``(N, C, H, W)`` of one N,
    H, W (channels may differ)."""
    if fixed.dim() != 4 or moving.dim() != 4 or \
            fixed.shape[0] != moving.shape[0] or \
            fixed.shape[-2:] != moving.shape[-2:]:
        raise ValueError(
            f'{owner}: fixed and moving must be (N, C, H, W) of the same N, '
            f'H, W, got {tuple(fixed.shape)} and {tuple(moving.shape)}')


def check_flow_bound(bound: Optional[float],
                     owner: str,
                     name: str = 'max_displacement') -> Optional[float]:
    """Return ``bound`` if it is None or > 0, else raise ``ValueError``."""
    if bound is not None and not bound > 0:
        raise ValueError(f'{owner}: {name} must be > 0 or None, got {bound}')
    return bound


def bound_flow(flow: torch.Tensor, bound: Optional[float]) -> torch.Tensor:
    """``bound * tanh(flow / bound)``; ``flow`` itself when ``bound`` is
    None."""
    if bound is None:
        return flow
    return bound * torch.tanh(flow / bound)


def pixel_grid(height: int, width: int, like: torch.Tensor) -> torch.Tensor:
    """``(1, 2, H, W)`` pixel coordinates (x, y) of every pixel centre."""
    ys = torch.arange(height, dtype=like.dtype, device=like.device)
    xs = torch.arange(width, dtype=like.dtype, device=like.device)
    yy, xx = torch.meshgrid(ys, xs, indexing='ij')
    return torch.stack([xx, yy])[None]


def flow_to_grid(flow: torch.Tensor) -> torch.Tensor:
    """A pixel displacement field -> ``grid_sample``'s ``(N, H, W, 2)`` grid
    (``align_corners=True`` normalisation)."""
    height, width = flow.shape[-2:]
    coords = pixel_grid(height, width, flow) + flow
    scale = flow.new_tensor([2.0 / max(width - 1, 1),
                             2.0 / max(height - 1, 1)]).view(1, 2, 1, 1)
    return (coords * scale - 1.0).permute(0, 2, 3, 1)


def warp_image(image: torch.Tensor,
               flow: torch.Tensor,
               mode: str = 'bilinear',
               padding_mode: str = 'border') -> torch.Tensor:
    """``warped(p) = image(p + flow(p))``, differentiable in both.

    Args:
        image (Tensor): ``(N, C, H, W)``.
        flow (Tensor): ``(N, 2, H, W)`` displacement in pixels.
        mode (str): ``'bilinear'`` or ``'nearest'``. Defaults to 'bilinear'.
        padding_mode (str): ``'border'``, ``'zeros'`` or ``'reflection'``.
            Defaults to 'border'.
    """
    check_flow(flow, image, 'warp_image')
    return F.grid_sample(
        image,
        flow_to_grid(flow).to(image.dtype),
        mode=mode,
        padding_mode=padding_mode,
        align_corners=True)


def compose_flows(first: torch.Tensor, second: torch.Tensor) -> torch.Tensor:
    """The field of warping by ``first`` then ``second``:
    ``second(p) + first(p + second(p))``.
    """
    return second + warp_image(first, second)


def integrate_velocity(velocity: torch.Tensor, steps: int) -> torch.Tensor:
    """Scaling and squaring (VoxelMorph): the displacement ``exp(v)``;
    ``steps = 0`` returns ``v``.
    """
    if steps < 0:
        raise ValueError(f'integration steps must be >= 0, got {steps}')
    flow = velocity / (2**steps)
    for _ in range(steps):
        flow = flow + warp_image(flow, flow)
    return flow


@MODELS.register_module()
class SpatialTransformer(nn.Module):
    """``forward(image, flow) = warp_image(image, flow)`` (Jaderberg et al.
    2015).

    Args:
        mode (str): ``'bilinear'`` or ``'nearest'``. Defaults to 'bilinear'.
        padding_mode (str): ``'zeros'``, ``'border'`` or ``'reflection'``.
            Defaults to 'border'.
    """

    def __init__(self,
                 mode: str = 'bilinear',
                 padding_mode: str = 'border') -> None:
        super().__init__()
        if mode not in ('bilinear', 'nearest'):
            raise ValueError(f"SpatialTransformer: mode must be 'bilinear' "
                             f"or 'nearest', got {mode!r}")
        if padding_mode not in PADDING_MODES:
            raise ValueError(f'SpatialTransformer: padding_mode must be one '
                             f'of {PADDING_MODES}, got {padding_mode!r}')
        self.mode = mode
        self.padding_mode = padding_mode

    def forward(self, image: torch.Tensor,
                flow: torch.Tensor) -> torch.Tensor:
        return warp_image(image, flow, self.mode, self.padding_mode)

    def extra_repr(self) -> str:
        return f'mode={self.mode!r}, padding_mode={self.padding_mode!r}'

