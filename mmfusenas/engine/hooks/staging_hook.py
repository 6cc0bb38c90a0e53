"""Staged training: phases as a function of ``runner.iter`` / ``epoch``."""
import bisect
from typing import Any, List, Optional, Sequence

import torch.nn as nn
from mmengine.hooks import Hook
from mmengine.runner import Runner

from mmfusenas.registry import HOOKS
from mmfusenas.utils.distributed import unwrap

STATE_KEYS = ('task', 'train', 'losses', 'loss_weights')
#: param-group key holding the lr before lr_mult (saved with the optimizer)
BASE_LR_KEY = 'chain_staging_base_lr'


def _number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and v >= 0


_NAMES = (lambda v: isinstance(v, (str, list, tuple)), "a list or 'all'")
_CHECKS = {
    'begin': (lambda v: isinstance(v, int) and _number(v), 'an int >= 0'),
    'task': (lambda v: isinstance(v, bool), 'a bool'),
    'train': _NAMES,
    'losses': _NAMES,
    'loss_weights': (lambda v: isinstance(v, dict) and all(
        map(_number, v.values())), 'a dict of numbers >= 0'),
    'interpolation': (lambda v: v in ('step', 'linear'), "'step' or 'linear'"),
    'lr_mult': (lambda v: v is None or _number(v) and v > 0, 'a number > 0'),
}


def _names(value: Any, everything: Sequence[str] = ()) -> set:
    return set(everything) if value == 'all' else {value} if isinstance(
        value, str) else set(value)


def _param_groups(runner: Runner) -> List[dict]:
    wrapper = getattr(runner, 'optim_wrapper', None)
    wrappers = () if wrapper is None else wrapper.values() if hasattr(
        wrapper, 'values') else [wrapper]
    return [g for w in wrappers for g in w.optimizer.param_groups]


def parse_phases(owner: str, phases: Sequence[dict]) -> List[dict]:
    """Check ``phases`` (errors name phase and key); fill in inherited keys."""
    if not phases:
        raise ValueError(f'{owner}: phases must not be empty')
    parsed: List[dict] = []
    for i, given in enumerate(phases):
        where = f'{owner}: phases[{i}]'
        bad = sorted(set(given) - set(_CHECKS)) + [
            k for k in given if i and k in STATE_KEYS and k not in parsed[0]]
        if bad or 'begin' not in given:
            raise KeyError(f"{where} sets {bad} or lacks 'begin': a phase has"
                           f' {list(_CHECKS)}, and phases[0] every state key '
                           'a later phase sets')
        for key, value in given.items():
            if not _CHECKS[key][0](value):
                raise ValueError(f'{where}.{key} must be {_CHECKS[key][1]}, '
                                 f'got {value!r}')
        parsed.append({**(parsed[-1] if i else {}), 'interpolation': 'step',
                       'lr_mult': None, **given})  # state keys inherited
    begins = [p['begin'] for p in parsed]
    if begins[0] != 0 or any(b <= a for a, b in zip(begins, begins[1:])):
        raise ValueError(f'{owner}: phase begins must start at 0 and increase'
                         f' strictly, got {begins}')
    for i, (p, q) in enumerate(zip(parsed, parsed[1:])):
        if p['interpolation'] == 'linear' and set(p.get(
                'loss_weights', ())) != set(q.get('loss_weights', ())):
            raise ValueError(f"{owner}: phases[{i}].interpolation='linear' "
                             'needs the same loss_weights names in the next '
                             'phase')
    return parsed


@HOOKS.register_module()
class StagingHook(Hook):
    """Phases of training, each from an iteration (epoch) until the next,
    set by the model's ``apply_phase``.

    Args:
        phases (Sequence[dict]): by ``begin`` (0 first); keys left out are
            inherited. ``task`` (bool), ``train`` / ``losses`` (stage names,
            ``'pre'``, paths or loss names; ``'all'``), ``loss_weights``,
            ``interpolation`` ('step' | 'linear') and ``lr_mult``.
        by_epoch (bool): ``begin`` counts epochs. Defaults to False.
        recalibrate_bn (int): iterations (epochs) after a phase's begin in
            which stages it newly freezes re-estimate BN. Defaults to 0.
    """

    #: rescaled by tools/train.py --max-iters (mmfusenas.utils.schedule)
    iteration_fields = {'phases.*.begin': 'start', 'recalibrate_bn': 'length'}
    priority = 'HIGH'  # before the model runs
    owner: Optional[str] = None  # named in errors; the class name if None

    def __init__(self, phases: Sequence[dict], by_epoch: bool = False,
                 recalibrate_bn: int = 0) -> None:
        self.owner = self.owner or type(self).__name__
        if not _CHECKS['begin'][0](recalibrate_bn):
            raise ValueError(f'{self.owner}: recalibrate_bn must be an int '
                             f'>= 0, got {recalibrate_bn!r}')
        self.by_epoch, self.recalibrate_bn = by_epoch, recalibrate_bn
        self.phases = parse_phases(self.owner, phases)
        self._logged: Optional[int] = None

    def phase_index(self, progress: int) -> int:
        """Index of the phase in force at iteration (epoch) ``progress``."""
        return bisect.bisect_right([p['begin'] for p in self.phases],
                                   progress) - 1

    def state_at(self, progress: int) -> dict:
        """The stated keys in force at ``progress`` (weights interpolated)."""
        i = self.phase_index(progress)
        phase = self.phases[i]
        state = {k: phase[k] for k in STATE_KEYS if k in phase}
        if phase['interpolation'] == 'linear' and i + 1 < len(self.phases):
            t0, t1 = phase['begin'], self.phases[i + 1]['begin']
            after = self.phases[i + 1]['loss_weights']
            state['loss_weights'] = {
                n: w + (after[n] - w) * (progress - t0) / (t1 - t0)
                for n, w in state['loss_weights'].items()}
        return state

    def recalibrated_stages(self, progress: int,
                            stages: Sequence[str]) -> set:
        """Stages frozen at ``progress`` re-estimating BN statistics."""
        i = self.phase_index(progress)
        if i == 0 or 'train' not in self.phases[i] or progress >= \
                self.phases[i]['begin'] + self.recalibrate_bn:
            return set()
        return set(stages) & (_names(self.phases[i - 1]['train'], stages) -
                              _names(self.phases[i]['train'], stages))

    def _model(self, runner: Runner) -> nn.Module:
        """The runner's model with ``apply_phase`` (or its
        ``architecture``)."""
        model = unwrap(runner.model)
        if not hasattr(model, 'apply_phase'):
            model = getattr(model, 'architecture', None)
        if not hasattr(model, 'apply_phase'):
            raise TypeError(
                f'{self.owner}: {type(unwrap(runner.model)).__name__} has no '
                'apply_phase (FusionDetector, ChainDetector, ImageEnhancer '
                'or a search algorithm over one of them has it)')
        return model

    def before_train_iter(self, runner: Runner, *_: Any, **__: Any) -> None:
        progress = getattr(runner, 'epoch' if self.by_epoch else 'iter', 0)
        model, i = self._model(runner), self.phase_index(progress)
        state, phase = self.state_at(progress), self.phases[i]
        if i != self._logged and hasattr(runner, 'logger'):
            runner.logger.info(f'{self.owner}: phase {i} from {progress}: '
                               f'{state}')
        self._logged = i
        parts = model.phase_parts()
        trained = self._apply(
            model, state, reset_bn=progress == phase['begin'],
            recalibrate_bn=self.recalibrated_stages(progress, list(parts)))
        if phase['lr_mult'] is None:
            return self._restore_lr(runner)
        staged = {id(p) for m in trained for p in m.parameters()}
        pre = {id(p) for m in parts.values() for p in m.parameters()}
        for group in _param_groups(runner):
            ids = {id(p) for p in group['params']}
            if not ids & staged:
                continue
            if ids - pre and getattr(model, 'task_enabled', False):
                raise ValueError(
                    f"{self.owner}: the phase from {phase['begin']} scales "
                    'the lr (lr_mult) of a group that also holds training '
                    'task model parameters; give the staged parts their own '
                    "groups, e.g. paramwise_cfg=dict(custom_keys={'fusion_net'"
                    ': dict(lr_mult=1.0)})')
            group.setdefault(BASE_LR_KEY, group['lr'])
            group['lr'] = group[BASE_LR_KEY] * phase['lr_mult']

    before_train = before_train_iter

    def _apply(self, model: nn.Module, state: dict,
               **extra: Any) -> List[nn.Module]:
        """``model.apply_phase(**state, **extra)``, ``train`` turned into
        ``frozen`` (``phase_group``: every part); the trained modules."""
        modules, group = model.phase_parts(), model.phase_group
        own = list(modules)

        def parts(name: str) -> List[str]:
            if name in own or '.' in name:
                return [name]
            if name != group or group is None:
                raise KeyError(f'{self.owner}: a phase names stages {[name]}'
                               "; the model's parts are "
                               f'{[group] * bool(group) + own} (or a path)')
            return own

        named = list(dict.fromkeys(own + [q for p in self.phases for n in (
            _names(p.get('train', ()))) for q in parts(n)]))
        train = [q for n in _names(state.get('train', ()), named)
                 for q in parts(n)]
        try:
            model.apply_phase(
                task=state.get('task'), losses=state.get('losses'),
                frozen={q: q not in train for q in named}
                if 'train' in state else None,
                loss_weights=state.get('loss_weights'), **extra)
        except KeyError as err:
            raise KeyError(f'{self.owner}: {err.args[0]}') from None
        return [modules[q] if q in modules else model.get_submodule(q)
                for q in train]

    def _restore_lr(self, runner: Runner, progress: int = -1) -> None:
        """Base lr back unless the phase at ``progress`` has an lr_mult."""
        if progress < 0 or self.phases[self.phase_index(progress)][
                'lr_mult'] is None:
            for group in _param_groups(runner):
                if BASE_LR_KEY in group:
                    group['lr'] = group.pop(BASE_LR_KEY)

    def after_train_iter(self, runner: Runner, *_: Any, **__: Any) -> None:
        if not self.by_epoch:
            self._restore_lr(runner, runner.iter + 1)

    def after_train_epoch(self, runner: Runner) -> None:
        if self.by_epoch:
            self._restore_lr(runner, runner.epoch + 1)


# The older hooks only turn their arguments into a phase list.
@HOOKS.register_module()
class FusionWarmupHook(StagingHook):
    """``task=False`` for ``warmup`` iterations (epochs), then ``task=True``
    (under DDP it needs ``find_unused_parameters=True``)."""

    iteration_fields = {'warmup': 'start'}

    def __init__(self, warmup: int, by_epoch: bool = False) -> None:
        self.owner = f'FusionWarmupHook(warmup={warmup!r})'
        super().__init__([dict(begin=0, task=False)] * bool(warmup) +
                         [dict(begin=warmup, task=True)], by_epoch)


@HOOKS.register_module()
class FreezeFusionHook(StagingHook):
    """Freeze the pre-module in the iterations (epochs) ``[begin, end)``
    (``end`` None: to the end)."""

    iteration_fields = {'begin': 'point', 'end': 'point'}

    def __init__(self, begin: int = 0, end: Optional[int] = None,
                 by_epoch: bool = False) -> None:
        self.owner = f'FreezeFusionHook(begin={begin!r}, end={end!r})'
        super().__init__([dict(begin=0, train=['pre'])] * bool(begin) +
                         [dict(begin=begin, train=[])] +
                         [dict(begin=end, train=['pre'])] * (end is not None),
                         by_epoch)


@HOOKS.register_module()
class ChainStagingHook(StagingHook):
    """Phases that need ``train``; ``task`` defaults to True and ``losses``
    to the trained stages."""

    def __init__(self, phases: Sequence[dict], by_epoch: bool = False,
                 recalibrate_bn: int = 0) -> None:
        if not all('begin' in p and 'train' in p for p in phases):
            raise KeyError("ChainStagingHook: a phase needs 'begin', 'train'")
        super().__init__([dict(dict(task=True, losses=p['train']), **p)
                          for p in phases], by_epoch, recalibrate_bn)


@HOOKS.register_module()
class RUASTrainingStrategyHook(StagingHook):
    """RUAS training: ``'end_to_end'`` (ℓ_t + λ ℓ_s, λ = ``scene_weight``)
    or ``'hierarchical'`` (the scene module alone on ℓ_s for ``scene_iters``,
    then the task module on ℓ_t). The scene is ``'pre'`` on a compound
    model, ``scene_module`` on an ``ImageEnhancer``; restored after training.
    """

    iteration_fields = {'scene_iters': 'start'}

    def __init__(self, strategy: str = 'end_to_end',
                 scene_losses: Sequence[str] = ('loss_scene', ),
                 task_losses: Sequence[str] = ('loss_denoise', ),
                 scene_weight: float = 1.0, scene_iters: int = 0,
                 scene_module: str = 'network.scene',
                 task_module: str = 'network.denoiser',
                 freeze_scene: bool = True) -> None:
        self.owner = (f'RUASTrainingStrategyHook(strategy={strategy!r}, scene'
                      f'_weight={scene_weight}, scene_iters={scene_iters})')
        if strategy not in ('end_to_end', 'hierarchical') or not scene_losses \
                or not task_losses:
            raise ValueError(f"{self.owner}: strategy must be 'end_to_end' or "
                             "'hierarchical', the losses non-empty")
        scene, task, keep = list(scene_losses), list(task_losses), [
            scene_module] * (not freeze_scene)
        kinds = ([dict(task=True, train=['pre'],  # a compound model
                       loss_weights=dict(pre=scene_weight))],
                 [dict(train=[scene_module, task_module],  # an ImageEnhancer
                       losses=scene + task,
                       loss_weights=dict.fromkeys(scene, scene_weight))])
        if strategy == 'hierarchical':
            kinds = ([dict(task=False, train=['pre'],
                           loss_weights=dict(pre=1.0)),
                      dict(task=True, train=['pre'] * bool(keep),
                           loss_weights=dict(pre=0.0))],
                     [dict(train=[scene_module], losses=scene),
                      dict(train=[task_module] + keep, losses=task)])
        self._kinds = [parse_phases(self.owner, [
            dict(begin=b, **p) for b, p in zip((0, scene_iters), k)]
            [0 if scene_iters else -1:]) for k in kinds]
        super().__init__(self._kinds[1])

    def before_train(self, runner: Runner, *_: Any, **__: Any) -> None:
        model = self._model(runner)
        enhancer = model.phase_group is None
        self.phases = self._kinds[enhancer]
        self._found = None if enhancer else model.stage_loss_weights()
        super().before_train(runner)

    def after_train(self, runner: Runner) -> None:
        self._apply(self._model(runner), dict(
            train='all', losses='all', loss_weights={}) if self._found is None
            else dict(task=True, train='all', loss_weights=self._found))
