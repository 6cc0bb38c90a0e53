"""Export the derived genotype (or loss weights) during and after a search."""
import os.path as osp
from typing import Callable, Optional

from mmengine.dist import master_only
from mmengine.runner import Runner

from mmfusenas.registry import HOOKS
from mmfusenas.utils.distributed import unwrap
from ._utils import IntervalHook, search_algorithm


@HOOKS.register_module()
class GenotypeExportHook(IntervalHook):
    """Write the model's ``derive_genotype()`` to
    ``<out_dir>/{epoch_<N>,latest}.yaml`` (``iter_<N>`` with
    ``by_epoch=False``) every ``interval`` steps and after training, from
    the main process; ``GenotypeNet(genotype=...)`` rebuilds the network.

    Args:
        interval (int): Export every ``interval`` epochs / iterations.
            Defaults to 1.
        by_epoch (bool): Count epochs or iterations. Defaults to True.
        out_dir (str, optional): Defaults to ``<work_dir>/genotypes``.
        file_format (str): ``'yaml'`` or ``'json'``. Defaults to ``'yaml'``.
    """

    priority = 'LOW'  # before the CheckpointHook (VERY_LOW)
    default_folder, what = 'genotypes', 'derived genotype'

    def __init__(self, interval: int = 1, by_epoch: bool = True,
                 out_dir: Optional[str] = None,
                 file_format: str = 'yaml') -> None:
        super().__init__(interval, by_epoch)
        if file_format not in ('yaml', 'json'):
            raise ValueError("GenotypeExportHook: file_format must be 'yaml' "
                             f"or 'json', got {file_format!r}")
        self.out_dir, self.file_format = out_dir, file_format

    def at_interval(self, runner: Runner) -> None:
        epoch, it = runner.epoch + self.by_epoch, runner.iter + (
            not self.by_epoch)
        self.export(runner, f'epoch_{epoch}' if self.by_epoch else
                    f'iter_{it}', epoch, it)

    def after_train(self, runner: Runner) -> None:
        self.export(runner, None, runner.epoch, runner.iter)

    def writer(self, runner: Runner, meta: dict) -> Callable[[str], None]:
        """``path -> None`` that writes the current result with ``meta``."""
        model = search_algorithm(runner, type(self).__name__)
        return model.derive_genotype(meta=meta).dump

    @master_only
    def export(self, runner: Runner, name: Optional[str], epoch: int,
               iteration: int) -> None:
        """Write ``<name>.<ext>`` (if ``name``) and ``latest.<ext>``."""
        write = self.writer(runner, dict(epoch=epoch, iter=iteration))
        folder = self.out_dir or osp.join(runner.work_dir,
                                          self.default_folder)
        paths = [osp.join(folder, f'{stem}.{self.file_format}')
                 for stem in [name] * bool(name) + ['latest']]
        for path in paths:
            write(path)
        runner.logger.info(f'{self.what} written to {paths[0]}')


@HOOKS.register_module()
class LossWeightExportHook(GenotypeExportHook):
    """:class:`GenotypeExportHook` for β / γ of a model with
    ``export_loss_weights(path, meta)``, to ``<work_dir>/loss_weights``."""

    default_folder, what = 'loss_weights', 'loss weights'

    def writer(self, runner: Runner, meta: dict) -> Callable[[str], None]:
        model = unwrap(runner.model)
        if not callable(getattr(model, 'export_loss_weights', None)):
            raise TypeError(
                'LossWeightExportHook needs a model with '
                'export_loss_weights() (LossWeightSearchAlgorithm), got '
                f'{type(model).__name__}')
        return lambda path: model.export_loss_weights(path, meta=dict(meta))
