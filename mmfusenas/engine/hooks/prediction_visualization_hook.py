"""Write sources, the fused / enhanced image and task predictions side by
side during validation / testing."""
import os.path as osp
from typing import Optional, Sequence

import cv2
import numpy as np
from mmengine.hooks import Hook
from mmengine.hooks.hook import DATA_BATCH
from mmengine.runner import Runner

from mmfusenas.registry import HOOKS
from mmfusenas.utils.fileio import atomic_write
from .fused_image_save_hook import sample_stem


@HOOKS.register_module()
class PredictionVisualizationHook(Hook):
    """A visualiser for the compound models (and plain fusion / enhancement).

    For the first ``max_samples`` samples of every validation (and test)
    run, one picture per sample: every source with its ground-truth boxes /
    masks, then the model's fused (``pred_fused_rgb`` / ``pred_fused``) or
    enhanced (``pred_img``) image with the predicted boxes (score >=
    ``score_thr``) or masks (:mod:`mmfusenas.visualization.panels`). Written
    atomically to ``{out_dir}/{subdir}/iter_<n>/<stem>.png`` (``out_dir``
    defaults to the run's log folder) and, with ``add_to_visualizer``, given
    to ``runner.visualizer.add_image`` — so they appear in TensorBoard when
    the TensorBoard backend is on (``tensorboard = True`` in the config or
    ``--tensorboard``).

    Args:
        max_samples (int): pictures per evaluation. Defaults to 4.
        score_thr (float): predicted boxes below are not drawn.
            Defaults to 0.3.
        out_dir (str, optional): root folder. Defaults to the log dir.
        val_subdir (str): sub-folder for validation. Defaults to 'vis_val'.
        test_subdir (str): sub-folder for testing. Defaults to 'vis_test'.
        add_to_visualizer (bool): also ``visualizer.add_image``. Defaults to
            True.
    """

    priority = 'NORMAL'

    def __init__(self,
                 max_samples: int = 4,
                 score_thr: float = 0.3,
                 out_dir: Optional[str] = None,
                 val_subdir: str = 'vis_val',
                 test_subdir: str = 'vis_test',
                 add_to_visualizer: bool = True) -> None:
        if max_samples < 1:
            raise ValueError(f'PredictionVisualizationHook: max_samples must '
                             f'be >= 1, got {max_samples}')
        self.max_samples = max_samples
        self.score_thr = score_thr
        self.out_dir = out_dir
        self.val_subdir = val_subdir
        self.test_subdir = test_subdir
        self.add_to_visualizer = add_to_visualizer
        self._count = 0

    def before_val_epoch(self, runner: Runner) -> None:
        self._count = 0

    def before_test_epoch(self, runner: Runner) -> None:
        self._count = 0

    def _draw(self, runner: Runner, subdir: str, data_batch: DATA_BATCH,
              outputs: Optional[Sequence]) -> None:
        from mmfusenas.visualization import (hstack, prediction_row,
                                             sample_panels, source_images)
        if not outputs or self._count >= self.max_samples:
            return
        classes = None
        loop = getattr(runner, 'val_loop' if 'val' in subdir else
                       'test_loop', None)
        dataset = getattr(getattr(loop, 'dataloader', None), 'dataset',
                          None)
        if dataset is not None:
            classes = dataset.metainfo.get('classes')
        inputs = (data_batch or {}).get('inputs')
        if isinstance(inputs, dict):  # collated {modality: [per sample]}
            inputs = [{mod: imgs[i] for mod, imgs in inputs.items()}
                      for i in range(len(outputs))]
        elif inputs is None:
            inputs = [None] * len(outputs)
        root = self.out_dir if self.out_dir is not None else runner.log_dir
        folder = osp.join(root, subdir, f'iter_{runner.iter}')
        for src, pred in zip(inputs, outputs):
            if self._count >= self.max_samples:
                break
            panels = []
            if src is not None:
                panels.append(sample_panels(source_images(src), pred,
                                            classes))
            panels.append(prediction_row(pred, classes, self.score_thr))
            row = hstack(panels)
            stem = sample_stem(pred)
            ok, buf = cv2.imencode('.png', row)
            if not ok:
                raise RuntimeError(f'PNG encoding failed for {stem}')
            atomic_write(buf.tobytes(), osp.join(folder, f'{stem}.png'))
            if self.add_to_visualizer:
                runner.visualizer.add_image(
                    f'{subdir}/{stem}',
                    np.ascontiguousarray(row[..., ::-1]), step=runner.iter)
            self._count += 1

    def after_val_iter(self,
                       runner: Runner,
                       batch_idx: int,
                       data_batch: DATA_BATCH = None,
                       outputs: Optional[Sequence] = None) -> None:
        self._draw(runner, self.val_subdir, data_batch, outputs)

    def after_test_iter(self,
                        runner: Runner,
                        batch_idx: int,
                        data_batch: DATA_BATCH = None,
                        outputs: Optional[Sequence] = None) -> None:
        self._draw(runner, self.test_subdir, data_batch, outputs)
