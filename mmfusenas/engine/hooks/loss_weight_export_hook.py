"""Export the searched loss weights during and after a loss search."""
import os.path as osp
from typing import Optional

from mmengine.dist import master_only
from mmengine.model import is_model_wrapper
from mmengine.runner import Runner

from mmfusenas.registry import HOOKS
from .genotype_export_hook import GenotypeExportHook


@HOOKS.register_module()
class LossWeightExportHook(GenotypeExportHook):
    """Write β / γ to ``<out_dir>/{epoch_<N>,iter_<N>,latest}.yaml``.

    The schedule, file names and atomic writes are those of
    :class:`GenotypeExportHook`; the model must have
    ``export_loss_weights(path, meta)``
    (:class:`~mmfusenas.search.LossWeightSearchAlgorithm`). The next stage
    of a hierarchy reads ``latest.yaml`` with ``ImageEnhancer(
    loss_weights=...)``.

    Args:
        interval (int): Defaults to 1.
        by_epoch (bool): Defaults to True.
        out_dir (str, optional): Defaults to ``<work_dir>/loss_weights``.
        file_format (str): ``'yaml'`` or ``'json'``.
    """

    def folder(self, runner: Runner) -> str:
        return self.out_dir or osp.join(runner.work_dir, 'loss_weights')

    @master_only
    def export(self, runner: Runner, name: Optional[str], epoch: int,
               iteration: int) -> None:
        model = runner.model
        if is_model_wrapper(model):
            model = model.module
        if not callable(getattr(model, 'export_loss_weights', None)):
            raise TypeError(
                'LossWeightExportHook needs a model with '
                'export_loss_weights() (LossWeightSearchAlgorithm), got '
                f'{type(model).__name__}')
        folder = self.folder(runner)
        paths = [
            osp.join(folder, f'{stem}.{self.file_format}')
            for stem in ([name] if name else []) + ['latest']
        ]
        for path in paths:
            model.export_loss_weights(
                path, meta=dict(epoch=epoch, iter=iteration))
        runner.logger.info(f'loss weights written to {paths[0]}')
