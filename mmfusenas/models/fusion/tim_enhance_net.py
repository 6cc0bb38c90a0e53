"""TIM enhancement network N_T (stage 2): two branches merged into the
final image."""
from typing import Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn

from mmfusenas.models.ops import SpatialMask
from mmfusenas.registry import MODELS
from .tim_fusion_net import build_tim_head, build_tim_stem, check_input_order


@MODELS.register_module()
class TIMEnhanceNet(nn.Module):
    """TIM second stage :math:`\\mathcal{N}_T`: one branch per source.

    Official names: ``Network_Fusion9_3`` (``merge='mask'``, IVIF) and
    ``Network_Fusion9_2`` (``merge='concat'``, medical). With ``a`` and
    ``b`` the two sources (after ``input_order``) and ``f`` the stage-1
    image::

        Fa = first_cells(first_stem([a, f]))      # official stem2 / cells3
        Fb = second_cells(second_stem([b, f]))    # official stem3 / cells2
        out_a = tanh(first_head(Fa)); out_b = tanh(second_head(Fb))
        'mask':   m = sigmoid(conv1x1([max_c, max_c, mean_c](Fa)))
                  final = final_head(m * Fa + (1 - m) * Fb)     (no tanh)
        'concat': final = tanh(final_head([Fa, Fb]))

    Stems are :func:`build_tim_stem` with BN, branch heads
    :func:`build_tim_head` with PReLU, ``final_head`` has no PReLU and takes
    ``C`` ('mask') or ``2C`` ('concat') channels. In the official scripts
    each branch has two successive cells of one genotype (separate
    weights); the official genotype list is ``[g0, g1]`` with ``g0`` on the
    **second** argument's branch (``cells2``) and ``g1`` on the first's
    (``cells3``) — ``second_cells`` / ``first_cells`` here. The paper's
    "spatial attention and three 3x3 convolutions" is, in the code, the
    1x1-conv mask above and convs 3x3, 3x3, 1x1 (we follow the code).

    Args:
        first_cells (Sequence[dict]): cell configs of the first source's
            branch, built with ``default_args=dict(channels=channels)``.
        second_cells (Sequence[dict]): cell configs of the second source's
            branch.
        channels (int): width ``C`` (even). Defaults to 48.
        merge (str): ``'mask'`` or ``'concat'`` (see above). Defaults to
            ``'mask'``.
        input_order (Sequence[int], optional): permutation of the two
            stacked sources before the branches (the official IVIF script
            calls stage 2 as ``model(vis, ir, f)``); None keeps the stacked
            order. Defaults to None.
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
        """Enhance the stage-1 image with both sources.

        Args:
            inputs (Tensor): ``(N, 2, H, W)`` stacked sources.
            fused (Tensor): ``(N, 1, H, W)`` stage-1 fused image.
            return_branches (bool): also return the two branch images.
                Defaults to False.

        Returns:
            Tensor | tuple[Tensor, Tensor, Tensor]: the final ``(N, 1, H,
            W)`` image, or ``(final, out_a, out_b)`` with the ``tanh``
            branch images of the first and second source.
        """
        if inputs.dim() != 4 or inputs.shape[1] != 2:
            raise ValueError(f'TIMEnhanceNet expects (N, 2, H, W) inputs, '
                             f'got {tuple(inputs.shape)}')
        if fused.shape != (inputs.shape[0], 1) + inputs.shape[2:]:
            raise ValueError(
                f'fused must be {(inputs.shape[0], 1) + inputs.shape[2:]} '
                f'for inputs {tuple(inputs.shape)}, got {tuple(fused.shape)}')
        if self.input_order is not None:
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
