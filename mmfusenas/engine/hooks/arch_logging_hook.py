"""Log the architecture distribution softmax(α) during a search."""
from typing import Dict

from mmengine.runner import Runner

from mmfusenas.registry import HOOKS
from ._utils import IntervalHook, search_algorithm


@HOOKS.register_module()
class ArchLoggingHook(IntervalHook):
    """Log ``softmax(α)`` of every key as scalars ``arch/<key>/<candidate>``
    (message hub and visualizer, at the iterations done) and optionally as a
    table in the text log (most probable candidate marked ``*``).

    Args:
        interval (int): Log every ``interval`` epochs / iterations.
        by_epoch (bool): Count epochs or iterations. Defaults to True.
        log_table (bool): Also write the table. Defaults to True.
    """

    priority = 'BELOW_NORMAL'

    def __init__(self,
                 interval: int = 1,
                 by_epoch: bool = True,
                 log_table: bool = True) -> None:
        super().__init__(interval, by_epoch)
        self.log_table = log_table

    def at_interval(self, runner: Runner) -> None:
        self.log_arch(runner)

    def log_arch(self, runner: Runner) -> Dict[str, float]:
        """Log the current distribution now; returns the scalars."""
        model = search_algorithm(runner, type(self).__name__)
        probabilities = model.arch_params.probabilities()
        scalars = {
            f'arch/{key}/{name}': p
            for key, dist in probabilities.items()
            for name, p in dist.items()
        }
        for name, value in scalars.items():
            runner.message_hub.update_scalar(name, value)
        # iterations done (in after_train_iter the runner has not counted
        # the current one yet)
        step = runner.iter if self.by_epoch else runner.iter + 1
        runner.visualizer.add_scalars(scalars, step=step)
        if self.log_table:
            lines = []
            for key, dist in probabilities.items():
                best = max(dist, key=dist.get)
                cells = ' | '.join(f"{'*' if n == best else ''}{n} {p:.3f}"
                                   for n, p in dist.items())
                lines.append(f'  {key}: {cells}')
            when = (f'epoch {runner.epoch + 1}'
                    if self.by_epoch else f'iter {runner.iter + 1}')
            runner.logger.info(f'softmax(α) after {when}:\n' +
                               '\n'.join(lines))
        return scalars
