"""The complete two-stage TIM model as one fusion network."""
from typing import Dict, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn

from mmfusenas.models.utils.module_checkpoint import (FUSION_AUTO_PREFIXES,
                                                      ModuleInit,
                                                      load_module_checkpoint,
                                                      parse_module_init)
from mmfusenas.registry import MODELS


@MODELS.register_module()
class TIMTwoStageFusionNet(nn.Module):
    """Stage 1 (:class:`TIMFusionNet`) then stage 2 (:class:`TIMEnhanceNet`).

    ``f = stage1(inputs); final = stage2(inputs, f)`` maps ``(N, 2, H, W)``
    sources to ``(N, 1, H, W)``. Each stage has its own ``input_order``, as the
    official test scripts call them in different source orders (see
    ``docs/methods/tim_networks.md``). ``forward(inputs, return_all=True)``
    gives the named outputs ``'stage1'``, the two stage-2 branches under
    ``branch_names`` and ``'final'``.

    Args:
        stage1 (dict | nn.Module): the stage-1 network.
        stage2 (dict | nn.Module): the stage-2 network.
        branch_names (Sequence[str], optional): names of stage 2's branch
            outputs. Defaults to None (``('first', 'second')``).
        stage1_init (str | dict, optional): checkpoint (path, or
            ``dict(checkpoint=path, prefix=None)``) stage 1 is initialised from
            in :meth:`init_weights`; the prefix is auto-detected among
            ``'fusion_net.'``, ``'architecture.fusion_net.'`` and ``''``.
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
            load_module_checkpoint(self.stage1,
                                   auto_prefixes=FUSION_AUTO_PREFIXES,
                                   option='stage1_init', **self.stage1_init)

    @property
    def output_names(self) -> Tuple[str, ...]:
        """The keys of ``forward(inputs, return_all=True)``."""
        return ('stage1', ) + self.branch_names + (self.main_output, )

    def forward(
        self,
        inputs: torch.Tensor,
        return_all: bool = False
    ) -> Union[torch.Tensor, Dict[str, torch.Tensor]]:
        """The final ``(N, 1, H, W)`` image, or all named outputs with
        ``return_all``."""
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
