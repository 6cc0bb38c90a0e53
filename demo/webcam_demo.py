"""Fuse two live cameras (an infrared and a visible one).

``python demo/webcam_demo.py MODEL [--weights CKPT] --ir-camera 0
--vi-camera 1 [--out OUT.mp4] [--max-frames N] [--show]``

The frames of both devices go through the same path as
``demo/video_demo.py`` (:mod:`mmfusenas.apis.video`; no frame-rate or
length checks: live streams are read in lock step). When a device cannot
be opened the demo prints which one and exits with code 3
(``EXIT_NO_CAMERA``) without loading the model.
"""
import argparse
import json
import os.path as osp
import sys
from typing import Optional, Sequence

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))

from mmfusenas.apis import (add_inferencer_arguments,  # noqa: E402
                            inferencer_from_args)
from mmfusenas.apis.video import (PairedFrames,  # noqa: E402
                                  format_stages, fuse_video, parse_size)

#: exit code when a capture device cannot be opened
EXIT_NO_CAMERA = 3


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Fuse two live cameras (IR + VIS)')
    add_inferencer_arguments(parser)
    parser.add_argument(
        '--ir-camera', type=int, default=0, help='infrared device id')
    parser.add_argument(
        '--vi-camera', type=int, default=1, help='visible device id')
    parser.add_argument('--out', help='also write an MP4 (mp4v)')
    parser.add_argument(
        '--max-frames', type=int, help='stop after this many frames')
    parser.add_argument(
        '--resize-to',
        type=parse_size,
        metavar='WxH',
        help='resize both streams to this size (default: sizes must match)')
    parser.add_argument(
        '--batch-size', type=int, default=1, help='frame pairs per forward')
    parser.add_argument(
        '--show', action='store_true', help='show the frames (q stops)')
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run the demo; returns the exit code."""
    args = parse_args(argv)
    try:
        frames = PairedFrames(
            ir=args.ir_camera, vi=args.vi_camera, resize_to=args.resize_to,
            live=True)
    except OSError as err:
        print(f'webcam_demo: {err}; two capture devices are needed (ids '
              '--ir-camera / --vi-camera)', file=sys.stderr)
        return EXIT_NO_CAMERA
    try:
        inferencer = inferencer_from_args(args, show_progress=False)
        result = fuse_video(
            inferencer, frames, args.out, batch_size=args.batch_size,
            pred_score_thr=args.pred_score_thr,
            max_frames=args.max_frames, show=args.show, progress=False)
    finally:
        frames.release()
    print(format_stages(result))
    print('RESULT ' + json.dumps(result), flush=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())
