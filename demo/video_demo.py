"""Fuse a two-stream (infrared + visible) video and write an MP4.

``python demo/video_demo.py MODEL [--weights CKPT] --ir IR.mp4 --vi VI.mp4
--out OUT.mp4`` (or ``--side-by-side BOTH.mp4 [--left ir|vi]``).

Frames go through :class:`~mmfusenas.apis.FusionInferencer` in batches
(``--batch-size``); each output frame is the fused frame with the boxes /
masks of a compound model drawn on it (``--panels``: IR | VIS | fused). The
streams must agree in frame rate (within ``--fps-tolerance``), size
(or ``--resize-to WxH``) and length (or ``--stop-at-shortest``); otherwise
the demo stops with an error before writing anything. Prints the time per
stage and ends with one line ``RESULT {"frames": N, "fps": F, ...}``.

The reading and fusing live in :mod:`mmfusenas.apis.video`, shared with
``demo/webcam_demo.py``; :func:`write_pan_clip` makes a test clip from a
still pair.
"""
import argparse
import json
import os
import os.path as osp
import shlex
import sys
from typing import Optional, Sequence, Tuple

import cv2
import numpy as np

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))

from mmfusenas.apis import (add_inferencer_arguments,  # noqa: E402
                            inferencer_from_args)
from mmfusenas.apis.video import (PairedFrames,  # noqa: E402
                                  format_stages, fuse_video, open_writer,
                                  parse_size)
from mmfusenas.benchmark.results_record import (  # noqa: E402
    check_record_path, write_results_record)
from mmfusenas.visualization.panels import to_bgr  # noqa: E402


def write_pan_clip(ir: np.ndarray,
                   vi: np.ndarray,
                   out_ir: Optional[str] = None,
                   out_vi: Optional[str] = None,
                   size: Tuple[int, int] = (640, 480),
                   num_frames: int = 100,
                   fps: float = 10.0,
                   side_by_side: Optional[str] = None) -> None:
    """A registered two-stream test clip: a ``size`` (width, height) window
    pans from the top-left to the bottom-right corner of a still pair
    (scaled to cover 1.25 times the window), written to ``out_ir`` /
    ``out_vi`` and / or one ``side_by_side`` MP4 (IR on the left)."""
    if ir.shape[:2] != vi.shape[:2]:
        raise ValueError(f'the pair differs in size: ir {ir.shape[:2]}, vi '
                         f'{vi.shape[:2]}')
    targets = [(out_ir, lambda c: c[0]), (out_vi, lambda c: c[1])] \
        if out_ir and out_vi else []
    if side_by_side:
        targets.append((side_by_side, lambda c: np.concatenate(c, 1)))
    if not targets or num_frames < 1:
        raise ValueError('give out_ir and out_vi or side_by_side, and '
                         'num_frames >= 1')
    w, h = size
    scale = 1.25 * max(w / ir.shape[1], h / ir.shape[0])
    big = [cv2.resize(to_bgr(img), None, fx=scale, fy=scale,
                      interpolation=cv2.INTER_CUBIC) for img in (ir, vi)]
    for path, frame_of in targets:
        writer = None
        for i in range(num_frames):
            t = i / max(num_frames - 1, 1)
            x = round(t * (big[0].shape[1] - w))
            y = round(t * (big[0].shape[0] - h))
            frame = frame_of([b[y:y + h, x:x + w] for b in big])
            writer = writer or open_writer(path, fps, frame)
            writer.write(frame)
        writer.release()


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Fuse a two-stream IR + VIS video into an MP4')
    add_inferencer_arguments(parser)
    parser.add_argument('--ir', help='infrared video')
    parser.add_argument('--vi', help='visible video')
    parser.add_argument(
        '--side-by-side',
        metavar='VIDEO',
        help='instead of --ir/--vi: one video, the two streams side by '
        'side')
    parser.add_argument(
        '--left',
        choices=('ir', 'vi'),
        default='ir',
        help='modality of the left half of --side-by-side')
    parser.add_argument(
        '--out', help='output MP4 (mp4v); without it nothing is written')
    parser.add_argument(
        '--batch-size', type=int, default=4, help='frame pairs per forward')
    parser.add_argument(
        '--max-frames', type=int, help='stop after this many frames')
    parser.add_argument(
        '--resize-to',
        type=parse_size,
        metavar='WxH',
        help='resize both streams to this size (default: sizes must match)')
    parser.add_argument(
        '--fps-tolerance',
        type=float,
        default=0.01,
        help='largest accepted frame-rate difference of the two streams')
    parser.add_argument(
        '--stop-at-shortest',
        action='store_true',
        help='stop at the end of the shorter stream (default: unequal '
        'lengths are an error)')
    parser.add_argument(
        '--panels',
        action='store_true',
        help='write IR | VIS | fused panels instead of the fused frames')
    parser.add_argument(
        '--show', action='store_true', help='show the frames (q stops)')
    parser.add_argument(
        '--results-json',
        metavar='FILE',
        help='also write the measurement as a results record (command, '
        'commit, machine, load average, RESULT) for the docs, e.g. '
        'docs/results/video_demo_<model>.json (tools/misc/results_to_docs.py '
        'renders it)')
    return parser.parse_args(argv)


def results_row(result: dict) -> dict:
    """One row of the results record: fps and ms per frame per stage."""
    row = {'fps': result['fps']}
    row.update({f'{stage}_ms': ms
                for stage, ms in result['ms_per_frame'].items()})
    row.update(frames=result['frames'], batch_size=result['batch_size'])
    return row


def main(argv: Optional[Sequence[str]] = None) -> dict:
    """Run the demo; returns the RESULT dict."""
    args = parse_args(argv)
    load_before = os.getloadavg()[0]
    if args.results_json:
        check_record_path(args.results_json)
    frames = PairedFrames(
        ir=args.ir, vi=args.vi, side_by_side=args.side_by_side,
        left=args.left, resize_to=args.resize_to,
        fps_tolerance=args.fps_tolerance,
        stop_at_shortest=args.stop_at_shortest)
    try:
        inferencer = inferencer_from_args(args, show_progress=False)
        result = fuse_video(
            inferencer, frames, args.out, batch_size=args.batch_size,
            pred_score_thr=args.pred_score_thr, panels=args.panels,
            max_frames=args.max_frames, show=args.show)
    finally:
        frames.release()
    result['model'] = args.model
    print(format_stages(result))
    if args.out:
        print(f'wrote {result["frames"]} frame(s) to {args.out}')
    if args.results_json:
        width, height = result['size']
        table = (f'{width}x{height} two-stream video at '
                 f'{result["input_fps"]:g} fps')
        row = results_row(result)
        write_results_record(
            args.results_json,
            'python demo/video_demo.py ' + ' '.join(
                shlex.quote(a) for a in (sys.argv[1:] if argv is None
                                         else argv)),
            ROOT, {table: {osp.basename(args.model): row}},
            metrics=[k for k in row if k not in ('frames', 'batch_size')],
            count='frames',
            note=f'Load average {load_before:.2f} before, '
            f'{os.getloadavg()[0]:.2f} after; fps over the whole loop, '
            'the other columns ms per frame.')
        print(f'results record written to {args.results_json}')
    print('RESULT ' + json.dumps(result), flush=True)
    return result


if __name__ == '__main__':
    main()
