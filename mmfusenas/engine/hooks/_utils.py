"""Helpers shared by the search hooks."""
from typing import Optional

from mmengine.hooks import Hook
from mmengine.hooks.hook import DATA_BATCH
from mmengine.runner import Runner

from mmfusenas.utils.distributed import unwrap


class IntervalHook(Hook):
    """Calls :meth:`at_interval` after every ``interval``-th (>= 1) training
    epoch (``by_epoch``) or iteration."""

    #: rescaled by tools/train.py --max-iters (mmfusenas.utils.schedule)
    iteration_fields = {'interval': 'interval'}

    def __init__(self, interval: int, by_epoch: bool) -> None:
        if interval < 1:
            raise ValueError(f'{type(self).__name__}: interval must be >= '
                             f'1, got {interval}')
        self.interval, self.by_epoch = interval, by_epoch

    def at_interval(self, runner: Runner) -> None:
        raise NotImplementedError

    def after_train_epoch(self, runner: Runner) -> None:
        if self.by_epoch and self.every_n_epochs(runner, self.interval):
            self.at_interval(runner)

    def after_train_iter(self, runner: Runner, batch_idx: int,
                         data_batch: DATA_BATCH = None,
                         outputs: Optional[dict] = None) -> None:
        if not self.by_epoch and self.every_n_train_iters(
                runner, self.interval):
            self.at_interval(runner)


def search_algorithm(runner: Runner, hook: str, *methods: str):
    """The runner's unwrapped model, checked to have ``arch_params``,
    ``derive_genotype()`` and the ``methods`` (TypeError naming ``hook``
    else)."""
    model = unwrap(runner.model)
    needs = ('derive_genotype', *methods)
    if not hasattr(model, 'arch_params') or not all(
            callable(getattr(model, name, None)) for name in needs):
        raise TypeError(
            f'{hook} needs a search algorithm with arch_params and '
            f'{", ".join(f"{name}()" for name in needs)} (e.g. '
            f'BilevelSearchAlgorithm), but the model is a '
            f'{type(model).__name__}')
    return model
