"""A pre-module (fusion or scene network) feeding a real task model."""
import copy
from abc import abstractmethod
from typing import Any, Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.config import ConfigDict
from mmengine.model import BaseModel, is_model_wrapper

from mmfusenas.registry import MODELS
from mmfusenas.utils.distributed import raise_on_any_rank
from mmfusenas.utils.module_checkpoint import (ModuleInit,
                                              load_module_checkpoint,
                                              parse_module_init)
from mmfusenas.utils.typing_utils import LossDict, ModuleConfigType


#: ImageNet mean / std in [0, 255] units (what mmdet / mmseg configs use).
IMAGENET_MEAN = (123.675, 116.28, 103.53)
IMAGENET_STD = (58.395, 57.12, 57.375)


def build_module(cfg: ModuleConfigType) -> nn.Module:
    """Build a module config in the mmfusenas registry (modules pass)."""
    return cfg if isinstance(cfg, nn.Module) else MODELS.build(cfg)


class BasePreTaskModel(BaseModel):
    """A pre-module feeding a real MMDetection / MMSegmentation model.

    The common machinery of the compound models: the **pre-module** (the
    fusion network N_F of TIM, :class:`BaseFusionTaskModel`; the RUAS scene
    module, :class:`BaseSceneTaskModel`) turns the batch into a 3-channel
    picture in ``[0, 1]``, which is normalised, ``(255 · rgb - mean) /
    std`` (``mean`` / ``std`` in [0, 255] units, R, G, B, like mmdet's
    ``DetDataPreprocessor``), and given to the task model, built from a
    ``_scope_`` sub-config. The training loss is::

        loss = ℓ_task + w · Σ_k ℓ_pre,k

    with ``w`` = :attr:`pre_loss_weight` (η of TIM, λ of RUAS). Every
    ``ℓ_pre,k``, already multiplied by ``w``, is logged as
    ``<pre_prefix><loss_name>`` (``fusion.`` / ``scene.``) and ``w`` as
    ``<pre_prefix><weight_key>`` (not summed: no ``loss`` in the key);
    the task model's losses keep their names. MMEngine sums every key
    containing ``'loss'``.

    Training stages are switched by hooks (``mmfusenas.engine.hooks``) or
    by hand: :attr:`task_enabled` (False: ℓ_pre only, the task model is not
    run — a warm-up / unsupervised pre-training), :attr:`pre_loss_weight`
    and :meth:`set_pre_frozen` (the pre-module without gradients, in eval
    mode; ℓ_pre is still computed for the log).

    Each subclass takes its options under its own config names
    (:meth:`config_names`: ``fusion_net`` / ``detector`` /
    ``fusion_loss_weight`` ... for :class:`FusionDetector`); the generic
    names below work too. A new pre-module kind is one subclass (the class
    attributes below, spelled out, and the four pre-module methods; its
    accessors under its own names, e.g. ``fusion_loss_weight`` /
    ``set_fusion_frozen``, are one-line definitions), a new task kind one
    mixin (``task_mixins``).

    Subclasses set the class attributes below and implement the abstract
    methods :meth:`_run_pre`, :meth:`_task_image`, :meth:`_pre_losses` and
    :meth:`_attach_pre` (the pre-module's side) and :meth:`_task_loss` /
    :meth:`_task_predict` (the task's side, see ``task_mixins``); a class
    missing one cannot be instantiated (``TypeError`` naming it).

    Args:
        pre_net (dict | nn.Module): the pre-module.
        task_model (dict | nn.Module): the detector / segmentor config;
            ``_scope_`` defaults to :attr:`task_scope`. It must not define a
            ``data_preprocessor``.
        pre_losses (Sequence[dict | nn.Module]): ℓ_pre terms, unique
            ``loss_name`` each.
        pre_loss_weight (float): ``w >= 0``.
        mean (Sequence[float]): task input mean, [0, 255] units, R, G, B.
        std (Sequence[float]): task input std, [0, 255] units.
        pre_init (str | dict, optional): initialise the pre-module from a
            checkpoint in :meth:`init_weights`: a path or
            ``dict(checkpoint=path, prefix=None)`` (prefixes tried:
            :attr:`pre_auto_prefixes`).
        freeze_pre (bool): start with the pre-module frozen.
        task_init (str | dict, optional): initialise the task model from a
            checkpoint in :meth:`init_weights` (after ``pre_init``): a path
            or ``dict(checkpoint=path, prefix=None)``, e.g. the saved
            initial weights of a detector that is also trained alone, so
            that both start from the same weights.
        check_finite (bool): raise ``FloatingPointError`` naming the loss
            and the samples when a loss is NaN / Inf.
        data_preprocessor (dict | nn.Module, optional): defaults to
            :attr:`default_data_preprocessor`.
        init_cfg (dict, optional): weight initialisation config.
    """

    #: name of the pre-module kind (``'fusion'``, ``'scene'``); the names
    #: below follow it by convention (``<name>_net``, ``<name>_losses``,
    #: ``<name>.``, ``<name>_loss_weight``, ``<name>_init``,
    #: ``freeze_<name>``; tests/test_models/test_compound_findable.py
    #: checks every subclass)
    pre_name = ''
    #: attribute (and config key) of the pre-module: ``<name>_net``
    pre_attr = ''
    #: attribute of the pre-module's loss list (a config key too):
    #: ``<name>_losses``
    pre_losses_attr = ''
    #: log-key prefix of the pre-module's losses: ``<name>.``
    pre_prefix = ''
    #: log key (after the prefix) of the pre-loss weight (η, λ, ...)
    pre_weight_key = 'weight'
    #: config name of the pre-loss weight argument: ``<name>_loss_weight``
    pre_weight_arg = 'pre_loss_weight'
    #: the weight, for messages: ``<name>_loss_weight (<weight key>)``
    pre_weight_name = 'pre_loss_weight'
    #: config name of the pre-module checkpoint option: ``<name>_init``
    pre_init_name = 'pre_init'
    #: config name of the start-frozen switch: ``freeze_<name>``
    pre_freeze_arg = 'freeze_pre'
    #: prefixes tried by ``pre_init`` when none is given
    pre_auto_prefixes: Tuple[str, ...] = ('', )
    #: attribute (and config key) of the task model
    task_attr = ''
    #: registry scope of the task model's config
    task_scope = 'mmdet'
    #: data preprocessor when none is given
    default_data_preprocessor: dict = {}

    def __init__(self,
                 pre_net: Optional[ModuleConfigType] = None,
                 task_model: Optional[ModuleConfigType] = None,
                 pre_losses: Sequence[ModuleConfigType] = (),
                 pre_loss_weight: float = 1.0,
                 mean: Sequence[float] = IMAGENET_MEAN,
                 std: Sequence[float] = IMAGENET_STD,
                 pre_init: Optional[ModuleInit] = None,
                 freeze_pre: bool = False,
                 task_init: Optional[ModuleInit] = None,
                 check_finite: bool = True,
                 data_preprocessor: Optional[ModuleConfigType] = None,
                 init_cfg: Optional[dict] = None,
                 **named: Any) -> None:
        given = self._from_config_names(
            named,
            pre_net=pre_net,
            task_model=task_model,
            pre_losses=pre_losses,
            pre_loss_weight=pre_loss_weight,
            pre_init=pre_init,
            freeze_pre=freeze_pre)
        pre_net, task_model = given['pre_net'], given['task_model']
        pre_losses, pre_loss_weight = given['pre_losses'], \
            given['pre_loss_weight']
        pre_init, freeze_pre = given['pre_init'], given['freeze_pre']
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
        setattr(self, self.pre_attr, build_module(pre_net))
        setattr(self, self.task_attr, self._build_task_model(task_model))
        setattr(self, self.pre_losses_attr,
                nn.ModuleList(build_module(loss) for loss in pre_losses))
        names = [loss.loss_name for loss in self.pre_losses]
        if len(set(names)) != len(names):
            raise ValueError(f'{owner}: the {self.pre_losses_attr} names '
                             f'must be unique, got {names}')
        self.register_buffer(
            'mean', torch.tensor(mean, dtype=torch.float32).view(1, 3, 1, 1),
            persistent=False)
        self.register_buffer(
            'std', torch.tensor(std, dtype=torch.float32).view(1, 3, 1, 1),
            persistent=False)
        self.pre_loss_weight = pre_loss_weight
        self.pre_init = parse_module_init(pre_init, self.pre_init_name)
        self.task_init = parse_module_init(task_init, 'task_init')
        self.check_finite = check_finite
        self.task_enabled = True
        self._pre_frozen = False
        self.set_pre_frozen(freeze_pre)

    # ------------------------------------------------------------------
    # construction and state
    # ------------------------------------------------------------------
    @classmethod
    def config_names(cls) -> Dict[str, str]:
        """Generic argument name -> this class's config name."""
        return dict(
            pre_net=cls.pre_attr or 'pre_net',
            task_model=cls.task_attr or 'task_model',
            pre_losses=cls.pre_losses_attr or 'pre_losses',
            pre_loss_weight=cls.pre_weight_arg,
            pre_init=cls.pre_init_name,
            freeze_pre=cls.pre_freeze_arg)

    def _from_config_names(self, named: Dict[str, Any],
                           **given: Any) -> Dict[str, Any]:
        """Map the options given under this class's config names onto the
        generic arguments; refuse unknown or doubly given ones."""
        owner = type(self).__name__
        names = self.config_names()
        named = dict(named)
        for generic, key in names.items():
            if key == generic or key not in named:
                continue
            if generic in ('pre_net', 'task_model') and \
                    given[generic] is not None:
                raise TypeError(f'{owner}: give {key!r} or {generic!r}, '
                                'not both')
            given[generic] = named.pop(key)
        if named:
            raise TypeError(
                f'{owner} got unexpected arguments {sorted(named)}; its '
                f'options are {sorted(names.values())}, mean, std, '
                'check_finite, data_preprocessor, '
                'init_cfg and those of '
                'its task side')
        for generic in ('pre_net', 'task_model'):
            if given[generic] is None:
                raise TypeError(f'{owner} needs {names[generic]!r}')
        return given

    def _build_task_model(self, cfg: ModuleConfigType) -> nn.Module:
        if isinstance(cfg, nn.Module):
            return cfg
        if not isinstance(cfg, dict):
            raise TypeError(f'{type(self).__name__}: {self.task_attr} must '
                            f'be a config dict or a module, got '
                            f'{type(cfg).__name__}')
        if cfg.get('data_preprocessor') is not None:
            raise ValueError(
                f'{type(self).__name__}: remove {self.task_attr}.'
                'data_preprocessor: the compound model batches the inputs '
                'with its own data_preprocessor and normalises the task '
                f'input itself; give mean / std to {type(self).__name__} '
                '([0, 255] units) instead')
        # ConfigDict: mmdet / mmseg read train_cfg / test_cfg by attribute
        cfg = ConfigDict(copy.deepcopy(cfg))
        cfg.setdefault('_scope_', self.task_scope)
        return MODELS.build(cfg)

    @property
    def pre_net(self) -> nn.Module:
        """The pre-module (fusion network / scene module)."""
        return getattr(self, self.pre_attr)

    @property
    def pre_losses(self) -> nn.ModuleList:
        """The ℓ_pre terms."""
        return getattr(self, self.pre_losses_attr)

    @property
    def task_model(self) -> nn.Module:
        """The MMDetection detector / MMSegmentation segmentor."""
        return getattr(self, self.task_attr)

    @property
    def pre_loss_weight(self) -> float:
        """``w``, the weight of ℓ_pre in the joint loss."""
        return self._pre_loss_weight

    @pre_loss_weight.setter
    def pre_loss_weight(self, value: float) -> None:
        value = float(value)
        if not value >= 0:  # also refuses NaN
            raise ValueError(f'{type(self).__name__}: '
                             f'{self.pre_weight_name} must be >= 0, got '
                             f'{value}')
        self._pre_loss_weight = value

    @property
    def pre_frozen(self) -> bool:
        """Whether the pre-module is frozen (no gradients, eval mode)."""
        return self._pre_frozen

    def set_pre_frozen(self, frozen: bool) -> None:
        """Freeze (or unfreeze) the pre-module.

        Frozen: every parameter of the pre-module has
        ``requires_grad=False`` and it stays in eval mode (its BN
        statistics are fixed), as mmdet's ``frozen_stages``. The parameters
        stay in the optimizer, which skips them while they have no
        gradient, so unfreezing later resumes their training.
        """
        self._pre_frozen = bool(frozen)
        for param in self.pre_net.parameters():
            param.requires_grad_(not self._pre_frozen)
        self.pre_net.train(self.training and not self._pre_frozen)

    def train(self, mode: bool = True) -> 'BasePreTaskModel':
        """Set train / eval mode; a frozen pre-module stays in eval mode."""
        super().train(mode)
        if self._pre_frozen:
            self.pre_net.eval()
        return self

    def init_weights(self) -> None:
        """Initialise, then load ``pre_init`` into the pre-module and
        ``task_init`` into the task model."""
        super().init_weights()
        if self.pre_init is not None:
            load_module_checkpoint(self.pre_net, self.pre_init['checkpoint'],
                                   self.pre_init['prefix'],
                                   self.pre_auto_prefixes,
                                   self.pre_init_name)
        if self.task_init is not None:
            load_module_checkpoint(self.task_model,
                                   self.task_init['checkpoint'],
                                   self.task_init['prefix'], ('', ),
                                   'task_init')

    # ------------------------------------------------------------------
    # pre-module -> task input
    # ------------------------------------------------------------------
    def run_pre(self, inputs: torch.Tensor) -> Any:
        """The pre-module on a batch (no gradient while it is frozen)."""
        with torch.set_grad_enabled(torch.is_grad_enabled()
                                    and not self._pre_frozen):
            return self._run_pre(inputs)

    def task_inputs(self, pre_out: Any,
                    data_samples: Sequence) -> torch.Tensor:
        """The normalised task input ``(255 · rgb - mean) / std``."""
        rgb = self._task_image(pre_out, data_samples)
        return (rgb * 255 - self.mean) / self.std

    # ------------------------------------------------------------------
    # MMEngine interface
    # ------------------------------------------------------------------
    def forward(self,
                inputs: torch.Tensor,
                data_samples: Optional[List] = None,
                mode: str = 'tensor'):
        """``'loss'``: loss dict; ``'predict'``: data samples with the task
        predictions and the pre-module's image; ``'tensor'``: ``(pre-module
        output, raw task outputs)``."""
        if mode == 'loss':
            return self.loss(inputs, data_samples)
        if mode == 'predict':
            return self.predict(inputs, data_samples)
        if mode == 'tensor':
            out = self.run_pre(inputs)
            samples = data_samples or []
            return out, self.task_model._forward(
                self.task_inputs(out, samples), data_samples)
        raise ValueError(f"mode must be 'loss', 'predict' or 'tensor', "
                         f"got '{mode}'")

    def loss(self, inputs: torch.Tensor, data_samples: List) -> LossDict:
        """ℓ_task + w·ℓ_pre on a preprocessed batch."""
        owner = type(self).__name__
        if data_samples is None:
            raise ValueError(f'{owner}.loss needs data_samples')
        if not self.task_enabled and self._pre_frozen:
            raise RuntimeError(
                f'{owner}: the task loss is off (warm-up / pre-training) and '
                f'{self.pre_attr} is frozen, so nothing would train; check '
                'the training-stage hooks and the freeze option')
        out = self.run_pre(inputs)
        losses: LossDict = {}
        if self.task_enabled:
            task_losses = self._task_loss(
                self.task_inputs(out, data_samples), data_samples)
            prefixes = self.pre_log_prefixes()
            clash = [k for k in task_losses if k.startswith(prefixes)]
            if clash:
                raise KeyError(f'task loss keys {clash} clash with the '
                               f'pre-module prefixes {prefixes}')
            losses.update(task_losses)
        losses.update(self._weighted_pre_losses(out, inputs))
        if not losses:
            raise ValueError(
                f'{owner}: no loss to train with: the task loss is off '
                f'(warm-up) and {self.pre_losses_attr} is empty or '
                f'{self.pre_weight_name} is 0')
        if self.check_finite:
            self._check_finite(losses, data_samples)
        return losses

    def pre_log_prefixes(self) -> Tuple[str, ...]:
        """Log-key prefixes of the pre-module's losses (task loss keys must
        not start with one)."""
        return (self.pre_prefix, )

    def _weighted_pre_losses(self, out: Any,
                             inputs: torch.Tensor) -> Dict[str, torch.Tensor]:
        """``{<prefix><loss_name>: w · ℓ_pre,k, <prefix><weight key>: w}``;
        empty when ``w`` is 0 or there is no pre loss."""
        weight = self.pre_loss_weight
        if weight == 0 or not len(self.pre_losses):
            return {}
        losses = {
            self.pre_prefix + name: weight * value
            for name, value in self._pre_losses(out, inputs).items()
        }
        losses[self.pre_prefix + self.pre_weight_key] = \
            inputs.new_tensor(weight)
        return losses

    def _check_finite(self, losses: LossDict, data_samples: Sequence) -> None:
        error = None
        for name, value in losses.items():
            values = value if isinstance(value, (list, tuple)) else [value]
            if all(torch.isfinite(v).all() for v in values):
                continue
            stems = [s.get('stem', s.get('img_path')) for s in data_samples]
            shown = [v.detach().float().mean().item() for v in values]
            error = (f'{type(self).__name__}: {name} is not finite ({shown}) '
                     f'on samples {stems}; check the inputs, '
                     f'{self.pre_weight_name} and the learning rates')
            break
        # collective in a data-parallel step: all ranks stop together
        raise_on_any_rank(error)

    def predict(self, inputs: torch.Tensor, data_samples: List) -> List:
        """Task predictions + the pre-module's image on every sample."""
        if data_samples is None:
            raise ValueError(
                f'{type(self).__name__}.predict needs data_samples')
        out = self.run_pre(inputs)
        samples = self._task_predict(
            self.task_inputs(out, data_samples), data_samples)
        self._attach_pre(samples, out)
        return samples

    # ------------------------------------------------------------------
    # the pre-module's side
    # ------------------------------------------------------------------
    @abstractmethod
    def _run_pre(self, inputs: torch.Tensor) -> Any:
        """The pre-module's output (anything the methods below read)."""
        raise NotImplementedError

    @abstractmethod
    def _task_image(self, pre_out: Any,
                    data_samples: Sequence) -> torch.Tensor:
        """``(N, 3, H, W)`` picture in ``[0, 1]`` for the task model."""
        raise NotImplementedError

    @abstractmethod
    def _pre_losses(self, pre_out: Any,
                    inputs: torch.Tensor) -> Dict[str, torch.Tensor]:
        """``{loss_name: ℓ_pre,k}`` (unweighted by ``w``)."""
        raise NotImplementedError

    @abstractmethod
    def _attach_pre(self, samples: List, pre_out: Any) -> None:
        """Put the pre-module's image(s) on the predicted samples."""
        raise NotImplementedError

    # ------------------------------------------------------------------
    # the task's side
    # ------------------------------------------------------------------
    @abstractmethod
    def _task_loss(self, task_inputs: torch.Tensor,
                   data_samples: List) -> LossDict:
        """The task model's loss dict on the normalised task input."""
        raise NotImplementedError

    @abstractmethod
    def _task_predict(self, task_inputs: torch.Tensor,
                      data_samples: List) -> List:
        """The task model's predicted data samples."""
        raise NotImplementedError


def get_pre_task_model(model: nn.Module) -> BasePreTaskModel:
    """The compound model inside ``model`` (a wrapper and / or a search).

    Args:
        model (nn.Module): the runner's model: a :class:`BasePreTaskModel`
            (``FusionDetector``, ``SceneSegmentor``, ...), possibly wrapped
            (DDP) and / or the ``architecture`` of a search algorithm.

    Returns:
        BasePreTaskModel: the compound model.

    Raises:
        TypeError: there is none.
    """
    if is_model_wrapper(model):
        model = model.module
    if not isinstance(model, BasePreTaskModel):
        model = getattr(model, 'architecture', None)
    if not isinstance(model, BasePreTaskModel):
        raise TypeError(
            'expected a pre-module + task model (FusionDetector / '
            'FusionSegmentor / SceneDetector / SceneSegmentor, possibly the '
            'architecture of a search algorithm), got '
            f'{type(model).__name__}')
    return model


def pad_hw(x: torch.Tensor, shape: Tuple[int, int],
           value: float) -> torch.Tensor:
    """Pad the trailing ``(h, w)`` of ``x`` at the bottom / right to
    ``shape``."""
    return F.pad(x, (0, shape[1] - x.shape[-1], 0, shape[0] - x.shape[-2]),
                 value=value)
