"""The complete two-stage TIM model as one fusion network."""
from typing import Dict, Union

import torch
import torch.nn as nn

from mmfusenas.registry import MODELS


@MODELS.register_module()
class TIMTwoStageFusionNet(nn.Module):
    """Stage 1 (:class:`TIMFusionNet`) then stage 2 (:class:`TIMEnhanceNet`).

    ``forward(inputs)`` maps the ``(N, 2, H, W)`` stacked sources to the
    final ``(N, 1, H, W)`` image, so the official model is one
    ``fusion_net`` of :class:`~mmfusenas.models.ImageFusor`::

        f = stage1(inputs); final = stage2(inputs, f)

    Source order. Each stage takes its own ``input_order`` (a permutation
    of the stacked sources, whose order is the dataset's ``data_prefix``
    order). The official scripts call (reference sections 5.4 / 7):

    ========== ======================= ============================
    script     stage 1                 stage 2
    ========== ======================= ============================
    IVIF       ``model_1(ir, vis)``    ``model_2(vis, ir, f)``
    light      ``model_1(vis, ir)``    (none)
    MRI-CT     ``model_1(mri, ct)``    ``model_2(mri, ct, f)``
    MRI-PET    ``model_1(pet_Y, mri)`` ``model_2(pet_Y, mri, f)``
    MRI-SPECT  ``model_1(mri, spect)`` ``model_2(mri, spect, f)``
    ========== ======================= ============================

    so with sources stacked as ``(ir, vi)`` the IVIF model uses
    ``stage1.input_order=(0, 1)`` and ``stage2.input_order=(1, 0)``, and
    with ``(mri, pet)`` the PET model uses ``(1, 0)`` for both stages.

    Args:
        stage1 (dict | nn.Module): the stage-1 network (``(N, 2, H, W) ->
            (N, 1, H, W)``), e.g. a ``TIMFusionNet`` config.
        stage2 (dict | nn.Module): the stage-2 network (``(inputs, fused,
            return_branches) -> final or (final, out_a, out_b)``), e.g. a
            ``TIMEnhanceNet`` config.
    """

    def __init__(self, stage1: Union[dict, nn.Module],
                 stage2: Union[dict, nn.Module]) -> None:
        super().__init__()
        self.stage1 = stage1 if isinstance(stage1, nn.Module) else \
            MODELS.build(stage1)
        self.stage2 = stage2 if isinstance(stage2, nn.Module) else \
            MODELS.build(stage2)

    def forward(
        self,
        inputs: torch.Tensor,
        return_all: bool = False
    ) -> Union[torch.Tensor, Dict[str, torch.Tensor]]:
        """Fuse stacked sources with both stages.

        Args:
            inputs (Tensor): ``(N, 2, H, W)`` stacked sources.
            return_all (bool): return every intermediate image. Defaults to
                False.

        Returns:
            Tensor | dict[str, Tensor]: the final ``(N, 1, H, W)`` image
            (not clamped), or ``dict(stage1=f, first=out_a, second=out_b,
            final=final)``.
        """
        fused = self.stage1(inputs)
        if not return_all:
            return self.stage2(inputs, fused)
        final, first, second = self.stage2(inputs, fused, return_branches=True)
        return dict(stage1=fused, first=first, second=second, final=final)
