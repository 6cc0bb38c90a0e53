"""Stage-wise training of a chain of pre-modules (enhance -> fuse -> task).

:class:`ChainStagingHook` sets, from the runner's progress alone (so a
resumed run is in the state of an uninterrupted one), which stages of a
:class:`~mmfusenas.models.PreModuleChain` train, whose losses count and
whether the task model runs: e.g. the scene module alone on its own losses,
then the fusion network alone (scene frozen), then everything jointly under
the detector's loss.
"""
from typing import List, Optional, Sequence, Union

import torch.nn as nn
from mmengine.hooks.hook import DATA_BATCH
from mmengine.runner import Runner

from mmfusenas.registry import HOOKS
from .task_guidance_hooks import _check_count, _compound_model, _StageHook

_PHASE_KEYS = ('begin', 'train', 'losses', 'task', 'lr_mult')
#: key in an optimizer param group holding its lr before a phase's lr_mult
#: (saved with the optimizer state, so a resumed run restores it)
BASE_LR_KEY = 'chain_staging_base_lr'


@HOOKS.register_module()
class ChainStagingHook(_StageHook):
    """Phases of chain training, each from an iteration / epoch on.

    Args:
        phases (Sequence[dict]): in order of ``begin`` (the first at 0):

            - ``begin`` (int): first iteration / epoch (0-based) of the
              phase.
            - ``train`` (list[str] | 'all'): stages that train; the others
              are frozen (no gradients, eval mode).
            - ``losses`` (list[str] | 'all', optional): stages whose losses
              count. Defaults to ``train`` (a frozen stage's losses would
              still send gradients into the stages before it).
            - ``task`` (bool): whether the task model runs (ℓ_task). Defaults
              to True.
            - ``lr_mult`` (float, optional): multiply the learning rate of
              the optimizer parameter groups that hold the trained stages'
              parameters by this factor for the phase (e.g. a faster N_F
              warm-up: 30 iterations at 1e-3 left TIM's N_F with a
              negative SSIM on the enhanced VIS in 2 of 3 seeds, 3e-3 did
              not; docs/methods/compose.md). The groups' lr is set to
              ``base · lr_mult`` before every iteration of the phase and
              restored to ``base`` after its last iteration, before the
              parameter schedulers step, so use it in phases where no
              scheduler changes these groups (the warm-ups before the
              task schedule's ``begin``). A scaled group must not hold
              parameters that train in the phase outside its stages (give
              the chain its own groups with ``paramwise_cfg``). Defaults to
              None (the optimizer's lr).
        by_epoch (bool): ``begin`` counts epochs instead of iterations.
            Defaults to False.
        recalibrate_bn (int): for this many iterations (epochs) from the
            begin of a phase, the stages that the phase freezes and the
            previous phase trained re-estimate their BatchNorm statistics
            with their final weights (reset at the phase's begin, then the
            cumulative average of the batches that pass, BN layers in
            training mode, weights frozen; see
            :meth:`~mmfusenas.models.PreModuleChain.set_bn_recalibration`).
            Without it a stage frozen after a short warm-up keeps the
            running statistics of its first iterations (``running_var``
            still ~``0.9^warmup`` of its initial 1) and, in eval mode, can
            output a near-constant image. 0 disables it. Defaults to 0.

    Example (scene warm-up, fusion warm-up, then joint)::

        dict(type='ChainStagingHook', phases=[
            dict(begin=0, train=['scene'], task=False),
            dict(begin=50, train=['fusion'], task=False),
            dict(begin=100, train='all')])
    """

    #: rescaled by tools/train.py --max-iters (mmfusenas.utils.schedule)
    iteration_fields = {'phases.*.begin': 'start', 'recalibrate_bn': 'length'}

    def __init__(self,
                 phases: Sequence[dict],
                 by_epoch: bool = False,
                 recalibrate_bn: int = 0) -> None:
        super().__init__(by_epoch)
        owner = type(self).__name__
        _check_count(owner, 'recalibrate_bn', recalibrate_bn)
        self.recalibrate_bn = recalibrate_bn
        if not phases:
            raise ValueError(f'{owner}: phases must not be empty')
        self.phases: List[dict] = []
        for i, phase in enumerate(phases):
            unknown = sorted(set(phase) - set(_PHASE_KEYS))
            if unknown:
                raise KeyError(f'{owner}: phase {i} has unknown keys '
                               f'{unknown}; a phase has {list(_PHASE_KEYS)}')
            if 'begin' not in phase or 'train' not in phase:
                raise KeyError(f"{owner}: phase {i} needs 'begin' and "
                               "'train'")
            _check_count(owner, f'phases[{i}].begin', phase['begin'])
            lr_mult = phase.get('lr_mult')
            if lr_mult is not None and (
                    isinstance(lr_mult, bool)
                    or not isinstance(lr_mult, (int, float)) or lr_mult <= 0):
                raise ValueError(f'{owner}: phases[{i}].lr_mult must be a '
                                 f'number > 0, got {lr_mult!r}')
            self.phases.append(
                dict(begin=phase['begin'], train=phase['train'],
                     losses=phase.get('losses', phase['train']),
                     task=bool(phase.get('task', True)),
                     lr_mult=None if lr_mult is None else float(lr_mult)))
        begins = [p['begin'] for p in self.phases]
        if begins[0] != 0 or any(b <= a for a, b in zip(begins, begins[1:])):
            raise ValueError(f'{owner}: phase begins must start at 0 and '
                             f'increase, got {begins}')

    @staticmethod
    def _names(value: Union[str, Sequence[str]], stages: Sequence[str],
               where: str) -> set:
        if value == 'all':
            return set(stages)
        if isinstance(value, str):
            value = [value]
        unknown = sorted(set(value) - set(stages))
        if unknown:
            raise KeyError(f'ChainStagingHook: {where} names stages '
                           f'{unknown}; the chain has {list(stages)}')
        return set(value)

    def phase_at(self, progress: int) -> dict:
        """The phase in force at ``progress``."""
        return [p for p in self.phases if p['begin'] <= progress][-1]

    def recalibrated_stages(self, progress: int,
                            stages: Sequence[str]) -> set:
        """Stages re-estimating their BN statistics at ``progress``: frozen
        by the phase in force, trained by the one before, and within
        ``recalibrate_bn`` of the phase's begin."""
        phase = self.phase_at(progress)
        i = self.phases.index(phase)
        if i == 0 or progress >= phase['begin'] + self.recalibrate_bn:
            return set()
        where = f"the phase from {phase['begin']}"
        before = self._names(self.phases[i - 1]['train'], stages,
                             f"the phase from {self.phases[i - 1]['begin']}")
        return before - self._names(phase['train'], stages, where)

    def apply(self, runner: Runner, progress: int) -> None:
        model = _compound_model(runner)
        chain = model.pre_net
        if not hasattr(chain, 'set_stage_frozen'):
            raise TypeError('ChainStagingHook needs a chain model '
                            '(ChainDetector / ChainSegmentor), got '
                            f'{type(model).__name__}')
        phase = self.phase_at(progress)
        where = f"the phase from {phase['begin']}"
        train = self._names(phase['train'], chain.names, where)
        losses = self._names(phase['losses'], chain.names, where)
        recal = self.recalibrated_stages(progress, chain.names)
        for name in chain.names:
            chain.set_stage_frozen(name, name not in train)
            if name in recal:
                # reset once, at the phase's begin; a resumed run continues
                # the average held in the checkpoint
                chain.set_bn_recalibration(
                    name, True, reset=progress == phase['begin']
                    and not chain.bn_recalibrating(name))
            elif chain.bn_recalibrating(name):
                chain.set_bn_recalibration(name, False)
        chain.active_losses = losses
        model.task_enabled = phase['task']
        if phase['lr_mult'] is not None:
            self._scale_lr(runner, model, chain, phase, train)
        else:
            self._restore_lr(runner)

    def after_train_iter(self,
                         runner: Runner,
                         batch_idx: int,
                         data_batch: DATA_BATCH = None,
                         outputs: Optional[dict] = None) -> None:
        # back to the base lr before the schedulers (LOW priority) step at
        # the end of a phase with lr_mult, so they start from the base
        if self.by_epoch:
            return
        if self.phase_at(runner.iter + 1)['lr_mult'] is None:
            self._restore_lr(runner)

    def after_train_epoch(self, runner: Runner) -> None:
        if self.by_epoch and self.phase_at(runner.epoch + 1)['lr_mult'] \
                is None:
            self._restore_lr(runner)

    @staticmethod
    def _param_groups(runner: Runner) -> List[dict]:
        wrapper = getattr(runner, 'optim_wrapper', None)
        if wrapper is None:
            raise RuntimeError('ChainStagingHook: a phase with lr_mult needs '
                               'the runner\'s optim_wrapper')
        wrappers = wrapper.values() if hasattr(wrapper, 'values') else \
            [wrapper]
        return [g for w in wrappers for g in w.optimizer.param_groups]

    def _scale_lr(self, runner: Runner, model: nn.Module, chain: nn.Module,
                  phase: dict, train: set) -> None:
        staged = {id(p) for n in train for p in chain.stage(n).parameters()}
        # parameters that may not share a scaled group: the other stages
        # that train (none here by construction) and, when the task model
        # runs, everything outside the chain
        chain_params = {id(p) for p in chain.parameters()}
        for group in self._param_groups(runner):
            ids = {id(p) for p in group['params']}
            if not ids & staged:
                continue
            if phase['task'] and ids - chain_params:
                raise ValueError(
                    f"ChainStagingHook: the phase from {phase['begin']} "
                    f"scales the lr of stages {sorted(train)} (lr_mult), "
                    'but their optimizer parameter group also holds task '
                    'model parameters that train in this phase; give the '
                    "chain its own groups, e.g. paramwise_cfg=dict("
                    "custom_keys={'chain_net': dict(lr_mult=1.0)})")
            group.setdefault(BASE_LR_KEY, group['lr'])
            group['lr'] = group[BASE_LR_KEY] * phase['lr_mult']

    def _restore_lr(self, runner: Runner) -> None:
        wrapper = getattr(runner, 'optim_wrapper', None)
        if wrapper is None:
            return
        for group in self._param_groups(runner):
            if BASE_LR_KEY in group:
                group['lr'] = group.pop(BASE_LR_KEY)
