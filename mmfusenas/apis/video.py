"""Two-stream (infrared + visible) video fusion for ``demo/video_demo.py``
and ``demo/webcam_demo.py``: time-aligned frame pairs (:class:`PairedFrames`)
through a ``FusionInferencer`` into an MP4 (:func:`fuse_video`)."""
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
from mmfusenas.visualization.panels import to_bgr
from .inference import result_image
from .inferencer import panel

Source = Union[str, int]
#: stages timed by :func:`fuse_video`, in order
STAGES = ('read', 'pipeline', 'fuse', 'task', 'draw', 'write')


def parse_size(text: str) -> Tuple[int, int]:
    """``'640x480'`` -> ``(640, 480)`` (the demos' ``--resize-to``)."""
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


def _open(source: Source, name: str) -> cv2.VideoCapture:
    """An opened ``cv2.VideoCapture`` of a file or a device id (mmcv's
    ``VideoReader`` opens files only)."""
    is_file = isinstance(source, str) and not source.isdigit()
    if is_file and not osp.isfile(source):
        raise FileNotFoundError(f'{name} video not found: {source}')
    cap = cv2.VideoCapture(source if is_file else int(source))
    if not cap.isOpened():
        cap.release()
        what = 'file' if is_file else 'capture device'
        raise OSError(f'OpenCV cannot open the {name} {what} {source!r}')
    return cap


class PairedFrames:
    """Time-aligned frame pairs of two streams; frame rates, sizes or
    lengths that disagree are refused, naming the option that resolves it.

    Args:
        ir, vi (str | int, optional): video files or device ids.
        side_by_side (str, optional): instead of ``ir`` / ``vi``: one file
            whose left (``left``: ``'ir'`` or ``'vi'``) and right halves are
            the two streams.
        resize_to (tuple[int, int], optional): (width, height) both streams
            are resized to; None demands equal sizes.
        fps_tolerance (float): largest frame-rate difference accepted.
        stop_at_shortest (bool): stop at the shorter stream's end.
        live (bool): capture devices (lengths and frame rates not checked).
    """

    names = ('ir', 'vi')

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
            raise ValueError('give the ir and vi streams or one '
                             'side_by_side video, not both')
        if side_by_side is None and (ir is None or vi is None):
            raise ValueError('give both the ir and the vi stream (or one '
                             'side_by_side video)')
        if left not in self.names:
            raise ValueError(f"left must be 'ir' or 'vi', got {left!r}")
        self.resize_to = tuple(resize_to) if resize_to else None
        self.stop_at_shortest = stop_at_shortest
        self.side_by_side = side_by_side is not None
        self.left = left
        self.sources = {'ir': side_by_side, 'vi': side_by_side} \
            if self.side_by_side else {'ir': ir, 'vi': vi}
        self.caps = []
        try:
            for name, src in ([('side-by-side', side_by_side)]
                              if self.side_by_side else self.sources.items()):
                self.caps.append(_open(src, name))
            fps = [c.get(cv2.CAP_PROP_FPS) for c in self.caps]
            sizes = [(int(c.get(cv2.CAP_PROP_FRAME_WIDTH)),
                      int(c.get(cv2.CAP_PROP_FRAME_HEIGHT)))
                     for c in self.caps]
            counts = [int(c.get(cv2.CAP_PROP_FRAME_COUNT)) for c in self.caps]
            if self.side_by_side:
                (w, h), = sizes
                if w % 2:
                    raise ValueError(
                        f'side-by-side video {side_by_side} is {w} pixels '
                        'wide; the two halves need an even width')
                sizes = [(w // 2, h)]
            else:
                self._check(fps, sizes, counts, fps_tolerance, live)
        except Exception:
            self.release()
            raise
        self.src_size = sizes[0]
        self.fps = fps[0] if fps[0] > 0 else fps[-1]
        self.num_frames = None if live or min(counts) <= 0 else min(counts)

    def _check(self, fps, sizes, counts, fps_tolerance, live) -> None:
        a, b = (f'{n} {self.sources[n]!r}' for n in self.names)
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

    @property
    def size(self) -> Tuple[int, int]:
        """(width, height) of the frames :meth:`read` returns."""
        return self.resize_to or self.src_size

    def read(self) -> Optional[Dict[str, np.ndarray]]:
        """The next pair ``{'ir': BGR, 'vi': BGR}``, or None at the end.

        Raises:
            ValueError: one stream ended first (without
                ``stop_at_shortest``).
        """
        if self.side_by_side:
            ok, frame = self.caps[0].read()
            if not ok:
                return None
            w = frame.shape[1] // 2
            right = 'vi' if self.left == 'ir' else 'ir'
            pair = {self.left: frame[:, :w], right: frame[:, w:2 * w]}
        else:
            got = [c.read() for c in self.caps]
            oks = [ok for ok, _ in got]
            if not any(oks) or (not all(oks) and self.stop_at_shortest):
                return None
            if not all(oks):
                ended = self.names[oks.index(False)]
                raise ValueError(
                    f'the {ended} stream {self.sources[ended]!r} ended before '
                    'the other one; pass --stop-at-shortest to stop there')
            pair = {n: f for n, (_, f) in zip(self.names, got)}
        if self.resize_to is not None:
            pair = {n: cv2.resize(f, self.resize_to,
                                  interpolation=cv2.INTER_AREA)
                    if f.shape[1::-1] != self.resize_to else f
                    for n, f in pair.items()}
        return {n: np.ascontiguousarray(pair[n]) for n in self.names}

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
    """Fuse (and detect / segment) every frame pair of ``frames`` with a
    ``FusionInferencer`` and write the overlays (``panels``: IR | VIS |
    fused panels) to the MP4 ``out`` (None: nothing), renamed into place
    at the end: a failed run leaves no video. ``show`` shows the frames
    (``q`` stops).

    Returns:
        dict: ``frames``, ``fps`` (wall clock of the whole loop),
        ``seconds``, ``ms_per_frame`` per stage of :data:`STAGES` (fuse:
        the fusion network; task: the rest of ``test_step``), ``size``,
        ``batch_size``, ``input_fps``, ``out``.
    """
    if batch_size < 1:
        raise ValueError(f'batch_size must be >= 1, got {batch_size}')
    totals = dict.fromkeys(STAGES, 0.0)

    @contextlib.contextmanager
    def timed(stage):
        start = time.perf_counter()
        yield
        totals[stage] += time.perf_counter() - start

    handles, starts = [], []
    net = getattr(inferencer.model, 'fusion_net', None)
    if isinstance(net, nn.Module):

        def post(*_):
            totals['fuse'] += time.perf_counter() - starts.pop()

        handles = [
            net.register_forward_pre_hook(
                lambda *_: starts.append(time.perf_counter())),
            net.register_forward_hook(post)]
    total = frames.num_frames
    if max_frames is not None:
        total = max_frames if total is None else min(total, max_frames)

    def batches():
        left = total
        while left is None or left > 0:
            with timed('read'):
                pairs = list(itertools.islice(
                    iter(frames.read, None), min(batch_size, left or
                                                 batch_size)))
            if pairs:
                yield pairs
            if len(pairs) < batch_size:
                return
            left = None if left is None else left - len(pairs)

    writer = tmp = None
    done = 0
    start = time.perf_counter()
    try:
        for pairs in track(batches(), f'fusing {total or "?"} frame pair(s)',
                           total=total and -(-total // batch_size),
                           enabled=progress):
            with timed('pipeline'):
                infos = inferencer._inputs_to_list(
                    [tuple(p[n] for n in frames.names) for p in pairs])
                data = next(iter(inferencer.preprocess(
                    infos, batch_size=len(infos))))
            fuse_before = totals['fuse']
            with timed('task'):
                preds = inferencer.forward(data)
            totals['task'] -= totals['fuse'] - fuse_before
            with timed('draw'):
                outs = []
                for pair, pred in zip(pairs, preds):
                    vis = inferencer.overlay(pred, True, pred_score_thr) \
                        if inferencer.is_compound else \
                        to_bgr(result_image(pred))
                    outs.append(panel(pair, vis) if panels else vis)
            with timed('write'):
                if out is not None and writer is None:
                    h, w = outs[0].shape[:2]
                    folder = osp.dirname(osp.abspath(out))
                    os.makedirs(folder, exist_ok=True)
                    tmp = osp.join(folder, f'.{osp.basename(out)}.part.mp4')
                    writer = cv2.VideoWriter(
                        tmp, cv2.VideoWriter_fourcc(*'mp4v'),
                        frames.fps or 25.0, (w, h))
                    if not writer.isOpened():
                        raise OSError(f'OpenCV cannot write an mp4v MP4 to '
                                      f'{tmp}')
                for img in outs if writer is not None else ():
                    writer.write(img)
            done += len(pairs)
            if show:
                cv2.imshow('video_demo', outs[-1])
                if cv2.waitKey(1) & 0xFF == ord('q'):
                    break
        seconds = time.perf_counter() - start
        if writer is not None:
            writer.release()
            writer = None
            os.replace(tmp, out)
    finally:
        for handle in handles:
            handle.remove()
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
                   side_by_side: Optional[str] = None,
                   left: str = 'ir') -> Tuple[int, int]:
    """A registered two-stream test clip: a ``size`` window pans from the
    top-left to the bottom-right corner of a still pair (scaled to cover
    1.25 times the window), written to ``out_ir`` / ``out_vi`` and / or one
    ``side_by_side`` MP4 (``left`` on the left). Returns (width, height).
    """
    if ir.shape[:2] != vi.shape[:2]:
        raise ValueError(f'the pair differs in size: ir {ir.shape[:2]}, vi '
                         f'{vi.shape[:2]}')
    w, h = size
    scale = 1.25 * max(w / ir.shape[1], h / ir.shape[0])
    big = [cv2.resize(to_bgr(img), None, fx=scale, fy=scale,
                      interpolation=cv2.INTER_CUBIC) for img in (ir, vi)]
    # (file, width, frame of the two crops)
    targets = [(out_ir, w, lambda c: c[0]), (out_vi, w, lambda c: c[1])] \
        if out_ir and out_vi else []
    if side_by_side:
        targets.append((side_by_side, 2 * w, lambda c: np.concatenate(
            c if left == 'ir' else c[::-1], 1)))
    writers = [cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*'mp4v'), fps,
                               (width, h)) for path, width, _ in targets]
    if not writers or not all(wr.isOpened() for wr in writers):
        raise OSError('give out_ir and out_vi or side_by_side (MP4 files '
                      'OpenCV can write)')
    for i in range(num_frames):
        t = i / max(num_frames - 1, 1)
        x = int(round(t * (big[0].shape[1] - w)))
        y = int(round(t * (big[0].shape[0] - h)))
        crops = [b[y:y + h, x:x + w] for b in big]
        for wr, (_, _, frame) in zip(writers, targets):
            wr.write(frame(crops))
    for wr in writers:
        wr.release()
    return w, h
