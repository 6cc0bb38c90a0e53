"""Export the searched loss weights during and after a loss search."""
from typing import Callable

from mmengine.model import is_model_wrapper
from mmengine.runner import Runner

from mmfusenas.registry import HOOKS
from .genotype_export_hook import GenotypeExportHook


@HOOKS.register_module()
class LossWeightExportHook(GenotypeExportHook):
    """:class:`GenotypeExportHook` for β / γ of a model with
    ``export_loss_weights(path, meta)`` (default folder
    ``<work_dir>/loss_weights``; ``ImageEnhancer(loss_weights=...)`` reads
    ``latest.yaml``).
    """

    default_folder, what = 'loss_weights', 'loss weights'

    def writer(self, runner: Runner, meta: dict) -> Callable[[str], None]:
        model = runner.model
        if is_model_wrapper(model):
            model = model.module
        if not callable(getattr(model, 'export_loss_weights', None)):
            raise TypeError(
                'LossWeightExportHook needs a model with '
                'export_loss_weights() (LossWeightSearchAlgorithm), got '
                f'{type(model).__name__}')
        return lambda path: model.export_loss_weights(path, meta=dict(meta))
