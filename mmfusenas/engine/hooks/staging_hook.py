"""Staged training of the compound models: one hook, a list of phases.

:class:`StagingHook` runs phases, each from an iteration (epoch) on: whether
the task model runs, which parts train, which losses count with what weight,
and an lr factor. The state in force is a function of ``runner.iter`` /
``runner.epoch`` alone, applied before training and before every iteration,
so a resumed run is in the state of an uninterrupted one. The older hooks
(warm-up, freezing, η schedule, chain stages, RUAS strategies) are aliases
that build a phase list. Guide: docs/user_guides/task_guided.md.
"""
import bisect
from typing import Any, List, Optional, Sequence, Tuple, Union

import torch.nn as nn
from mmengine.hooks import Hook
from mmengine.hooks.hook import DATA_BATCH
from mmengine.model import is_model_wrapper
from mmengine.runner import Runner

from mmfusenas.models.compound import get_pre_task_model
from mmfusenas.registry import HOOKS

#: the phase keys a later phase inherits when it leaves them out
STATE_KEYS = ('task', 'train', 'losses', 'loss_weights')
INTERPOLATIONS = ('step', 'linear')
#: key in an optimizer param group holding its lr before a phase's lr_mult
#: (saved with the optimizer state, so a resumed run restores it)
BASE_LR_KEY = 'chain_staging_base_lr'
RUAS_TRAINING_STRATEGIES = ('end_to_end', 'hierarchical')


def _count(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v >= 0


def _number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


#: what each phase key must be: (test, description)
_CHECKS = {
    'begin': (_count, 'an int >= 0'),
    'task': (lambda v: isinstance(v, bool), 'a bool'),
    'train': (lambda v: isinstance(v, (str, list, tuple)), "a list or 'all'"),
    'losses': (lambda v: isinstance(v, (str, list, tuple)), "a list or 'all'"),
    'loss_weights': (lambda v: isinstance(v, dict) and all(
        _number(w) and w >= 0 for w in v.values()), 'a dict of numbers >= 0'),
    'interpolation': (lambda v: v in INTERPOLATIONS, f'in {INTERPOLATIONS}'),
    'lr_mult': (lambda v: v is None or _number(v) and v > 0, 'a number > 0'),
}


def check_count(owner: str, name: str, value: Any) -> None:
    """Raise ``ValueError`` naming ``name`` unless ``value`` is an int >= 0."""
    if not _count(value):
        raise ValueError(f'{owner}: {name} must be an int >= 0, got '
                         f'{value!r}')


def _names(value: Union[str, Sequence[str]],
           everything: Sequence[str] = ()) -> set:
    """A ``train`` / ``losses`` value as a set (``'all'``: ``everything``)."""
    return set(everything) if value == 'all' else \
        {value} if isinstance(value, str) else set(value)


@HOOKS.register_module()
class StagingHook(Hook):
    """Phases of training, each from an iteration (epoch) until the next.

    A phase states some of the keys ``task``, ``train``, ``losses`` and
    ``loss_weights``; one it leaves out keeps the previous phase's value.
    The first phase states every key a later one does; a key no phase
    states is left to the model (so hooks staging different keys combine).

    Parts: a compound model's parts are the stages of its chain
    (``set_stage_frozen``; a ``FusionDetector`` has one, ``'fusion'``, a
    ``SceneDetector`` ``'scene'``) and ``'pre'`` is all of them, an
    ``ImageEnhancer``'s the children of its network (``'network.scene'``),
    and a dotted path names any submodule (``requires_grad``); the task
    model is never frozen. Losses: a chain's stage names or an
    ImageEnhancer's loss names. Loss weights: a stage's name or ``'pre'``
    (every stage: η of TIM, λ of RUAS), or an ImageEnhancer's loss names
    (a factor).

    Args:
        phases (Sequence[dict]): in order of ``begin``, each with keys:

            - ``begin`` (int): first iteration (epoch); 0 for the first.
            - ``task`` (bool): whether the task model runs.
            - ``train`` (list[str] | 'all'): the parts that train; the
              model's other parts and those other phases name are frozen.
            - ``losses`` (list[str] | 'all'): the losses that count.
            - ``loss_weights`` (dict[str, float]): weights by name.
            - ``interpolation`` (str): ``'step'`` (default) or ``'linear'``
              (the loss weights move linearly to the next phase's).
            - ``lr_mult`` (float, optional): in this phase, the lr of the
              optimizer param groups holding the parts that train times
              this (restored before the schedulers step after the phase);
              such a group may not hold task parameters while the task
              model runs.
        by_epoch (bool): ``begin`` counts epochs. Defaults to False.
        recalibrate_bn (int): for this many iterations (epochs) from a
            phase's begin, the chain stages that it freezes and the phase
            before trained re-estimate their BatchNorm statistics
            (``PreModuleChain.set_bn_recalibration``). Defaults to 0.

    Example (TIM's direct fusion: N_F alone on ℓ_F, then frozen)::

        dict(type='StagingHook', phases=[
            dict(begin=0, task=False, train=['fusion']),
            dict(begin=1000, task=True, train=[])])
    """

    #: rescaled by tools/train.py --max-iters (mmfusenas.utils.schedule)
    iteration_fields = {'phases.*.begin': 'start', 'recalibrate_bn': 'length'}
    priority = 'HIGH'  # before the model runs

    def __init__(self,
                 phases: Sequence[dict],
                 by_epoch: bool = False,
                 recalibrate_bn: int = 0) -> None:
        check_count(type(self).__name__, 'recalibrate_bn', recalibrate_bn)
        self.by_epoch, self.recalibrate_bn = by_epoch, recalibrate_bn
        self.phases = self.parse_phases(phases)
        self._logged: Optional[int] = None

    def parse_phases(self, phases: Sequence[dict]) -> List[dict]:
        """Check ``phases`` (an error names the key) and fill in what each
        phase inherits."""
        owner, parsed = type(self).__name__, []
        if not phases:
            raise ValueError(f'{owner}: phases must not be empty')
        for i, given in enumerate(phases):
            where = f'{owner}: phases[{i}]'
            unknown = sorted(set(given) - set(_CHECKS))
            if unknown or 'begin' not in given:
                raise KeyError(f"{where} has unknown keys {unknown} or no "
                               f"'begin'; a phase has {list(_CHECKS)}")
            for key, value in given.items():
                if not _CHECKS[key][0](value):
                    raise ValueError(f'{where}.{key} must be '
                                     f'{_CHECKS[key][1]}, got {value!r}')
            late = [k for k in given if i and k in STATE_KEYS
                    and k not in parsed[0]]
            if late:
                raise KeyError(f'{where} sets {late}, which phases[0] does '
                               'not: the first phase sets every key a later '
                               'one does')
            inherited = {k: v for k, v in (parsed[-1] if i else {}).items()
                         if k in STATE_KEYS}
            parsed.append({**inherited, 'interpolation': 'step',
                           'lr_mult': None, **given})
        begins = [p['begin'] for p in parsed]
        if begins[0] != 0 or any(b <= a for a, b in zip(begins, begins[1:])):
            raise ValueError(f'{owner}: phase begins must start at 0 and '
                             f'increase strictly, got {begins}')
        for i, (p, q) in enumerate(zip(parsed, parsed[1:])):
            if p['interpolation'] == 'linear' and set(p.get(
                    'loss_weights', ())) != set(q.get('loss_weights', ())):
                raise ValueError(f"{owner}: phases[{i}].interpolation="
                                 "'linear' needs the same loss_weights names "
                                 'in the next phase')
        return parsed

    def phase_index(self, progress: int) -> int:
        """Index of the phase in force at iteration (epoch) ``progress``."""
        return bisect.bisect_right([p['begin'] for p in self.phases],
                                   progress) - 1

    def state_at(self, progress: int) -> dict:
        """The stated keys in force at ``progress`` (loss weights
        interpolated)."""
        i = self.phase_index(progress)
        state = {k: v for k, v in self.phases[i].items() if k in STATE_KEYS}
        if self.phases[i]['interpolation'] == 'linear' and \
                i + 1 < len(self.phases):
            t0, t1 = self.phases[i]['begin'], self.phases[i + 1]['begin']
            after = self.phases[i + 1]['loss_weights']
            state['loss_weights'] = {
                n: w + (after[n] - w) * (progress - t0) / (t1 - t0)
                for n, w in state['loss_weights'].items()}
        return state

    def recalibrated_stages(self, progress: int,
                            stages: Sequence[str]) -> set:
        """Chain stages re-estimating their BN statistics at ``progress``:
        frozen by the phase in force, trained by the one before, and within
        ``recalibrate_bn`` of the phase's begin."""
        i = self.phase_index(progress)
        if i == 0 or 'train' not in self.phases[i] or progress >= \
                self.phases[i]['begin'] + self.recalibrate_bn:
            return set()
        return set(stages) & (_names(self.phases[i - 1]['train'], stages) -
                              _names(self.phases[i]['train'], stages))

    # ------------------------------------------------------------------
    def _model(self, runner: Runner) -> nn.Module:
        model = runner.model
        model = model.module if is_model_wrapper(model) else model
        if callable(getattr(model, 'configure_losses', None)):
            return model  # an ImageEnhancer
        try:
            return get_pre_task_model(model)
        except TypeError as err:
            raise TypeError(f'{type(self).__name__} stages a compound model '
                            f'or an ImageEnhancer; {err}') from None

    @staticmethod
    def _own_parts(model: nn.Module) -> List[str]:
        """A compound model's stages, else (an ImageEnhancer) the
        children of its network."""
        if hasattr(model, 'pre_net'):
            return list(model.pre_net.names)
        return [f'network.{name}' for name, _ in getattr(
            model, 'network', nn.Module()).named_children()]

    def _parts(self, model: nn.Module, name: str) -> List[str]:
        """``name`` as parts: a stage, a dotted path or ``'pre'`` (every
        stage)."""
        own = self._own_parts(model)
        if name in own or '.' in name:
            return [name]
        if hasattr(model, 'pre_net') and name == 'pre':
            return own
        raise KeyError(f'{type(self).__name__}: a phase names stages '
                       f"{[name]}; the model's parts are "
                       f"{['pre'] * hasattr(model, 'pre_net') + own} (or a "
                       'dotted path)')

    def _module(self, model: nn.Module, part: str) -> nn.Module:
        return model.get_submodule(part) if '.' in part else \
            model.pre_net.stage(part)

    def _apply(self, runner: Runner) -> None:
        progress = getattr(runner, 'epoch' if self.by_epoch else 'iter', 0)
        model, i = self._model(runner), self.phase_index(progress)
        phase, state = self.phases[i], self.state_at(progress)
        if i != self._logged and hasattr(runner, 'logger'):
            runner.logger.info(f'{type(self).__name__}: phase {i} from '
                               f'{progress}: {state}')
        self._logged, chain = i, getattr(model, 'pre_net', None)
        stages = getattr(chain, 'names', ())
        if 'task' in state:
            model.task_enabled = state['task']
        parts = list(dict.fromkeys(self._own_parts(model) + [
            q for p in self.phases for n in _names(p.get('train', ()))
            for q in self._parts(model, n)]))
        train = {q for n in _names(state.get('train', ()), parts)
                 for q in self._parts(model, n)}
        for part in parts if 'train' in state else ():
            if part in stages:
                chain.set_stage_frozen(part, part not in train)
            else:
                self._module(model, part).requires_grad_(part in train)
        self._set_losses(model, state.get('losses'), state.get(
            'loss_weights'), stages)
        recal = self.recalibrated_stages(progress, stages)
        for name in stages:
            # reset once, at the phase's begin; a resumed run continues
            # the average held in the checkpoint
            if name in recal:
                chain.set_bn_recalibration(
                    name, True, reset=progress == phase['begin']
                    and not chain.bn_recalibrating(name))
            elif chain.bn_recalibrating(name):
                chain.set_bn_recalibration(name, False)
        if phase['lr_mult'] is None:
            self._restore_lr(runner)
        else:
            self._scale_lr(runner, model, phase,
                           [self._module(model, p) for p in train])

    def _set_losses(self, model: nn.Module, losses: Any,
                    weights: Optional[dict], stages: Sequence[str]) -> None:
        owner = type(self).__name__
        if callable(getattr(model, 'configure_losses', None)):
            if losses is not None or weights is not None:
                model.configure_losses(
                    model.active_losses if losses is None else None
                    if losses == 'all' else [losses] if isinstance(
                        losses, str) else list(losses),
                    model.loss_scales if weights is None else weights)
            return
        if losses is not None:
            if not stages or not _names(losses, stages) <= set(stages):
                raise KeyError(f'{owner}: losses={losses!r} must name stages '
                               f'of a chain model, got {type(model).__name__}'
                               f' with stages {list(stages)}')
            model.pre_net.active_losses = _names(losses, stages)
        for name, weight in (weights or {}).items():
            if name != 'pre' and name not in stages:
                raise KeyError(f"{owner}: loss_weights names {name!r}; this "
                               f"model has 'pre' and the stages "
                               f'{list(stages)}')
            for stage in stages if name == 'pre' else [name]:
                model.pre_net.set_loss_weight(stage, weight)

    def before_train(self, runner: Runner) -> None:
        self._apply(runner)

    def before_train_iter(self,
                          runner: Runner,
                          batch_idx: int,
                          data_batch: DATA_BATCH = None) -> None:
        self._apply(runner)

    def after_train_iter(self,
                         runner: Runner,
                         batch_idx: int,
                         data_batch: DATA_BATCH = None,
                         outputs: Optional[dict] = None) -> None:
        # back to the base lr before the schedulers (LOW priority) step at
        # the end of a phase with lr_mult, so they start from the base
        if not self.by_epoch and self.phases[self.phase_index(
                runner.iter + 1)]['lr_mult'] is None:
            self._restore_lr(runner)

    def after_train_epoch(self, runner: Runner) -> None:
        if self.by_epoch and self.phases[self.phase_index(
                runner.epoch + 1)]['lr_mult'] is None:
            self._restore_lr(runner)

    @staticmethod
    def _param_groups(runner: Runner) -> List[dict]:
        wrapper = getattr(runner, 'optim_wrapper', None)
        wrappers = () if wrapper is None else wrapper.values() if hasattr(
            wrapper, 'values') else [wrapper]
        return [g for w in wrappers for g in w.optimizer.param_groups]

    def _scale_lr(self, runner: Runner, model: nn.Module, phase: dict,
                  modules: List[nn.Module]) -> None:
        staged = {id(p) for m in modules for p in m.parameters()}
        pre = {id(p) for p in getattr(model, 'pre_net', model).parameters()}
        for group in self._param_groups(runner):
            ids = {id(p) for p in group['params']}
            if ids & staged and ids - pre and getattr(model, 'task_enabled',
                                                      False):
                raise ValueError(
                    f"{type(self).__name__}: the phase from {phase['begin']}"
                    ' scales the lr (lr_mult) of a parameter group that also'
                    ' holds task model parameters that train in it; give '
                    "the staged parts their own groups, e.g. paramwise_cfg="
                    "dict(custom_keys={'chain_net': dict(lr_mult=1.0)})")
            if ids & staged:
                group.setdefault(BASE_LR_KEY, group['lr'])
                group['lr'] = group[BASE_LR_KEY] * phase['lr_mult']

    def _restore_lr(self, runner: Runner) -> None:
        for group in self._param_groups(runner):
            if BASE_LR_KEY in group:
                group['lr'] = group.pop(BASE_LR_KEY)


# The older hooks, aliases that build a phase list.
@HOOKS.register_module()
class FusionWarmupHook(StagingHook):
    """Fusion warm-up: ℓ_F only, the task model not run, then ℓ_T + η·ℓ_F.

    The phases ``dict(begin=0, task=False)``, ``dict(begin=warmup,
    task=True)``. Under DDP it needs ``find_unused_parameters=True``.

    Args:
        warmup (int): iterations (epochs) of fusion-only training.
        by_epoch (bool): count in epochs. Defaults to False.
    """

    iteration_fields = {'warmup': 'start'}

    def __init__(self, warmup: int, by_epoch: bool = False) -> None:
        check_count('FusionWarmupHook', 'warmup', warmup)
        self.warmup = warmup
        super().__init__([dict(begin=0, task=False)] * bool(warmup) +
                         [dict(begin=warmup, task=True)], by_epoch)


@HOOKS.register_module()
class FreezeFusionHook(StagingHook):
    """Freeze N_F for the iterations (epochs) in ``[begin, end)``.

    The phases ``train=['pre']``, from ``begin`` ``train=[]`` and from
    ``end`` ``train=['pre']``.

    Args:
        begin (int): first frozen iteration (epoch). Defaults to 0.
        end (int, optional): first one trained again; None: none.
        by_epoch (bool): count in epochs. Defaults to False.
    """

    iteration_fields = {'begin': 'point', 'end': 'point'}

    def __init__(self, begin: int = 0, end: Optional[int] = None,
                 by_epoch: bool = False) -> None:
        check_count('FreezeFusionHook', 'begin', begin)
        if end is not None and not (_count(end) and end > begin):
            raise ValueError(f'FreezeFusionHook: end ({end!r}) must be an '
                             f'int > begin ({begin}) or None')
        self.begin, self.end = begin, end
        super().__init__(
            [dict(begin=0, train=['pre'])] * bool(begin) +
            [dict(begin=begin, train=[])] +
            [dict(begin=end, train=['pre'])] * (end is not None), by_epoch)


@HOOKS.register_module()
class FusionLossWeightHook(StagingHook):
    """Schedule η, the weight of ℓ_F in ℓ_T + η·ℓ_F.

    One phase with ``loss_weights=dict(pre=η)`` per ``(iteration, η)``
    point, the first η before the first point.

    Args:
        schedule (Sequence[tuple[int, float]]): the points, strictly
            increasing iterations (epochs), η >= 0.
        interpolation (str): ``'step'`` or ``'linear'``. Defaults to 'step'.
        by_epoch (bool): count in epochs. Defaults to False.
    """

    iteration_fields = {'schedule.*.0': 'point'}

    def __init__(self, schedule: Sequence[Tuple[int, float]],
                 interpolation: str = 'step', by_epoch: bool = False) -> None:
        points = [tuple(p) for p in schedule]
        if not points or any(len(p) != 2 or not (_number(p[1]) and p[1] >= 0)
                             for p in points):
            raise ValueError('FusionLossWeightHook: schedule must be a '
                             'non-empty list of (iteration, eta >= 0) pairs, '
                             f'got {schedule!r}')
        super().__init__(
            [dict(begin=0, loss_weights=dict(pre=points[0][1]))] *
            (points[0][0] != 0) + [
                dict(begin=it, loss_weights=dict(pre=eta),
                     interpolation=interpolation) for it, eta in points],
            by_epoch)

    def eta_at(self, progress: int) -> float:
        """η at iteration (epoch) ``progress``."""
        return self.state_at(progress)['loss_weights']['pre']


@HOOKS.register_module()
class ChainStagingHook(StagingHook):
    """Phases of chain training, each from an iteration / epoch on.

    A :class:`StagingHook` whose phases need ``train``; ``task`` defaults
    to True and ``losses`` to the ``train`` stages (a frozen stage's losses
    would still send gradients into the stages before it).
    """

    def __init__(self, phases: Sequence[dict], by_epoch: bool = False,
                 recalibrate_bn: int = 0) -> None:
        for i, phase in enumerate(phases):
            if 'begin' not in phase or 'train' not in phase:
                raise KeyError(f"ChainStagingHook: phase {i} needs 'begin' "
                               "and 'train'")
        super().__init__([dict(dict(task=True, losses=p['train']), **p)
                          for p in phases], by_epoch, recalibrate_bn)


@HOOKS.register_module()
class RUASTrainingStrategyHook(StagingHook):
    """Train a RUAS model end to end (ℓ_t + λ ℓ_s) or hierarchically.

    ``'hierarchical'``: the scene module alone on ℓ_s for ``scene_iters``
    iterations, then the task module on ℓ_t, the scene module frozen unless
    ``freeze_scene=False``. On a ``SceneDetector`` / ``SceneSegmentor`` the
    scene module is ``'pre'`` (its one stage) and ℓ_t the task model's
    losses (the names below unused). After training the model is back in
    its former state.

    Args:
        strategy (str): ``'end_to_end'`` or ``'hierarchical'``.
        scene_losses (Sequence[str]): loss names of ℓ_s.
        task_losses (Sequence[str]): loss names of ℓ_t.
        scene_weight (float): λ >= 0 (``'end_to_end'``).
        scene_iters (int): iterations of the scene stage.
        scene_module (str): dotted path of the scene module.
        task_module (str): dotted path of the task module.
        freeze_scene (bool): freeze the scene module in the task stage.
    """

    iteration_fields = {'scene_iters': 'start'}

    def __init__(self,
                 strategy: str = 'end_to_end',
                 scene_losses: Sequence[str] = ('loss_scene', ),
                 task_losses: Sequence[str] = ('loss_denoise', ),
                 scene_weight: float = 1.0,
                 scene_iters: int = 0,
                 scene_module: str = 'network.scene',
                 task_module: str = 'network.denoiser',
                 freeze_scene: bool = True) -> None:
        if strategy not in RUAS_TRAINING_STRATEGIES or not scene_losses \
                or not task_losses or scene_weight < 0 or scene_iters < 0:
            raise ValueError(
                f'RUASTrainingStrategyHook: strategy must be one of '
                f'{RUAS_TRAINING_STRATEGIES} (got {strategy!r}), the losses '
                'non-empty, scene_weight and scene_iters >= 0')
        scene, task, n = list(scene_losses), list(task_losses), scene_iters
        keep = not freeze_scene
        self.strategy, self.scene_iters = strategy, scene_iters
        if strategy == 'end_to_end':  # a scene + task model, ImageEnhancer
            kinds = ([dict(begin=0, task=True, train=['pre'],
                           loss_weights=dict(pre=scene_weight))],
                     [dict(begin=0, train=[scene_module, task_module],
                           losses=scene + task,
                           loss_weights={k: scene_weight for k in scene})])
        else:
            kinds = ([dict(begin=0, task=False, train=['pre'],
                           loss_weights=dict(pre=1.0)),
                      dict(begin=n, task=True, train=['pre'] * keep,
                           loss_weights=dict(pre=0.0))],
                     [dict(begin=0, train=[scene_module], losses=scene),
                      dict(begin=n, train=[task_module] + [scene_module] *
                           keep, losses=task)])
            kinds = tuple(k[0 if n else 1:] for k in kinds)
        self._kinds = [self.parse_phases(k) for k in kinds]
        super().__init__(kinds[1])

    def before_train(self, runner: Runner) -> None:
        model = self._model(runner)
        enhancer = callable(getattr(model, 'configure_losses', None))
        self.phases = self._kinds[enhancer]
        self._found = None if enhancer else {
            s['name']: s['loss_weight'] for s in model.pre_net.specs}
        super().before_train(runner)

    def after_train(self, runner: Runner) -> None:
        model = self._model(runner)
        if self._found is None:  # an ImageEnhancer
            model.configure_losses()
            model.requires_grad_(True)
        else:
            model.task_enabled = True
            for name, weight in self._found.items():
                model.pre_net.set_loss_weight(name, weight)
            model.set_pre_frozen(False)
