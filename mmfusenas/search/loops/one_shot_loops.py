"""Supernet training loop: one sampled path per iteration."""
from typing import Union

from mmengine.runner import IterBasedTrainLoop

from mmfusenas.models.mutables import apply_choices
from mmfusenas.registry import LOOPS, TASK_UTILS
from ..strategies.path_samplers import unwrap


@LOOPS.register_module()
class OneShotIterBasedTrainLoop(IterBasedTrainLoop):
    """:class:`~mmengine.runner.IterBasedTrainLoop` that sets a path drawn
    by ``sampler`` (a ``TASK_UTILS`` config, e.g. ``UniformPathSampler``,
    ``BestOfMPathSampler``, ``PredictorPathSampler``) before every
    training iteration; every other argument is the parent's. A new path
    is drawn every iteration (as the official code effectively does).

    Validation runs with the path of the last iteration unless
    ``val_choices`` is a genotype dict (e.g. a fixed reference path).
    """

    def __init__(self,
                 runner,
                 dataloader,
                 max_iters: int,
                 sampler: Union[dict, object] = dict(
                     type='UniformPathSampler'),
                 val_choices: Union[dict, None] = None,
                 **kwargs) -> None:
        super().__init__(runner, dataloader, max_iters, **kwargs)
        self.sampler = TASK_UTILS.build(sampler) if isinstance(
            sampler, dict) else sampler
        self.val_choices = val_choices
        self._ready = False

    def run_iter(self, data_batch) -> None:
        if not self._ready:
            self.sampler.setup(self.runner)
            self._ready = True
        apply_choices(unwrap(self.runner.model),
                      self.sampler.sample(self.runner))
        super().run_iter(data_batch)
        if self.val_choices is not None:
            apply_choices(unwrap(self.runner.model), self.val_choices)
