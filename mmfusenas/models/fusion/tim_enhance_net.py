"""TIM enhancement network N_T (stage 2)."""
from typing import Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn

from mmfusenas.models.ops import SpatialMask
from mmfusenas.registry import MODELS
from .tim_fusion_net import build_tim_head, build_tim_stem, check_input_order


@MODELS.register_module()
class TIMEnhanceNet(nn.Module):
    """TIM second stage N_T: one branch per source, merged into the final
    image.

    Official ``Network_Fusion9_3`` (``merge='mask'``) and ``Network_Fusion9_2``
    (``merge='concat'``); ``a``, ``b`` the sources, ``f`` the stage-1 image::

        Fa = first_cells(first_stem([a, f]))
        Fb = second_cells(second_stem([b, f]))
        out_a = tanh(first_head(Fa)); out_b = tanh(second_head(Fb))
        'mask':   m = sigmoid(conv1x1([max_c, max_c, mean_c](Fa)))
                  final = final_head(m * Fa + (1 - m) * Fb)
        'concat': final = tanh(final_head([Fa, Fb]))

    Args:
        first_cells (Sequence[dict]): cell configs of the first branch.
        second_cells (Sequence[dict]): cell configs of the second branch.
        channels (int): width ``C`` (even). Defaults to 48.
        merge (str): ``'mask'`` or ``'concat'``. Defaults to 'mask'.
        input_order (Sequence[int], optional): permutation of the two sources;
            None keeps the order.
    """

    merges = ('mask', 'concat')

    def __init__(self,
                 first_cells: Sequence[dict],
                 second_cells: Sequence[dict],
                 channels: int = 48,
                 merge: str = 'mask',
                 input_order: Optional[Sequence[int]] = None) -> None:
        super().__init__()
        if merge not in self.merges:
            raise ValueError(f"merge must be one of {self.merges}, got "
                             f"'{merge}'")
        if channels < 2 or channels % 2:
            raise ValueError(f'channels must be an even number >= 2, got '
                             f'{channels}')
        branches = dict(first_cells=first_cells, second_cells=second_cells)
        for key, cells in branches.items():
            if isinstance(cells, dict) or not len(cells):
                raise ValueError(f'{key} must be a non-empty sequence of '
                                 f'cell configs, got {cells!r}')
        self.merge = merge
        self.input_order = check_input_order(input_order, 2)

        def build_cells(cfgs: Sequence[dict]) -> nn.ModuleList:
            return nn.ModuleList(
                MODELS.build(cfg, default_args=dict(channels=channels))
                for cfg in cfgs)

        self.first_stem = build_tim_stem(2, channels, with_bn=True)
        self.second_stem = build_tim_stem(2, channels, with_bn=True)
        self.first_cells = build_cells(first_cells)
        self.second_cells = build_cells(second_cells)
        self.first_head = build_tim_head(channels, channels)
        self.second_head = build_tim_head(channels, channels)
        if merge == 'mask':
            self.mask = SpatialMask(1, pools=('max', 'max', 'mean'))
            self.final_head = build_tim_head(
                channels, channels, with_act=False)
        else:
            self.final_head = build_tim_head(
                channels * 2, channels, with_act=False)

    def forward(
        self,
        inputs: torch.Tensor,
        fused: torch.Tensor,
        return_branches: bool = False
    ) -> Union[torch.Tensor, Tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
        """The final ``(N, 1, H, W)`` image, or ``(final, out_a, out_b)``."""
        if self.input_order is not None:
            # the indexing would drop extra channels silently
            if inputs.shape[1] != 2:
                raise ValueError(f'TIMEnhanceNet expects (N, 2, H, W) '
                                 f'inputs, got {tuple(inputs.shape)}')
            inputs = inputs[:, list(self.input_order)]
        feat_a = self.first_stem(torch.cat((inputs[:, :1], fused), 1))
        feat_b = self.second_stem(torch.cat((inputs[:, 1:], fused), 1))
        for cell in self.second_cells:
            feat_b = cell(feat_b)
        for cell in self.first_cells:
            feat_a = cell(feat_a)
        if self.merge == 'mask':
            mask = self.mask(feat_a)
            final = self.final_head(mask * feat_a + (1 - mask) * feat_b)
        else:
            final = torch.tanh(self.final_head(torch.cat((feat_a, feat_b), 1)))
        if not return_branches:
            return final
        return (final, torch.tanh(self.first_head(feat_a)),
                torch.tanh(self.second_head(feat_b)))
