"""RUAS training strategies (TPAMI 2022 Sec. 3, Eq. 5, Table 6) as a hook."""
from typing import Optional, Sequence

import torch.nn as nn
from mmengine.hooks import Hook
from mmengine.hooks.hook import DATA_BATCH
from mmengine.model import is_model_wrapper
from mmengine.runner import Runner

from mmfusenas.registry import HOOKS

#: strategies of :class:`RUASTrainingStrategyHook`
RUAS_TRAINING_STRATEGIES = ('end_to_end', 'hierarchical')


@HOOKS.register_module()
class RUASTrainingStrategyHook(Hook):
    """Train a RUAS model end to end or hierarchically.

    Two kinds of model:

    * a scene + task model (:class:`~mmfusenas.models.SceneDetector`,
      :class:`~mmfusenas.models.SceneSegmentor`): ℓ_s is the model's scene
      losses, ℓ_t the detector's / segmentor's losses, the scene module its
      ``scene_net`` and the task module the rest; ``scene_losses``,
      ``task_losses``, ``scene_module`` and ``task_module`` are not used.
      End to end sets λ = ``scene_weight``; the hierarchical scene stage
      turns the task model off (``task_enabled=False``, ℓ_s at λ = 1), the
      task stage turns it on with λ = 0 and the scene module frozen
      (``set_scene_frozen``) unless ``freeze_scene=False``;
    * an :class:`~mmfusenas.models.ImageEnhancer` (low-level task: the
      denoiser), as below.

    * ``'end_to_end'``: every iteration minimises ``ℓ_t + λ ℓ_s`` over all
      weights (the task losses at scale 1, the scene losses at scale
      ``scene_weight`` = λ; λ = 0 is Table 6's "loss ℓ_t" row).
    * ``'hierarchical'``: iterations ``0 .. scene_iters - 1`` train the
      scene module alone with ``ℓ_s`` (unsupervised pre-training, the task
      module frozen); from ``scene_iters`` on the scene module is frozen and
      the task module trains with ``ℓ_t``. Paper vs this hook: the paper
      fine-tunes "the overall model parameters" in the second stage; set
      ``freeze_scene=False`` for that.

    Frozen parameters get ``requires_grad=False``, so they receive no
    gradient and the optimizer skips them (no momentum or weight-decay
    update either). Losses are selected / scaled with
    ``ImageEnhancer.configure_losses``.

    Args:
        strategy (str): ``'end_to_end'`` or ``'hierarchical'``. Defaults to
            'end_to_end'.
        scene_losses (Sequence[str]): loss names of ℓ_s. Defaults to
            ('loss_scene', ).
        task_losses (Sequence[str]): loss names of ℓ_t. Defaults to
            ('loss_denoise', ).
        scene_weight (float): λ ≥ 0 (``'end_to_end'``). Defaults to 1.0.
        scene_iters (int): N ≥ 0 pre-training iterations
            (``'hierarchical'``). Defaults to 0.
        scene_module (str): dotted path of the scene module in the model.
            Defaults to 'network.scene'.
        task_module (str): dotted path of the task module. Defaults to
            'network.denoiser'.
        freeze_scene (bool): freeze the scene module in the second
            hierarchical stage. Defaults to True.
    """

    #: rescaled by tools/train.py --max-iters (mmfusenas.utils.schedule)
    iteration_fields = {'scene_iters': 'start'}

    priority = 'NORMAL'

    def __init__(self,
                 strategy: str = 'end_to_end',
                 scene_losses: Sequence[str] = ('loss_scene', ),
                 task_losses: Sequence[str] = ('loss_denoise', ),
                 scene_weight: float = 1.0,
                 scene_iters: int = 0,
                 scene_module: str = 'network.scene',
                 task_module: str = 'network.denoiser',
                 freeze_scene: bool = True) -> None:
        if strategy not in RUAS_TRAINING_STRATEGIES:
            raise ValueError(f'strategy must be one of '
                             f'{RUAS_TRAINING_STRATEGIES}, got {strategy!r}')
        if scene_weight < 0 or scene_iters < 0:
            raise ValueError('scene_weight and scene_iters must be >= 0, got '
                             f'{scene_weight}, {scene_iters}')
        if not scene_losses or not task_losses:
            raise ValueError('scene_losses and task_losses must not be empty')
        self.strategy = strategy
        self.scene_losses = tuple(scene_losses)
        self.task_losses = tuple(task_losses)
        self.scene_weight = float(scene_weight)
        self.scene_iters = int(scene_iters)
        self.scene_module = scene_module
        self.task_module = task_module
        self.freeze_scene = freeze_scene
        self._phase: Optional[str] = None
        self._weight0 = 1.0

    @staticmethod
    def _model(runner: Runner) -> nn.Module:
        model = runner.model
        return model.module if is_model_wrapper(model) else model

    @staticmethod
    def _is_compound(model: nn.Module) -> bool:
        # local import: mmfusenas.models imports mmfusenas.engine
        from mmfusenas.models.compound import BasePreTaskModel
        return isinstance(model, BasePreTaskModel)

    def before_train(self, runner: Runner) -> None:
        model = self._model(runner)
        if self._is_compound(model):
            self._phase = None
            self._weight0 = model.pre_loss_weight
            if self.strategy == 'end_to_end':
                self._set_compound_phase(model, 'end_to_end')
            return
        if not callable(getattr(model, 'configure_losses', None)):
            raise TypeError('RUASTrainingStrategyHook needs an ImageEnhancer '
                            f'(configure_losses), got {type(model).__name__}')
        for path in (self.scene_module, self.task_module):
            model.get_submodule(path)  # AttributeError names a bad path
        self._phase = None
        if self.strategy == 'end_to_end':
            model.configure_losses(
                self.scene_losses + self.task_losses,
                {n: self.scene_weight
                 for n in self.scene_losses})
            self._set_phase(model, 'end_to_end')

    def before_train_iter(self, runner: Runner, batch_idx: int,
                          data_batch: DATA_BATCH = None) -> None:
        if self.strategy != 'hierarchical':
            return
        model = self._model(runner)
        phase = 'scene' if runner.iter < self.scene_iters else 'task'
        if phase != self._phase and self._is_compound(model):
            self._set_compound_phase(model, phase)
            runner.logger.info(
                f'RUASTrainingStrategyHook: {phase} stage from iteration '
                f'{runner.iter}')
        elif phase != self._phase:
            losses = self.scene_losses if phase == 'scene' \
                else self.task_losses
            model.configure_losses(losses)
            self._set_phase(model, phase)
            runner.logger.info(
                f'RUASTrainingStrategyHook: {phase} stage from iteration '
                f'{runner.iter} (losses {list(losses)})')

    def after_train(self, runner: Runner) -> None:
        model = self._model(runner)
        if self._is_compound(model):
            model.task_enabled = True
            model.pre_loss_weight = self._weight0
            model.set_pre_frozen(False)
            self._phase = None
            return
        model.configure_losses()
        self._set_phase(model, 'end_to_end')
        self._phase = None

    def _set_phase(self, model: nn.Module, phase: str) -> None:
        scene = model.get_submodule(self.scene_module)
        task = model.get_submodule(self.task_module)
        scene_on = phase in ('end_to_end', 'scene') or not self.freeze_scene
        task_on = phase in ('end_to_end', 'task')
        for p in scene.parameters():
            p.requires_grad_(scene_on)
        for p in task.parameters():
            p.requires_grad_(task_on)
        self._phase = phase

    def _set_compound_phase(self, model: nn.Module, phase: str) -> None:
        """Stage a scene + task model (see the class docstring)."""
        model.task_enabled = phase != 'scene'
        model.pre_loss_weight = {
            'end_to_end': self.scene_weight,
            'scene': 1.0,
            'task': 0.0
        }[phase]
        model.set_pre_frozen(phase == 'task' and self.freeze_scene)
        self._phase = phase
