"""RUAS cooperative search of a scene and a task module."""
from fnmatch import fnmatchcase
from typing import Any, Dict, List, Mapping, Sequence, Union

import torch
from mmengine.optim import OptimWrapper
from torch import Tensor

from mmfusenas.models.mutables import DiffMixedOp
from mmfusenas.registry import MODELS
from mmfusenas.utils.distributed import check_finite
from ..strategies import CooperativeProblem, CooperativeStrategy
from .bilevel_search import BilevelSearchAlgorithm, _frozen


@MODELS.register_module()
class CooperativeSearchAlgorithm(BilevelSearchAlgorithm):
    """:class:`BilevelSearchAlgorithm` with a scene and a task module.

    The architecture holds two searchable sub-networks: the scene module at
    ``scene_path`` (α_s: the architecture keys of its choice points, e.g.
    ``scene/edge<e>`` shared by all stages) and the task module at
    ``task_path`` (α_t). Two kinds of architecture:

    * an :class:`~mmfusenas.models.ImageEnhancer` around a RUAS supernet
      (low-level task: the denoiser, ``task_path='network.denoiser'``,
      keys ``denoise/edge<e>``);
    * a scene + task model (:class:`~mmfusenas.models.SceneDetector` /
      :class:`~mmfusenas.models.SceneSegmentor`; ``scene_path='scene_net'``,
      ``task_path='detector'`` / ``'segmentor'``) whose SSD neck / head or
      DeepLabV3+ feature conversion holds the task choice points.

    L^s and L^t are sums of entries of the architecture's loss dict,
    selected by ``scene_losses`` / ``task_losses``: names or shell-style
    patterns (``'scene.*'``, ``'loss_*'``, ``'decode.loss_*'``) matched
    against the loss keys that contain ``'loss'`` (MMEngine's rule: no
    accuracies, no ``scene.lambda``); an entry that is a list (mmdet's
    per-image SSD losses) is summed. Every pattern must match a key
    (checked at construction when the loss names are known, otherwise on
    the first batch). One :meth:`train_step` (Alg. 1; the official code's
    per-step alternation):

    1. every ``arch_update_interval``-th call: α_s step with
       ``strategy.scene_hypergradient`` (+ β coupling);
    2. scene weights ω_s: one step on L^s (train batch);
    3. every ``task_update_interval``-th call: α_t step with
       ``strategy.task_hypergradient`` (at the updated α_s, when α is due),
       then ω_t: one step on L^t.

    With ``strategy.mode == 'global'`` step 1 is one joint α step and the
    weights take one step on ``L^s + L^t`` (all ω, cross gradients
    included). Otherwise ω_s only ever receives ∇L^s and ω_t only ∇L^t
    (gradients taken with ``torch.autograd.grad`` w.r.t. each list); the
    weight optimizer's ``clip_grad`` applies to the gradients of the
    parameters stepped together (official: one clip of norm 5 per module).
    The single α optimizer is stepped with ``.grad`` set only on the α
    being updated (Adam skips parameters without gradients).

    The genotype (``derive_genotype``) covers both modules when
    ``space_path`` names their common parent (``'network'``): one combined
    file; ``meta`` lists ``scene_keys`` and ``task_keys``.

    Args:
        architecture (dict): supernet model config.
        strategy (dict | CooperativeStrategy): the cooperative strategy.
        scene_path (str): dotted path of the scene module in the
            architecture. Defaults to 'network.scene'.
        task_path (str): dotted path of the task module. Defaults to
            'network.denoiser'.
        scene_losses (Sequence[str]): loss names / patterns of L^s.
            Defaults to ('loss_scene', ).
        task_losses (Sequence[str]): loss names / patterns of L^t.
            Defaults to ('loss_denoise', ).
        task_update_interval (int): k ≥ 1: the task steps run on every
            k-th call (official code: 10). Defaults to 1.
        space_path (str): see :class:`BilevelSearchAlgorithm`. Defaults to
            'network'.
        **kwargs: ``arch_update_interval``, ``arch_init_std``,
            ``data_preprocessor``, ``init_cfg`` of the base class (no
            regulariser).
    """

    def __init__(self,
                 architecture: dict,
                 strategy: Union[dict, CooperativeStrategy],
                 scene_path: str = 'network.scene',
                 task_path: str = 'network.denoiser',
                 scene_losses: Sequence[str] = ('loss_scene', ),
                 task_losses: Sequence[str] = ('loss_denoise', ),
                 task_update_interval: int = 1,
                 space_path: str = 'network',
                 **kwargs: Any) -> None:
        if 'regularizer' in kwargs:
            raise ValueError('CooperativeSearchAlgorithm has no regularizer')
        super().__init__(
            architecture, strategy, space_path=space_path, **kwargs)
        if not isinstance(self.strategy, CooperativeStrategy):
            raise TypeError('CooperativeSearchAlgorithm needs a '
                            'CooperativeStrategy, got '
                            f'{type(self.strategy).__name__}')
        if int(task_update_interval) != task_update_interval or \
                task_update_interval < 1:
            raise ValueError('task_update_interval must be an integer >= 1, '
                             f'got {task_update_interval}')
        self.task_update_interval = int(task_update_interval)
        self.scene_path, self.task_path = scene_path, task_path
        scene = self.architecture.get_submodule(scene_path)
        task = self.architecture.get_submodule(task_path)
        self.scene_keys = self._keys(scene, scene_path)
        self.task_keys = self._keys(task, task_path)
        shared = set(self.scene_keys) & set(self.task_keys)
        if shared:
            raise ValueError(f'architecture keys {sorted(shared)} are used by '
                             'both the scene and the task module')
        unassigned = set(self.arch_params.keys()) - set(
            self.scene_keys) - set(self.task_keys)
        if unassigned:
            raise ValueError(f'architecture keys {sorted(unassigned)} belong '
                             'to neither the scene nor the task module')
        for what, given in (('scene_losses', scene_losses),
                            ('task_losses', task_losses)):
            if isinstance(given, str) or not given:
                raise ValueError(f'{what} must be a non-empty list of loss '
                                 f'names / patterns, got {given!r}')
        self.scene_losses = tuple(scene_losses)
        self.task_losses = tuple(task_losses)
        known = self._known_loss_names()
        if known is not None:
            for what, given in (('scene_losses', self.scene_losses),
                                ('task_losses', self.task_losses)):
                unmatched = [
                    p for p in given
                    if not any(fnmatchcase(n, p) for n in known)
                ]
                if unmatched:
                    raise ValueError(
                        f'{what} {unmatched} match no loss of the '
                        f'architecture {known}')

    def _known_loss_names(self):
        """The architecture's loss names when they are known before a
        forward pass (an ImageEnhancer's ``losses``), else None."""
        losses = getattr(self.architecture, 'losses', None)
        if not isinstance(losses, torch.nn.ModuleList):
            return None
        return [loss.loss_name for loss in losses]

    @staticmethod
    def _keys(module, path: str) -> List[str]:
        keys = list(
            dict.fromkeys(m.key for m in module.modules()
                          if isinstance(m, DiffMixedOp)))
        if not keys:
            raise ValueError(f'the module at {path!r} has no choice points')
        return keys

    # the four parameter lists -------------------------------------------
    def scene_arch_parameters(self) -> List[Tensor]:
        """α_s."""
        return [self.arch_params.alphas[k] for k in self.scene_keys]

    def task_arch_parameters(self) -> List[Tensor]:
        """α_t."""
        return [self.arch_params.alphas[k] for k in self.task_keys]

    def scene_weight_parameters(self) -> List[Tensor]:
        """ω_s (those that require grad: frozen parts are constants)."""
        return [
            p for p in self.architecture.get_submodule(
                self.scene_path).parameters() if p.requires_grad
        ]

    def task_weight_parameters(self) -> List[Tensor]:
        """ω_t (those that require grad: e.g. not a frozen backbone)."""
        return [
            p for p in self.architecture.get_submodule(
                self.task_path).parameters() if p.requires_grad
        ]

    # losses ---------------------------------------------------------------
    @staticmethod
    def _select(losses: Dict[str, Any],
                patterns: Sequence[str]) -> Dict[str, Tensor]:
        """The loss entries matched by ``patterns``, lists summed."""
        keys = [k for k in losses if 'loss' in k]
        chosen: Dict[str, Tensor] = {}
        for pattern in patterns:
            hits = [k for k in keys if fnmatchcase(k, pattern)]
            if not hits:
                raise KeyError(f'loss pattern {pattern!r} matches none of '
                               f'the architecture losses {keys}')
            for k in hits:
                value = losses[k]
                chosen[k] = (sum(value) if isinstance(value, (list, tuple))
                             else value)
        return chosen

    def _named(self, losses: Dict[str, Any],
               patterns: Sequence[str]) -> Tensor:
        return sum(self._select(losses, patterns).values())

    def scene_loss(self, data: dict) -> Tensor:
        """L^s on a preprocessed batch."""
        return self._named(self.architecture(**data, mode='loss'),
                           self.scene_losses)

    def task_loss(self, data: dict) -> Tensor:
        """L^t on a preprocessed batch."""
        return self._named(self.architecture(**data, mode='loss'),
                           self.task_losses)

    @property
    def task_step_due(self) -> bool:
        """Whether the next :meth:`train_step` runs the task steps."""
        return (self.num_train_steps + 1) % self.task_update_interval == 0

    # training ---------------------------------------------------------------
    def train_step(self, data: dict,
                   optim_wrapper: Mapping) -> Dict[str, Union[Tensor, float]]:
        """Alg. 1 on one (train, val) batch pair; see the class docstring."""
        weights_ow, arch_ow = self._split_optim_wrapper(optim_wrapper)
        if not isinstance(data, Mapping) or 'train' not in data:
            raise TypeError('CooperativeSearchAlgorithm.train_step expects '
                            'data = dict(train=batch, val=batch) from a '
                            'bilevel loop')
        train = self.data_preprocessor(data['train'], True)
        arch_due, task_due = self.arch_step_due, self.task_step_due
        val = None
        if arch_due:
            if data.get('val') is None:
                raise ValueError(f'train step {self.num_train_steps} updates '
                                 "α and needs data['val']")
            val = self.data_preprocessor(data['val'], True)
        problem = CooperativeProblem(
            self.scene_arch_parameters(),
            self.scene_weight_parameters(),
            self.task_arch_parameters(),
            self.task_weight_parameters(),
            train_batch=train,
            val_batch=val,
            scene_loss=self.scene_loss,
            task_loss=self.task_loss,
            weight_optimizer=weights_ow)
        log: Dict[str, Any] = {}
        trained: Dict[str, Tensor] = {}  # the losses of the weight steps
        if self.strategy.mode == 'global':
            if arch_due:
                log.update(self.strategy.step(problem))
                self._step_arch(arch_ow)
            trained.update(self._weight_step(train, weights_ow, 'joint'))
        else:
            if arch_due:
                hyper = self.strategy.scene_hypergradient(problem)
                self._set_grads(problem.scene.arch_params, hyper.grads)
                self._step_arch(arch_ow)
                log.update(hyper.log_vars)
            trained.update(self._weight_step(train, weights_ow, 'scene'))
            if task_due:
                if arch_due:
                    hyper = self.strategy.task_hypergradient(problem)
                    self._set_grads(problem.task.arch_params, hyper.grads)
                    self._step_arch(arch_ow)
                    log.update(hyper.log_vars)
                trained.update(self._weight_step(train, weights_ow, 'task'))
        self.train_step_count += 1
        log.update(trained)
        log['loss'] = sum(trained.values())
        return log

    def _set_grads(self, params: List[Tensor], grads: List[Tensor]) -> None:
        for p in self.arch_parameters():
            p.grad = None
        for p, g in zip(params, grads):
            p.grad = g.detach().clone()

    @staticmethod
    def _step_arch(arch_ow: OptimWrapper) -> None:
        arch_ow.step()
        arch_ow.zero_grad()

    def _weight_step(self, train: dict, weights_ow: OptimWrapper,
                     part: str) -> Dict[str, Tensor]:
        """One weight step: ``'scene'`` ω_s on L^s, ``'task'`` ω_t on L^t,
        ``'joint'`` all ω on L^s + L^t."""
        names, params = {
            'scene': (self.scene_losses, self.scene_weight_parameters),
            'task': (self.task_losses, self.task_weight_parameters),
            'joint': (self.scene_losses + self.task_losses,
                      self.trainable_weight_parameters),
        }[part]
        params = params()
        with weights_ow.optim_context(self), _frozen(self.arch_parameters()):
            losses = self._select(
                self.architecture(**train, mode='loss'), names)
            loss = sum(losses.values())
            check_finite(
                loss, f'CooperativeSearchAlgorithm: the {part} weight loss',
                f' at train step {self.num_train_steps}: '
                f'{ {k: v.item() for k, v in losses.items()} }; check the '
                'inputs and the learning rates')
            weights_ow.zero_grad()
            grads = torch.autograd.grad(loss, params, allow_unused=True)
            for p, g in zip(params, grads):
                p.grad = None if g is None else g.detach()
            weights_ow.step()
            weights_ow.zero_grad()
        return {k: v.detach() for k, v in losses.items()}

    def derive_genotype(self, meta: Any = None):
        """The combined genotype; ``meta`` adds ``scene_keys`` /
        ``task_keys`` and the strategy's ``mode`` / ``beta``."""
        info = dict(
            scene_keys=self.scene_keys,
            task_keys=self.task_keys,
            mode=self.strategy.mode,
            beta=self.strategy.beta)
        info.update(meta or {})
        return super().derive_genotype(meta=info)
