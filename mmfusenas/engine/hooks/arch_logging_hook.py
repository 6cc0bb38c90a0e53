"""Log the architecture distribution softmax(α) during a search."""
from typing import Dict

from mmengine.runner import Runner

from mmfusenas.registry import HOOKS
from ._utils import IntervalHook, search_algorithm


@HOOKS.register_module()
class ArchLoggingHook(IntervalHook):
    """Log ``softmax(α)`` of every architecture key.

    Each candidate's probability becomes the scalar
    ``arch/<key>/<candidate>`` (e.g. ``arch/cell0/sc``,
    ``arch/cell0/sc/op1/DilConv_3_2``):

    * in the message hub (``runner.message_hub.get_scalar(name)``; saved in
      checkpoints, not mixed into the ``train/`` loss logs);
    * in the visualizer (``vis_data/scalars.json``, TensorBoard, ...), at
      ``step`` = the number of iterations done, the step axis of the loss
      logs;
    * optionally as a table in the text log, one line per key with the most
      probable candidate marked ``*``.

    Args:
        interval (int): Log every ``interval`` epochs (``by_epoch``) or
            iterations. Defaults to 1.
        by_epoch (bool): Count epochs (after each training epoch) or
            iterations (after each training iteration). Use False with an
            iteration-based loop. Defaults to True.
        log_table (bool): Also write the table to the text log. Defaults to
            True.
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
