"""Stages of pre-modules feeding a real task model, trained together."""
import copy
from abc import abstractmethod
from typing import Any, Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn as nn
from mmengine.config import ConfigDict
from mmengine.model import BaseModel
from torch.nn.modules.batchnorm import _BatchNorm

from mmfusenas.models.data_preprocessors import crop_to_shape
from mmfusenas.models.utils.colorspace import (luminance, rgb_to_ycbcr,
                                               ycbcr_to_rgb)
from mmfusenas.models.utils.module_checkpoint import (
    ModuleInit, load_module_checkpoint, parse_module_init)
from mmfusenas.registry import MODELS
from mmfusenas.utils.distributed import unwrap
from mmfusenas.utils.typing_utils import LossDict, ModuleConfigType
from ..base_image_model import build_losses, build_module
from .stages import Stage, checked_weight, parse_stage, split_selector

#: ImageNet mean / std in [0, 255] units (what mmdet / mmseg configs use).
IMAGENET_MEAN = (123.675, 116.28, 103.53)
IMAGENET_STD = (58.395, 57.12, 57.375)


class BasePreTaskModel(BaseModel):
    """Stages of pre-modules feeding a real MMDetection / MMSegmentation
    model: the one class behind every compound model.

    The stages run in order on named images, starting from the batch's
    sources; each reads some names and writes a new one (see
    ``docs/methods/compose.md``). Stage ``s`` is a
    :class:`~mmfusenas.models.compound.stages.Stage` of its ``kind``
    (``'fusion'``, ``'scene'``, ``'registration'``) whose network and
    losses are the children ``<s>_net`` and ``<s>_losses`` (TIM's
    ``fusion_net``, RUAS's ``scene_net``). ``task_input`` names the image
    the task model sees. A 3-channel image is clamped to ``[0, 1]``; a
    1-channel one (a fused luminance) gets the chroma of ``color_from``, a
    source or stage output that is an RGB image or a (Cb, Cr) pair (the
    ``chroma`` source of ``FusionDataPreprocessor(append_chroma=True)``),
    by the BT.601 inverse of the unclamped luminance, clamped (TIM's fused
    colour), or is grey when ``color_from`` is None. The picture is
    normalised, ``(255 · rgb - mean) / std`` (R, G, B in [0, 255] units,
    like mmdet's ``DetDataPreprocessor``), and given to the task model,
    built from a ``_scope_`` sub-config. The loss::

        loss = ℓ_task + Σ_stages w_s · Σ_k ℓ_s,k

    logs each stage's losses, weighted, as ``<stage>.<loss_name>`` and
    ``w_s`` as ``<stage>.eta`` / ``.lambda`` / ``.rho`` (not summed: no
    ``loss`` in the key); the task losses keep their names. The stages are
    switched by :class:`~mmfusenas.engine.hooks.StagingHook`
    (:meth:`apply_phase`) or by hand: :attr:`task_enabled` (False: a
    warm-up without the task model), :meth:`set_stage_frozen` /
    :meth:`set_pre_frozen` (no weight gradients, eval mode; their losses
    still logged), :attr:`active_losses`, :meth:`set_loss_weight`.

    ``predict`` runs the task model's ``predict`` and attaches to the same
    samples every stage's image as ``pred_<output>`` (cropped to
    ``img_shape``, in ``[0, 1]``) and the task image: 3 channels as
    ``pred_img``, 1 channel as ``pred_fused`` with ``pred_fused_rgb``
    (coloured by ``color_from``, for samples with a ``color_modality``),
    for a task metric and ``FusionMetric`` in one evaluator list.

    The task side is a subclass (:class:`ChainDetector`,
    :class:`ChainSegmentor`) giving ``task`` and the two abstract methods.
    Checkpoints of the earlier layout (the stages inside a ``chain_net``
    child: ``chain_net.modules_.<s>.*``, ``chain_net.stage_losses.<s>.*``)
    load with their keys mapped.

    Args:
        stages (Sequence[dict]): one dict per stage, in order: ``name``,
            ``kind``, ``module`` (its network, dict or ``nn.Module``),
            ``inputs``, ``output``, ``losses`` (unique ``loss_name`` s;
            default ()), ``loss_weight`` (default 1.0), ``init`` (a
            checkpoint of the network: a path or ``dict(checkpoint=,
            prefix=None)``; the prefixes of the kind's single-stage models
            are tried), ``freeze`` (default False). No stages: a source goes
            to the task model unchanged (a baseline).
        task (tuple[str, dict | nn.Module, str]): the task model's
            attribute, config (no ``data_preprocessor``) and default
            ``_scope_``.
        sources (dict, optional): the images before the first stage, in
            batch order, with their channel counts: the batch ``(N, Σ
            channels, H, W)`` is split into them. Defaults to ``dict(ir=1,
            vi=3)`` (``FusionDataPreprocessor(keep_rgb=['vi'])`` on IR /
            RGB-VIS pairs). One source may have ``None`` channels: the
            channels the others leave (the stacked luminances of a fusion
            model, e.g. ``dict(sources=None, chroma=2)``).
        task_input (str): the name the task model reads. Defaults to
            'fused'.
        color_from (str, optional): see above. Defaults to None.
        mean (Sequence[float]): task input mean, [0, 255] units, R, G, B.
        std (Sequence[float]): task input std, [0, 255] units.
        task_init (str | dict, optional): a checkpoint of the task model
            (a path or ``dict(checkpoint=path, prefix=None, exclude=())``,
            ``exclude``: key prefixes keeping their own initialisation, e.g.
            ``['neck.']``), e.g. the saved initial weights of a detector
            also trained alone.
        data_preprocessor (dict | nn.Module, optional): defaults to
            :attr:`default_data_preprocessor`.
        init_cfg (dict, optional): weight initialisation config.

    The checkpoints are loaded in :meth:`init_weights` (when the runner
    starts training, before ``load_from`` / ``--resume``).
    """

    default_data_preprocessor: dict = dict(
        type='FusionDataPreprocessor', pad_size_divisor=32, keep_rgb=['vi'])

    def __init__(self,
                 stages: Sequence[dict],
                 task: Tuple[str, ModuleConfigType, str],
                 sources: Optional[Dict[str, Optional[int]]] = None,
                 task_input: str = 'fused',
                 color_from: Optional[str] = None,
                 mean: Sequence[float] = IMAGENET_MEAN,
                 std: Sequence[float] = IMAGENET_STD,
                 task_init: Optional[ModuleInit] = None,
                 data_preprocessor: Optional[ModuleConfigType] = None,
                 init_cfg: Optional[dict] = None) -> None:
        if data_preprocessor is None:
            data_preprocessor = copy.deepcopy(self.default_data_preprocessor)
        super().__init__(
            data_preprocessor=build_module(data_preprocessor),
            init_cfg=init_cfg)
        owner = type(self).__name__
        if len(mean) != 3 or len(std) != 3 or min(std) <= 0:
            raise ValueError(
                f'{owner}: mean and std need 3 values (R, G, B; [0, 255] '
                f'units) and std > 0, got mean={mean}, std={std}')
        self.sources = dict(ir=1, vi=3) if sources is None else dict(sources)
        counts = list(self.sources.values())
        if not counts or counts.count(None) > 1 or \
                not set(counts) <= {None, 1, 2, 3}:
            raise ValueError(f'{owner}: sources maps each source name to 1, '
                             '2 or 3 channels (one source may have None: '
                             f'the channels the others leave), got '
                             f'{self.sources}')
        #: the stages by name, in order
        self.stages: Dict[str, Stage] = {}
        known, losses = set(self.sources), {}
        for i, cfg in enumerate(stages):
            stage, net, loss_cfgs = parse_stage(i, cfg, known)
            where = f"stage '{stage.name}'"
            if stage.name in self.stages:
                raise ValueError(f'{where}: stage names must be unique')
            known.add(stage.output)
            net = build_module(net)
            self.add_module(f'{stage.name}_net', net)
            losses[stage.name] = build_losses(loss_cfgs, where)
            stage.needs_all = stage.check_losses(net, losses[stage.name],
                                                 where)
            self.stages[stage.name] = stage
        self._task_name = task[0]
        self.add_module(task[0], self._build_task_model(*task))
        for name, modules in losses.items():
            self.add_module(f'{name}_losses', modules)
        for option, name, extra in (('task_input', task_input, ()),
                                    ('color_from', color_from, (None, ))):
            if name not in known and name not in extra:
                raise KeyError(f'{owner}: {option} {name!r} is neither a '
                               f'source nor a stage output ({sorted(known)})')
        self.task_input, self.color_from = task_input, color_from
        for key, value in (('mean', mean), ('std', std)):
            self.register_buffer(
                key,
                torch.tensor(value, dtype=torch.float32).view(1, 3, 1, 1),
                persistent=False)
        self.task_init = parse_module_init(task_init, 'task_init')
        self.task_enabled = True
        #: stages whose losses are computed (all by default)
        self.active_losses = set(self.stages)
        #: per recalibrating stage, the BN momenta to restore
        self._bn_recal: Dict[str, Dict[str, Optional[float]]] = {}
        for stage in self.stages.values():
            self.set_stage_frozen(stage.name, stage.frozen)

    def _build_task_model(self, name: str, cfg: ModuleConfigType,
                          scope: str) -> nn.Module:
        owner = type(self).__name__
        if isinstance(cfg, nn.Module):
            return cfg
        if cfg.get('data_preprocessor') is not None:
            raise ValueError(
                f'{owner}: remove {name}.data_preprocessor: the compound '
                'model batches the inputs with its own data_preprocessor and '
                f'normalises the task input itself; give mean / std to '
                f'{owner} ([0, 255] units) instead')
        # ConfigDict: mmdet / mmseg read train_cfg / test_cfg by attribute
        cfg = ConfigDict(copy.deepcopy(cfg))
        cfg.setdefault('_scope_', scope)
        return MODELS.build(cfg)

    # ------------------------------------------------------------------
    @property
    def task_model(self) -> nn.Module:
        """The MMDetection detector / MMSegmentation segmentor."""
        return getattr(self, self._task_name)

    def stage(self, name: str) -> nn.Module:
        """The network of stage ``name`` (the child ``<name>_net``)."""
        if name not in self.stages:
            raise KeyError(f'no stage {name!r}; stages are '
                           f'{tuple(self.stages)}')
        return getattr(self, f'{name}_net')

    def set_loss_weight(self, name: str, weight: float) -> None:
        """Set the weight of stage ``name``'s losses (η, λ, ρ; >= 0)."""
        self.stage(name)
        stage = self.stages[name]
        stage.loss_weight = checked_weight(stage, weight)

    def stage_loss_weights(self) -> Dict[str, float]:
        """Each stage's loss weight."""
        return {name: s.loss_weight for name, s in self.stages.items()}

    @property
    def pre_frozen(self) -> bool:
        """Whether every stage is frozen (False without stages)."""
        return bool(self.stages) and all(
            s.frozen for s in self.stages.values())

    def set_pre_frozen(self, frozen: bool) -> None:
        """Freeze (or unfreeze) every stage: ``requires_grad=False`` and
        eval mode (fixed BN statistics), as mmdet's ``frozen_stages``; the
        optimizer skips the parameters while they have no gradient."""
        for name in self.stages:
            self.set_stage_frozen(name, frozen)

    def set_stage_frozen(self, name: str, frozen: bool) -> None:
        """Freeze (no gradients, eval mode) or unfreeze one stage."""
        net = self.stage(name)
        self.stages[name].frozen = bool(frozen)
        net.requires_grad_(not frozen)
        net.train(self.training and not frozen)
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
            self.stage(name).train(self.training
                                   and not self.stages[name].frozen)
        self._bn_modes(name)

    def _bn_modes(self, name: str) -> None:
        """BN layers of a recalibrating stage follow the model's mode."""
        if name in self._bn_recal:
            for m in self.stage_bn_layers(name).values():
                m.train(self.training)

    #: the name a ``StagingHook`` phase gives every stage at once
    phase_group = 'pre'

    def phase_parts(self) -> Dict[str, nn.Module]:
        """The parts a ``StagingHook`` phase trains or freezes by name: the
        stages' networks."""
        return {name: self.stage(name) for name in self.stages}

    def apply_phase(self,
                    task: Optional[bool] = None,
                    frozen: Optional[Dict[str, bool]] = None,
                    losses: Any = None,
                    loss_weights: Optional[Dict[str, float]] = None,
                    recalibrate_bn: Sequence[str] = (),
                    reset_bn: bool = False) -> None:
        """Set up one phase of ``StagingHook`` (None: left as it is).

        Args:
            task (bool, optional): Train on the task loss.
            frozen (dict, optional): Stage name or module path -> frozen.
            losses (str | Sequence[str], optional): The stages whose losses
                count (``'all'``: every stage).
            loss_weights (dict, optional): Stage (``'pre'``: every stage) ->
                loss weight.
            recalibrate_bn (Sequence[str]): Frozen stages whose BN layers
                re-estimate their statistics; the others stop doing so.
            reset_bn (bool): Start a newly recalibrating stage from fresh
                statistics.
        """
        stages = list(self.stages)
        if task is not None:
            self.task_enabled = task
        for part, off in (frozen or {}).items():
            if part in stages:
                self.set_stage_frozen(part, off)
            else:
                self.get_submodule(part).requires_grad_(not off)
        if losses is not None:
            names = set(stages) if losses == 'all' else (
                {losses} if isinstance(losses, str) else set(losses))
            if not names <= set(stages):
                raise KeyError(f'losses={losses!r} must name the stages '
                               f'{stages}')
            self.active_losses = names
        for name, weight in (loss_weights or {}).items():
            if name != self.phase_group and name not in stages:
                raise KeyError(f'loss_weights names {name!r}; the model has '
                               f'{self.phase_group!r} and {stages}')
            for stage in stages if name == self.phase_group else [name]:
                self.set_loss_weight(stage, weight)
        for name in stages:
            on = self.bn_recalibrating(name)
            if name in recalibrate_bn or on:
                self.set_bn_recalibration(name, name in recalibrate_bn,
                                          reset=reset_bn and not on)

    def train(self, mode: bool = True) -> 'BasePreTaskModel':
        """Set train / eval mode; frozen stages stay in eval mode."""
        super().train(mode)
        for name, stage in self.stages.items():
            if stage.frozen:
                self.stage(name).eval()
            self._bn_modes(name)
        return self

    def init_weights(self) -> None:
        """Initialise, then load ``task_init`` and every stage's ``init``
        (strict keys)."""
        super().init_weights()
        if self.task_init is not None:
            load_module_checkpoint(self.task_model, auto_prefixes=('', ),
                                   option='task_init', **self.task_init)
        for name, stage in self.stages.items():
            if stage.init is not None:
                load_module_checkpoint(
                    self.stage(name), auto_prefixes=stage.init_prefixes,
                    option=f'{name}.init', **stage.init)

    def _load_from_state_dict(self, state_dict: dict, prefix: str, *args,
                              **kwargs) -> None:
        """Map the keys of the earlier layout (the stages inside a
        ``chain_net`` child) to ``<stage>_net`` / ``<stage>_losses``."""
        for old, new in (('chain_net.modules_.', '_net.'),
                         ('chain_net.stage_losses.', '_losses.')):
            for key in [k for k in state_dict if k.startswith(prefix + old)]:
                name, _, rest = key[len(prefix + old):].partition('.')
                state_dict[prefix + name + new + rest] = state_dict.pop(key)
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    # ------------------------------------------------------------------
    def split_sources(self, batch: torch.Tensor) -> Dict[str, torch.Tensor]:
        """``(N, Σ channels, H, W)`` -> the source images by name."""
        counts = list(self.sources.values())
        fixed = sum(c for c in counts if c is not None)
        free = None in counts  # one source takes the channels left
        if batch.dim() != 4 or (batch.shape[1] <= fixed
                                if free else batch.shape[1] != fixed):
            channels = f'> {fixed}' if free else fixed
            raise ValueError(
                f'{type(self).__name__}: the batch must be (N, {channels}, H, '
                f'W), the sources {self.sources} stacked; got '
                f'{tuple(batch.shape)}. '
                'Keep colour sources RGB: FusionDataPreprocessor(keep_rgb=['
                "...]), images loaded with color_type='color'; a chroma "
                'source: FusionDataPreprocessor(append_chroma=True)')
        counts = [batch.shape[1] - fixed if c is None else c for c in counts]
        return dict(zip(self.sources, torch.split(batch, counts, dim=1)))

    def run_pre(self, images: Any) -> Dict[str, Any]:
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
            raise KeyError(f'{type(self).__name__}: sources {missing} are '
                           f'missing from the batch (got {sorted(images)})')
        images, records = dict(images), {}
        for name, stage in self.stages.items():
            reads = [
                luminance(images[n]) if view else images[n]
                for n, view in map(split_selector, stage.inputs)
            ]
            x = torch.cat(reads, 1)
            # a frozen stage computes no gradient of its own weights, but
            # still passes the gradient of later losses on to the stages
            # before it (when its input carries one)
            with torch.set_grad_enabled(
                    torch.is_grad_enabled()
                    and (not stage.frozen or x.requires_grad)):
                out, record = stage.run(self.stage(name), reads, x,
                                        f"stage '{name}'")
            images[stage.output] = out
            records[name] = dict(record, inputs=x)
        return dict(images=images, stages=records)

    def weighted_losses(self, run: Dict[str, Any]) -> Dict[str, torch.Tensor]:
        """``{<stage>.<loss_name>: w · ℓ, <stage>.<eta|lambda|rho>: w}`` of
        the active stages with a non-zero weight and some loss."""
        out: Dict[str, torch.Tensor] = {}
        # the logged weights take the batch's dtype (not an AMP output's)
        batch = run['images'][next(iter(self.sources))]
        for name, stage in self.stages.items():
            losses = getattr(self, f'{name}_losses')
            weight = stage.loss_weight
            if name not in self.active_losses or weight == 0 or \
                    not len(losses):
                continue
            for key, value in stage.loss_values(losses,
                                                run['stages'][name]).items():
                out[f'{name}.{key}'] = weight * value
            out[f'{name}.{stage.weight_key}'] = batch.new_tensor(weight)
        return out

    def task_inputs(self, run: Any) -> torch.Tensor:
        """The normalised task input ``(255 · rgb - mean) / std`` of a
        :meth:`run_pre` result (or of a 1- or 3-channel task image when no
        ``color_from`` colours it)."""
        images = run['images'] if isinstance(run, dict) else {
            self.task_input: run}
        x = images[self.task_input]
        if x.shape[1] == 3:
            rgb = x.clamp(0, 1)
        elif self.color_from is None:
            rgb = x.clamp(0, 1).expand(-1, 3, -1, -1)
        else:
            # TIM's fused colour: the unclamped luminance, clamped after
            rgb = ycbcr_to_rgb(torch.cat([x, self._chroma(images)],
                                         1)).clamp(0, 1)
        return (rgb * 255 - self.mean) / self.std

    def _chroma(self, images: Dict[str, torch.Tensor]) -> torch.Tensor:
        """(Cb, Cr) of ``color_from``: a chroma pair or an RGB image."""
        if self.color_from not in images:
            raise KeyError(
                f"{type(self).__name__}: color_from '{self.color_from}' "
                'colours the task image: pass the run_pre result')
        colour = images[self.color_from]
        if colour.shape[1] == 2:
            return colour
        if colour.shape[1] != 3:
            raise ValueError(
                f"{type(self).__name__}: color_from '{self.color_from}' "
                f'must be an RGB image or a (Cb, Cr) pair, got '
                f'{colour.shape[1]} channel(s)')
        return rgb_to_ycbcr(colour.clamp(0, 1))[:, 1:]

    def _attach_pre(self, samples: List, run: Dict[str, Any]) -> None:
        """Every stage's image and the task image on the samples."""
        images = run['images']
        x = images[self.task_input]
        colour = None
        if x.shape[1] == 1 and self.color_from is not None:
            colour = self._chroma(images)
        for i, sample in enumerate(samples):
            shape = sample.get('img_shape')
            for stage in self.stages.values():
                sample.set_field(
                    crop_to_shape(images[stage.output][i].clamp(0, 1),
                                  shape), f'pred_{stage.output}')
            image = crop_to_shape(x[i].clamp(0, 1), shape)
            if x.shape[1] == 3:
                sample.pred_img = image
                continue
            sample.pred_fused = image
            if colour is not None and \
                    sample.get('color_modality', True) is not None:
                sample.pred_fused_rgb = ycbcr_to_rgb(
                    torch.cat([image, crop_to_shape(colour[i], shape)],
                              0)).clamp(0, 1)

    # ------------------------------------------------------------------
    def forward(self,
                inputs: torch.Tensor,
                data_samples: Optional[List] = None,
                mode: str = 'tensor'):
        """``'loss'``: loss dict; ``'predict'``: data samples with the task
        predictions and the chain's images; ``'tensor'``: ``(the
        task_input image, raw task outputs)``."""
        if mode == 'loss':
            return self.loss(inputs, data_samples)
        if mode == 'predict':
            return self.predict(inputs, data_samples)
        if mode == 'tensor':
            run = self.run_pre(inputs)
            return run['images'][self.task_input], self.task_model(
                self.task_inputs(run), data_samples, mode='tensor')
        raise ValueError(f"mode must be 'loss', 'predict' or 'tensor', "
                         f"got '{mode}'")

    def loss(self, inputs: torch.Tensor, data_samples: List) -> LossDict:
        """ℓ_task + the weighted stage losses on a preprocessed batch."""
        owner = type(self).__name__
        if data_samples is None:
            raise ValueError(f'{owner}.loss needs data_samples')
        if not self.task_enabled and self.pre_frozen:
            raise RuntimeError(
                f'{owner}: the task loss is off (warm-up / pre-training) and '
                f'the stages {tuple(self.stages)} are frozen, so nothing '
                'would train; check the staging hooks and freeze options')
        run = self.run_pre(inputs)
        losses: LossDict = {}
        if self.task_enabled:
            losses = self._task_loss(self.task_inputs(run), data_samples)
            prefixes = tuple(f'{name}.' for name in self.stages)
            clash = [k for k in losses if k.startswith(prefixes)]
            if clash:
                raise KeyError(f'task loss keys {clash} clash with the '
                               f'stage prefixes {prefixes}')
        losses.update(self.weighted_losses(run))
        if not losses:
            raise ValueError(
                f'{owner}: no loss to train with: the task loss is off '
                '(warm-up) and no stage has a loss with a non-zero weight')
        return losses

    def predict(self, inputs: torch.Tensor, data_samples: List) -> List:
        """Task predictions + the chain's images on every sample."""
        if data_samples is None:
            raise ValueError(
                f'{type(self).__name__}.predict needs data_samples')
        run = self.run_pre(inputs)
        samples = self._task_predict(self.task_inputs(run), data_samples)
        self._attach_pre(samples, run)
        return samples

    @abstractmethod
    def _task_loss(self, task_inputs: torch.Tensor,
                   data_samples: List) -> LossDict:
        """The task model's loss dict on the normalised task input."""

    @abstractmethod
    def _task_predict(self, task_inputs: torch.Tensor,
                      data_samples: List) -> List:
        """The task model's predicted data samples."""


def get_pre_task_model(model: nn.Module) -> BasePreTaskModel:
    """The compound model inside ``model``: the model itself, possibly
    wrapped (DDP) and / or the ``architecture`` of a search algorithm;
    ``TypeError`` when there is none."""
    model = unwrap(model)
    if not isinstance(model, BasePreTaskModel):
        model = getattr(model, 'architecture', None)
    if not isinstance(model, BasePreTaskModel):
        raise TypeError(
            'expected a pre-module + task model (FusionDetector / '
            'FusionSegmentor / SceneDetector / SceneSegmentor / '
            'ChainDetector / ChainSegmentor, possibly the architecture of a '
            f'search algorithm), got {type(model).__name__}')
    return model
