"""Derain / dehaze a folder with a trained hyper-guidance model.

``python tools/restore.py CONFIG CHECKPOINT --input DIR --out DIR
[--gt DIR] [--gray]``

Every image ``<stem>.<ext>`` of ``--input`` is restored (RGB unless
``--gray``) and written to ``--out/<stem>.png`` (8-bit, rounded,
atomically). With ``--gt`` (sharp images named like the inputs, or in the
Rain100 / SOTS conventions: ``rain-001`` ↔ ``norain-001``,
``0001_0.8_0.2`` ↔ ``0001``) PSNR / SSIM (8-bit) are printed. For
non-blind deblurring use ``tools/deblur.py`` (it needs the kernels).
"""
import argparse
import os.path as osp
import sys
from typing import Dict, Optional, Sequence

import cv2
import numpy as np
import torch
from mmengine.config import Config, DictAction
from mmengine.dataset import pseudo_collate
from mmengine.runner.checkpoint import load_checkpoint
from mmengine.structures import BaseDataElement
from terminaltables import AsciiTable

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from mmfusenas.datasets import list_images, read_image  # noqa: E402
from mmfusenas.datasets.derain_dehaze_dataset import (  # noqa: E402
    _rain100_gt, _sots_gt)
from mmfusenas.evaluation.functional import psnr, ssim_uint8  # noqa: E402
from mmfusenas.registry import MODELS  # noqa: E402
from mmfusenas.utils.fileio import atomic_write  # noqa: E402


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('config', help='model config')
    p.add_argument('checkpoint', help='checkpoint file')
    p.add_argument('--input', required=True, help='folder of degraded images')
    p.add_argument('--out', required=True, help='output folder')
    p.add_argument('--gt', help='folder of clean images (prints metrics)')
    p.add_argument('--gray', action='store_true', help='gray images')
    p.add_argument('--device', default='cpu', help='torch device')
    p.add_argument('--cfg-options', nargs='+', action=DictAction,
                   help='override config settings')
    return p.parse_args(argv)


def _gt_path(gts: Dict[str, str], stem: str) -> str:
    for cand in [stem, *_rain100_gt(stem), *_sots_gt(stem)]:
        if cand in gts:
            return gts[cand]
    raise FileNotFoundError(f'no ground truth for {stem!r} in --gt')


def main(argv: Optional[Sequence[str]] = None) -> Dict[str, float]:
    """Restore the folder; return the mean metrics (empty without
    ``--gt``)."""
    args = parse_args(argv)
    for kind, path in (('config', args.config), ('checkpoint',
                                                 args.checkpoint)):
        if not osp.isfile(path):
            raise FileNotFoundError(f'{kind} file not found: {path}')
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    model = MODELS.build(cfg.model)
    load_checkpoint(model, args.checkpoint, map_location='cpu', strict=True)
    model.to(torch.device(args.device)).eval()
    gts = None
    if args.gt is not None:
        gts = {osp.splitext(osp.basename(f))[0]: f
               for f in list_images(args.gt)}
    rows, results = [['image', 'PSNR', 'SSIM']], []
    files = list_images(args.input)
    for f in files:
        stem = osp.splitext(osp.basename(f))[0]
        y = read_image(f, not args.gray)
        chw = y[None] if y.ndim == 2 else y.transpose(2, 0, 1)
        sample = BaseDataElement(stem=stem)
        item = dict(inputs=torch.from_numpy(chw.astype(np.float32).copy()),
                    data_samples=sample)
        with torch.no_grad():
            (out, ) = model.test_step(pseudo_collate([item]))
        img = np.clip(np.round(out.pred_img.cpu().numpy() * 255), 0,
                      255).astype(np.uint8)
        bgr = img[0] if img.shape[0] == 1 else img.transpose(1, 2,
                                                             0)[..., ::-1]
        ok, buf = cv2.imencode('.png', np.ascontiguousarray(bgr))
        if not ok:
            raise RuntimeError(f'PNG encoding failed for {stem}')
        atomic_write(buf.tobytes(), osp.join(args.out, f'{stem}.png'))
        if gts is not None:
            gt = read_image(_gt_path(gts, stem), not args.gray)
            gt = gt[None] if gt.ndim == 2 else gt.transpose(2, 0, 1)
            pred = img.astype(np.float64) / 255
            res = dict(PSNR=psnr(pred, gt), SSIM=ssim_uint8(pred, gt))
            results.append(res)
            rows.append([stem, f"{res['PSNR']:.2f}", f"{res['SSIM']:.4f}"])
    print(f'wrote {len(files)} restored image(s) to {args.out}')
    if not results:
        return {}
    means = {k: float(np.mean([r[k] for r in results]))
             for k in ('PSNR', 'SSIM')}
    rows.append([f'mean (n={len(results)})', f"{means['PSNR']:.2f}",
                 f"{means['SSIM']:.4f}"])
    print(AsciiTable(rows).table)
    return means


if __name__ == '__main__':
    main()
