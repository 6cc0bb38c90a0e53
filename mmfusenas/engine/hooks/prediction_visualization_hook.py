"""Draw sources, the fused / enhanced image and task predictions side by
side during validation / testing."""
import os.path as osp
from typing import Optional, Sequence

import numpy as np
from mmengine.hooks.hook import DATA_BATCH
from mmengine.runner import Runner

from mmfusenas.registry import HOOKS
from mmfusenas.utils.fileio import write_png
from .fused_image_save_hook import EvalWriterHook, sample_stem


@HOOKS.register_module()
class PredictionVisualizationHook(EvalWriterHook):
    """Draw the first ``max_samples`` samples of every validation / test:
    the sources with their ground truth, then the fused / enhanced image
    with the predicted boxes or masks (:mod:`mmfusenas.visualization`), to
    ``{out_dir}/{subdir}/iter_<n>/<stem>.png`` and the visualizer.

    Args:
        max_samples (int): pictures per evaluation. Defaults to 4.
        score_thr (float): least score of a drawn box. Defaults to 0.3.
        out_dir (str, optional): root folder. Defaults to the log dir.
        val_subdir (str): validation sub-folder. Defaults to 'vis_val'.
        test_subdir (str): testing sub-folder. Defaults to 'vis_test'.
    """

    def __init__(self, max_samples: int = 4, score_thr: float = 0.3,
                 out_dir: Optional[str] = None, val_subdir: str = 'vis_val',
                 test_subdir: str = 'vis_test') -> None:
        if max_samples < 1:
            raise ValueError(f'PredictionVisualizationHook: max_samples must '
                             f'be >= 1, got {max_samples}')
        self.max_samples, self.score_thr = max_samples, score_thr
        self.out_dir = out_dir
        self.val_subdir, self.test_subdir = val_subdir, test_subdir
        self._count = 0

    def before_val_epoch(self, runner: Runner) -> None:
        self._count = 0

    before_test_epoch = before_val_epoch

    def write(self, runner: Runner, mode: str, folder: str,
              data_batch: DATA_BATCH, outputs: Sequence) -> None:
        from mmfusenas.visualization import (hstack, prediction_row,
                                             sample_panels, source_images)
        if not outputs or self._count >= self.max_samples:
            return
        loop = getattr(runner, f'{mode}_loop', None)
        dataset = getattr(getattr(loop, 'dataloader', None), 'dataset', None)
        classes = None if dataset is None else dataset.metainfo.get('classes')
        inputs = (data_batch or {}).get('inputs')
        if isinstance(inputs, dict):  # collated {modality: [per sample]}
            inputs = [{mod: imgs[i] for mod, imgs in inputs.items()}
                      for i in range(len(outputs))]
        elif inputs is None:
            inputs = [None] * len(outputs)
        for src, pred in list(zip(inputs, outputs))[:self.max_samples -
                                                    self._count]:
            panels = [] if src is None else [
                sample_panels(source_images(src), pred, classes)]
            row = hstack(panels +
                         [prediction_row(pred, classes, self.score_thr)])
            stem = sample_stem(pred)
            write_png(row, osp.join(folder, f'iter_{runner.iter}',
                                    f'{stem}.png'))
            runner.visualizer.add_image(
                f'{getattr(self, f"{mode}_subdir")}/{stem}',
                np.ascontiguousarray(row[..., ::-1]), step=runner.iter)
            self._count += 1
