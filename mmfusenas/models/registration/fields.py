"""The named fields of one registration forward pass, read by the
registration losses.
"""
from typing import Dict, Optional, Sequence

import torch
import torch.nn as nn

from mmfusenas.models.utils.colorspace import luminance
from .spatial_transformer import check_flow, warp_image

#: fields a registration loss may read through its ``inputs``
REGISTRATION_FIELDS = ('fixed', 'moving', 'warped', 'flow', 'gt_flow')

Fields = Dict[str, Optional[torch.Tensor]]


def check_registration_losses(losses: Sequence[nn.Module],
                              allowed: Sequence[str] = REGISTRATION_FIELDS,
                              owner: str = 'registration') -> None:
    """Raise unless every loss declares ``inputs`` within ``allowed``."""
    for loss in losses:
        keys = getattr(loss, 'inputs', None)
        if keys is None:
            raise ValueError(
                f'{owner}: {type(loss).__name__} ({loss.loss_name}) declares '
                'no `inputs`; a registration loss names the fields it reads '
                f'among {tuple(REGISTRATION_FIELDS)}')
        bad = sorted(set(keys) - set(allowed))
        if bad:
            raise ValueError(f'{owner}: {loss.loss_name} reads {bad}, which '
                             f'this model does not provide (it provides '
                             f'{tuple(allowed)})')


def register_pair(net: nn.Module,
                  fixed: torch.Tensor,
                  moving: torch.Tensor,
                  padding_mode: str = 'border') -> Fields:
    """Run ``net(fixed, moving) -> flow`` and warp ``moving`` with it.

    Returns:
        dict: ``flow``, ``moving_warped`` (all channels) and the loss fields
        ``fixed``, ``moving``, ``warped`` (luminance).
    """
    flow = net(fixed, moving)
    check_flow(flow, moving, type(net).__name__)
    warped = warp_image(moving, flow, padding_mode=padding_mode)
    return dict(
        flow=flow,
        moving_warped=warped,
        fixed=luminance(fixed),
        moving=luminance(moving),
        warped=luminance(warped))
