"""Enhance a folder of low-light images with a trained model.

``python tools/enhance.py CONFIG CHECKPOINT --input DIR --out DIR
[--gt DIR --metrics] [--rounding floor|round] [--device cpu]``

Every image of ``--input`` is enhanced alone (batch size 1, whole image, no
resizing or padding) through a :class:`~mmfusenas.datasets.LowLightDataset`
with the config's test pipeline and ``model.test_step``, and written to
``--out/<stem>.png`` (RGB, atomically). The official RUAS test conventions
(``test_enhancement.py``) are the defaults: RGB / 255 input, the final
prediction ``u_list[-1]`` saved as ``clip(x * 255, 0, 255)`` truncated to
``uint8`` (``--rounding floor``). ``--gt`` pairs every input with the
ground truth of the same stem (a missing partner is an error);
``--metrics`` then prints PSNR / SSIM per image (on the saved 8-bit
outputs) and their mean. The model is built with
:func:`mmfusenas.apis.init_model` and every image goes through
:func:`mmfusenas.apis.inference_enhancer`. Every file is decoded before
anything is written: a bad file (corrupt, not 8-bit RGB, ...) stops the
run with a list of all bad files (nothing written), or, with
``--skip-bad``, is skipped and listed in the final summary. See
``docs/methods/ruas.md``.
"""
import argparse
import os.path as osp
import time
from typing import Dict, List, Optional, Sequence

import torch
from mmengine.config import Config, DictAction
from terminaltables import AsciiTable

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))

from mmfusenas.apis import (add_optimize_argument,  # noqa: E402
                            inference_enhancer, init_model, load_config)
from mmfusenas.datasets import LowLightDataset  # noqa: E402
from mmfusenas.datasets.file_check import (  # noqa: E402
    check_dataset_files, refuse_unreadable)
from mmfusenas.datasets.paired_image_dataset import listing  # noqa: E402
from mmfusenas.utils.fileio import write_png  # noqa: E402
from mmfusenas.utils.progress import track  # noqa: E402
from mmfusenas.evaluation.functional import psnr, ssim_uint8  # noqa: E402
from mmfusenas.models.enhancers import (  # noqa: E402
    ROUNDINGS, ImageEnhancer, to_uint8_rgb)
from mmfusenas.registry import MODELS  # noqa: E402

DEFAULT_PIPELINE = [
    dict(type='LoadEnhanceImages'),
    dict(type='PackEnhanceInputs'),
]


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Enhance a folder of low-light images with a trained '
        'MMFuseNAS model (e.g. RUAS)')
    parser.add_argument('config', help='model config file')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument(
        '--input', required=True, help='folder of low-light images')
    parser.add_argument('--out', required=True, help='output folder')
    parser.add_argument(
        '--gt', help='folder of ground-truth images (same stems as --input)')
    parser.add_argument(
        '--metrics',
        action='store_true',
        help='print PSNR / SSIM of every saved output against --gt')
    parser.add_argument(
        '--rounding',
        default='floor',
        choices=ROUNDINGS,
        help='float -> 8 bit: floor = truncation (official RUAS), round = '
        'round half up')
    parser.add_argument(
        '--device',
        help="torch device, e.g. 'cpu', 'cuda:0' (default: 'cuda' when "
        "available, else 'cpu')")
    parser.add_argument(
        '--skip-bad',
        action='store_true',
        help='skip images that cannot be read (listed in the summary) '
        'instead of stopping before anything is written')
    add_optimize_argument(parser)
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config settings, e.g. model.network.gate=sample')
    return parser.parse_args(argv)


def build_dataset(cfg: Config, input_dir: str,
                  gt_dir: Optional[str]) -> LowLightDataset:
    """A dataset over the folders with the config's test pipeline and
    image suffixes."""
    dataset_cfg = (cfg.get('test_dataloader') or {}).get('dataset', {})
    prefix = dict(low=osp.abspath(input_dir))
    if gt_dir is not None:
        prefix['gt'] = osp.abspath(gt_dir)
    kwargs = {}
    if dataset_cfg.get('img_suffixes'):
        kwargs['img_suffixes'] = dataset_cfg['img_suffixes']
    return LowLightDataset(
        data_prefix=prefix,
        pipeline=dataset_cfg.get('pipeline', DEFAULT_PIPELINE),
        test_mode=True,
        check_sizes=gt_dir is not None,
        serialize_data=False,
        **kwargs)


def format_table(results: List[Dict], names: Sequence[str],
                 means: Dict[str, float]) -> str:
    """Per-image metric rows and the mean row as an ASCII table."""
    rows = [['image'] + list(names)]
    rows += [[r['stem']] + [f'{r[n]:.4f}' for n in names] for r in results]
    rows.append([f'mean (n={len(results)})'] +
                [f'{means[n]:.4f}' for n in names])
    return AsciiTable(rows).table


def main(argv: Optional[Sequence[str]] = None) -> Dict[str, float]:
    """Enhance the folder; return the mean metrics (empty without
    ``--metrics``)."""
    args = parse_args(argv)
    for kind, path in (('config', args.config), ('checkpoint',
                                                 args.checkpoint)):
        if not osp.isfile(path):
            raise FileNotFoundError(f'{kind} file not found: {path}')
    for flag, folder in (('--input', args.input), ('--gt', args.gt)):
        if folder is not None and not osp.isdir(folder):
            raise FileNotFoundError(f'{flag} folder does not exist: {folder}')
    if args.metrics and args.gt is None:
        raise ValueError('--metrics needs --gt (the ground-truth folder)')
    cfg = load_config(args.config, args.cfg_options)
    model_type = MODELS.get(cfg.model.get('type'))
    if not (isinstance(model_type, type)
            and issubclass(model_type, ImageEnhancer)):
        raise TypeError(f'{args.config}: model must be an ImageEnhancer, '
                        f"got {cfg.model.get('type')!r}")
    # the float prediction is quantised here, with --rounding
    cfg.model.pred_quantize = None
    dataset = build_dataset(cfg, args.input, args.gt)
    bad = check_dataset_files(dataset, f'checking {len(dataset)} image(s)')
    if not args.skip_bad:
        refuse_unreadable(bad, len(dataset), 'image(s)', 'enhance the rest')
    model = init_model(
        cfg, args.checkpoint, device=args.device, optimize=args.optimize)

    results, written, start = [], 0, time.perf_counter()
    for idx in track(range(len(dataset)),
                     f'enhancing {len(dataset)} image(s)'):
        if idx in bad:
            continue
        sample = inference_enhancer(model, dataset.get_data_info(idx))
        rgb = to_uint8_rgb(sample.pred_img, args.rounding)
        write_png(rgb[..., ::-1], osp.join(args.out, f'{sample.stem}.png'))
        written += 1
        if args.metrics:
            saved = torch.from_numpy(rgb.transpose(2, 0, 1)).float() / 255
            gt = sample.gt_img.cpu()
            results.append(
                dict(
                    stem=sample.stem,
                    PSNR=psnr(saved, gt),
                    SSIM=ssim_uint8(saved, gt)))
    elapsed = time.perf_counter() - start
    print(f'wrote {written} enhanced image(s) to {args.out} in '
          f'{elapsed:.1f} s ({elapsed / max(written, 1):.2f} s per image); '
          f'skipped {len(bad)}' +
          (':\n' + listing(list(bad.values())) if bad else ''))
    if not args.metrics:
        return {}
    names = ('PSNR', 'SSIM')
    means = {n: sum(r[n] for r in results) / len(results) for n in names}
    print(format_table(results, names, means))
    return means


if __name__ == '__main__':
    main()
