"""Fusion network + downstream task model trained together (TIM Sec. 3.1)."""
import copy
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.config import ConfigDict
from mmengine.model import BaseModel, is_model_wrapper

from mmfusenas.models.data_preprocessors import crop_to_shape
from mmfusenas.registry import MODELS
from mmfusenas.utils.colorspace import ycbcr_to_rgb
from .fusion_checkpoint import (FusionInit, load_fusion_checkpoint,
                                parse_fusion_init)

ConfigType = Union[dict, nn.Module]
LossDict = Dict[str, Union[torch.Tensor, List[torch.Tensor]]]

#: ImageNet mean / std in [0, 255] units (what mmdet / mmseg configs use).
IMAGENET_MEAN = (123.675, 116.28, 103.53)
IMAGENET_STD = (58.395, 57.12, 57.375)
FUSED_COLORS = ('rgb', 'gray')
#: Prefix of the fusion losses' log keys.
FUSION_PREFIX = 'fusion.'


def _build(cfg: ConfigType) -> nn.Module:
    return cfg if isinstance(cfg, nn.Module) else MODELS.build(cfg)


class BaseFusionTaskModel(BaseModel):
    """N_F feeding a real MMDetection / MMSegmentation model.

    The fusion network ``fusion_net`` maps the ``(N, M, H, W)`` source
    stack of :class:`~mmfusenas.models.FusionDataPreprocessor` to the fused
    luminance ``(N, 1, H, W)`` in ``[0, 1]``. The task model sees the fused
    image as a 3-channel picture:

    1. ``fused_color='rgb'``: fused Y + the colour source's chroma (the
       ``chroma`` the preprocessor stores on every sample; padded with the
       neutral 0.5) → RGB by the exact BT.601 inverse
       (:func:`~mmfusenas.utils.colorspace.ycbcr_to_rgb`), clamped to
       ``[0, 1]``; samples without a colour source get the grey image.
       ``'gray'``: the fused Y replicated to 3 channels;
    2. times 255, then ``(x - mean) / std`` per channel (``mean`` / ``std``
       in **[0, 255] units**, like mmdet's ``DetDataPreprocessor`` and
       mmseg's ``SegDataPreProcessor``; channel order R, G, B).

    Training loss (TIM Alg. 1 line 15)::

        loss = ℓ_T(task(fused)) + η · Σ_k ℓ_F,k(fused, sources)

    Every fusion loss ``ℓ_F,k`` (with its own ``loss_weight`` and
    ``loss_name``) is logged, already multiplied by η, as
    ``fusion.<loss_name>``; η itself as ``fusion.eta`` (not summed). The
    task model's losses keep their names (``loss_cls``, ``loss_bbox``,
    ``decode.loss_ce``, ...). MMEngine sums every key containing ``'loss'``.

    Training stages are switched by hooks (``mmfusenas.engine.hooks``) or by
    hand through :attr:`task_enabled` (False: ℓ_F only, the task model is
    not run — the fusion warm-up), :attr:`fusion_loss_weight` (η) and
    :meth:`set_fusion_frozen` (N_F without gradients, in eval mode; ℓ_F is
    still computed for the log but carries no gradient).

    ``predict`` runs the task model's own ``predict`` and attaches to the
    same data samples ``pred_fused`` (``(1, h, w)``, cropped to
    ``img_shape``) and, for samples with a colour source,
    ``pred_fused_rgb``; ``sources`` is already there (from the
    preprocessor). So one evaluator list with a task metric (mmdet
    ``CocoMetric``, mmseg ``IoUMetric``) and ``FusionMetric`` reports both.

    Subclasses set :attr:`task_attr` (the attribute and config key of the
    task model), :attr:`task_scope` and implement :meth:`_task_loss` /
    :meth:`_task_predict`.

    Args:
        fusion_net (dict | nn.Module): N_F; any fusion network config
            (``SimpleFusionNet``, ``TIMFusionNet``, ``GenotypeNet``, or a
            supernet with ``DiffMixedOp`` choice points when the model is
            the ``architecture`` of a ``BilevelSearchAlgorithm``).
        task_model (dict | nn.Module): the detector / segmentor config.
            ``_scope_`` defaults to :attr:`task_scope`. It must not define a
            ``data_preprocessor``: this model normalises the fused image
            itself (``mean`` / ``std``).
        fusion_losses (Sequence[dict | nn.Module]): ℓ_F terms (see
            ``mmfusenas.models.losses``), unique ``loss_name`` each. May be
            empty only if the task loss is always on (no warm-up) and η is
            unused.
        fusion_loss_weight (float): η ≥ 0. Defaults to 1.0.
        fused_color (str): ``'rgb'`` or ``'gray'`` (see above). Defaults to
            'rgb'.
        mean (Sequence[float]): per-channel mean of the task input, [0, 255]
            units. Defaults to ImageNet's.
        std (Sequence[float]): per-channel std, [0, 255] units. Defaults to
            ImageNet's.
        fusion_init (str | dict, optional): initialise N_F from a
            checkpoint in :meth:`init_weights` (i.e. when the runner starts
            training, before ``load_from`` / ``--resume``, which override
            it): a path, or ``dict(checkpoint=path, prefix=None)``. The
            prefix is auto-detected among ``'fusion_net.'`` (ImageFusor,
            PMI ``pmi_init.pth``, compound models),
            ``'architecture.fusion_net.'`` (search runs) and ``''`` (bare
            state dict); the keys must match N_F exactly. Defaults to None.
        freeze_fusion (bool): start with N_F frozen (see
            :meth:`set_fusion_frozen`). Defaults to False.
        check_finite (bool): raise ``FloatingPointError`` naming the loss
            and the samples when a loss is NaN / Inf. Defaults to True.
        data_preprocessor (dict | nn.Module, optional): defaults to
            ``FusionDataPreprocessor(pad_size_divisor=32)``.
        init_cfg (dict, optional): weight initialisation config.
    """

    #: attribute (and config key) of the task model; set by subclasses
    task_attr = ''
    #: registry scope of the task model's config
    task_scope = 'mmdet'

    def __init__(self,
                 fusion_net: ConfigType,
                 task_model: ConfigType,
                 fusion_losses: Sequence[ConfigType] = (),
                 fusion_loss_weight: float = 1.0,
                 fused_color: str = 'rgb',
                 mean: Sequence[float] = IMAGENET_MEAN,
                 std: Sequence[float] = IMAGENET_STD,
                 fusion_init: Optional[FusionInit] = None,
                 freeze_fusion: bool = False,
                 check_finite: bool = True,
                 data_preprocessor: Optional[ConfigType] = None,
                 init_cfg: Optional[dict] = None) -> None:
        if data_preprocessor is None:
            data_preprocessor = dict(
                type='FusionDataPreprocessor', pad_size_divisor=32)
        super().__init__(
            data_preprocessor=_build(data_preprocessor), init_cfg=init_cfg)
        owner = type(self).__name__
        if fused_color not in FUSED_COLORS:
            raise ValueError(f'{owner}: fused_color must be one of '
                             f'{FUSED_COLORS}, got {fused_color!r}')
        if len(mean) != 3 or len(std) != 3 or min(std) <= 0:
            raise ValueError(
                f'{owner}: mean and std need 3 values (R, G, B; [0, 255] '
                f'units) and std > 0, got mean={mean}, std={std}')
        self.fusion_net = _build(fusion_net)
        setattr(self, self.task_attr, self._build_task_model(task_model))
        self.fusion_losses = nn.ModuleList(
            _build(loss) for loss in fusion_losses)
        names = [loss.loss_name for loss in self.fusion_losses]
        if len(set(names)) != len(names):
            raise ValueError(f'{owner}: fusion loss names must be unique, '
                             f'got {names}')
        self.fused_color = fused_color
        self.register_buffer(
            'mean', torch.tensor(mean, dtype=torch.float32).view(1, 3, 1, 1),
            persistent=False)
        self.register_buffer(
            'std', torch.tensor(std, dtype=torch.float32).view(1, 3, 1, 1),
            persistent=False)
        self.fusion_loss_weight = fusion_loss_weight
        self.fusion_init = parse_fusion_init(fusion_init)
        self.check_finite = check_finite
        self.task_enabled = True
        self._fusion_frozen = False
        self.set_fusion_frozen(freeze_fusion)

    # ------------------------------------------------------------------
    # construction and state
    # ------------------------------------------------------------------
    def _build_task_model(self, cfg: ConfigType) -> nn.Module:
        if isinstance(cfg, nn.Module):
            return cfg
        if not isinstance(cfg, dict):
            raise TypeError(f'{type(self).__name__}: {self.task_attr} must '
                            f'be a config dict or a module, got '
                            f'{type(cfg).__name__}')
        if cfg.get('data_preprocessor') is not None:
            raise ValueError(
                f'{type(self).__name__}: remove {self.task_attr}.'
                'data_preprocessor: the compound model batches the sources '
                'with its own data_preprocessor and normalises the fused '
                f'image itself; give mean / std to {type(self).__name__} '
                '([0, 255] units) instead')
        # ConfigDict: mmdet / mmseg read train_cfg / test_cfg by attribute
        cfg = ConfigDict(copy.deepcopy(cfg))
        cfg.setdefault('_scope_', self.task_scope)
        return MODELS.build(cfg)

    @property
    def task_model(self) -> nn.Module:
        """The MMDetection detector / MMSegmentation segmentor."""
        return getattr(self, self.task_attr)

    @property
    def fusion_loss_weight(self) -> float:
        """η, the weight of ℓ_F in the joint loss."""
        return self._fusion_loss_weight

    @fusion_loss_weight.setter
    def fusion_loss_weight(self, value: float) -> None:
        value = float(value)
        if not value >= 0:  # also refuses NaN
            raise ValueError(f'{type(self).__name__}: fusion_loss_weight '
                             f'(eta) must be >= 0, got {value}')
        self._fusion_loss_weight = value

    @property
    def fusion_frozen(self) -> bool:
        """Whether N_F is frozen (no gradients, eval mode)."""
        return self._fusion_frozen

    def set_fusion_frozen(self, frozen: bool) -> None:
        """Freeze (or unfreeze) N_F.

        Frozen: every parameter of ``fusion_net`` has
        ``requires_grad=False`` and ``fusion_net`` stays in eval mode (its
        BN statistics are fixed), as mmdet's ``frozen_stages``. The
        parameters stay in the optimizer, which skips them while they have
        no gradient, so unfreezing later resumes their training.
        """
        self._fusion_frozen = bool(frozen)
        for param in self.fusion_net.parameters():
            param.requires_grad_(not self._fusion_frozen)
        self.fusion_net.train(self.training and not self._fusion_frozen)

    def train(self, mode: bool = True) -> 'BaseFusionTaskModel':
        """Set train / eval mode; a frozen N_F stays in eval mode."""
        super().train(mode)
        if self._fusion_frozen:
            self.fusion_net.eval()
        return self

    def init_weights(self) -> None:
        """Initialise, then load ``fusion_init`` into N_F when given."""
        super().init_weights()
        if self.fusion_init is not None:
            load_fusion_checkpoint(self.fusion_net, **self.fusion_init)

    # ------------------------------------------------------------------
    # fused image -> task input
    # ------------------------------------------------------------------
    def fuse(self, inputs: torch.Tensor) -> torch.Tensor:
        """N_F on a batch (no gradient while N_F is frozen)."""
        with torch.set_grad_enabled(torch.is_grad_enabled()
                                    and not self._fusion_frozen):
            fused = self.fusion_net(inputs)
        if fused.dim() != 4 or fused.shape[1] != 1 or \
                fused.shape[-2:] != inputs.shape[-2:]:
            raise ValueError(
                f'{type(self).__name__}: fusion_net must map (N, M, H, W) '
                f'to (N, 1, H, W), got {tuple(inputs.shape)} -> '
                f'{tuple(fused.shape)}')
        return fused

    def task_inputs(self, fused: torch.Tensor,
                    data_samples: Sequence) -> torch.Tensor:
        """The normalised 3-channel task input of a fused batch.

        Args:
            fused (Tensor): ``(N, 1, H, W)`` fused luminance (padded batch).
            data_samples (Sequence): the batch's samples (``chroma`` of a
                colour source, ``(2, h, w)``, when there is one).

        Returns:
            Tensor: ``(N, 3, H, W)``, ``(255 · rgb - mean) / std``.
        """
        rgb = fused.clamp(0, 1).expand(-1, 3, -1, -1)
        if self.fused_color == 'rgb':
            has_chroma = [('chroma' in s) for s in data_samples]
            if any(has_chroma):
                chroma = fused.new_full(
                    (fused.shape[0], 2) + tuple(fused.shape[-2:]), 0.5)
                for i, sample in enumerate(data_samples):
                    if has_chroma[i]:
                        h, w = sample.chroma.shape[-2:]
                        chroma[i, :, :h, :w] = sample.chroma
                colour = ycbcr_to_rgb(torch.cat([fused, chroma], 1))
                keep = fused.new_tensor(has_chroma).view(-1, 1, 1, 1).bool()
                rgb = torch.where(keep, colour.clamp(0, 1), rgb)
        return (rgb * 255 - self.mean) / self.std

    # ------------------------------------------------------------------
    # MMEngine interface
    # ------------------------------------------------------------------
    def forward(self,
                inputs: torch.Tensor,
                data_samples: Optional[List] = None,
                mode: str = 'tensor'):
        """``'loss'``: loss dict; ``'predict'``: data samples with the task
        predictions and the fused image; ``'tensor'``: ``(fused, raw task
        outputs)``."""
        if mode == 'loss':
            return self.loss(inputs, data_samples)
        if mode == 'predict':
            return self.predict(inputs, data_samples)
        if mode == 'tensor':
            fused = self.fuse(inputs)
            samples = data_samples or []
            return fused, self.task_model._forward(
                self.task_inputs(fused, samples), data_samples)
        raise ValueError(f"mode must be 'loss', 'predict' or 'tensor', "
                         f"got '{mode}'")

    def loss(self, inputs: torch.Tensor, data_samples: List) -> LossDict:
        """ℓ_T + η·ℓ_F on a preprocessed batch (see the class docstring)."""
        if data_samples is None:
            raise ValueError(f'{type(self).__name__}.loss needs data_samples')
        if not self.task_enabled and self._fusion_frozen:
            raise RuntimeError(
                f'{type(self).__name__}: the task loss is off (fusion '
                'warm-up) and N_F is frozen, so nothing would train; check '
                'FusionWarmupHook / FreezeFusionHook / freeze_fusion')
        fused = self.fuse(inputs)
        losses: LossDict = {}
        if self.task_enabled:
            task_losses = self._task_loss(
                self.task_inputs(fused, data_samples), data_samples)
            clash = [k for k in task_losses if k.startswith(FUSION_PREFIX)]
            if clash:
                raise KeyError(f'task loss keys {clash} clash with the '
                               f'fusion prefix {FUSION_PREFIX!r}')
            losses.update(task_losses)
        losses.update(self._fusion_loss(fused, inputs))
        if not losses:
            raise ValueError(
                f'{type(self).__name__}: no loss to train with: the task '
                'loss is off (fusion warm-up) and fusion_losses is empty or '
                'eta is 0')
        if self.check_finite:
            self._check_finite(losses, data_samples)
        return losses

    def _fusion_loss(self, fused: torch.Tensor,
                     inputs: torch.Tensor) -> Dict[str, torch.Tensor]:
        eta = self.fusion_loss_weight
        if eta == 0 or not len(self.fusion_losses):
            return {}
        losses = {
            FUSION_PREFIX + loss_fn.loss_name: eta * loss_fn(fused, inputs)
            for loss_fn in self.fusion_losses
        }
        losses[FUSION_PREFIX + 'eta'] = fused.new_tensor(eta)
        return losses

    def _check_finite(self, losses: LossDict, data_samples: Sequence) -> None:
        for name, value in losses.items():
            values = value if isinstance(value, (list, tuple)) else [value]
            if all(torch.isfinite(v).all() for v in values):
                continue
            stems = [s.get('stem') for s in data_samples]
            shown = [v.detach().float().mean().item() for v in values]
            raise FloatingPointError(
                f'{type(self).__name__}: {name} is not finite ({shown}) on '
                f'samples {stems}; check the inputs, eta and the learning '
                'rates')

    def predict(self, inputs: torch.Tensor, data_samples: List) -> List:
        """Task predictions + ``pred_fused`` (+ ``pred_fused_rgb``)."""
        if data_samples is None:
            raise ValueError(
                f'{type(self).__name__}.predict needs data_samples')
        fused = self.fuse(inputs)
        samples = self._task_predict(
            self.task_inputs(fused, data_samples), data_samples)
        fused = fused.clamp(0, 1)
        for i, sample in enumerate(samples):
            pred = crop_to_shape(fused[i], sample.get('img_shape'))
            sample.pred_fused = pred
            if 'chroma' in sample:
                rgb = ycbcr_to_rgb(torch.cat([pred, sample.chroma], dim=0))
                sample.pred_fused_rgb = rgb.clamp(0, 1)
        return samples

    # ------------------------------------------------------------------
    # task-specific parts
    # ------------------------------------------------------------------
    def _task_loss(self, task_inputs: torch.Tensor,
                   data_samples: List) -> LossDict:
        raise NotImplementedError

    def _task_predict(self, task_inputs: torch.Tensor,
                      data_samples: List) -> List:
        raise NotImplementedError


def get_fusion_task_model(model: nn.Module) -> BaseFusionTaskModel:
    """The compound model inside ``model`` (a wrapper and / or a search).

    Args:
        model (nn.Module): the runner's model: a
            :class:`BaseFusionTaskModel`, possibly wrapped (DDP) and / or
            the ``architecture`` of a ``BilevelSearchAlgorithm``.

    Returns:
        BaseFusionTaskModel: the compound model.

    Raises:
        TypeError: there is none.
    """
    if is_model_wrapper(model):
        model = model.module
    if not isinstance(model, BaseFusionTaskModel):
        model = getattr(model, 'architecture', None)
    if not isinstance(model, BaseFusionTaskModel):
        raise TypeError(
            'expected a fusion + task model (FusionDetector / '
            'FusionSegmentor, possibly the architecture of a '
            f'BilevelSearchAlgorithm), got {type(model).__name__}')
    return model


def pad_hw(x: torch.Tensor, shape: Tuple[int, int],
           value: float) -> torch.Tensor:
    """Pad the trailing ``(h, w)`` of ``x`` at the bottom / right to
    ``shape``."""
    return F.pad(x, (0, shape[1] - x.shape[-1], 0, shape[0] - x.shape[-2]),
                 value=value)
