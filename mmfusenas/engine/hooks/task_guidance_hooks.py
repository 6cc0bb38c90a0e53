"""Staged task-guided training as hooks (TIM Alg. 1, line 15).

The stages of training a fusion network N_F together with a detector /
segmentor (:class:`~mmfusenas.models.FusionDetector`,
:class:`~mmfusenas.models.FusionSegmentor`) are set by three hooks:
:class:`FusionWarmupHook` (ℓ_F only for the first iterations / epochs, then
ℓ_T + η·ℓ_F), :class:`FreezeFusionHook` (N_F frozen over a range of
iterations / epochs) and :class:`FusionLossWeightHook` (a schedule of η).
Each hook derives the model's state from ``runner.iter`` / ``runner.epoch``
alone, so a resumed run is in exactly the state of an uninterrupted one.
They act on the generic state of every pre-module + task model, so they
stage a RUAS scene + task model (:class:`~mmfusenas.models.SceneDetector`)
the same way.
"""
import bisect
from typing import Optional, Sequence, Tuple

from mmengine.hooks import Hook
from mmengine.runner import Runner

from mmfusenas.models.compound import get_pre_task_model
from mmfusenas.registry import HOOKS

DATA_BATCH = Optional[dict]
INTERPOLATIONS = ('step', 'linear')


def _compound_model(runner):
    """The runner's pre-module + task model (see ``get_pre_task_model``)."""
    return get_pre_task_model(runner.model)


def _progress(runner, by_epoch: bool) -> int:
    """Completed epochs / iterations before the coming iteration."""
    return runner.epoch if by_epoch else runner.iter


def _check_count(owner: str, name: str, value, allow_none: bool = False):
    if value is None and allow_none:
        return
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ValueError(f'{owner}: {name} must be an int >= 0, got '
                         f'{value!r}')


class _StageHook(Hook):
    """Apply :meth:`apply` before training and before every iteration."""

    priority = 'HIGH'  # before the model runs, after nothing it depends on

    def __init__(self, by_epoch: bool) -> None:
        self.by_epoch = by_epoch

    def apply(self, runner: Runner, progress: int) -> None:
        raise NotImplementedError

    def _apply(self, runner: Runner) -> None:
        self.apply(runner, _progress(runner, self.by_epoch))

    def before_train(self, runner: Runner) -> None:
        self._apply(runner)

    def before_train_iter(self,
                          runner: Runner,
                          batch_idx: int,
                          data_batch: DATA_BATCH = None) -> None:
        self._apply(runner)


@HOOKS.register_module()
class FusionWarmupHook(_StageHook):
    """Fusion warm-up: train N_F alone on ℓ_F, then jointly with the task.

    While fewer than ``warmup`` iterations (epochs with ``by_epoch=True``)
    are completed, the model's ``task_enabled`` is False: the loss is
    η·ℓ_F and the detector / segmentor is not run (no compute, no gradient,
    its BN statistics untouched). Afterwards ``task_enabled`` is True and
    the loss is ℓ_T + η·ℓ_F. Validation always runs the whole model.

    ``warmup=0`` disables the warm-up. To start from a trained N_F instead,
    use the model's ``fusion_init`` (a checkpoint) and no warm-up. Under DDP
    the unused task parameters of the warm-up need
    ``model_wrapper_cfg=dict(type='MMDistributedDataParallel',
    find_unused_parameters=True)``.

    Args:
        warmup (int): Iterations (or epochs) of fusion-only training.
        by_epoch (bool): Count ``warmup`` in epochs. Defaults to False.
    """

    #: rescaled by tools/train.py --max-iters (mmfusenas.utils.schedule)
    iteration_fields = {'warmup': 'start'}

    def __init__(self, warmup: int, by_epoch: bool = False) -> None:
        super().__init__(by_epoch)
        _check_count('FusionWarmupHook', 'warmup', warmup)
        self.warmup = warmup

    def apply(self, runner: Runner, progress: int) -> None:
        _compound_model(runner).task_enabled = \
            progress >= self.warmup


@HOOKS.register_module()
class FreezeFusionHook(_StageHook):
    """Freeze N_F for the iterations (or epochs) in ``[begin, end)``.

    Inside the range the model's ``set_fusion_frozen(True)`` is in force
    (no gradient to N_F, N_F in eval mode; the fusion losses are still
    computed and logged, without gradient); outside it N_F is trainable.
    With ``begin`` equal to a :class:`FusionWarmupHook`'s ``warmup`` this
    is the "direct fusion" baseline of TIM's Table 10: N_F trained alone on
    ℓ_F, then frozen while the task model learns on its output. ``begin=0,
    end=k`` trains the task model on a fixed (e.g. ``fusion_init``) N_F for
    k iterations before unfreezing it.

    The hook overrides the model's ``freeze_fusion`` option from the first
    iteration on.

    Args:
        begin (int): First frozen iteration (epoch). Defaults to 0.
        end (int, optional): First iteration (epoch) trained again; None
            keeps N_F frozen to the end. Defaults to None.
        by_epoch (bool): Count in epochs. Defaults to False.
    """

    #: rescaled by tools/train.py --max-iters (mmfusenas.utils.schedule)
    iteration_fields = {'begin': 'point', 'end': 'point'}

    def __init__(self,
                 begin: int = 0,
                 end: Optional[int] = None,
                 by_epoch: bool = False) -> None:
        super().__init__(by_epoch)
        _check_count('FreezeFusionHook', 'begin', begin)
        _check_count('FreezeFusionHook', 'end', end, allow_none=True)
        if end is not None and end <= begin:
            raise ValueError(f'FreezeFusionHook: end ({end}) must be > '
                             f'begin ({begin}) or None')
        self.begin = begin
        self.end = end

    def frozen_at(self, progress: int) -> bool:
        """Whether N_F is frozen at iteration (epoch) ``progress``."""
        return progress >= self.begin and (self.end is None
                                           or progress < self.end)

    def apply(self, runner: Runner, progress: int) -> None:
        model = _compound_model(runner)
        frozen = self.frozen_at(progress)
        if model.pre_frozen != frozen:
            model.set_pre_frozen(frozen)


@HOOKS.register_module()
class FusionLossWeightHook(_StageHook):
    """Schedule η, the weight of ℓ_F in ℓ_T + η·ℓ_F.

    ``schedule`` lists ``(iteration, η)`` points (epochs with
    ``by_epoch=True``) with strictly increasing iterations. Before the
    first point η is the first value; after the last, the last value; in
    between ``'step'`` keeps the value of the last point reached and
    ``'linear'`` interpolates. The value in force is logged by the model as
    ``fusion.eta``. Example: ``schedule=[(0, 1.0), (500, 0.1)],
    interpolation='linear'`` anneals η from 1 to 0.1 over 500 iterations.

    Args:
        schedule (Sequence[tuple[int, float]]): ``(iteration, η)`` points,
            η ≥ 0.
        interpolation (str): ``'step'`` or ``'linear'``. Defaults to
            'step'.
        by_epoch (bool): Iterations are epochs. Defaults to False.
    """

    #: rescaled by tools/train.py --max-iters (mmfusenas.utils.schedule)
    iteration_fields = {'schedule.*.0': 'point'}

    def __init__(self,
                 schedule: Sequence[Tuple[int, float]],
                 interpolation: str = 'step',
                 by_epoch: bool = False) -> None:
        super().__init__(by_epoch)
        if interpolation not in INTERPOLATIONS:
            raise ValueError(f'FusionLossWeightHook: interpolation must be '
                             f'one of {INTERPOLATIONS}, got '
                             f'{interpolation!r}')
        points = [tuple(p) for p in schedule]
        if not points or any(len(p) != 2 for p in points):
            raise ValueError('FusionLossWeightHook: schedule must be a '
                             'non-empty list of (iteration, eta) pairs, got '
                             f'{schedule!r}')
        for it, eta in points:
            _check_count('FusionLossWeightHook', 'a schedule iteration', it)
            if not float(eta) >= 0:
                raise ValueError(f'FusionLossWeightHook: eta must be >= 0, '
                                 f'got {eta!r} at {it}')
        steps = [it for it, _ in points]
        if any(b <= a for a, b in zip(steps, steps[1:])):
            raise ValueError('FusionLossWeightHook: schedule iterations must '
                             f'increase strictly, got {steps}')
        self.steps = steps
        self.values = [float(eta) for _, eta in points]
        self.interpolation = interpolation

    def eta_at(self, progress: int) -> float:
        """η at iteration (epoch) ``progress``."""
        idx = bisect.bisect_right(self.steps, progress) - 1
        if idx < 0:
            return self.values[0]
        if idx == len(self.steps) - 1 or self.interpolation == 'step':
            return self.values[idx]
        t0, t1 = self.steps[idx], self.steps[idx + 1]
        v0, v1 = self.values[idx], self.values[idx + 1]
        return v0 + (v1 - v0) * (progress - t0) / (t1 - t0)

    def apply(self, runner: Runner, progress: int) -> None:
        _compound_model(runner).pre_loss_weight = self.eta_at(progress)
