"""The stage kinds of a compound model and the parsing of its stage configs.

A compound model (:class:`~mmfusenas.models.compound.BasePreTaskModel`) runs
stages in front of a task model on named images, e.g. enhance the VIS image
(RUAS), fuse it with IR (TIM), detect::

    vi  --scene-->  vi_enh
    (ir, vi_enh:y)  --fusion-->  fused

Names start as the batch's sources; ``name:y`` reads the luminance of an
RGB image. See ``docs/methods/compose.md``.
"""
from typing import Any, Dict, List, Optional, Sequence

import torch
import torch.nn as nn

from mmfusenas.models.enhancers.loss_fields import (LOSS_FIELDS,
                                                    call_field_loss,
                                                    check_loss_fields,
                                                    network_fields)
from mmfusenas.models.fusion.fusion_outputs import (check_loss_outputs,
                                                    fusion_loss_values,
                                                    run_fusion_outputs)
from mmfusenas.models.registration import (REGISTRATION_FIELDS,
                                           check_registration_losses,
                                           register_pair)
from mmfusenas.models.utils.module_checkpoint import (
    FUSION_AUTO_PREFIXES, REGISTRATION_AUTO_PREFIXES, SCENE_AUTO_PREFIXES,
    ModuleInit, parse_module_init)

#: fields a scene stage's loss may read (no ground-truth image)
SCENE_STAGE_FIELDS = tuple(f for f in LOSS_FIELDS if f != 'gt')
#: fields a registration stage's loss may read (no ground-truth field)
REGISTRATION_STAGE_FIELDS = tuple(f for f in REGISTRATION_FIELDS
                                  if f != 'gt_flow')


class Stage:
    """One stage of a compound model: what it reads and writes, its loss
    weight (:attr:`weight_key` in the logs) and whether it is frozen. Its
    network and losses are the model's children ``<name>_net`` and
    ``<name>_losses``; a kind (a subclass) says how the network runs and
    what its losses read.

    Args:
        name (str): unique; an identifier (the children's prefix and the
            log prefix of its losses).
        inputs (Sequence[str]): the names it reads (``name`` or
            ``name:y``).
        output (str): the new name it writes.
        loss_weight (float): ``>= 0``. Defaults to 1.0.
        init (str | dict, optional): a checkpoint of its network.
        freeze (bool): start frozen. Defaults to False.
    """
    weight_key = ''
    #: how many inputs it reads (None: any) and how to say so
    arity: Optional[int] = None
    reads = 'any images'
    #: the prefixes of a checkpoint's keys tried for ``init``
    init_prefixes: tuple = ('', )

    def __init__(self,
                 name: str,
                 inputs: Sequence[str],
                 output: str,
                 loss_weight: float = 1.0,
                 init: Optional[ModuleInit] = None,
                 freeze: bool = False) -> None:
        self.name, self.output = name, output
        self.inputs = [inputs] if isinstance(inputs, str) else list(inputs)
        self.loss_weight = checked_weight(self, loss_weight)
        self.init = parse_module_init(init, f'{name}.init')
        self.frozen = bool(freeze)
        self.needs_all = False

    def check_losses(self, net: nn.Module, losses: nn.ModuleList,
                     where: str) -> bool:
        """Check what the losses read; whether they need every output."""
        raise NotImplementedError

    def run(self, net: nn.Module, reads: List[torch.Tensor], x: torch.Tensor,
            where: str) -> tuple:
        """``(output image, record its losses read)`` of one batch."""
        raise NotImplementedError

    def loss_values(self, losses: nn.ModuleList,
                    record: Dict[str, Any]) -> Dict[str, torch.Tensor]:
        """The unweighted losses by name."""
        return {loss.loss_name: call_field_loss(loss, record['fields'])
                for loss in losses}


class FusionStage(Stage):
    """A fusion stage: ``net(cat(inputs))`` -> the fused ``(N, 1, H, W)``;
    its losses read the network's named outputs (TIM's η)."""
    weight_key = 'eta'
    init_prefixes = FUSION_AUTO_PREFIXES

    def check_losses(self, net, losses, where):
        return check_loss_outputs(net, losses, where)

    def run(self, net, reads, x, where):
        outputs = run_fusion_outputs(net, x, self.needs_all, where)
        return outputs['fused'], dict(outputs=outputs)

    def loss_values(self, losses, record):
        return fusion_loss_values(losses, record['outputs'], record['inputs'])


class SceneStage(Stage):
    """A scene stage (RUAS): one RGB image in, the same shape out; its
    losses read the enhancer's fields (RUAS's λ)."""
    weight_key, arity, reads = 'lambda', 1, 'one RGB image'
    init_prefixes = SCENE_AUTO_PREFIXES

    def check_losses(self, net, losses, where):
        return check_loss_fields(losses, SCENE_STAGE_FIELDS)

    def run(self, net, reads, x, where):
        if x.shape[1] != 3:
            raise ValueError(f'{where}: a scene module takes an RGB image, '
                             f'but its input has {x.shape[1]} channel(s)')
        fields = network_fields(net, x, self.needs_all)
        fields.update(low=x, target=x)
        if fields['pred'].shape != x.shape:
            raise ValueError(f'{where}: a scene module keeps the shape, got '
                             f"{tuple(x.shape)} -> "
                             f"{tuple(fields['pred'].shape)}")
        return fields['pred'], dict(fields=fields)


class RegistrationStage(Stage):
    """A registration stage: ``inputs=[fixed, moving]`` -> the moving image
    warped; its losses read the registration fields (ρ)."""
    weight_key, arity, reads = 'rho', 2, 'two images, inputs=[fixed, moving]'
    init_prefixes = REGISTRATION_AUTO_PREFIXES

    def check_losses(self, net, losses, where):
        check_registration_losses(losses, REGISTRATION_STAGE_FIELDS, where)
        return False

    def run(self, net, reads, x, where):
        fields = register_pair(net, *reads)
        return fields.pop('moving_warped'), dict(fields=fields)


#: the stage kinds by the name a config gives (``kind``)
STAGE_KINDS = dict(fusion=FusionStage, scene=SceneStage,
                   registration=RegistrationStage)
_STAGE_KEYS = ('name', 'kind', 'module', 'inputs', 'output', 'losses',
               'loss_weight', 'init', 'freeze')


def split_selector(ref: str) -> tuple:
    """``'vi_enh:y'`` -> ``('vi_enh', 'y')``; ``'ir'`` -> ``('ir', None)``."""
    name, _, view = ref.partition(':')
    if view not in ('', 'y'):
        raise ValueError(f"unknown view {view!r} in {ref!r}; use 'name' or "
                         "'name:y' (the luminance)")
    return name, (view or None)


def checked_weight(stage: Stage, weight: float) -> float:
    """A stage's loss weight as a float >= 0 (else ``ValueError``)."""
    value = float(weight)
    if not value >= 0:  # also refuses NaN
        raise ValueError(f"stage '{stage.name}': loss_weight "
                         f'({stage.weight_key}) must be >= 0, got {weight}')
    return value


def parse_stage(index: int, cfg: dict, known: set) -> tuple:
    """One stage config -> ``(Stage, network config, loss configs)``;
    ``known``: the names sources and earlier stages provide."""
    where = f'stage {index}'
    if not isinstance(cfg, dict):
        raise TypeError(f'{where} must be a dict, got {type(cfg).__name__}')
    unknown = sorted(set(cfg) - set(_STAGE_KEYS))
    missing = [k for k in _STAGE_KEYS[:5] if k not in cfg]
    if unknown or missing:
        raise KeyError(f'{where}: unknown keys {unknown}, missing keys '
                       f'{missing}; a stage has {list(_STAGE_KEYS)}')
    cfg = dict(cfg)
    kind, name = cfg.pop('kind'), cfg['name']
    where = f"stage '{name}'"
    if kind not in STAGE_KINDS:
        raise ValueError(f'{where}: kind must be one of '
                         f'{tuple(STAGE_KINDS)}, got {kind!r}')
    if not (isinstance(name, str) and name.isidentifier()):
        raise ValueError(f'{where}: a stage name is an identifier (its '
                         'network is the child <name>_net)')
    module, losses = cfg.pop('module'), cfg.pop('losses', ())
    stage = STAGE_KINDS[kind](**cfg)
    for ref in stage.inputs:
        if split_selector(ref)[0] not in known:
            raise KeyError(f'{where} reads {ref!r}, which no source or '
                           f'earlier stage provides (known: {sorted(known)})')
    if stage.arity is not None and len(stage.inputs) != stage.arity:
        raise ValueError(f'{where}: a {kind} stage reads {stage.reads}; got '
                         f'inputs {stage.inputs}')
    if stage.output in known:
        raise ValueError(f'{where}: output {stage.output!r} already exists; '
                         'give each image its own name')
    return stage, module, losses
