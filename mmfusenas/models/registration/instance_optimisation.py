"""Instance optimisation: refine a displacement field on one pair by
gradient descent on the registration losses (a residual on a coarse
control grid, coarse to fine).
"""
from typing import Optional, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F

from mmfusenas.models.enhancers.loss_fields import call_field_loss
from mmfusenas.models.utils.colorspace import luminance
from mmfusenas.registry import MODELS
from .fields import check_registration_losses
from .spatial_transformer import check_flow, warp_image

#: fields the losses of an instance optimisation may read
OPTIMISATION_FIELDS = ('fixed', 'moving', 'warped', 'flow')


def optimise_field(fixed: torch.Tensor,
                   moving: torch.Tensor,
                   losses: Sequence[nn.Module],
                   init_flow: Optional[torch.Tensor] = None,
                   grid_spacing: int = 16,
                   levels: Sequence[int] = (4, 2, 1),
                   iters: int = 60,
                   lr: float = 0.3,
                   padding_mode: str = 'border') -> torch.Tensor:
    """The field that registers ``moving`` onto ``fixed``, optimised
    (detached).

    Args:
        fixed (Tensor): ``(N, C, H, W)``.
        moving (Tensor): ``(N, C, H, W)``.
        losses (Sequence[nn.Module]): registration losses.
        init_flow (Tensor, optional): start field; zero when None.
        grid_spacing (int): control-point spacing in pixels. Defaults to 16.
        levels (Sequence[int]): pooling factors, coarse to fine. Defaults to
            (4, 2, 1).
        iters (int): Adam steps per level. Defaults to 60.
        lr (float): Adam step size. Defaults to 0.3.
        padding_mode (str): of the spatial transformer. Defaults to 'border'.
    """
    check_registration_losses(losses, OPTIMISATION_FIELDS, 'optimise_field')
    fixed, moving = luminance(fixed).detach(), luminance(moving).detach()
    n, _, h, w = moving.shape
    base = (torch.zeros(n, 2, h, w, dtype=moving.dtype, device=moving.device)
            if init_flow is None else init_flow.detach())
    check_flow(base, moving, 'optimise_field')
    ctrl = torch.zeros(
        n, 2, -(-h // grid_spacing) + 1, -(-w // grid_spacing) + 1,
        dtype=moving.dtype, device=moving.device, requires_grad=True)

    def field() -> torch.Tensor:
        return base + F.interpolate(
            ctrl, size=(h, w), mode='bicubic', align_corners=True)

    opt = torch.optim.Adam([ctrl], lr=lr)
    with torch.enable_grad():
        for factor in levels:
            factor = int(factor)

            def pool(x):
                return F.avg_pool2d(x, factor) if factor > 1 else x

            fixed_l, moving_l = pool(fixed), pool(moving)
            for _ in range(iters):
                flow = field()
                warped = pool(warp_image(moving, flow,
                                         padding_mode=padding_mode))
                fields = dict(fixed=fixed_l, moving=moving_l, warped=warped,
                              flow=flow)
                loss = sum(call_field_loss(fn, fields)
                           for fn in losses)
                opt.zero_grad()
                loss.backward()
                opt.step()
    return field().detach()


@MODELS.register_module()
class InstanceOptimisedRegNet(nn.Module):
    """A registration network whose prediction is refined per pair by
    :func:`optimise_field` in eval mode (no gradient into the network).

    Args:
        network (dict | nn.Module): ``net(fixed, moving) -> flow``.
        losses (Sequence[dict | nn.Module]): the refinement's losses.
        grid_spacing, levels, iters, lr, padding_mode: of
            :func:`optimise_field`.
    """

    def __init__(self,
                 network,
                 losses: Sequence = (),
                 grid_spacing: int = 16,
                 levels: Sequence[int] = (4, 2, 1),
                 iters: int = 60,
                 lr: float = 0.3,
                 padding_mode: str = 'border') -> None:
        super().__init__()
        self.network = (network if isinstance(network, nn.Module) else
                        MODELS.build(network))
        self.losses = nn.ModuleList(
            loss if isinstance(loss, nn.Module) else MODELS.build(loss)
            for loss in losses)
        if not len(self.losses):
            raise ValueError('InstanceOptimisedRegNet needs losses to refine '
                             'with')
        check_registration_losses(self.losses, OPTIMISATION_FIELDS,
                                  'InstanceOptimisedRegNet')
        self.cfg = dict(grid_spacing=grid_spacing, levels=tuple(levels),
                        iters=iters, lr=lr, padding_mode=padding_mode)

    def forward(self, fixed: torch.Tensor,
                moving: torch.Tensor) -> torch.Tensor:
        flow = self.network(fixed, moving)
        if self.training:
            return flow
        return optimise_field(fixed, moving, self.losses, flow, **self.cfg)
