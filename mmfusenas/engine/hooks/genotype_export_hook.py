"""Export the derived genotype during and after a search."""
import os.path as osp
from typing import Optional

from mmengine.dist import master_only
from mmengine.runner import Runner

from mmfusenas.registry import HOOKS
from ._utils import IntervalHook, search_algorithm


@HOOKS.register_module()
class GenotypeExportHook(IntervalHook):
    """Write the derived genotype to ``<out_dir>/{epoch_<N>,latest}.yaml``.

    After every ``interval``-th training epoch (or iteration, with
    ``by_epoch=False``) the model's ``derive_genotype()`` is written to
    ``epoch_<N>.<ext>`` (``iter_<N>.<ext>``), N counted from 1 like the
    checkpoints, and to ``latest.<ext>``; after training ``latest`` is
    written once more (the final α, also when the last iteration is not a
    multiple of the interval). Every file is written atomically (a
    temporary file and a rename), so a reader never sees a partial file.
    The genotype's ``meta`` records ``epoch`` and ``iter`` (completed
    epochs / iterations) besides the algorithm's own entries. A retrain
    config rebuilds the network with ``dict(type='GenotypeNet',
    genotype='<work_dir>/genotypes/latest.yaml')``. Only the main process
    writes.

    Args:
        interval (int): Export every ``interval`` epochs / iterations.
            Defaults to 1.
        by_epoch (bool): Count epochs or iterations (use False with an
            iteration-based loop). Defaults to True.
        out_dir (str, optional): Folder of the files. Defaults to
            ``<work_dir>/genotypes``.
        file_format (str): ``'yaml'`` or ``'json'``. Defaults to ``'yaml'``.
    """

    priority = 'LOW'  # before the CheckpointHook (VERY_LOW)

    def __init__(self,
                 interval: int = 1,
                 by_epoch: bool = True,
                 out_dir: Optional[str] = None,
                 file_format: str = 'yaml') -> None:
        super().__init__(interval, by_epoch)
        if file_format not in ('yaml', 'json'):
            raise ValueError("GenotypeExportHook: file_format must be 'yaml' "
                             f"or 'json', got {file_format!r}")
        self.out_dir = out_dir
        self.file_format = file_format

    def at_interval(self, runner: Runner) -> None:
        if self.by_epoch:
            self.export(runner, f'epoch_{runner.epoch + 1}', runner.epoch + 1,
                        runner.iter)
        else:
            self.export(runner, f'iter_{runner.iter + 1}', runner.epoch,
                        runner.iter + 1)

    def after_train(self, runner: Runner) -> None:
        self.export(runner, None, runner.epoch, runner.iter)

    def folder(self, runner: Runner) -> str:
        """Where the genotype files go."""
        return self.out_dir or osp.join(runner.work_dir, 'genotypes')

    @master_only
    def export(self, runner: Runner, name: Optional[str], epoch: int,
               iteration: int) -> None:
        """Write ``<name>.<ext>`` (unless ``name`` is None) and
        ``latest.<ext>``."""
        model = search_algorithm(runner, type(self).__name__)
        genotype = model.derive_genotype(
            meta=dict(epoch=epoch, iter=iteration))
        folder = self.folder(runner)
        paths = [
            osp.join(folder, f'{stem}.{self.file_format}')
            for stem in ([name] if name else []) + ['latest']
        ]
        for path in paths:
            genotype.dump(path)
        runner.logger.info(f'derived genotype written to {paths[0]}')
