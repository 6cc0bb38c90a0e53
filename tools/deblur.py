"""Deblur (given kernels), derain or dehaze a folder with a trained
hyper-guidance model.

``python tools/deblur.py CONFIG CHECKPOINT --input DIR [--kernels DIR|FILE]
--out DIR [--gt DIR] [--color] [--noise-sigma S]``

Non-blind deblurring (``--kernels``): every image ``<stem>.<ext>`` of
``--input`` is restored with its kernel ``--kernels/<stem>.<ext>``
(``.png`` / ``.dlm`` / ``.txt`` / ``.npy`` / ``.mat``; or one kernel file for
all), after edge padding by ``⌊k/2⌋`` and edgetaper (the official test
protocol); with ``--gt`` the shift-max PSNR / SSIM (border ``⌊k/2⌋``, the
official Levin convention; ``--plain-metrics`` for the plain cropped one)
are printed. Colour images (``--color``) are restored per channel by the
grayscale network. Models with manual guidance need ``--noise-sigma``.

Deraining / dehazing (no ``--kernels``; use ``--color`` for the RGB
models): every image is restored as it is; with ``--gt`` (clean images
named like the inputs or by the Rain100 / SOTS conventions) the plain PSNR
/ SSIM are printed. Results go to ``--out/<stem>.png`` (8-bit, rounded,
atomically).
"""
import argparse
import os.path as osp
from typing import Dict, List, Optional, Sequence

import numpy as np
import torch
from mmengine.config import DictAction
from mmengine.dataset import pseudo_collate
from terminaltables import AsciiTable


from mmfusenas.apis import (add_optimize_argument, init_model,  # noqa: E402
                            result_image)
from mmfusenas.datasets import RestorationFolderDataset  # noqa: E402
from mmfusenas.evaluation.functional import shift_max_psnr_ssim  # noqa: E402
from mmfusenas.utils.fileio import write_png  # noqa: E402
from mmfusenas.utils.progress import track  # noqa: E402


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('config', help='model config (HQSRestorer or '
                   'ProxyBilevelAlgorithm)')
    p.add_argument('checkpoint', help='checkpoint file')
    p.add_argument('--input', required=True, help='folder of blurry images')
    p.add_argument('--kernels',
                   help='deblurring: folder of kernels named like the '
                   'images, or one kernel file')
    p.add_argument('--out', required=True, help='output folder')
    p.add_argument('--gt', help='folder of clean images (prints metrics)')
    p.add_argument('--color', action='store_true',
                   help='RGB images (a grayscale deblurring network restores '
                   'them per channel)')
    p.add_argument('--noise-sigma', type=float, default=None,
                   help='noise level in [0, 1] units (manual-guidance '
                   'models)')
    p.add_argument('--no-pad', action='store_true',
                   help='skip edge padding + edgetaper')
    p.add_argument('--plain-metrics', action='store_true',
                   help='border-cropped metrics without the shift search')
    p.add_argument('--device', help="torch device (default: 'cuda' when "
                   "available, else 'cpu')")
    p.add_argument('--cfg-options', nargs='+', action=DictAction,
                   help='override config settings')
    add_optimize_argument(p)
    return p.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> Dict[str, float]:
    """Deblur the folder; return the mean metrics (empty without
    ``--gt``)."""
    args = parse_args(argv)
    for kind, path in (('config', args.config), ('checkpoint',
                                                 args.checkpoint)):
        if not osp.isfile(path):
            raise FileNotFoundError(f'{kind} file not found: {path}')
    # the config's cpu_kernels switches, the checked loader, eval mode and
    # the inference optimisations (default: the CPU kernels)
    model = init_model(args.config, args.checkpoint, device=args.device,
                       cfg_options=args.cfg_options, optimize=args.optimize)
    dataset = RestorationFolderDataset(args.input, args.kernels, args.gt,
                                       args.color, args.noise_sigma,
                                       not args.no_pad)
    results: List[dict] = []
    for idx in track(range(len(dataset)),
                     f'restoring {len(dataset)} image(s)'):
        with torch.no_grad():
            (sample, ) = model.test_step(pseudo_collate([dataset[idx]]))
        img = result_image(sample)  # rounded 8-bit, BGR for colour
        write_png(img, osp.join(args.out, f'{sample.stem}.png'))
        if args.gt is not None:
            saved = torch.from_numpy(img if img.ndim == 2 else
                                     img[..., ::-1].transpose(2, 0, 1).copy())
            saved = saved.float() / 255
            size = sample.get('kernel_size')
            border = max(size) // 2 if size else 0
            p, s, _ = shift_max_psnr_ssim(
                saved, sample.gt_img, border,
                0 if args.plain_metrics or not size else None,
                ssim_mode='skimage' if size else 'gaussian')
            results.append(dict(stem=sample.stem, PSNR=p, SSIM=s))
    print(f'wrote {len(dataset)} restored image(s) to {args.out}')
    if not results:
        return {}
    means = {n: float(np.mean([r[n] for r in results]))
             for n in ('PSNR', 'SSIM')}
    rows = [['image', 'PSNR', 'SSIM']]
    rows += [[r['stem'], f"{r['PSNR']:.2f}", f"{r['SSIM']:.4f}"]
             for r in results]
    rows.append([f'mean (n={len(results)})', f"{means['PSNR']:.2f}",
                 f"{means['SSIM']:.4f}"])
    print(AsciiTable(rows).table)
    return means


if __name__ == '__main__':
    main()
