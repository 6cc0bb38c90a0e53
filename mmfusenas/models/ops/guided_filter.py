"""Guided filter (He et al., TPAMI 2013) with clipped box windows, as
``guided_filter_pytorch.GuidedFilter`` (used by the TIM decomposition cell).
"""
import torch
import torch.nn as nn

from mmfusenas.registry import MODELS


def _box_sum_1d(x: torch.Tensor, radius: int, dim: int) -> torch.Tensor:
    size = x.shape[dim]
    csum = torch.cumsum(x, dim=dim)
    # csum with a leading zero: window [lo, hi] sums to S[hi + 1] - S[lo]
    csum = torch.cat((torch.zeros_like(csum.narrow(dim, 0, 1)), csum), dim)
    idx = torch.arange(size, device=x.device)
    upper = (idx + radius).clamp(max=size - 1) + 1
    lower = (idx - radius).clamp(min=0)
    return csum.index_select(dim, upper) - csum.index_select(dim, lower)


def box_sum(x: torch.Tensor, radius: int) -> torch.Tensor:
    """``(N, C, H, W)`` sums over ``(2r+1) x (2r+1)`` windows clipped to the
    image."""
    if x.dim() != 4:
        raise ValueError(f'box_sum expects (N, C, H, W), got '
                         f'{tuple(x.shape)}')
    if radius < 0:
        raise ValueError(f'radius must be >= 0, got {radius}')
    return _box_sum_1d(_box_sum_1d(x, radius, 2), radius, 3)


def guided_filter(guide: torch.Tensor, src: torch.Tensor, radius: int,
                  eps: float) -> torch.Tensor:
    """Guided filter ``GF_{r, eps}(I = guide, p = src)`` with clipped windows.

    Args:
        guide (Tensor): ``(N, 1 or C, H, W)`` guidance image.
        src (Tensor): ``(N, C, H, W)`` image to filter.
        radius (int): window radius.
        eps (float): regulariser ``eps > 0``.

    Returns:
        Tensor: ``(N, C, H, W)`` filtered ``src``.
    """
    if guide.dim() != 4 or src.dim() != 4:
        raise ValueError(f'guided_filter expects 4-D guide and src, got '
                         f'{tuple(guide.shape)} and {tuple(src.shape)}')
    if (guide.shape[0] != src.shape[0] or guide.shape[2:] != src.shape[2:]
            or guide.shape[1] not in (1, src.shape[1])):
        raise ValueError(
            f'guide {tuple(guide.shape)} must be (N, 1 or C, H, W) for src '
            f'{tuple(src.shape)}')
    height, width = src.shape[2:]
    count = box_sum(src.new_ones(1, 1, height, width), radius)
    mean_i = box_sum(guide, radius) / count
    mean_p = box_sum(src, radius) / count
    cov_ip = box_sum(guide * src, radius) / count - mean_i * mean_p
    var_i = box_sum(guide * guide, radius) / count - mean_i * mean_i
    a = cov_ip / (var_i + eps)
    b = mean_p - a * mean_i
    return box_sum(a, radius) / count * guide + box_sum(b, radius) / count


@MODELS.register_module()
class GuidedFilter(nn.Module):
    """Module form of :func:`guided_filter` (``radius``, ``eps=1e-8``)."""

    def __init__(self, radius: int, eps: float = 1e-8) -> None:
        super().__init__()
        self.radius = radius
        self.eps = eps

    def forward(self, guide: torch.Tensor, src: torch.Tensor) -> torch.Tensor:
        return guided_filter(guide, src, self.radius, self.eps)
