"""Cooperative search of cooperating parts (RUAS: a scene and a task
module; a chain: every pre-module and the task model)."""
from fnmatch import fnmatchcase
from functools import partial
from typing import Any, Dict, List, Mapping, Optional, Sequence, Union

import torch
from mmengine.optim import OptimWrapper
from torch import Tensor

from mmfusenas.models.mutables import DiffMixedOp
from mmfusenas.registry import MODELS
from ..strategies.cooperative import (CooperativePart, CooperativeProblem,
                                      CooperativeStrategy, part_index)
from .base import frozen_parameters
from .bilevel_search import BilevelSearchAlgorithm


@MODELS.register_module()
class CooperativeSearchAlgorithm(BilevelSearchAlgorithm):
    """:class:`BilevelSearchAlgorithm` over two or more cooperating parts.

    RUAS searches a scene module (``scene_path``, α_s) and a task module
    (``task_path``, α_t); ``parts`` (data-flow order) generalises them to a
    chain, e.g. ``[dict(name='scene', path='scene_net',
    losses=['scene.*']), ..., dict(name='task', path='detector',
    losses=['loss_cls', 'loss_bbox'])]``. Every choice point belongs to
    exactly one part, every trainable weight to at most one. A part's loss
    sums the architecture losses its names / shell patterns match (lists
    summed).

    One :meth:`train_step`, for each part i whose ``update_interval`` is
    due: when α is due, an α_i step with ``strategy.part_hypergradient``;
    then one step of ω_i on L^i (train batch). With
    ``strategy.mode == 'global'``: one joint α step and one step of all ω on
    the summed loss. The genotype covers every part (``space_path`` is
    their common parent); its ``meta`` lists ``part_keys``.

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
        task_update_interval (int): the task steps run on every k-th call.
            Defaults to 1.
        parts (Sequence[dict], optional): ``dict(name, path, losses,
            update_interval=1)`` per part (``path``: one dotted path or a
            list); replaces the five arguments above. Defaults to None.
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
        self.scene_keys = self.parts[0]['keys']
        self.task_keys = self.parts[-1]['keys']
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
        for i, part in enumerate(self.parts):
            for p in self.part_weight_parameters(i):
                if id(p) in seen:
                    raise ValueError(
                        f"the {seen[id(p)]!r} and {part['name']!r} parts "
                        'share weights; their paths must not overlap')
                seen[id(p)] = part['name']
        losses = getattr(self.architecture, 'losses', None)
        if isinstance(losses, torch.nn.ModuleList):  # names known up front
            known = [loss.loss_name for loss in losses]
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
            interval = self.check_interval(
                cfg.get('update_interval', 1),
                f'part {name!r}: update_interval')
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
                    update_interval=interval))
        names = [p['name'] for p in parsed]
        if len(set(names)) != len(names):
            raise ValueError(f'part names must be unique, got {names}')
        return parsed

    def part_arch_parameters(self, part: Union[int, str]) -> List[Tensor]:
        """α of one part (an index or a name)."""
        return [
            self.arch_params.alphas[k]
            for k in self.parts[self._index(part)]['keys']
        ]

    def part_weight_parameters(self, part: Union[int, str]) -> List[Tensor]:
        """ω of one part that require grad."""
        params = {
            id(p): p
            for m in self.parts[self._index(part)]['modules']
            for p in m.parameters() if p.requires_grad
        }
        return list(params.values())

    def _index(self, part: Union[int, str]) -> int:
        return part_index(self.part_names, part)

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

    def part_loss(self, part: Union[int, str], data: dict) -> Tensor:
        """L^i of one part on a preprocessed batch."""
        return sum(
            self._select(
                self.architecture(**data, mode='loss'),
                self.parts[self._index(part)]['losses']).values())

    def part_losses(self, data: dict) -> List[Tensor]:
        """Every part's loss (part order) from one forward pass."""
        losses = self.architecture(**data, mode='loss')
        return [
            sum(self._select(losses, part['losses']).values())
            for part in self.parts
        ]

    def train_step(self, data: dict,
                   optim_wrapper: Mapping) -> Dict[str, Union[Tensor, float]]:
        """Alg. 1 on one (train, val) batch pair; see the class docstring."""
        weights_ow, arch_ow = self._split_optim_wrapper(optim_wrapper)
        arch_due = self.arch_step_due
        train, val = self._train_val(data, arch_due)
        due = [(self.num_train_steps + 1) % part['update_interval'] == 0
               for part in self.parts]
        problem = CooperativeProblem.from_parts(
            [
                CooperativePart(part['name'], self.part_arch_parameters(i),
                                self.part_weight_parameters(i),
                                partial(self.part_loss, i))
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
                log.update(self._upper_step(arch_ow, problem))
            trained.update(self._weight_step(train, weights_ow, 'joint'))
        else:
            for i in range(len(self.parts)):
                if not due[i]:
                    continue
                if arch_due:
                    hyper = self.strategy.part_hypergradient(problem, i)
                    self._set_grads(problem.parts[i].arch_params, hyper.grads)
                    self._upper_step(arch_ow)
                    log.update(hyper.log_vars)
                trained.update(self._weight_step(train, weights_ow, i))
        self._count_step()
        log.update(trained)
        log['loss'] = sum(trained.values())
        return log

    def _set_grads(self, params: List[Tensor], grads: List[Tensor]) -> None:
        for p in self.arch_parameters():
            p.grad = None
        for p, g in zip(params, grads):
            p.grad = g.detach().clone()

    def _weight_step(self, train: dict, weights_ow: OptimWrapper,
                     part: Union[int, str]) -> Dict[str, Tensor]:
        """One weight step: part i's ω on L^i, or (``'joint'``) all ω on
        the summed loss."""
        if part == 'joint':
            names = tuple(p for part_ in self.parts for p in part_['losses'])
            params = self.trainable_weight_parameters()
        else:
            i = self._index(part)
            names = self.parts[i]['losses']
            params = self.part_weight_parameters(i)
        with weights_ow.optim_context(self), \
                frozen_parameters(self.arch_parameters()):
            losses = self._select(
                self.architecture(**train, mode='loss'), names)
            loss = sum(losses.values())
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
