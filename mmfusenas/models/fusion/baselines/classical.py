"""Hand-crafted fusion rules (no weights): ``(N, M, H, W)`` sources in
``[0, 1]`` -> ``(N, 1, H, W)``.
"""
from typing import List

import torch
import torch.nn as nn
import torch.nn.functional as F

from mmfusenas.registry import MODELS


def _check(inputs: torch.Tensor, name: str) -> None:
    if inputs.dim() != 4 or inputs.shape[1] < 1:
        raise ValueError(f'{name} expects (N, M, H, W) sources, got '
                         f'{tuple(inputs.shape)}')


def choose_max_abs(x: torch.Tensor, center: float = 0.0) -> torch.Tensor:
    """Along dim 1, the entry of largest ``|x - center|`` (first on ties),
    keeping dim 1 (size 1)."""
    idx = (x - center).abs().argmax(dim=1, keepdim=True)
    return x.gather(1, idx)


@MODELS.register_module()
class MeanRuleFusion(nn.Module):
    """Pixelwise mean of the sources."""

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        _check(inputs, 'MeanRuleFusion')
        return inputs.mean(dim=1, keepdim=True)


@MODELS.register_module()
class MaxAbsRuleFusion(nn.Module):
    """Choose-max: per pixel the source of largest ``|x - center|``
    (``center=0``)."""

    def __init__(self, center: float = 0.0) -> None:
        super().__init__()
        self.center = center

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        _check(inputs, 'MaxAbsRuleFusion')
        return choose_max_abs(inputs, self.center)


@MODELS.register_module()
class LaplacianPyramidFusion(nn.Module):
    """Laplacian-pyramid fusion (Burt & Adelson 1983): max-abs details, mean
    base.

    5-tap binomial kernel, replicate borders; the coarsest level keeps at
    least 2 pixels per side.

    Args:
        num_levels (int): pyramid levels including the base. Defaults to 4.
    """

    def __init__(self, num_levels: int = 4) -> None:
        super().__init__()
        if num_levels < 1:
            raise ValueError('LaplacianPyramidFusion: num_levels must be >= '
                             f'1, got {num_levels}')
        self.num_levels = num_levels
        k = torch.tensor([1., 4., 6., 4., 1.]) / 16
        self.register_buffer('kernel', torch.outer(k, k)[None, None],
                             persistent=False)

    def _blur(self, x: torch.Tensor, gain: float = 1.0) -> torch.Tensor:
        n, c, h, w = x.shape
        x = F.pad(x.reshape(n * c, 1, h, w), (2, 2, 2, 2), mode='replicate')
        return F.conv2d(x, self.kernel.to(x) * gain).reshape(n, c, h, w)

    def _expand(self, x: torch.Tensor, shape) -> torch.Tensor:
        # replicate-pad the coarse level by 1, insert zeros, blur with 4x
        # the kernel and crop: a constant expands to the same constant
        n, c, h, w = x.shape
        x = F.pad(x, (1, 1, 1, 1), mode='replicate')
        up = x.new_zeros(n * c, 1, 2 * (h + 2), 2 * (w + 2))
        up[..., ::2, ::2] = x.reshape(n * c, 1, h + 2, w + 2)
        up = F.conv2d(up, self.kernel.to(up) * 4.0, padding=2)
        up = up.reshape(n, c, *up.shape[-2:])
        return up[..., 2:2 + shape[0], 2:2 + shape[1]]

    def pyramid(self, x: torch.Tensor) -> List[torch.Tensor]:
        """The Laplacian pyramid of ``x`` (finest first, base last)."""
        levels = []
        for _ in range(self.num_levels - 1):
            if min(x.shape[-2:]) < 4:
                break
            low = self._blur(x)[..., ::2, ::2]
            levels.append(x - self._expand(low, x.shape[-2:]))
            x = low
        levels.append(x)
        return levels

    def collapse(self, levels: List[torch.Tensor]) -> torch.Tensor:
        """Invert :meth:`pyramid`."""
        x = levels[-1]
        for detail in reversed(levels[:-1]):
            x = detail + self._expand(x, detail.shape[-2:])
        return x

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        _check(inputs, 'LaplacianPyramidFusion')
        levels = self.pyramid(inputs)
        fused = [choose_max_abs(d) for d in levels[:-1]]
        fused.append(levels[-1].mean(dim=1, keepdim=True))
        return self.collapse(fused)
