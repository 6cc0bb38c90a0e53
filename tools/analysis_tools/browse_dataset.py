"""Look at paired data after the pipeline: sources side by side with their
boxes / masks, and optionally the fused (enhanced) image with predictions.

``python tools/analysis_tools/browse_dataset.py CONFIG --out DIR
[--phase train|val|test] [--num 10] [--data-root DIR]
[--checkpoint CKPT [--score-thr 0.3]] [--cfg-options ...]``

For each of the first ``--num`` samples of the phase's dataset, after its
pipeline (crops, flips, resizes as the model sees them), one PNG
``DIR/<index>_<stem>.png`` holds every source (IR, VIS, ... or the one
low-light image) with the ground-truth boxes (class names) and
segmentation masks drawn. With ``--checkpoint`` (or ``--init`` for the
initial weights) the model runs on the sample (``model.test_step``) and a
last panel shows its fused / enhanced image with the predicted boxes
(score >= ``--score-thr``) or masks. Nothing is shown on screen.
"""
import argparse
import copy
import os.path as osp
from typing import List, Optional

import torch
from mmengine.config import DictAction
from mmengine.dataset import pseudo_collate
from mmengine.registry import init_default_scope

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))

from mmfusenas.apis import init_model, load_config  # noqa: E402
from mmfusenas.registry import DATASETS  # noqa: E402
from mmfusenas.utils.data_folders import reroot_data  # noqa: E402
from mmfusenas.utils.fileio import write_png  # noqa: E402
from mmfusenas.utils.progress import end_progress, start_progress  # noqa
from mmfusenas.visualization import (hstack, prediction_row,  # noqa: E402
                                     sample_panels, source_images)

def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Browse a paired dataset')
    parser.add_argument('config')
    parser.add_argument('--out', required=True, help='output folder')
    parser.add_argument('--phase', default='train',
                        choices=('train', 'val', 'test'))
    parser.add_argument('--num', type=int, default=10,
                        help='number of samples (from the first)')
    parser.add_argument('--data-root', help='re-root the datasets here')
    parser.add_argument('--checkpoint', help='also run this model')
    parser.add_argument('--init', action='store_true',
                        help='run the model with its initial weights')
    parser.add_argument('--score-thr', type=float, default=0.3)
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> List[str]:
    args = parse_args(argv)
    cfg = load_config(args.config, args.cfg_options)
    if args.data_root:
        reroot_data(cfg, args.data_root)
    init_default_scope(cfg.get('default_scope', 'mmfusenas'))
    loader = cfg.get(f'{args.phase}_dataloader')
    if not loader:
        raise KeyError(f'{args.config} has no {args.phase}_dataloader')
    dataset = DATASETS.build(loader['dataset'])
    classes = dataset.metainfo.get('classes')
    model = None
    if args.checkpoint or args.init:
        model = init_model(cfg, args.checkpoint)
    written = []
    num = min(args.num, len(dataset))
    bar = start_progress(f'drawing {num} sample(s)', num)
    for idx in range(num):
        packed = dataset[idx]
        sample = packed['data_samples']
        images = source_images(packed['inputs'])
        row = sample_panels(images, sample, classes)
        if model is not None:
            with torch.no_grad():
                (pred, ) = model.test_step(
                    pseudo_collate([copy.deepcopy(packed)]))
            row = hstack([row, prediction_row(pred, classes,
                                              args.score_thr)])
        stem = sample.metainfo.get('stem') or osp.splitext(
            osp.basename(str(sample.metainfo.get('img_path'))))[0]
        path = osp.join(args.out, f'{idx:04d}_{stem}.png')
        write_png(row, path)
        written.append(path)
        bar.update()
    end_progress(bar)
    print(f'wrote {len(written)} picture(s) to {args.out}')
    return written


if __name__ == '__main__':
    main()
