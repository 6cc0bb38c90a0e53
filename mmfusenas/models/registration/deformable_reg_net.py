"""A deformable registration network: (fixed, moving) -> displacement field.

A small U-Net in the style of VoxelMorph (Balakrishnan et al., CVPR 2018),
the registration part of MRRN-type misaligned-fusion methods (Wang et al.,
IJCAI 2022, the ``N_R`` that TIM puts in front of its fusion network,
Sec. 5.1.2). It reads the fixed and the moving image stacked as channels and
predicts a dense field in the convention of :mod:`.spatial_transformer`
(pixels, ``warped(p) = moving(p + flow(p))``).
"""
from typing import Optional

import torch
import torch.nn as nn
import torch.nn.functional as F

from mmfusenas.registry import MODELS
from mmfusenas.utils.colorspace import luminance
from .spatial_transformer import (bound_flow, check_flow_bound,
                                  check_pair, integrate_velocity)


def _conv(cin: int, cout: int, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, stride=stride, padding=1),
        nn.LeakyReLU(0.2, inplace=True))


@MODELS.register_module()
class DeformableRegNet(nn.Module):
    """U-Net displacement predictor.

    ``forward(fixed, moving) -> flow``: ``fixed`` ``(N, Cf, H, W)`` and
    ``moving`` ``(N, Cm, H, W)`` (any channels: colour images are reduced to
    their BT.601 luminance, so a 3-channel VIS image registers against a
    1-channel IR image), ``flow`` ``(N, 2, H, W)`` in pixels. ``H`` and
    ``W`` need not be multiples of ``2^num_levels``: the decoder resizes to
    the skip connections.

    Architecture: a stem conv, ``num_levels`` stride-2 encoder convs
    (channels ``channels · 2^min(l, 2)``), a decoder that upsamples
    (bilinear), concatenates the skip and convolves back up to full
    resolution, and a 3x3 flow head initialised to zero (the network starts
    as the identity warp). With ``integration_steps > 0`` the head predicts
    a stationary velocity field integrated by scaling and squaring (a
    diffeomorphic warp, VoxelMorph-diff); ``max_displacement`` bounds the
    output by ``max · tanh(flow / max)``.

    Args:
        in_channels (int): channels of ``cat(fixed_y, moving_y)``. Defaults
            to 2.
        channels (int): width of the first level. Defaults to 16.
        num_levels (int): number of stride-2 levels. Defaults to 3.
        integration_steps (int): scaling-and-squaring steps (0: a plain
            displacement field). Defaults to 0.
        max_displacement (float, optional): bound in pixels. Defaults to
            None (unbounded).
    """

    def __init__(self,
                 in_channels: int = 2,
                 channels: int = 16,
                 num_levels: int = 3,
                 integration_steps: int = 0,
                 max_displacement: Optional[float] = None) -> None:
        super().__init__()
        if num_levels < 1 or channels < 1 or in_channels < 2:
            raise ValueError(
                'DeformableRegNet: in_channels >= 2, channels >= 1 and '
                f'num_levels >= 1, got {in_channels}, {channels}, '
                f'{num_levels}')
        if integration_steps < 0:
            raise ValueError('DeformableRegNet: integration_steps must be '
                             f'>= 0, got {integration_steps}')
        self.in_channels = in_channels
        self.integration_steps = integration_steps
        self.max_displacement = check_flow_bound(
            max_displacement, 'DeformableRegNet')
        widths = [
            channels * 2**min(level, 2) for level in range(num_levels + 1)
        ]
        self.stem = _conv(in_channels, widths[0])
        self.down = nn.ModuleList(
            _conv(widths[i], widths[i + 1], stride=2)
            for i in range(num_levels))
        self.up = nn.ModuleList(
            _conv(widths[i + 1] + widths[i], widths[i])
            for i in reversed(range(num_levels)))
        self.refine = _conv(widths[0], widths[0])
        self.flow_head = nn.Conv2d(widths[0], 2, 3, padding=1)
        nn.init.zeros_(self.flow_head.weight)
        nn.init.zeros_(self.flow_head.bias)

    def forward(self, fixed: torch.Tensor,
                moving: torch.Tensor) -> torch.Tensor:
        check_pair(fixed, moving, 'DeformableRegNet')
        x = torch.cat([luminance(fixed), luminance(moving)], 1)
        if x.shape[1] != self.in_channels:
            raise ValueError(f'DeformableRegNet: expected {self.in_channels} '
                             f'input channels, got {x.shape[1]}')
        skips = [self.stem(x)]
        for down in self.down:
            skips.append(down(skips[-1]))
        y = skips.pop()
        for up in self.up:
            skip = skips.pop()
            y = F.interpolate(
                y, size=skip.shape[-2:], mode='bilinear', align_corners=False)
            y = up(torch.cat([y, skip], 1))
        flow = self.flow_head(self.refine(y))
        if self.integration_steps:
            flow = integrate_velocity(flow, self.integration_steps)
        return bound_flow(flow, self.max_displacement)
