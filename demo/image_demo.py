"""Fuse a pair of images, or two folders of pairs, with the inferencer.

``python demo/image_demo.py IR VI MODEL [--weights CKPT] [--out-dir DIR]``

``IR`` and ``VI`` are two image files or two folders (paired by file stem,
in the config's modality order: the first source is the config's first
modality). ``MODEL`` is a config file or a name such as
``mmfusenas::tim/fusion_ivif_light_official.py``. Writes ``DIR/vis/``,
``DIR/panels/`` (IR | VIS | fused, unless ``--no-panels``) and, for
compound fusion + detector / segmentor models, ``DIR/fused/`` and
``DIR/preds/<stem>.json``; see ``docs/user_guides/inference.md``.
"""
import argparse
import os.path as osp
from typing import Optional, Sequence

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))

from mmfusenas.apis import (add_inferencer_arguments,  # noqa: E402
                            inferencer_from_args)


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Fuse an image pair or two folders of pairs')
    parser.add_argument('ir', help='infrared image, or folder of images')
    parser.add_argument('vi', help='visible image, or folder of images')
    add_inferencer_arguments(parser)
    parser.add_argument(
        '--out-dir', default='outputs', help='output folder')
    parser.add_argument(
        '--batch-size', type=int, default=1, help='pairs per forward pass')
    parser.add_argument(
        '--show', action='store_true', help='show each result in a window')
    parser.add_argument(
        '--no-panels',
        action='store_true',
        help='do not write the IR | VIS | fused panels')
    parser.add_argument(
        '--no-save-vis', action='store_true', help='write no images')
    parser.add_argument(
        '--no-save-pred',
        action='store_true',
        help='write no preds/ (compound models)')
    parser.add_argument(
        '--print-result', action='store_true', help='print the predictions')
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> dict:
    """Run the demo; returns the inferencer's result."""
    args = parse_args(argv)
    dirs = [osp.isdir(p) for p in (args.ir, args.vi)]
    if dirs[0] != dirs[1]:
        raise ValueError(f'give two files or two folders, got {args.ir!r} '
                         f'and {args.vi!r}')
    for path in (args.ir, args.vi):
        if not osp.exists(path):
            raise FileNotFoundError(f'not found: {path}')
    inferencer = inferencer_from_args(args)
    names = inferencer.modalities or ['ir', 'vi']
    inputs = dict(zip(names, (args.ir, args.vi))) if dirs[0] else \
        (args.ir, args.vi)
    result = inferencer(
        inputs, batch_size=args.batch_size, show=args.show,
        no_save_vis=args.no_save_vis, no_save_pred=args.no_save_pred,
        pred_score_thr=args.pred_score_thr, save_panels=not args.no_panels,
        print_result=args.print_result, out_dir=args.out_dir)
    n = len(result['predictions'])
    if not args.no_save_vis:
        print(f'wrote {n} result(s) to {args.out_dir}')
    return result


if __name__ == '__main__':
    main()
