"""Log the architecture distribution softmax(α) during a search."""
from typing import Dict

from mmengine.runner import Runner

from mmfusenas.registry import HOOKS
from ._utils import IntervalHook, search_algorithm


@HOOKS.register_module()
class ArchLoggingHook(IntervalHook):
    """Log ``softmax(α)`` of every key as scalars ``arch/<key>/<candidate>``
    (message hub and visualizer) and as a table in the text log (most
    probable candidate marked ``*``).

    Args:
        interval (int): Log every ``interval`` epochs / iterations.
        by_epoch (bool): Count epochs or iterations. Defaults to True.
    """

    priority = 'BELOW_NORMAL'

    def __init__(self, interval: int = 1, by_epoch: bool = True) -> None:
        super().__init__(interval, by_epoch)

    def at_interval(self, runner: Runner) -> None:
        self.log_arch(runner)

    def log_arch(self, runner: Runner) -> Dict[str, float]:
        """Log the current distribution now; returns the scalars."""
        probs = search_algorithm(
            runner, type(self).__name__).arch_params.probabilities()
        scalars = {f'arch/{key}/{name}': p
                   for key, dist in probs.items() for name, p in dist.items()}
        for name, value in scalars.items():
            runner.message_hub.update_scalar(name, value)
        # iterations done (after_train_iter runs before the runner counts it)
        runner.visualizer.add_scalars(
            scalars, step=runner.iter + (not self.by_epoch))
        lines = [f'  {key}: ' + ' | '.join(
            f"{'*' if n == max(d, key=d.get) else ''}{n} {p:.3f}"
            for n, p in d.items()) for key, d in probs.items()]
        when = (f'epoch {runner.epoch + 1}'
                if self.by_epoch else f'iter {runner.iter + 1}')
        runner.logger.info(f'softmax(α) after {when}:\n' + '\n'.join(lines))
        return scalars
