"""Write the fused images of validation / test iterations to disk."""
import io
import os.path as osp
from functools import partialmethod
from typing import Optional, Sequence

import numpy as np
import torch
from mmengine.hooks import Hook
from mmengine.hooks.hook import DATA_BATCH
from mmengine.runner import Runner

from mmfusenas.registry import HOOKS
from mmfusenas.utils.fileio import atomic_write, to_uint8, write_png
from mmfusenas.visualization.panels import PRED_IMAGE_FIELDS


def tensor_to_uint8_image(img: torch.Tensor,
                          rounding: str = 'round') -> np.ndarray:
    """(C, H, W) float in [0, 1] -> H x W (x 3, BGR) uint8, ``rounding``
    ``'round'`` or ``'floor'``."""
    arr = to_uint8(img, rounding).cpu().numpy()
    if arr.shape[0] == 1:
        return arr[0]
    if arr.shape[0] == 3:
        return np.ascontiguousarray(arr.transpose(1, 2, 0)[..., ::-1])
    raise ValueError(f'expected a 1- or 3-channel image, got {img.shape}')


def prediction_image(sample, color: bool = True,
                     rounding: Optional[str] = None) -> np.ndarray:
    """The first of :data:`~mmfusenas.visualization.PRED_IMAGE_FIELDS` a
    prediction carries (``pred_fused_rgb`` only with ``color``) as an OpenCV
    ``uint8`` array (``rounding`` None: the prediction's, else 'round')."""
    rounding = rounding or sample.get('rounding', None) or 'round'
    for field in PRED_IMAGE_FIELDS[0 if color else 1:]:
        if field in sample:
            return tensor_to_uint8_image(sample.get(field), rounding)
    raise KeyError(
        f'the prediction of {sample.get("stem", sample.get("img_path"))!r} '
        f'({type(sample).__name__}) carries no image: expected one of '
        f'{PRED_IMAGE_FIELDS}, found {sorted(sample.keys())}')


def sample_stem(sample) -> str:
    """The file stem of a prediction (``stem``, a guided-SR ``sample_id``,
    else ``img_path``'s)."""
    stem = sample.get('stem') or sample.get('sample_id')
    if stem is None:
        path = sample.get('img_path')
        if isinstance(path, dict):
            path = next(iter(path.values()))
        stem = osp.splitext(osp.basename(str(path)))[0]
    return stem


class EvalWriterHook(Hook):
    """Calls :meth:`write` after every validation / test iteration with
    ``{out_dir or log dir}/{val_subdir or test_subdir}``."""

    def write(self, runner: Runner, mode: str, folder: str,
              data_batch: DATA_BATCH, outputs: Sequence) -> None:
        raise NotImplementedError

    def after_val_iter(self, runner: Runner, batch_idx: int,
                       data_batch: DATA_BATCH = None,
                       outputs: Optional[Sequence] = None,
                       mode: str = 'val') -> None:
        self.write(runner, mode, osp.join(self.out_dir or runner.log_dir,
                                          getattr(self, f'{mode}_subdir')),
                   data_batch, outputs)

    after_test_iter = partialmethod(after_val_iter, mode='test')


@HOOKS.register_module()
class FusedImageSaveHook(EvalWriterHook):
    """Save the image of every prediction (:func:`prediction_image`) as PNG,
    written atomically to ``{out_dir}/{subdir}/{stem}.png``; a depth
    prediction (``pred_depth``) to ``{stem}.npy`` (float32) and
    ``{stem}.png`` (min-max stretched).

    Args:
        out_dir (str, optional): root folder. Defaults to the run's log dir.
        val_subdir (str): validation sub-folder, ``iter_<n>`` appended.
            Defaults to 'fused_val'.
        test_subdir (str): testing sub-folder. Defaults to 'fused_test'.
        color (bool): the colour result when there is one. Defaults to True.
        extra_fields (Sequence[str]): more image fields to write, each into
            a sub-folder named without ``pred_`` (``'pred_vi_enh'`` ->
            ``vi_enh/<stem>.png``); required of every prediction.
    """

    def __init__(self, out_dir: Optional[str] = None,
                 val_subdir: str = 'fused_val',
                 test_subdir: str = 'fused_test', color: bool = True,
                 extra_fields: Sequence[str] = ()) -> None:
        self.out_dir, self.color = out_dir, color
        self.val_subdir, self.test_subdir = val_subdir, test_subdir
        self.extra_fields = (extra_fields, ) if isinstance(
            extra_fields, str) else tuple(extra_fields)

    def write(self, runner: Runner, mode: str, folder: str,
              data_batch: DATA_BATCH, outputs: Sequence) -> None:
        if outputs:
            self._save(osp.join(folder, f'iter_{runner.iter}') if mode ==
                       'val' else folder, outputs)

    def _save(self, folder: str, outputs: Sequence) -> None:
        for sample in outputs:
            stem = sample_stem(sample)
            if 'pred_depth' in sample:
                depth = np.asarray(torch.as_tensor(
                    sample.get('pred_depth')).detach().cpu(), np.float32)
                if not np.isfinite(depth).all():
                    raise ValueError(f'FusedImageSaveHook: the depth '
                                     f'prediction of {stem!r} is not finite')
                buf = io.BytesIO()
                np.save(buf, depth)
                atomic_write(buf.getvalue(), osp.join(folder, f'{stem}.npy'))
                lo, hi = float(depth.min()), float(depth.max())
                view = np.round((depth - lo) / max(hi - lo, 1e-12) * 255)
                write_png(view.astype(np.uint8),
                          osp.join(folder, f'{stem}.png'))
                continue
            write_png(prediction_image(sample, self.color),
                      osp.join(folder, f'{stem}.png'))
            for field in self.extra_fields:
                if field not in sample:
                    raise KeyError(
                        f'FusedImageSaveHook: the prediction of {stem!r} has '
                        f'no {field!r} (extra_fields); it has '
                        f'{sorted(sample.keys())}')
                name = field[5:] if field.startswith('pred_') else field
                write_png(tensor_to_uint8_image(sample.get(field)),
                          osp.join(folder, name, f'{stem}.png'))
