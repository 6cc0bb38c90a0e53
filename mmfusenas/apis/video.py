"""Two-stream (infrared + visible) video through a ``FusionInferencer``.

:class:`PairedFrames` reads time-aligned frame pairs of two videos or
capture devices, or of the halves of one side-by-side video;
:func:`fuse_video` fuses them in batches, draws the task results and writes
an MP4, timing each stage. Used by ``demo/video_demo.py`` and
``demo/webcam_demo.py``; guide: ``docs/user_guides/inference.md``.
"""
import argparse
import contextlib
import itertools
import os
import os.path as osp
import time
from typing import Dict, Optional, Tuple, Union

import cv2
import numpy as np
import torch.nn as nn

from mmfusenas.utils.progress import track
from .inferencer import panel

Source = Union[str, int]
#: stages timed by :func:`fuse_video`, in order
STAGES = ('read', 'pipeline', 'fuse', 'task', 'draw', 'write')


def parse_size(text: str) -> Tuple[int, int]:
    """``'640x480'`` -> ``(640, 480)`` (``--resize-to``)."""
    w, sep, h = text.lower().partition('x')
    if not (sep and w.isdigit() and h.isdigit() and int(w) and int(h)):
        raise argparse.ArgumentTypeError(
            f'expected WIDTHxHEIGHT, e.g. 640x480, got {text!r}')
    return int(w), int(h)


def format_stages(result: dict) -> str:
    """The per-stage split of a :func:`fuse_video` result as one line."""
    ms = result['ms_per_frame']
    total = sum(ms.values()) or 1.0
    return 'ms per frame: ' + ', '.join(
        f'{k} {v:.1f} ({100 * v / total:.0f} %)' for k, v in ms.items())


def open_capture(source: Source, name: str) -> cv2.VideoCapture:
    """An opened ``cv2.VideoCapture`` of a file or a device id."""
    is_file = isinstance(source, str) and not source.isdigit()
    if is_file and not osp.isfile(source):
        raise FileNotFoundError(f'{name} video not found: {source}')
    cap = cv2.VideoCapture(source if is_file else int(source))
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
    """Time-aligned frame pairs of the streams ``ir`` and ``vi`` (video
    files or device ids) or of the halves of one ``side_by_side`` video
    (``left``: the modality on the left). Frame rates (beyond
    ``fps_tolerance``), sizes (without ``resize_to`` (width, height)) or
    lengths (without ``stop_at_shortest``) that disagree are refused naming
    the option that resolves it; ``live`` devices have neither."""

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
    """Fuse (and detect / segment) the frame pairs of ``frames`` with a
    ``FusionInferencer`` and write the overlays (``panels``: IR | VIS |
    fused) to the MP4 ``out`` (None: nothing), moved into place at the end
    so that a failed run leaves no video; ``show`` shows them (``q`` stops).

    Returns:
        dict: ``frames``, ``fps`` (of the whole loop), ``seconds``,
        ``ms_per_frame`` per stage of :data:`STAGES` (fuse: the fusion
        network; task: the rest of ``test_step``), ``size``,
        ``batch_size``, ``input_fps``, ``out``.
    """
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
