"""A chain of pre-modules feeding a real task model, trained together."""
import copy
from abc import abstractmethod
from typing import Any, Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn as nn
from mmengine.config import ConfigDict
from mmengine.model import BaseModel

from mmfusenas.models.data_preprocessors import crop_to_shape
from mmfusenas.registry import MODELS
from mmfusenas.utils.colorspace import rgb_to_ycbcr, ycbcr_to_rgb
from mmfusenas.utils.distributed import unwrap
from mmfusenas.utils.module_checkpoint import (ModuleInit,
                                              load_module_checkpoint,
                                              parse_module_init)
from mmfusenas.utils.typing_utils import LossDict, ModuleConfigType
from .pre_module_chain import PreModuleChain, build

#: ImageNet mean / std in [0, 255] units (what mmdet / mmseg configs use).
IMAGENET_MEAN = (123.675, 116.28, 103.53)
IMAGENET_STD = (58.395, 57.12, 57.375)
#: ``color_from``: the chroma ``FusionDataPreprocessor`` keeps on each
#: sample (TIM's fused colour)
SAMPLE_CHROMA = 'sample_chroma'


class BasePreTaskModel(BaseModel):
    """A :class:`PreModuleChain` feeding a real MMDetection / MMSegmentation
    model: the one class behind every compound model.

    The chain turns the batch's named sources into named images;
    ``task_input`` names the one the task model sees. A 3-channel image is
    clamped to ``[0, 1]``; a 1-channel one (a fused luminance) gets the
    chroma of the RGB image ``color_from`` (BT.601 inverse, clamped), or
    with ``'sample_chroma'`` the ``chroma`` each sample carries (padded with
    the neutral 0.5; a sample without one stays grey), or is grey when
    ``color_from`` is None. The picture is normalised, ``(255 · rgb -
    mean) / std`` (R, G, B in [0, 255] units, like mmdet's
    ``DetDataPreprocessor``), and given to the task model, built from a
    ``_scope_`` sub-config. The loss::

        loss = ℓ_task + Σ_stages w_s · Σ_k ℓ_s,k

    logs each stage's losses, weighted, as ``<stage>.<loss_name>`` and
    ``w_s`` as ``<stage>.eta`` / ``.lambda`` / ``.rho`` (not summed: no
    ``loss`` in the key); the task losses keep their names. The stages are
    switched by :class:`~mmfusenas.engine.hooks.StagingHook` or by hand:
    :attr:`task_enabled` (False: a warm-up without the task model),
    :meth:`set_stage_frozen` / :meth:`set_pre_frozen` (no weight gradients,
    eval mode; their losses still logged), ``pre_net.active_losses``,
    ``pre_net.set_loss_weight``.

    ``predict`` runs the task model's ``predict`` and attaches to the same
    samples every stage's image as ``pred_<output>`` (cropped to
    ``img_shape``, in ``[0, 1]``) and the task image: 3 channels as
    ``pred_img``, 1 channel as ``pred_fused`` with ``pred_fused_rgb``
    (coloured by ``color_from``, else by the sample's ``chroma`` when it has
    one), for a task metric and ``FusionMetric`` in one evaluator list.

    The chain is :attr:`pre_net`, registered as ``chain_net``; with
    ``stage_attrs``, a one-stage chain's module and losses are registered
    under those names instead (``FusionDetector``: ``fusion_net``,
    ``fusion_losses``), the state-dict keys of the single-stage models.
    The task side is a subclass (:class:`ChainDetector`,
    :class:`ChainSegmentor`) giving ``task`` and the two abstract methods.

    Args:
        chain_net (dict | PreModuleChain): the chain.
        task (tuple[str, dict | nn.Module, str]): the task model's
            attribute, config (no ``data_preprocessor``) and default
            ``_scope_``.
        task_input (str): the name the task model reads. Defaults to
            'fused'.
        color_from (str, optional): see above. Defaults to None.
        mean (Sequence[float]): task input mean, [0, 255] units, R, G, B.
        std (Sequence[float]): task input std, [0, 255] units.
        task_init (str | dict, optional): a checkpoint of the task model
            (a path or ``dict(checkpoint=path, prefix=None)``), e.g. the
            saved initial weights of a detector also trained alone.
        stage_attrs (tuple[str, str], optional): see above.
        data_preprocessor (dict | nn.Module, optional): defaults to
            :attr:`default_data_preprocessor`.
        init_cfg (dict, optional): weight initialisation config.

    The checkpoints are loaded in :meth:`init_weights` (when the runner
    starts training, before ``load_from`` / ``--resume``).
    """

    default_data_preprocessor: dict = dict(
        type='FusionDataPreprocessor', pad_size_divisor=32, keep_rgb=['vi'])

    def __init__(self,
                 chain_net: ModuleConfigType,
                 task: Tuple[str, ModuleConfigType, str],
                 task_input: str = 'fused',
                 color_from: Optional[str] = None,
                 mean: Sequence[float] = IMAGENET_MEAN,
                 std: Sequence[float] = IMAGENET_STD,
                 task_init: Optional[ModuleInit] = None,
                 stage_attrs: Optional[Tuple[str, str]] = None,
                 data_preprocessor: Optional[ModuleConfigType] = None,
                 init_cfg: Optional[dict] = None) -> None:
        if data_preprocessor is None:
            data_preprocessor = copy.deepcopy(self.default_data_preprocessor)
        super().__init__(
            data_preprocessor=build(data_preprocessor), init_cfg=init_cfg)
        owner = type(self).__name__
        if len(mean) != 3 or len(std) != 3 or min(std) <= 0:
            raise ValueError(
                f'{owner}: mean and std need 3 values (R, G, B; [0, 255] '
                f'units) and std > 0, got mean={mean}, std={std}')
        chain = build(chain_net)
        if not isinstance(chain, PreModuleChain):
            raise TypeError(f'{owner}: chain_net must be a PreModuleChain, '
                            f'got {type(chain).__name__}')
        # the chain's modules are registered once (as chain_net or under
        # stage_attrs); pre_net, the chain itself, is not registered
        self.__dict__['pre_net'] = chain
        if stage_attrs is None:
            self.chain_net = chain
        else:
            (stage, ) = chain.names
            self.add_module(stage_attrs[0], chain.stage(stage))
        self._task_name = task[0]
        self.add_module(task[0], self._build_task_model(*task))
        if stage_attrs is not None:
            self.add_module(stage_attrs[1], chain.stage_losses[stage])
        produced = set(chain.sources) | {s['output'] for s in chain.specs}
        for option, name, extra in (('task_input', task_input, ()),
                                    ('color_from', color_from,
                                     (None, SAMPLE_CHROMA))):
            if name not in produced and name not in extra:
                raise KeyError(f'{owner}: {option} {name!r} is neither a '
                               f'source nor a stage output '
                               f'({sorted(produced)})')
        self.task_input, self.color_from = task_input, color_from
        for key, value in (('mean', mean), ('std', std)):
            self.register_buffer(
                key,
                torch.tensor(value, dtype=torch.float32).view(1, 3, 1, 1),
                persistent=False)
        self.task_init = parse_module_init(task_init, 'task_init')
        self.task_enabled = True

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

    @property
    def pre_frozen(self) -> bool:
        """Whether every stage is frozen."""
        names = self.pre_net.names
        return bool(names) and all(map(self.pre_net.stage_frozen, names))

    def set_pre_frozen(self, frozen: bool) -> None:
        """Freeze (or unfreeze) every stage: ``requires_grad=False`` and
        eval mode (fixed BN statistics), as mmdet's ``frozen_stages``; the
        optimizer skips the parameters while they have no gradient."""
        for name in self.pre_net.names:
            self.pre_net.set_stage_frozen(name, frozen)

    def set_stage_frozen(self, name: str, frozen: bool) -> None:
        """Freeze (or unfreeze) one stage of the chain."""
        self.pre_net.set_stage_frozen(name, frozen)

    #: the name a ``StagingHook`` phase gives every stage at once
    phase_group = 'pre'

    def phase_parts(self) -> Dict[str, nn.Module]:
        """The parts a ``StagingHook`` phase trains or freezes by name: the
        chain's stages."""
        return {name: self.pre_net.stage(name) for name in self.pre_net.names}

    def stage_loss_weights(self) -> Dict[str, float]:
        """Each stage's loss weight."""
        return {s['name']: s['loss_weight'] for s in self.pre_net.specs}

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
        chain, stages = self.pre_net, list(self.pre_net.names)
        if task is not None:
            self.task_enabled = task
        for part, off in (frozen or {}).items():
            if part in stages:
                chain.set_stage_frozen(part, off)
            else:
                self.get_submodule(part).requires_grad_(not off)
        if losses is not None:
            names = set(stages) if losses == 'all' else (
                {losses} if isinstance(losses, str) else set(losses))
            if not names <= set(stages):
                raise KeyError(f'losses={losses!r} must name the stages '
                               f'{stages}')
            chain.active_losses = names
        for name, weight in (loss_weights or {}).items():
            if name != self.phase_group and name not in stages:
                raise KeyError(f'loss_weights names {name!r}; the model has '
                               f'{self.phase_group!r} and {stages}')
            for stage in stages if name == self.phase_group else [name]:
                chain.set_loss_weight(stage, weight)
        for name in stages:
            on = chain.bn_recalibrating(name)
            if name in recalibrate_bn or on:
                chain.set_bn_recalibration(name, name in recalibrate_bn,
                                           reset=reset_bn and not on)

    def train(self, mode: bool = True) -> 'BasePreTaskModel':
        """Set train / eval mode; frozen stages stay in eval mode."""
        super().train(mode)
        self.pre_net.train(mode)  # not registered under stage_attrs
        return self

    def init_weights(self) -> None:
        """Initialise, then load ``task_init`` and every stage's ``init``."""
        super().init_weights()
        if self.task_init is not None:
            load_module_checkpoint(self.task_model,
                                   self.task_init['checkpoint'],
                                   self.task_init['prefix'], ('', ),
                                   'task_init')
        self.pre_net.init_stages()

    # ------------------------------------------------------------------
    def run_pre(self, inputs: torch.Tensor) -> Dict[str, Any]:
        """The chain on a batch (see :meth:`PreModuleChain.forward`)."""
        return self.pre_net(inputs)

    def task_inputs(self, run: Any, data_samples: Sequence) -> torch.Tensor:
        """The normalised task input ``(255 · rgb - mean) / std`` of a
        :meth:`run_pre` result (or of the task image itself)."""
        rgb = self._task_image(run, data_samples)
        return (rgb * 255 - self.mean) / self.std

    def _task_image(self, run: Any, data_samples: Sequence) -> torch.Tensor:
        """``(N, 3, H, W)`` picture in ``[0, 1]`` for the task model."""
        images = run['images'] if isinstance(run, dict) else {
            self.task_input: run}
        x = images[self.task_input]
        if x.shape[1] == 3:
            return x.clamp(0, 1)
        grey = x.clamp(0, 1).expand(-1, 3, -1, -1)
        if self.color_from not in (None, SAMPLE_CHROMA):
            chroma = rgb_to_ycbcr(images[self.color_from].clamp(0, 1))[:, 1:]
            return ycbcr_to_rgb(torch.cat([x.clamp(0, 1), chroma],
                                          1)).clamp(0, 1)
        has_chroma = [('chroma' in s) for s in data_samples]
        if self.color_from is None or not any(has_chroma):
            return grey
        chroma = x.new_full((x.shape[0], 2) + tuple(x.shape[-2:]), 0.5)
        for i, sample in enumerate(data_samples):
            if has_chroma[i]:
                h, w = sample.chroma.shape[-2:]
                chroma[i, :, :h, :w] = sample.chroma
        # TIM's fused colour: the unclamped luminance, clamped after
        colour = ycbcr_to_rgb(torch.cat([x, chroma], 1)).clamp(0, 1)
        keep = x.new_tensor(has_chroma).view(-1, 1, 1, 1).bool()
        return torch.where(keep, colour, grey)

    def _attach_pre(self, samples: List, run: Dict[str, Any]) -> None:
        """Every stage's image and the task image on the samples."""
        images = run['images']
        x = images[self.task_input]
        colour = None
        if x.shape[1] == 1 and self.color_from not in (None, SAMPLE_CHROMA):
            colour = rgb_to_ycbcr(images[self.color_from].clamp(0, 1))[:, 1:]
        for i, sample in enumerate(samples):
            shape = sample.get('img_shape')
            for spec in self.pre_net.specs:
                sample.set_field(
                    crop_to_shape(images[spec['output']][i].clamp(0, 1),
                                  shape), f"pred_{spec['output']}")
            image = crop_to_shape(x[i].clamp(0, 1), shape)
            if x.shape[1] == 3:
                sample.pred_img = image
                continue
            sample.pred_fused = image
            chroma = sample.get('chroma') if colour is None else \
                crop_to_shape(colour[i], shape)
            if chroma is not None:
                sample.pred_fused_rgb = ycbcr_to_rgb(
                    torch.cat([image, chroma], 0)).clamp(0, 1)

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
                self.task_inputs(run, data_samples or []), data_samples,
                mode='tensor')
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
                f'the stages {self.pre_net.names} are frozen, so nothing '
                'would train; check the staging hooks and freeze options')
        run = self.run_pre(inputs)
        losses: LossDict = {}
        if self.task_enabled:
            losses = self._task_loss(
                self.task_inputs(run, data_samples), data_samples)
            prefixes = tuple(f'{name}.' for name in self.pre_net.names)
            clash = [k for k in losses if k.startswith(prefixes)]
            if clash:
                raise KeyError(f'task loss keys {clash} clash with the '
                               f'stage prefixes {prefixes}')
        losses.update(self.pre_net.weighted_losses(run))
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
        samples = self._task_predict(
            self.task_inputs(run, data_samples), data_samples)
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
