"""Supernet training loop: one sampled path per iteration."""
from typing import Union

from mmengine.model import is_model_wrapper
from mmengine.runner import IterBasedTrainLoop

from mmfusenas.models.mutables import apply_choices
from mmfusenas.registry import LOOPS, TASK_UTILS
from mmfusenas.utils.distributed import broadcast_object, data_parallel, unwrap

#: message-hub key (saved in checkpoints): the sampler's ``state_dict()``
SAMPLER_STATE_KEY = 'one_shot_sampler'


@LOOPS.register_module()
class OneShotIterBasedTrainLoop(IterBasedTrainLoop):
    """:class:`~mmengine.runner.IterBasedTrainLoop` that sets a path drawn
    by ``sampler`` (a ``TASK_UTILS`` config, e.g. ``UniformPathSampler``)
    before every training iteration; rank 0's path in a distributed run.
    Validation uses the last path. A sampler with ``state_dict`` /
    ``load_state_dict`` (the built-in ones) is resumed with the checkpoint.
    """

    def __init__(self,
                 runner,
                 dataloader,
                 max_iters: int,
                 sampler: Union[dict, object] = dict(
                     type='UniformPathSampler'),
                 **kwargs) -> None:
        super().__init__(runner, dataloader, max_iters, **kwargs)
        self.sampler = TASK_UTILS.build(sampler) if isinstance(
            sampler, dict) else sampler
        self._ready = False

    def _setup(self) -> None:
        if not self._ready:
            self.sampler.setup(self.runner)
            self._ready = True

    def run(self):
        """MMEngine's loop; a resumed run resumes the sampler first."""
        state = self.runner.message_hub.get_info(SAMPLER_STATE_KEY)
        if self._iter and state is not None:
            self._setup()
            self.sampler.load_state_dict(state)
        return super().run()

    def run_iter(self, data_batch) -> None:
        self._setup()
        distributed = is_model_wrapper(self.runner.model)
        with data_parallel(distributed):
            choices = self.sampler.sample(self.runner)
        if hasattr(self.sampler, 'state_dict'):
            self.runner.message_hub.update_info(SAMPLER_STATE_KEY,
                                                self.sampler.state_dict())
        if distributed:  # one path everywhere, even from a user's sampler
            choices = broadcast_object(choices)
        apply_choices(unwrap(self.runner.model), choices)
        super().run_iter(data_batch)
