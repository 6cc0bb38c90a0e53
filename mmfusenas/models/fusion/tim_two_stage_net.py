"""The complete two-stage TIM model as one fusion network."""
from typing import Dict, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn

from mmfusenas.registry import MODELS
from mmfusenas.utils.module_checkpoint import (FUSION_AUTO_PREFIXES,
                                              ModuleInit,
                                              load_module_checkpoint,
                                              parse_module_init)


@MODELS.register_module()
class TIMTwoStageFusionNet(nn.Module):
    """Stage 1 (:class:`TIMFusionNet`) then stage 2 (:class:`TIMEnhanceNet`).

    ``forward(inputs)`` maps the ``(N, 2, H, W)`` stacked sources to the
    final ``(N, 1, H, W)`` image, so the official model is one
    ``fusion_net`` of :class:`~mmfusenas.models.ImageFusor`::

        f = stage1(inputs); final = stage2(inputs, f)

    Source order. Each stage takes its own ``input_order`` (a permutation
    of the stacked sources, whose order is the dataset's ``data_prefix``
    order). The official test scripts of github.com/LiuZhu-CV/TIMFusion
    (``IVIF/testFusion*.py``, ``MmIF/test_fusion_Medical_*.py``) call:

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

    Named outputs (``forward(inputs, return_all=True)``, the
    ``output_names`` that fusion losses read with ``output=...``, see
    :mod:`mmfusenas.models.fusion.fusion_outputs`): ``'stage1'`` (N_F's
    image), the two branch images of N_T under ``branch_names`` and
    ``'final'`` (the main output, ``'fused'`` to the losses). TIM Sec. 4.2
    calls N_T's parallel branches *target extraction* and *detail
    enhancement* and trains them with ℓ_int and ℓ_ssim respectively; which
    stage-2 branch plays which role depends on ``stage2.input_order``: for
    IVIF the first branch sees VIS and the second IR, so
    ``branch_names=('detail', 'target')``.

    Args:
        stage1 (dict | nn.Module): the stage-1 network (``(N, 2, H, W) ->
            (N, 1, H, W)``), e.g. a ``TIMFusionNet`` config.
        stage2 (dict | nn.Module): the stage-2 network (``(inputs, fused,
            return_branches) -> final or (final, out_a, out_b)``), e.g. a
            ``TIMEnhanceNet`` config.
        branch_names (Sequence[str], optional): the names of stage 2's
            first and second branch outputs. Defaults to None
            (``('first', 'second')``).
        stage1_init (str | dict, optional): initialise stage 1 from a
            checkpoint in :meth:`init_weights` (the runner calls it when
            training starts, before ``load_from`` / ``--resume``, which
            override it): a path, or ``dict(checkpoint=path, prefix=None)``.
            The prefix is auto-detected among ``'fusion_net.'`` (a stage-1
            training run such as ``fusion_ivif_tno.py``, or PMI's
            ``pmi_init.pth``), ``'architecture.fusion_net.'`` and ``''``;
            the keys must match stage 1 exactly. This is how N_T is searched
            and trained on top of a trained N_F (TIM Sec. 4.2). Defaults to
            None.
    """

    #: the output ``forward(inputs)`` returns
    main_output = 'final'

    def __init__(self,
                 stage1: Union[dict, nn.Module],
                 stage2: Union[dict, nn.Module],
                 branch_names: Optional[Sequence[str]] = None,
                 stage1_init: Optional[ModuleInit] = None) -> None:
        super().__init__()
        self.stage1_init = parse_module_init(stage1_init, 'stage1_init')
        self.stage1 = stage1 if isinstance(stage1, nn.Module) else \
            MODELS.build(stage1)
        self.stage2 = stage2 if isinstance(stage2, nn.Module) else \
            MODELS.build(stage2)
        names = ('first', 'second') if branch_names is None else \
            tuple(branch_names)
        reserved = ('stage1', self.main_output, 'fused')
        if len(names) != 2 or len(set(names)) != 2 or \
                any(not isinstance(n, str) or not n or n in reserved
                    for n in names):
            raise ValueError(
                'TIMTwoStageFusionNet: branch_names must be two different '
                f'non-empty names other than {reserved}, got {branch_names!r}')
        self.branch_names: Tuple[str, str] = names

    def init_weights(self) -> None:
        """Load :attr:`stage1_init` into stage 1 (if given)."""
        if self.stage1_init is not None:
            load_module_checkpoint(self.stage1, self.stage1_init['checkpoint'],
                                   self.stage1_init['prefix'],
                                   FUSION_AUTO_PREFIXES, 'stage1_init')

    @property
    def output_names(self) -> Tuple[str, ...]:
        """The keys of ``forward(inputs, return_all=True)``."""
        return ('stage1', ) + self.branch_names + (self.main_output, )

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
            (not clamped), or ``{'stage1': f, <first branch name>: out_a,
            <second branch name>: out_b, 'final': final}``.
        """
        fused = self.stage1(inputs)
        if not return_all:
            return self.stage2(inputs, fused)
        final, first, second = self.stage2(inputs, fused, return_branches=True)
        return {
            'stage1': fused,
            self.branch_names[0]: first,
            self.branch_names[1]: second,
            self.main_output: final
        }
