"""A chain of pre-modules with named inputs and outputs.

:class:`PreModuleChain` runs pre-modules in front of a task model on named
images, e.g. enhance the VIS image (RUAS), fuse it with IR (TIM), detect::

    vi  --scene-->  vi_enh
    (ir, vi_enh:y)  --fusion-->  fused

Names start as the batch's sources; ``name:y`` reads the luminance of an
RGB image. See ``docs/methods/compose.md``.
"""
import copy
from typing import Any, Dict, List, Optional, Sequence

import torch
import torch.nn as nn
from torch.nn.modules.batchnorm import _BatchNorm

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
from mmfusenas.registry import MODELS
from mmfusenas.utils.colorspace import luminance
from mmfusenas.utils.module_checkpoint import (FUSION_AUTO_PREFIXES,
                                              REGISTRATION_AUTO_PREFIXES,
                                              SCENE_AUTO_PREFIXES,
                                              load_module_checkpoint,
                                              parse_module_init)

#: fields a scene stage's loss may read (no ground-truth image)
SCENE_STAGE_FIELDS = tuple(f for f in LOSS_FIELDS if f != 'gt')
#: fields a registration stage's loss may read (no ground-truth field)
REGISTRATION_STAGE_FIELDS = tuple(f for f in REGISTRATION_FIELDS
                                  if f != 'gt_flow')


class FusionStage:
    """A fusion stage: ``module(cat(inputs))`` -> the fused ``(N, 1, H,
    W)``; its losses read the network's named outputs (TIM's η)."""
    weight_key, inputs = 'eta', (None, 'any images')
    init_prefixes = FUSION_AUTO_PREFIXES

    @staticmethod
    def check_losses(module: nn.Module, losses: nn.ModuleList,
                     where: str) -> bool:
        return check_loss_outputs(module, losses, where)

    @staticmethod
    def run(module: nn.Module, reads: List[torch.Tensor], x: torch.Tensor,
            needs_all: bool, where: str) -> tuple:
        outputs = run_fusion_outputs(module, x, needs_all, where)
        return outputs['fused'], dict(outputs=outputs)

    @staticmethod
    def loss_values(losses: nn.ModuleList,
                    record: Dict[str, Any]) -> Dict[str, torch.Tensor]:
        return fusion_loss_values(losses, record['outputs'], record['inputs'])


class SceneStage:
    """A scene stage (RUAS): one RGB image in, the same shape out; its
    losses read the enhancer's fields (RUAS's λ)."""
    weight_key, inputs = 'lambda', (1, 'one RGB image')
    init_prefixes = SCENE_AUTO_PREFIXES

    @staticmethod
    def check_losses(module: nn.Module, losses: nn.ModuleList,
                     where: str) -> bool:
        return check_loss_fields(losses, SCENE_STAGE_FIELDS)

    @staticmethod
    def run(module: nn.Module, reads: List[torch.Tensor], x: torch.Tensor,
            needs_all: bool, where: str) -> tuple:
        if x.shape[1] != 3:
            raise ValueError(f'{where}: a scene module takes an RGB image, '
                             f'but its input has {x.shape[1]} channel(s)')
        fields = network_fields(module, x, needs_all)
        fields.update(low=x, target=x)
        if fields['pred'].shape != x.shape:
            raise ValueError(f'{where}: a scene module keeps the shape, got '
                             f"{tuple(x.shape)} -> "
                             f"{tuple(fields['pred'].shape)}")
        return fields['pred'], dict(fields=fields)

    @staticmethod
    def loss_values(losses: nn.ModuleList,
                    record: Dict[str, Any]) -> Dict[str, torch.Tensor]:
        return {loss.loss_name: call_field_loss(loss, record['fields'])
                for loss in losses}


class RegistrationStage(SceneStage):
    """A registration stage: ``inputs=[fixed, moving]`` -> the moving image
    warped; its losses read the registration fields (ρ)."""
    weight_key, inputs = 'rho', (2, 'two images, inputs=[fixed, moving]')
    init_prefixes = REGISTRATION_AUTO_PREFIXES

    @staticmethod
    def check_losses(module: nn.Module, losses: nn.ModuleList,
                     where: str) -> bool:
        check_registration_losses(losses, REGISTRATION_STAGE_FIELDS, where)
        return False

    @staticmethod
    def run(module: nn.Module, reads: List[torch.Tensor], x: torch.Tensor,
            needs_all: bool, where: str) -> tuple:
        fields = register_pair(module, *reads)
        return fields.pop('moving_warped'), dict(fields=fields)


#: the stage kinds by name
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


def checked_weight(spec: Dict[str, Any]) -> float:
    """A stage's ``loss_weight`` as a float >= 0 (else ``ValueError``)."""
    weight = float(spec['loss_weight'])
    if not weight >= 0:  # also refuses NaN
        raise ValueError(f"stage '{spec['name']}': loss_weight "
                         f"({STAGE_KINDS[spec['kind']].weight_key}) must be "
                         ">= 0, got "
                         f"{spec['loss_weight']}")
    return weight


@MODELS.register_module()
class PreModuleChain(nn.Module):
    """Pre-modules run in order on named images.

    A chain without stages routes a source to the task model unchanged
    (e.g. a detector on the VIS image alone, as a baseline).

    Args:
        stages (Sequence[dict]): one dict per stage, in order:

            - ``name`` (str): unique; the log prefix of its losses
              (``<name>.<loss_name>``, weight ``<name>.eta`` / ``.lambda`` /
              ``.rho``).
            - ``kind`` (str): ``'fusion'`` (``module(cat(inputs))`` ->
              ``(N, 1, H, W)``), ``'scene'`` (one RGB image, same shape
              out) or ``'registration'`` (``inputs=[fixed, moving]``).
            - ``module`` (dict | nn.Module): the network.
            - ``inputs`` (Sequence[str]): names it reads (``name`` or
              ``name:y``).
            - ``output`` (str): the new name it writes.
            - ``losses`` (Sequence[dict | nn.Module]): its losses (unique
              ``loss_name`` within the stage). Defaults to ().
            - ``loss_weight`` (float): ``>= 0``. Defaults to 1.0.
            - ``init`` (str | dict, optional): a checkpoint for this stage's
              module (path or ``dict(checkpoint=, prefix=None)``); the
              prefixes of the kind's single-stage models are tried
              (``FusionDetector`` / ``ImageFusor`` / PMI, ``SceneDetector``
              / ``ImageEnhancer`` / converted RUAS, ``ImageRegistrator``).
            - ``freeze`` (bool): start frozen. Defaults to False.
        sources (dict): the images before the first stage, in batch order,
            with their channel counts: the batch ``(N, Σ channels, H, W)``
            is split into them. Defaults to ``dict(ir=1, vi=3)`` (what
            ``FusionDataPreprocessor(keep_rgb=['vi'])`` gives for IR /
            RGB-VIS pairs). One source of ``None`` channels is the whole
            batch (the stacked luminances of a fusion model).
    """

    def __init__(self,
                 stages: Sequence[dict],
                 sources: Optional[Dict[str, Optional[int]]] = None) -> None:
        super().__init__()
        self.sources = dict(ir=1, vi=3) if sources is None else dict(sources)
        counts = list(self.sources.values())
        if not (counts == [None] or counts and set(counts) <= {1, 3}):
            raise ValueError('sources maps each source name to 1 or 3 '
                             'channels (or one source to None: the whole '
                             f'batch), got {self.sources}')
        self.modules_ = nn.ModuleDict()
        self.stage_losses = nn.ModuleDict()
        self.specs: List[Dict[str, Any]] = []
        known = set(self.sources)
        for i, cfg in enumerate(stages):
            spec = self._parse_stage(i, cfg, known)
            name, kind = spec['name'], STAGE_KINDS[spec['kind']]
            where = f"stage '{name}'"
            known.add(spec['output'])
            module = self.modules_[name] = build(spec.pop('module'))
            losses = nn.ModuleList(build(x) for x in spec.pop('losses'))
            names = [loss.loss_name for loss in losses]
            if len(set(names)) != len(names):
                raise ValueError(f'{where}: loss names must be unique, got '
                                 f'{names}')
            spec['needs_all'] = kind.check_losses(module, losses, where)
            self.stage_losses[name] = losses
            self.specs.append(spec)
        self.names = tuple(s['name'] for s in self.specs)
        #: stages whose losses are computed (all by default)
        self.active_losses = set(self.names)
        self._frozen = {name: False for name in self.names}
        #: per recalibrating stage, the BN momenta to restore
        self._bn_recal: Dict[str, Dict[str, Optional[float]]] = {}
        for spec in self.specs:
            self.set_stage_frozen(spec['name'], spec['freeze'])

    @staticmethod
    def _parse_stage(index: int, cfg: dict, known: set) -> Dict[str, Any]:
        where = f'stage {index}'
        if not isinstance(cfg, dict):
            raise TypeError(f'{where} must be a dict, got '
                            f'{type(cfg).__name__}')
        unknown = sorted(set(cfg) - set(_STAGE_KEYS))
        missing = [k for k in _STAGE_KEYS[:5] if k not in cfg]
        if unknown or missing:
            raise KeyError(f'{where}: unknown keys {unknown}, missing keys '
                           f'{missing}; a stage has {list(_STAGE_KEYS)}')
        spec = dict(losses=(), loss_weight=1.0, init=None, freeze=False)
        spec.update(copy.copy(cfg))
        where, kind = f"stage '{spec['name']}'", spec['kind']
        if kind not in STAGE_KINDS:
            raise ValueError(f'{where}: kind must be one of '
                             f'{tuple(STAGE_KINDS)}, got {kind!r}')
        inputs = spec['inputs'] = [spec['inputs']] if isinstance(
            spec['inputs'], str) else list(spec['inputs'])
        for ref in inputs:
            if split_selector(ref)[0] not in known:
                raise KeyError(f'{where} reads {ref!r}, which no source or '
                               f'earlier stage provides (known: '
                               f'{sorted(known)})')
        arity, reads = STAGE_KINDS[kind].inputs
        if arity is not None and len(inputs) != arity:
            raise ValueError(f'{where}: a {kind} stage reads {reads}; got '
                             f'inputs {inputs}')
        if spec['output'] in known:
            raise ValueError(f"{where}: output {spec['output']!r} already "
                             'exists; give each image its own name')
        spec['loss_weight'] = checked_weight(spec)
        spec['init'] = parse_module_init(spec['init'], f"{spec['name']}.init")
        return spec

    # ------------------------------------------------------------------
    def stage(self, name: str) -> nn.Module:
        """The module of stage ``name``."""
        if name not in self.modules_:
            raise KeyError(f'no stage {name!r}; stages are {self.names}')
        return self.modules_[name]

    def spec(self, name: str) -> Dict[str, Any]:
        """The parsed config of stage ``name``."""
        self.stage(name)
        return next(s for s in self.specs if s['name'] == name)

    def set_loss_weight(self, name: str, weight: float) -> None:
        """Set the weight of stage ``name``'s losses (η, λ, ρ; >= 0)."""
        spec = self.spec(name)
        spec['loss_weight'] = checked_weight(dict(spec, loss_weight=weight))

    def stage_frozen(self, name: str) -> bool:
        """Whether stage ``name`` is frozen."""
        self.stage(name)
        return self._frozen[name]

    def set_stage_frozen(self, name: str, frozen: bool) -> None:
        """Freeze (no gradients, eval mode) or unfreeze one stage."""
        module = self.stage(name)
        self._frozen[name] = bool(frozen)
        for param in module.parameters():
            param.requires_grad_(not frozen)
        module.train(self.training and not frozen)
        self._bn_modes(name)

    def stage_bn_layers(self, name: str) -> Dict[str, _BatchNorm]:
        """The BatchNorm layers of stage ``name`` by module path."""
        return {
            path: m
            for path, m in self.stage(name).named_modules()
            if isinstance(m, _BatchNorm) and m.track_running_stats
        }

    def bn_recalibrating(self, name: str) -> bool:
        """Whether stage ``name`` is re-estimating its BN statistics."""
        self.stage(name)
        return name in self._bn_recal

    def set_bn_recalibration(self,
                             name: str,
                             active: bool,
                             reset: bool = True) -> None:
        """Start or stop re-estimating the BN statistics of a stage.

        While active, the stage's BN layers (only those) run in training
        mode even when the stage is frozen, and their running statistics
        are the cumulative average (``momentum=None``) of the batches that
        pass in training mode; its weights keep their ``requires_grad``.
        Stopping restores the momenta and the stage's mode. ``reset``: on
        start, reset the running statistics first (False continues an
        average, e.g. after a resume).
        """
        layers = self.stage_bn_layers(name)
        if active:
            self._bn_recal.setdefault(
                name, {path: m.momentum for path, m in layers.items()})
            for m in layers.values():
                if reset:
                    m.reset_running_stats()
                m.momentum = None
        elif name in self._bn_recal:
            momenta = self._bn_recal.pop(name)
            for path, m in layers.items():
                m.momentum = momenta[path]
            self.stage(name).train(self.training and not self._frozen[name])
        self._bn_modes(name)

    def _bn_modes(self, name: str) -> None:
        """BN layers of a recalibrating stage follow the chain's mode."""
        if name in getattr(self, '_bn_recal', {}):
            for m in self.stage_bn_layers(name).values():
                m.train(self.training)

    def train(self, mode: bool = True) -> 'PreModuleChain':
        super().train(mode)
        for name, frozen in self._frozen.items():
            if frozen:
                self.modules_[name].eval()
            self._bn_modes(name)
        return self

    def init_stages(self) -> None:
        """Load every stage's ``init`` checkpoint (strict keys)."""
        for spec in self.specs:
            if spec['init'] is not None:
                load_module_checkpoint(
                    self.modules_[spec['name']], spec['init']['checkpoint'],
                    spec['init']['prefix'],
                    STAGE_KINDS[spec['kind']].init_prefixes,
                    f"{spec['name']}.init")

    # ------------------------------------------------------------------
    def split_sources(self, batch: torch.Tensor) -> Dict[str, torch.Tensor]:
        """``(N, Σ channels, H, W)`` -> the source images by name."""
        counts = list(self.sources.values())
        total = 'C' if counts == [None] else sum(counts)
        if batch.dim() != 4 or total != 'C' and batch.shape[1] != total:
            raise ValueError(
                f'PreModuleChain: the batch must be (N, {total}, H, W), the '
                f'sources {self.sources} stacked; got {tuple(batch.shape)}. '
                'Keep colour sources RGB: FusionDataPreprocessor(keep_rgb=['
                "...]), images loaded with color_type='color'")
        if total == 'C':
            return {next(iter(self.sources)): batch}
        return dict(zip(self.sources, torch.split(batch, counts, dim=1)))

    def forward(self, images: Any) -> Dict[str, Any]:
        """Run every stage on the batch ``(N, Σ channels, H, W)`` (split by
        :meth:`split_sources`) or on the source images by name.

        Returns:
            dict: ``images`` (every name, sources included) and ``stages``
            (per stage: ``inputs``, the tensor it got, and what its losses
            read: ``outputs``, the named images of a fusion stage,
            ``fields``, the named fields of a scene or registration stage,
            e.g. a registration stage's ``flow``).
        """
        if isinstance(images, torch.Tensor):
            images = self.split_sources(images)
        missing = [s for s in self.sources if s not in images]
        if missing:
            raise KeyError(f'PreModuleChain: sources {missing} are missing '
                           f'from the batch (got {sorted(images)})')
        images, stages = dict(images), {}
        for spec in self.specs:
            name, module = spec['name'], self.modules_[spec['name']]
            reads = [
                luminance(images[n]) if view else images[n]
                for n, view in map(split_selector, spec['inputs'])
            ]
            x = torch.cat(reads, 1)
            # a frozen stage computes no gradient of its own weights, but
            # still passes the gradient of later losses on to the stages
            # before it (when its input carries one)
            with torch.set_grad_enabled(
                    torch.is_grad_enabled()
                    and (not self._frozen[name] or x.requires_grad)):
                out, record = STAGE_KINDS[spec['kind']].run(
                    module, reads, x, spec['needs_all'], f"stage '{name}'")
            images[spec['output']] = out
            stages[name] = dict(record, inputs=x)
        return dict(images=images, stages=stages)

    def weighted_losses(self, run: Dict[str, Any]) -> Dict[str, torch.Tensor]:
        """``{<stage>.<loss_name>: w · ℓ, <stage>.<eta|lambda|rho>: w}`` of
        the active stages with a non-zero weight and some loss."""
        losses: Dict[str, torch.Tensor] = {}
        # the logged weights take the batch's dtype (not an AMP output's)
        batch = run['images'][next(iter(self.sources))]
        for spec in self.specs:
            name, weight = spec['name'], spec['loss_weight']
            stage_losses, record = self.stage_losses[name], run['stages'][name]
            if name not in self.active_losses or weight == 0 or \
                    not len(stage_losses):
                continue
            kind = STAGE_KINDS[spec['kind']]
            for loss_name, value in kind.loss_values(stage_losses,
                                                     record).items():
                losses[f'{name}.{loss_name}'] = weight * value
            losses[f'{name}.{kind.weight_key}'] = batch.new_tensor(weight)
        return losses


def build(cfg: Any) -> nn.Module:
    """Build a config in the mmfusenas registry (modules pass)."""
    return cfg if isinstance(cfg, nn.Module) else MODELS.build(cfg)
