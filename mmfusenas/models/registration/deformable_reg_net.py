"""A VoxelMorph-style U-Net registration network (the ``N_R`` of TIM Sec.
5.1.2): (fixed, moving) -> displacement field.
"""
from typing import Optional

import torch
import torch.nn as nn
import torch.nn.functional as F

from mmfusenas.models.ops import conv_lrelu
from mmfusenas.models.utils.colorspace import luminance
from mmfusenas.registry import MODELS
from .spatial_transformer import (bound_flow, check_flow_bound,
                                  check_pair, integrate_velocity)


@MODELS.register_module()
class DeformableRegNet(nn.Module):
    """U-Net displacement predictor, ``forward(fixed, moving) -> flow (N, 2, H,
    W)``.

    Colour inputs are reduced to BT.601 luminance; the flow head starts at
    zero (identity warp). ``integration_steps > 0`` integrates a velocity
    field by scaling and squaring.

    Args:
        in_channels (int): channels of ``cat(fixed_y, moving_y)``. Defaults
            to 2.
        channels (int): width of the first level. Defaults to 16.
        num_levels (int): number of stride-2 levels. Defaults to 3.
        integration_steps (int): scaling-and-squaring steps. Defaults to 0.
        max_displacement (float, optional): bound in pixels. Defaults to None.
    """

    def __init__(self,
                 in_channels: int = 2,
                 channels: int = 16,
                 num_levels: int = 3,
                 integration_steps: int = 0,
                 max_displacement: Optional[float] = None) -> None:
        super().__init__()
        self.integration_steps = integration_steps
        self.max_displacement = check_flow_bound(
            max_displacement, 'DeformableRegNet')
        widths = [
            channels * 2**min(level, 2) for level in range(num_levels + 1)
        ]
        self.stem = conv_lrelu(in_channels, widths[0])
        self.down = nn.ModuleList(
            conv_lrelu(widths[i], widths[i + 1], stride=2)
            for i in range(num_levels))
        self.up = nn.ModuleList(
            conv_lrelu(widths[i + 1] + widths[i], widths[i])
            for i in reversed(range(num_levels)))
        self.refine = conv_lrelu(widths[0], widths[0])
        self.flow_head = nn.Conv2d(widths[0], 2, 3, padding=1)
        nn.init.zeros_(self.flow_head.weight)
        nn.init.zeros_(self.flow_head.bias)

    def forward(self, fixed: torch.Tensor,
                moving: torch.Tensor) -> torch.Tensor:
        check_pair(fixed, moving, 'DeformableRegNet')
        x = torch.cat([luminance(fixed), luminance(moving)], 1)
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
