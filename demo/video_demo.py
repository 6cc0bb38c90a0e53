"""Fuse a two-stream (infrared + visible) video, or two live cameras, into
an MP4.

``python demo/video_demo.py MODEL [--weights CKPT] --ir IR.mp4 --vi VI.mp4
--out OUT.mp4`` (or ``--side-by-side BOTH.mp4 [--left ir|vi]``; cameras:
``--ir 0 --vi 1 --live``).

:class:`PairedFrames` reads time-aligned frame pairs (streams that disagree
are refused before anything is written); :func:`fuse_video` runs them
through a ``FusionInferencer`` in batches, draws the task results and times
each stage; :func:`write_pan_clip` makes a test clip from a still pair.
Ends with ``RESULT {"frames": N, "fps": F, ...}``; a ``--live`` device that
does not open exits with code 3. Guide: ``docs/user_guides/inference.md``.
"""
import argparse
import contextlib
import itertools
import json
import os
import os.path as osp
import shlex
import sys
import time
from typing import Dict, Optional, Sequence, Tuple, Union

import cv2
import numpy as np
import torch.nn as nn

from mmfusenas.apis import add_inferencer_arguments, inferencer_from_args
from mmfusenas.apis.inferencer import panel
from mmfusenas.benchmark.results_record import (check_record_path,
                                                write_results_record)
from mmfusenas.utils.progress import track
from mmfusenas.visualization.panels import to_bgr

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
Source = Union[str, int]
#: stages timed by :func:`fuse_video`, in order
STAGES = ('read', 'pipeline', 'fuse', 'task', 'draw', 'write')
#: exit code when a ``--live`` capture device cannot be opened
EXIT_NO_CAMERA = 3


def parse_size(text: str) -> Tuple[int, int]:
    """``'640x480'`` -> ``(640, 480)`` (``--resize-to``)."""
    w, sep, h = text.lower().partition('x')
    if not (sep and w.isdigit() and h.isdigit() and int(w) and int(h)):
        raise argparse.ArgumentTypeError(
            f'expected WIDTHxHEIGHT, e.g. 640x480, got {text!r}')
    return int(w), int(h)


def open_capture(source: Source, name: str) -> cv2.VideoCapture:
    """An opened ``cv2.VideoCapture`` of a file or a device id."""
    is_file = isinstance(source, str) and not source.isdigit()
    if is_file and not osp.isfile(source):
        raise FileNotFoundError(f'{name} video not found: {source}')
    source = source if is_file else int(source)
    cap = cv2.VideoCapture(source)
    if not cap.isOpened():
        cap.release()
        what = 'file' if is_file else 'capture device'
        raise OSError(f'OpenCV cannot open the {name} {what} {source!r}')
    return cap


def open_writer(path: str, fps: float, frame: np.ndarray) -> cv2.VideoWriter:
    """An mp4v MP4 writer of frames shaped like ``frame``."""
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*'mp4v'), fps,
                             frame.shape[1::-1])
    if not writer.isOpened():
        raise OSError(f'OpenCV cannot write an mp4v MP4 to {path}')
    return writer


class PairedFrames:
    """Time-aligned frame pairs of the streams ``ir`` and ``vi`` (files or
    device ids) or of the halves of one ``side_by_side`` video (``left``:
    the modality on the left). Frame rates (beyond ``fps_tolerance``), sizes
    (without ``resize_to`` (width, height)) or lengths (without
    ``stop_at_shortest``) that disagree are refused naming the option that
    resolves it; ``live`` devices have neither rate nor length."""

    def __init__(self,
                 ir: Optional[Source] = None,
                 vi: Optional[Source] = None,
                 side_by_side: Optional[str] = None,
                 left: str = 'ir',
                 resize_to: Optional[Tuple[int, int]] = None,
                 fps_tolerance: float = 0.01,
                 stop_at_shortest: bool = False,
                 live: bool = False) -> None:
        if side_by_side is not None and (ir is not None or vi is not None):
            raise ValueError('give --ir/--vi or --side-by-side, not both')
        if side_by_side is None and (ir is None or vi is None):
            raise ValueError('give both the ir and the vi stream (--ir, '
                             '--vi) or --side-by-side')
        if left not in ('ir', 'vi'):
            raise ValueError(f"left must be 'ir' or 'vi', got {left!r}")
        self.resize_to = tuple(resize_to) if resize_to else None
        self.stop_at_shortest, self.left = stop_at_shortest, left
        self.sources = {'ir': ir, 'vi': vi} if side_by_side is None else {
            'side-by-side': side_by_side}
        self.caps = []
        try:
            for name, src in self.sources.items():
                self.caps.append(open_capture(src, name))
            fps = [c.get(cv2.CAP_PROP_FPS) for c in self.caps]
            sizes = [(int(c.get(cv2.CAP_PROP_FRAME_WIDTH)),
                      int(c.get(cv2.CAP_PROP_FRAME_HEIGHT)))
                     for c in self.caps]
            counts = [int(c.get(cv2.CAP_PROP_FRAME_COUNT)) for c in self.caps]
            if side_by_side is None:
                self._check(fps, sizes, counts, fps_tolerance, live)
            elif sizes[0][0] % 2:
                raise ValueError(
                    f'side-by-side video {side_by_side} is {sizes[0][0]} '
                    'pixels wide; the two halves need an even width')
        except Exception:
            self.release()
            raise
        w, h = sizes[0]
        self.size = self.resize_to or (w if side_by_side is None else
                                       w // 2, h)
        self.fps = fps[0] if fps[0] > 0 else fps[-1]
        self.num_frames = None if live or min(counts) <= 0 else min(counts)

    def _check(self, fps, sizes, counts, fps_tolerance, live) -> None:
        a, b = (f'{n} {s!r}' for n, s in self.sources.items())
        if not live and abs(fps[0] - fps[1]) > fps_tolerance:
            raise ValueError(
                f'frame rates differ: {a} {fps[0]:g} fps, {b} {fps[1]:g} '
                'fps; the streams must be time-aligned: resample one (e.g. '
                'ffmpeg -i IN -r FPS OUT) or raise the tolerance '
                '(--fps-tolerance)')
        if sizes[0] != sizes[1] and self.resize_to is None:
            raise ValueError(
                f'frame sizes differ: {a} {sizes[0][0]}x{sizes[0][1]}, {b} '
                f'{sizes[1][0]}x{sizes[1][1]}; register the streams or '
                'resize both (--resize-to WxH)')
        if not live and counts[0] != counts[1] and not self.stop_at_shortest:
            raise ValueError(
                f'unequal lengths: {a} {counts[0]} frames, {b} {counts[1]} '
                'frames; trim one or stop at the shorter (--stop-at-shortest)')

    def read(self) -> Optional[Dict[str, np.ndarray]]:
        """The next pair ``{'ir': BGR, 'vi': BGR}``, or None at the end; a
        stream ending first is an error unless ``stop_at_shortest``."""
        got = [cap.read() for cap in self.caps]
        oks = [ok for ok, _ in got]
        if not any(oks) or (not all(oks) and self.stop_at_shortest):
            return None
        if not all(oks):
            ended = list(self.sources)[oks.index(False)]
            raise ValueError(
                f'the {ended} stream {self.sources[ended]!r} ended before '
                'the other one; pass --stop-at-shortest to stop there')
        frames = [frame for _, frame in got]
        if len(frames) == 1:  # side by side
            w = frames[0].shape[1] // 2
            frames = [frames[0][:, :w], frames[0][:, w:2 * w]]
            frames = frames if self.left == 'ir' else frames[::-1]
        if self.resize_to is not None:
            frames = [f if f.shape[1::-1] == self.resize_to else cv2.resize(
                f, self.resize_to, interpolation=cv2.INTER_AREA)
                for f in frames]
        return dict(zip(('ir', 'vi'), map(np.ascontiguousarray, frames)))

    def release(self) -> None:
        """Release the captures."""
        for cap in self.caps:
            cap.release()


def fuse_video(inferencer,
               frames: PairedFrames,
               out: Optional[str],
               batch_size: int = 4,
               pred_score_thr: float = 0.3,
               panels: bool = False,
               max_frames: Optional[int] = None,
               show: bool = False,
               progress: bool = True) -> dict:
    """Fuse (and detect / segment) the pairs of ``frames`` with a
    ``FusionInferencer`` and write the overlays (``panels``: IR | VIS |
    fused) to the MP4 ``out`` (None: nothing), moved into place at the end
    so that a failed run leaves no video; ``show`` shows them (``q`` stops).
    Returns ``frames``, ``fps``, ``seconds``, ``ms_per_frame`` per stage of
    :data:`STAGES` (fuse: the fusion network; task: the rest of
    ``test_step``), ``size``, ``batch_size``, ``input_fps`` and ``out``."""
    if batch_size < 1:
        raise ValueError(f'batch_size must be >= 1, got {batch_size}')
    clock, totals, starts = time.perf_counter, dict.fromkeys(STAGES, 0.0), []

    @contextlib.contextmanager
    def timed(stage):
        start = clock()
        yield
        totals[stage] += clock() - start

    def fused(*_):
        totals['fuse'] += clock() - starts.pop()

    hooks, net = [], getattr(inferencer.model, 'fusion_net', None)
    if isinstance(net, nn.Module):
        hooks = [
            net.register_forward_pre_hook(lambda *_: starts.append(clock())),
            net.register_forward_hook(fused)]
    total = frames.num_frames
    if max_frames is not None:
        total = max_frames if total is None else min(total, max_frames)
    pairs = itertools.islice(iter(frames.read, None), total)

    def batches():
        while True:
            with timed('read'):
                batch = list(itertools.islice(pairs, batch_size))
            if not batch:
                return
            yield batch

    writer = tmp = None
    done, start = 0, clock()
    try:
        for batch in track(batches(), f'fusing {total or "?"} frame pair(s)',
                           total=total and -(-total // batch_size),
                           enabled=progress):
            with timed('pipeline'):
                infos = inferencer._inputs_to_list(
                    [(p['ir'], p['vi']) for p in batch])
                data = next(iter(inferencer.preprocess(
                    infos, batch_size=len(infos))))
            fuse_before = totals['fuse']
            with timed('task'):
                preds = inferencer.forward(data)
            totals['task'] -= totals['fuse'] - fuse_before
            with timed('draw'):
                outs = [inferencer.overlay(pred, pred_score_thr=pred_score_thr)
                        for pred in preds]
                if panels:
                    outs = [panel(p, o) for p, o in zip(batch, outs)]
            with timed('write'):
                if out is not None and writer is None:
                    tmp = osp.join(osp.dirname(osp.abspath(out)),
                                   f'.{osp.basename(out)}.part.mp4')
                    writer = open_writer(tmp, frames.fps or 25.0, outs[0])
                for img in outs if writer is not None else ():
                    writer.write(img)
            done += len(batch)
            if show:
                cv2.imshow('video_demo', outs[-1])
                if cv2.waitKey(1) & 0xFF == ord('q'):
                    break
        seconds = clock() - start
        if writer is not None:
            writer.release()
            os.replace(tmp, out)
    finally:
        for hook in hooks:
            hook.remove()
        if writer is not None:
            writer.release()
        if tmp is not None and osp.exists(tmp):
            os.remove(tmp)
    return dict(
        frames=done,
        fps=round(done / seconds, 3) if seconds > 0 else 0.0,
        seconds=round(seconds, 3),
        ms_per_frame={k: round(1000 * v / max(done, 1), 2)
                      for k, v in totals.items()},
        size=list(frames.size),
        batch_size=batch_size,
        input_fps=round(frames.fps, 3),
        out=out)


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
        description='Fuse a two-stream IR + VIS video or two cameras')
    add_inferencer_arguments(parser)
    parser.add_argument('--ir', help='infrared video or device id')
    parser.add_argument('--vi', help='visible video or device id')
    parser.add_argument('--side-by-side', metavar='VIDEO',
                        help='one video of the two streams side by side')
    parser.add_argument('--left', choices=('ir', 'vi'), default='ir',
                        help='modality of the left half of --side-by-side')
    parser.add_argument('--live', action='store_true',
                        help='--ir / --vi are live cameras (default 0 and '
                        '1; no frame-rate or length checks)')
    parser.add_argument('--out', help='output MP4 (mp4v)')
    parser.add_argument('--batch-size', type=int,
                        help='frame pairs per forward (default 4, live 1)')
    parser.add_argument('--max-frames', type=int,
                        help='stop after this many frames')
    parser.add_argument('--resize-to', type=parse_size, metavar='WxH',
                        help='resize both streams to this size')
    parser.add_argument('--fps-tolerance', type=float, default=0.01,
                        help='largest frame-rate difference of the streams')
    parser.add_argument('--stop-at-shortest', action='store_true',
                        help='stop at the end of the shorter stream')
    parser.add_argument('--panels', action='store_true',
                        help='write IR | VIS | fused panels')
    parser.add_argument('--show', action='store_true',
                        help='show the frames (q stops)')
    parser.add_argument('--results-json', metavar='FILE',
                        help='also write the measurement as a results record')
    args = parser.parse_args(argv)
    if args.live and args.side_by_side is None:
        args.ir = '0' if args.ir is None else args.ir
        args.vi = '1' if args.vi is None else args.vi
    return args


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
    try:
        frames = PairedFrames(
            ir=args.ir, vi=args.vi, side_by_side=args.side_by_side,
            left=args.left, resize_to=args.resize_to,
            fps_tolerance=args.fps_tolerance,
            stop_at_shortest=args.stop_at_shortest, live=args.live)
    except OSError as err:
        if not args.live or isinstance(err, FileNotFoundError):
            raise
        print(f'video_demo: {err}; two capture devices are needed (ids '
              '--ir / --vi)', file=sys.stderr)
        sys.exit(EXIT_NO_CAMERA)
    try:
        inferencer = inferencer_from_args(args, show_progress=False)
        result = fuse_video(
            inferencer, frames, args.out,
            batch_size=(1 if args.live else 4) if args.batch_size is None
            else args.batch_size,
            pred_score_thr=args.pred_score_thr, panels=args.panels,
            max_frames=args.max_frames, show=args.show,
            progress=not args.live)
    finally:
        frames.release()
    result['model'] = args.model
    ms = result['ms_per_frame']
    print('ms per frame: ' + ', '.join(
        f'{k} {v:.1f} ({100 * v / (sum(ms.values()) or 1.0):.0f} %)'
        for k, v in ms.items()))
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
