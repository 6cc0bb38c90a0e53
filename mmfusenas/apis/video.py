"""Two-stream (infrared + visible) video fusion with a
:class:`~mmfusenas.apis.FusionInferencer`: time-aligned frame pairs
(:class:`PairedFrames`), batched fusion into an MP4 with per-stage timing
(:func:`fuse_video`); used by ``demo/video_demo.py`` and
``demo/webcam_demo.py``."""
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


def open_capture(source: Source, name: str) -> cv2.VideoCapture:
    """An opened ``cv2.VideoCapture`` of a file or a device id.

    Raises:
        FileNotFoundError: a file that does not exist.
        OSError: OpenCV cannot open the file / device.
    """
    is_file = isinstance(source, str) and not source.isdigit()
    if is_file and not osp.isfile(source):
        raise FileNotFoundError(f'{name} video not found: {source}')
    cap = cv2.VideoCapture(source if is_file else int(source))
    if not cap.isOpened():
        cap.release()
        what = 'file' if is_file else 'capture device'
        raise OSError(f'OpenCV cannot open the {name} {what} {source!r}')
    return cap


def _size(cap: cv2.VideoCapture) -> Tuple[int, int]:
    return (int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)),
            int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT)))


class PairedFrames:
    """Time-aligned frame pairs of two streams.

    Args:
        ir, vi (str | int, optional): video files or device ids.
        side_by_side (str, optional): instead of ``ir`` / ``vi``: one file
            whose left and right halves are the two streams.
        left (str): the modality of the left half (``'ir'`` or ``'vi'``).
        resize_to (tuple[int, int], optional): (width, height) both streams
            are resized to; None demands equal sizes.
        fps_tolerance (float): largest frame-rate difference accepted.
        stop_at_shortest (bool): stop at the end of the shorter stream
            instead of refusing unequal lengths.
        live (bool): capture devices (lengths and frame rates not checked).

    Raises:
        ValueError: frame rates, sizes or lengths that disagree (the
            message names the option that resolves it), an odd
            side-by-side width, or a wrong combination of sources.
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
        self.caps = []
        try:
            if self.side_by_side:
                self.sources = {'ir': side_by_side, 'vi': side_by_side}
                self.caps.append(open_capture(side_by_side, 'side-by-side'))
                w, h = _size(self.caps[0])
                if w % 2:
                    raise ValueError(
                        f'side-by-side video {side_by_side} is {w} pixels '
                        'wide; the two halves need an even width')
                self.src_size = (w // 2, h)
            else:
                self.sources = {'ir': ir, 'vi': vi}
                self.caps = [open_capture(s, n)
                             for n, s in self.sources.items()]
                self._check(fps_tolerance, live)
        except Exception:
            self.release()
            raise
        fps = [c.get(cv2.CAP_PROP_FPS) for c in self.caps]
        self.fps = fps[0] if fps[0] > 0 else fps[-1]
        counts = [int(c.get(cv2.CAP_PROP_FRAME_COUNT)) for c in self.caps]
        self.num_frames = None if live or min(counts) <= 0 else min(counts)

    def _check(self, fps_tolerance: float, live: bool) -> None:
        fps = [c.get(cv2.CAP_PROP_FPS) for c in self.caps]
        sizes = [_size(c) for c in self.caps]
        counts = [int(c.get(cv2.CAP_PROP_FRAME_COUNT)) for c in self.caps]
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
        self.src_size = sizes[0]

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
    """Fuse (and detect / segment) every frame pair and write an MP4.

    Each output frame is the fused frame at the input size with the
    predictions drawn (``inferencer.overlay``), or the IR | VIS | fused
    panel with ``panels``. The MP4 is written under a temporary name and
    renamed at the end: a failed run leaves no video.

    Args:
        inferencer (FusionInferencer): the model.
        frames (PairedFrames): the two streams.
        out (str, optional): output ``.mp4`` (``mp4v``); None writes
            nothing.
        batch_size (int): frame pairs per ``test_step``. Defaults to 4.
        pred_score_thr (float): boxes below are not drawn.
        panels (bool): write IR | VIS | fused panels.
        max_frames (int, optional): stop after this many frames.
        show (bool): show every frame in an OpenCV window (``q`` stops).
        progress (bool): progress bar.

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
    writer = tmp = None
    total = frames.num_frames
    if max_frames is not None:
        total = max_frames if total is None else min(total, max_frames)
    done, stop = 0, False
    start = time.perf_counter()
    try:
        num_batches = None if total is None else -(-total // batch_size)
        for _ in track(itertools.count(), f'fusing {total or "?"} frame '
                       'pair(s)', total=num_batches, enabled=progress):
            pairs = []
            with timed('read'):
                while len(pairs) < batch_size and (
                        total is None or done + len(pairs) < total):
                    pair = frames.read()
                    if pair is None:
                        stop = True
                        break
                    pairs.append(pair)
            if not pairs:
                break
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
                stop = stop or cv2.waitKey(1) & 0xFF == ord('q')
            if stop or (total is not None and done >= total):
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
    fourcc = cv2.VideoWriter_fourcc(*'mp4v')
    targets = []  # (writer, frame of the two crops)
    if out_ir and out_vi:
        targets += [(cv2.VideoWriter(out_ir, fourcc, fps, (w, h)),
                     lambda c: c[0]),
                    (cv2.VideoWriter(out_vi, fourcc, fps, (w, h)),
                     lambda c: c[1])]
    if side_by_side:
        targets.append((cv2.VideoWriter(side_by_side, fourcc, fps,
                                        (2 * w, h)),
                        lambda c: np.concatenate(
                            c if left == 'ir' else c[::-1], 1)))
    if not targets or not all(wr.isOpened() for wr, _ in targets):
        raise OSError('give out_ir and out_vi or side_by_side (MP4 files '
                      'OpenCV can write)')
    for i in range(num_frames):
        t = i / max(num_frames - 1, 1)
        x = int(round(t * (big[0].shape[1] - w)))
        y = int(round(t * (big[0].shape[0] - h)))
        crops = [b[y:y + h, x:x + w] for b in big]
        for wr, frame in targets:
            wr.write(frame(crops))
    for wr, _ in targets:
        wr.release()
    return w, h
