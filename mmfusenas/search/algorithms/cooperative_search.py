"""Cooperative search of cooperating parts (RUAS: a scene and a task
module; a chain: every pre-module and the task model)."""
from fnmatch import fnmatchcase
from typing import Any, Dict, List, Mapping, Optional, Sequence, Union

import torch
from mmengine.optim import OptimWrapper
from torch import Tensor

from mmfusenas.models.mutables import DiffMixedOp
from mmfusenas.registry import MODELS
from mmfusenas.utils.distributed import check_finite
from ..strategies.cooperative import (CooperativePart, CooperativeProblem,
                                      CooperativeStrategy, part_index)
from .base import frozen_parameters
from .bilevel_search import BilevelSearchAlgorithm


@MODELS.register_module()
class CooperativeSearchAlgorithm(BilevelSearchAlgorithm):
    """:class:`BilevelSearchAlgorithm` over two or more cooperating parts.

    RUAS searches two parts: the scene module at ``scene_path`` (α_s: the
    architecture keys of its choice points, e.g. ``scene/edge<e>`` shared by
    all stages) and the task module at ``task_path`` (α_t). Kinds of
    architecture:

    * an :class:`~mmfusenas.models.ImageEnhancer` around a RUAS supernet
      (low-level task: the denoiser, ``task_path='network.denoiser'``,
      keys ``denoise/edge<e>``);
    * a scene + task model (:class:`~mmfusenas.models.SceneDetector` /
      :class:`~mmfusenas.models.SceneSegmentor`; ``scene_path='scene_net'``,
      ``task_path='detector'`` / ``'segmentor'``) whose SSD neck / head or
      DeepLabV3+ feature conversion holds the task choice points;
    * a chain of pre-modules in front of a task model
      (:class:`~mmfusenas.models.ChainDetector`), searched part by part:
      ``parts=[dict(name='scene', path='chain_net.modules_.scene',
      losses=['scene.*']), dict(name='fusion', path=
      'chain_net.modules_.fusion', losses=['fusion.*']), dict(name='task',
      path='detector', losses=['loss_cls', 'loss_bbox'])]``.

    ``parts`` (data-flow order) generalises the two-part arguments, which
    stand for ``[dict(name='scene', path=scene_path, losses=scene_losses),
    dict(name='task', path=task_path, losses=task_losses,
    update_interval=task_update_interval)]``. Every choice point belongs to
    exactly one part and every trainable weight to at most one (checked).

    A part's loss is a sum of entries of the architecture's loss dict,
    selected by names or shell-style patterns (``'scene.*'``,
    ``'loss_*'``, ``'decode.loss_*'``) matched against the loss keys that
    contain ``'loss'`` (MMEngine's rule: no accuracies, no
    ``scene.lambda``); an entry that is a list (mmdet's per-image SSD
    losses) is summed. Every pattern must match a key (checked at
    construction when the loss names are known, otherwise on the first
    batch). One :meth:`train_step` (Alg. 1; the official code's per-step
    alternation), for each part i in order whose ``update_interval`` is due:

    1. if α is due: α_i step with ``strategy.part_hypergradient`` (its own
       hypergradient + β times the coupling to the later parts' validation
       losses, at the α already updated before it);
    2. ω_i: one step on L^i (train batch).

    With ``strategy.mode == 'global'`` step 1 is one joint α step and the
    weights take one step on the summed loss (all ω, cross gradients
    included). Otherwise ω_i only ever receives ∇L^i (gradients taken with
    ``torch.autograd.grad`` w.r.t. each list); the weight optimizer's
    ``clip_grad`` applies to the gradients of the parameters stepped
    together (official: one clip of norm 5 per module). The single α
    optimizer is stepped with ``.grad`` set only on the α being updated
    (Adam skips parameters without gradients).

    The genotype (``derive_genotype``) covers every part when
    ``space_path`` names their common parent (``'network'``, or ``''``
    for the whole model): one combined file; ``meta`` lists ``part_keys``
    (and ``scene_keys`` / ``task_keys``: the first / last part's).

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
        parts (Sequence[dict], optional): ``dict(name, path, losses,
            update_interval=1)`` per part, in data-flow order (``path``: a
            dotted path or a list of them). Replaces the four arguments
            above (which must then keep their defaults). Defaults to None.
        space_path (str): see :class:`BilevelSearchAlgorithm`. Defaults to
            'network'.
        **kwargs: ``arch_update_interval``, ``arch_init_std``,
            ``frozen_modules``, ``data_preprocessor``, ``init_cfg`` of the
            base class (no regulariser).
    """

    def __init__(self,
                 architecture: dict,
                 strategy: Union[dict, CooperativeStrategy],
                 scene_path: str = 'network.scene',
                 task_path: str = 'network.denoiser',
                 scene_losses: Sequence[str] = ('loss_scene', ),
                 task_losses: Sequence[str] = ('loss_denoise', ),
                 task_update_interval: int = 1,
                 parts: Optional[Sequence[dict]] = None,
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
        if parts is None:
            parts = [
                dict(name='scene', path=scene_path, losses=scene_losses),
                dict(
                    name='task',
                    path=task_path,
                    losses=task_losses,
                    update_interval=task_update_interval)
            ]
        else:
            changed = [
                k for k, v, d in (
                    ('scene_path', scene_path, 'network.scene'),
                    ('task_path', task_path, 'network.denoiser'),
                    ('scene_losses', tuple(scene_losses), ('loss_scene', )),
                    ('task_losses', tuple(task_losses), ('loss_denoise', )),
                    ('task_update_interval', task_update_interval, 1))
                if v != d
            ]
            if changed:
                raise ValueError(f'give either parts or {changed}, not both')
        self.parts = self._parse_parts(parts)
        self.part_names = tuple(p['name'] for p in self.parts)
        self.part_keys = {p['name']: p['keys'] for p in self.parts}
        # the two-part names (RUAS): the first and the last part
        self.scene_path, self.task_path = (self.parts[0]['path'],
                                           self.parts[-1]['path'])
        self.scene_keys = self.parts[0]['keys']
        self.task_keys = self.parts[-1]['keys']
        self.scene_losses = self.parts[0]['losses']
        self.task_losses = self.parts[-1]['losses']
        self.task_update_interval = self.parts[-1]['update_interval']
        owner: Dict[str, str] = {}
        for part in self.parts:
            for key in part['keys']:
                if key in owner:
                    raise ValueError(
                        f'architecture key {key!r} is used by both the '
                        f"{owner[key]!r} and the {part['name']!r} part")
                owner[key] = part['name']
        unassigned = set(self.arch_params.keys()) - set(owner)
        if unassigned:
            raise ValueError(f'architecture keys {sorted(unassigned)} belong '
                             f'to none of the parts {self.part_names}')
        seen: Dict[int, str] = {}
        for part in self.parts:
            for p in self._part_weights(part):
                if id(p) in seen:
                    raise ValueError(
                        f"the {seen[id(p)]!r} and {part['name']!r} parts "
                        'share weights; their paths must not overlap')
                seen[id(p)] = part['name']
        known = self._known_loss_names()
        if known is not None:
            for part in self.parts:
                unmatched = [
                    p for p in part['losses']
                    if not any(fnmatchcase(n, p) for n in known)
                ]
                if unmatched:
                    raise ValueError(
                        f"part {part['name']!r}: losses {unmatched} match "
                        f'no loss of the architecture {known}')

    def _parse_parts(self, parts: Sequence[dict]) -> List[Dict[str, Any]]:
        if isinstance(parts, (str, dict)) or len(parts) < 2:
            raise ValueError('parts must be a list of at least two dicts '
                             f'(name, path, losses), got {parts!r}')
        parsed = []
        for i, cfg in enumerate(parts):
            if not isinstance(cfg, dict):
                raise TypeError(f'parts[{i}] must be a dict, got '
                                f'{type(cfg).__name__}')
            unknown = sorted(
                set(cfg) - {'name', 'path', 'losses', 'update_interval'})
            missing = [k for k in ('name', 'path', 'losses') if k not in cfg]
            if unknown or missing:
                raise KeyError(
                    f'parts[{i}]: unknown keys {unknown}, missing keys '
                    f'{missing}; a part is dict(name, path, losses, '
                    'update_interval=1)')
            name = str(cfg['name'])
            losses = cfg['losses']
            if isinstance(losses, str) or not losses:
                raise ValueError(f'part {name!r}: losses must be a non-empty '
                                 f'list of loss names / patterns, got '
                                 f'{losses!r}')
            interval = cfg.get('update_interval', 1)
            if int(interval) != interval or interval < 1:
                raise ValueError(f'part {name!r}: update_interval must be an '
                                 f'integer >= 1, got {interval}')
            paths = ([cfg['path']]
                     if isinstance(cfg['path'], str) else list(cfg['path']))
            modules = []
            for path in paths:
                try:
                    modules.append(self.architecture.get_submodule(path))
                except AttributeError as err:
                    raise ValueError(
                        f'part {name!r}: {path!r} is not a sub-module of the '
                        f'architecture ({err})') from err
            keys = list(
                dict.fromkeys(m.key for module in modules
                              for m in module.modules()
                              if isinstance(m, DiffMixedOp)))
            if not keys:
                raise ValueError(f'part {name!r}: the modules at {paths} '
                                 'have no choice points')
            parsed.append(
                dict(
                    name=name,
                    path=cfg['path'],
                    paths=paths,
                    modules=modules,
                    keys=keys,
                    losses=tuple(losses),
                    update_interval=int(interval)))
        names = [p['name'] for p in parsed]
        if len(set(names)) != len(names):
            raise ValueError(f'part names must be unique, got {names}')
        return parsed

    def _known_loss_names(self):
        """The architecture's loss names when they are known before a
        forward pass (an ImageEnhancer's ``losses``), else None."""
        losses = getattr(self.architecture, 'losses', None)
        if not isinstance(losses, torch.nn.ModuleList):
            return None
        return [loss.loss_name for loss in losses]

    # parameter lists ------------------------------------------------------
    @staticmethod
    def _part_weights(part: Dict[str, Any]) -> List[Tensor]:
        params = {
            id(p): p
            for m in part['modules'] for p in m.parameters()
            if p.requires_grad
        }
        return list(params.values())

    def part_arch_parameters(self, part: Union[int, str]) -> List[Tensor]:
        """α of one part (an index or a name)."""
        return [
            self.arch_params.alphas[k]
            for k in self.parts[self._index(part)]['keys']
        ]

    def part_weight_parameters(self, part: Union[int, str]) -> List[Tensor]:
        """ω of one part (those that require grad: frozen parts, e.g. a
        fixed backbone, are constants)."""
        return self._part_weights(self.parts[self._index(part)])

    def _index(self, part: Union[int, str]) -> int:
        return part_index(self.part_names, part)

    def scene_arch_parameters(self) -> List[Tensor]:
        """α_s (the first part's)."""
        return self.part_arch_parameters(0)

    def task_arch_parameters(self) -> List[Tensor]:
        """α_t (the last part's)."""
        return self.part_arch_parameters(-1)

    def scene_weight_parameters(self) -> List[Tensor]:
        """ω_s (the first part's)."""
        return self.part_weight_parameters(0)

    def task_weight_parameters(self) -> List[Tensor]:
        """ω_t (the last part's)."""
        return self.part_weight_parameters(-1)

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

    def part_loss(self, part: Union[int, str], data: dict) -> Tensor:
        """L^i of one part on a preprocessed batch."""
        return self._named(
            self.architecture(**data, mode='loss'),
            self.parts[self._index(part)]['losses'])

    def scene_loss(self, data: dict) -> Tensor:
        """L^s (the first part's) on a preprocessed batch."""
        return self.part_loss(0, data)

    def task_loss(self, data: dict) -> Tensor:
        """L^t (the last part's) on a preprocessed batch."""
        return self.part_loss(-1, data)

    def part_step_due(self, part: Union[int, str]) -> bool:
        """Whether the next :meth:`train_step` runs ``part``'s steps."""
        interval = self.parts[self._index(part)]['update_interval']
        return (self.num_train_steps + 1) % interval == 0

    @property
    def task_step_due(self) -> bool:
        """Whether the next :meth:`train_step` runs the task steps."""
        return self.part_step_due(-1)

    def _part_loss_fn(self, i: int):

        def loss(data: dict) -> Tensor:
            return self.part_loss(i, data)

        return loss

    def part_losses(self, data: dict) -> List[Tensor]:
        """Every part's loss (part order) from one forward pass."""
        losses = self.architecture(**data, mode='loss')
        return [self._named(losses, part['losses']) for part in self.parts]

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
        arch_due = self.arch_step_due
        due = [self.part_step_due(i) for i in range(len(self.parts))]
        val = None
        if arch_due:
            if data.get('val') is None:
                raise ValueError(f'train step {self.num_train_steps} updates '
                                 "α and needs data['val']")
            val = self.data_preprocessor(data['val'], True)
        problem = CooperativeProblem.from_parts(
            [
                CooperativePart(part['name'], self.part_arch_parameters(i),
                                self.part_weight_parameters(i),
                                self._part_loss_fn(i))
                for i, part in enumerate(self.parts)
            ],
            train_batch=train,
            val_batch=val,
            weight_optimizer=weights_ow,
            losses_fn=self.part_losses)
        log: Dict[str, Any] = {}
        trained: Dict[str, Tensor] = {}  # the losses of the weight steps
        if self.strategy.mode == 'global':
            if arch_due:
                log.update(self.strategy.step(problem))
                self._step_arch(arch_ow)
            trained.update(self._weight_step(train, weights_ow, 'joint'))
        else:
            for i in range(len(self.parts)):
                if not due[i]:
                    continue
                if arch_due:
                    hyper = self.strategy.part_hypergradient(problem, i)
                    self._set_grads(problem.parts[i].arch_params, hyper.grads)
                    self._step_arch(arch_ow)
                    log.update(hyper.log_vars)
                trained.update(self._weight_step(train, weights_ow, i))
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
                     part: Union[int, str]) -> Dict[str, Tensor]:
        """One weight step: part i's ω on L^i, or (``'joint'``) all ω on
        the summed loss."""
        if part == 'joint':
            what = 'joint'
            names = tuple(p for part_ in self.parts for p in part_['losses'])
            params = self.trainable_weight_parameters()
        else:
            i = self._index(part)
            what = self.parts[i]['name']
            names = self.parts[i]['losses']
            params = self.part_weight_parameters(i)
        with weights_ow.optim_context(self), \
                frozen_parameters(self.arch_parameters()):
            losses = self._select(
                self.architecture(**train, mode='loss'), names)
            loss = sum(losses.values())
            check_finite(
                loss, f'CooperativeSearchAlgorithm: the {what} weight loss',
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
        """The combined genotype; ``meta`` adds ``part_keys``,
        ``scene_keys`` / ``task_keys`` and the strategy's ``mode`` /
        ``beta``."""
        info = dict(
            part_keys=self.part_keys,
            scene_keys=self.scene_keys,
            task_keys=self.task_keys,
            mode=self.strategy.mode,
            beta=self.strategy.beta)
        info.update(meta or {})
        return super().derive_genotype(meta=info)
