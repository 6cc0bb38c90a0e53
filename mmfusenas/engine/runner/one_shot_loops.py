"""Supernet training loop: one sampled path per iteration."""
from typing import Union

from mmengine.model import is_model_wrapper
from mmengine.runner import IterBasedTrainLoop

from mmfusenas.models.mutables import apply_choices
from mmfusenas.registry import LOOPS, TASK_UTILS
from mmfusenas.search.strategies.path_samplers import unwrap
from mmfusenas.utils.distributed import broadcast_object, data_parallel


@LOOPS.register_module()
class OneShotIterBasedTrainLoop(IterBasedTrainLoop):
    """:class:`~mmengine.runner.IterBasedTrainLoop` that sets a path drawn
    by ``sampler`` (a ``TASK_UTILS`` config, e.g. ``UniformPathSampler``,
    ``BestOfMPathSampler``, ``PredictorPathSampler``) before every
    training iteration; every other argument is the parent's.
    Validation uses the last path unless ``val_choices`` is given. In a
    distributed run rank 0's path is broadcast.
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
        distributed = is_model_wrapper(self.runner.model)
        with data_parallel(distributed):
            choices = self.sampler.sample(self.runner)
        if distributed:
            # a user sampler that is not rank-synchronised still trains
            # one path everywhere
            choices = broadcast_object(choices)
        apply_choices(unwrap(self.runner.model), choices)
        super().run_iter(data_batch)
        if self.val_choices is not None:
            apply_choices(unwrap(self.runner.model), self.val_choices)
