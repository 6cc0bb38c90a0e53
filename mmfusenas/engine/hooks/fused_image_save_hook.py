"""Write the fused images of validation / test iterations to disk."""
import os.path as osp
from typing import Optional, Sequence

import cv2
import numpy as np
import torch
from mmengine.hooks import Hook

from mmfusenas.utils.fileio import atomic_write
from mmfusenas.registry import HOOKS


def tensor_to_uint8_image(img: torch.Tensor) -> np.ndarray:
    """(C, H, W) float in [0, 1] -> H x W (x 3, BGR) uint8, rounding half up.

    Matches the usual ``uint8(floor(x * 255 + 0.5))`` of fusion code.
    """
    arr = torch.floor(img.detach().float().clamp(0, 1) * 255 + 0.5)
    arr = arr.to(torch.uint8).cpu().numpy()
    if arr.shape[0] == 1:
        return arr[0]
    if arr.shape[0] == 3:
        return np.ascontiguousarray(arr.transpose(1, 2, 0)[..., ::-1])
    raise ValueError(f'expected a 1- or 3-channel image, got {img.shape}')


@HOOKS.register_module()
class FusedImageSaveHook(Hook):
    """Save ``pred_fused_rgb`` (colour sources) or ``pred_fused`` as PNG.

    Files go to ``{out_dir}/{subdir}/{stem}.png``. ``out_dir`` defaults to
    the run's log folder (``work_dir/<timestamp>``); every image is written
    atomically, so an interrupted run never leaves a truncated file.

    Args:
        out_dir (str, optional): root folder. Defaults to the run's log dir.
        val_subdir (str): sub-folder for validation; the iteration count is
            appended (``fused_val/iter_200``) so evaluations do not overwrite
            each other. Defaults to 'fused_val'.
        test_subdir (str): sub-folder for testing. Defaults to 'fused_test'.
        save_val (bool): save during validation. Defaults to True.
        save_test (bool): save during testing. Defaults to True.
        color (bool): save the colour result when one exists; otherwise the
            fused luminance / grey image. Defaults to True.
    """

    priority = 'NORMAL'

    def __init__(self,
                 out_dir: Optional[str] = None,
                 val_subdir: str = 'fused_val',
                 test_subdir: str = 'fused_test',
                 save_val: bool = True,
                 save_test: bool = True,
                 color: bool = True) -> None:
        self.out_dir = out_dir
        self.val_subdir = val_subdir
        self.test_subdir = test_subdir
        self.save_val = save_val
        self.save_test = save_test
        self.color = color

    def _folder(self, runner, subdir: str) -> str:
        root = self.out_dir if self.out_dir is not None else runner.log_dir
        return osp.join(root, subdir)

    def _save(self, folder: str, outputs: Sequence) -> None:
        for sample in outputs:
            if self.color and 'pred_fused_rgb' in sample:
                img = sample.pred_fused_rgb
            else:
                img = sample.pred_fused
            ok, buf = cv2.imencode('.png', tensor_to_uint8_image(img))
            if not ok:
                raise RuntimeError(f'PNG encoding failed for {sample.stem}')
            atomic_write(buf.tobytes(), osp.join(folder, f'{sample.stem}.png'))

    def after_val_iter(self, runner, batch_idx: int, data_batch=None,
                       outputs: Optional[Sequence] = None) -> None:
        if self.save_val and outputs:
            self._save(
                self._folder(runner,
                             osp.join(self.val_subdir, f'iter_{runner.iter}')),
                outputs)

    def after_test_iter(self, runner, batch_idx: int, data_batch=None,
                        outputs: Optional[Sequence] = None) -> None:
        if self.save_test and outputs:
            self._save(self._folder(runner, self.test_subdir), outputs)
