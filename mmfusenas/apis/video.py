"""Two-stream (infrared + visible) video fusion with a
:class:`~mmfusenas.apis.FusionInferencer`: reading time-aligned streams,
batching frames through the inferencer, drawing, writing an MP4 and timing
every stage (``demo/video_demo.py``, ``demo/webcam_demo.py``).

:func:`fuse_video` reads the streams (:class:`PairedFrames`) from two files
or capture devices, or one side-by-side file, and times each stage
(:class:`StageTimer`). The streams must agree in frame rate (within
``fps_tolerance``; no resampling), frame size (or ``resize_to``) and
length (or ``stop_at_shortest``); otherwise a ``ValueError`` says how and
what to do.
"""
import contextlib
import itertools
import os
import os.path as osp
import time
from collections import OrderedDict
from typing import Dict, Iterator, List, Optional, Sequence, Tuple, Union

import cv2
import numpy as np
import torch.nn as nn

from mmfusenas.utils.progress import track
from mmfusenas.visualization import hstack, titled
from mmfusenas.visualization.panels import to_bgr
from .inference import result_image

Source = Union[str, int]
#: stages timed by :func:`fuse_video`, in order
STAGES = ('read', 'pipeline', 'fuse', 'task', 'draw', 'write')


def parse_size(text: str) -> Tuple[int, int]:
    """``'640x480'`` -> ``(640, 480)`` (the demos' ``--resize-to``)."""
    import argparse
    w, sep, h = text.lower().partition('x')
    if not sep or not w.isdigit() or not h.isdigit() or not int(w) or \
            not int(h):
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
    if isinstance(source, str) and not source.isdigit():
        if not osp.isfile(source):
            raise FileNotFoundError(f'{name} video not found: {source}')
        cap = cv2.VideoCapture(source)
    else:
        cap = cv2.VideoCapture(int(source))
    if not cap.isOpened():
        cap.release()
        what = 'file' if isinstance(source, str) and not str(
            source).isdigit() else 'capture device'
        raise OSError(f'OpenCV cannot open the {name} {what} {source!r}')
    return cap


class PairedFrames:
    """Time-aligned frame pairs of two streams.

    Args:
        ir (str | int, optional): infrared video file or device id.
        vi (str | int, optional): visible video file or device id.
        side_by_side (str, optional): instead of ``ir`` / ``vi``: one file
            whose left and right halves are the two streams.
        left (str): the modality of the left half (``'ir'`` or ``'vi'``).
        resize_to (tuple[int, int], optional): (width, height) both streams
            are resized to; None demands equal sizes.
        fps_tolerance (float): largest frame-rate difference accepted.
            Defaults to 0.01.
        stop_at_shortest (bool): stop at the end of the shorter stream
            instead of refusing unequal lengths.
        live (bool): capture devices (no frame counts, frame rates not
            checked).

    Raises:
        ValueError: frame rates, sizes or lengths that do not agree (see
            the module doc), an odd side-by-side width, neither or both of
            ``ir`` / ``vi`` and ``side_by_side``.
    """

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
        if left not in ('ir', 'vi'):
            raise ValueError(f"left must be 'ir' or 'vi', got {left!r}")
        self.names = ('ir', 'vi')
        self.resize_to = tuple(resize_to) if resize_to else None
        self.fps_tolerance = float(fps_tolerance)
        self.stop_at_shortest = stop_at_shortest
        self.live = live
        self.side_by_side = side_by_side is not None
        self.left = left
        if self.side_by_side:
            cap = open_capture(side_by_side, 'side-by-side')
            self.caps = [cap]
            w, h = self._size(cap)
            if w % 2:
                cap.release()
                raise ValueError(f'side-by-side video {side_by_side} is '
                                 f'{w} pixels wide; the two halves need an '
                                 'even width')
            self.sources = {'ir': side_by_side, 'vi': side_by_side}
            self.src_size = (w // 2, h)
            self.fps = cap.get(cv2.CAP_PROP_FPS)
            count = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
            self.num_frames = count if count > 0 and not live else None
            return
        self.caps = []
        try:
            for name, src in (('ir', ir), ('vi', vi)):
                self.caps.append(open_capture(src, name))
            self.sources = {'ir': ir, 'vi': vi}
            self._check()
        except Exception:
            self.release()
            raise

    @staticmethod
    def _size(cap: cv2.VideoCapture) -> Tuple[int, int]:
        return (int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)),
                int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT)))

    def _check(self) -> None:
        ir, vi = self.caps
        fps = [c.get(cv2.CAP_PROP_FPS) for c in self.caps]
        sizes = [self._size(c) for c in self.caps]
        desc = [f'{n} {self.sources[n]!r}' for n in self.names]
        if not self.live and abs(fps[0] - fps[1]) > self.fps_tolerance:
            raise ValueError(
                f'frame rates differ: {desc[0]} {fps[0]:g} fps, {desc[1]} '
                f'{fps[1]:g} fps; the streams must be time-aligned: '
                'resample one (e.g. ffmpeg -i IN -r FPS OUT) or raise the '
                'tolerance (--fps-tolerance)')
        if sizes[0] != sizes[1] and self.resize_to is None:
            raise ValueError(
                f'frame sizes differ: {desc[0]} {sizes[0][0]}x{sizes[0][1]}, '
                f'{desc[1]} {sizes[1][0]}x{sizes[1][1]}; register the '
                'streams or resize both (--resize-to WxH)')
        counts = [int(c.get(cv2.CAP_PROP_FRAME_COUNT)) for c in self.caps]
        if not self.live and counts[0] != counts[1] and \
                not self.stop_at_shortest:
            raise ValueError(
                f'unequal lengths: {desc[0]} {counts[0]} frames, {desc[1]} '
                f'{counts[1]} frames; trim one or stop at the shorter '
                '(--stop-at-shortest)')
        self.fps = fps[0] if fps[0] > 0 else fps[1]
        self.src_size = sizes[0]
        self.num_frames = None if self.live or min(counts) <= 0 else \
            min(counts)

    @property
    def size(self) -> Tuple[int, int]:
        """(width, height) of the frames :meth:`read` returns."""
        return self.resize_to or self.src_size

    def read(self) -> Optional[Dict[str, np.ndarray]]:
        """The next pair ``{'ir': BGR, 'vi': BGR}``, or None at the end.

        Raises:
            ValueError: one stream ended before the other (without
                ``stop_at_shortest``).
        """
        if self.side_by_side:
            ok, frame = self.caps[0].read()
            if not ok:
                return None
            w = frame.shape[1] // 2
            halves = (frame[:, :w], frame[:, w:2 * w])
            right = 'vi' if self.left == 'ir' else 'ir'
            pair = {self.left: halves[0], right: halves[1]}
        else:
            got = [c.read() for c in self.caps]
            oks = [ok for ok, _ in got]
            if not any(oks):
                return None
            if not all(oks):
                if self.stop_at_shortest:
                    return None
                ended = self.names[oks.index(False)]
                raise ValueError(
                    f'the {ended} stream {self.sources[ended]!r} ended before '
                    'the other one; pass --stop-at-shortest to stop there')
            pair = {n: f for n, (_, f) in zip(self.names, got)}
        if self.resize_to is not None:
            pair = {
                n: cv2.resize(f, self.resize_to, interpolation=cv2.INTER_AREA)
                if f.shape[1::-1] != self.resize_to else f
                for n, f in pair.items()
            }
        return {n: np.ascontiguousarray(pair[n]) for n in self.names}

    def release(self) -> None:
        """Release the captures."""
        for cap in self.caps:
            cap.release()


class StageTimer:
    """Seconds spent per stage; ``with timer('read'): ...`` adds to it."""

    def __init__(self, stages: Sequence[str] = STAGES) -> None:
        self.totals: 'OrderedDict[str, float]' = OrderedDict(
            (s, 0.0) for s in stages)

    @contextlib.contextmanager
    def __call__(self, stage: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.totals[stage] += time.perf_counter() - start

    def time_module(self, module: nn.Module, stage: str) -> list:
        """Add the time of every ``module`` forward to ``stage`` (forward
        hooks); returns the hook handles."""
        starts: List[float] = []

        def pre(*_):
            starts.append(time.perf_counter())

        def post(*_):
            self.totals[stage] += time.perf_counter() - starts.pop()

        return [module.register_forward_pre_hook(pre),
                module.register_forward_hook(post)]


def frame_panel(pair: Dict[str, np.ndarray], vis: np.ndarray) -> np.ndarray:
    """IR | VIS | fused(+overlay) with titles, at the fused frame's size."""
    row = []
    for name, img in pair.items():
        img = to_bgr(img)
        if img.shape[:2] != vis.shape[:2]:
            img = cv2.resize(img, vis.shape[1::-1])
        row.append(titled(img, name))
    return hstack(row + [titled(vis, 'fused')])


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

    Frames go through the inferencer's test pipeline and ``test_step`` in
    batches of ``batch_size``; each output frame is the fused frame at the
    input size with the predictions drawn (``inferencer.overlay``), or the
    IR | VIS | fused panel with ``panels``. The file is written under a
    temporary name and renamed at the end: a failed run leaves no video.

    Args:
        inferencer (FusionInferencer): the model.
        frames (PairedFrames): the two streams.
        out (str, optional): output ``.mp4`` (codec ``mp4v``); None writes
            nothing.
        batch_size (int): frame pairs per ``test_step``. Defaults to 4.
        pred_score_thr (float): boxes below are not drawn.
        panels (bool): write IR | VIS | fused panels.
        max_frames (int, optional): stop after this many frames.
        show (bool): show every frame in an OpenCV window (``q`` stops).
        progress (bool): progress bar.

    Returns:
        dict: ``frames``, ``fps`` (frames per second, wall clock of the
        whole loop), ``seconds``, ``ms_per_frame`` (per stage: read,
        pipeline, fuse = the fusion network, task = the rest of
        ``test_step``: detector / segmentor, data preprocessor, cropping
        back; draw, write), ``size`` (w, h), ``batch_size``,
        ``input_fps``, ``out``.
    """
    if batch_size < 1:
        raise ValueError(f'batch_size must be >= 1, got {batch_size}')
    timer = StageTimer()
    model = inferencer.model
    fusion_net = getattr(model, 'fusion_net', None)
    handles = timer.time_module(fusion_net, 'fuse') if isinstance(
        fusion_net, nn.Module) else []
    writer, tmp = None, None
    total = frames.num_frames
    if max_frames is not None:
        total = max_frames if total is None else min(total, max_frames)
    done, stop = 0, False
    start = time.perf_counter()
    try:
        num_batches = None if total is None else -(-total // batch_size)
        desc = f'fusing {total or "?"} frame pair(s)'
        for _ in track(itertools.count(), desc, total=num_batches,
                       enabled=progress):
            pairs = []
            with timer('read'):
                while len(pairs) < batch_size and (total is None
                                                   or done + len(pairs) <
                                                   total):
                    pair = frames.read()
                    if pair is None:
                        stop = True
                        break
                    pairs.append(pair)
            if not pairs:
                break
            with timer('pipeline'):
                infos = inferencer._inputs_to_list([
                    tuple(p[n] for n in frames.names) for p in pairs
                ])
                data = next(iter(inferencer.preprocess(
                    infos, batch_size=len(infos))))
            fuse_before = timer.totals['fuse']
            with timer('task'):
                preds = inferencer.forward(data)
            timer.totals['task'] -= timer.totals['fuse'] - fuse_before
            with timer('draw'):
                outs = []
                for pair, pred in zip(pairs, preds):
                    vis = inferencer.overlay(pred, True, pred_score_thr) \
                        if inferencer.is_compound else \
                        to_bgr(result_image(pred))
                    outs.append(frame_panel(pair, vis) if panels else vis)
            with timer('write'):
                if out is not None and writer is None:
                    h, w = outs[0].shape[:2]
                    os.makedirs(osp.dirname(osp.abspath(out)), exist_ok=True)
                    tmp = osp.join(osp.dirname(osp.abspath(out)),
                                   f'.{osp.basename(out)}.part.mp4')
                    writer = cv2.VideoWriter(
                        tmp, cv2.VideoWriter_fourcc(*'mp4v'),
                        frames.fps or 25.0, (w, h))
                    if not writer.isOpened():
                        raise OSError(f'OpenCV cannot write an mp4v MP4 to '
                                      f'{tmp}')
                for img in outs:
                    if writer is not None:
                        writer.write(img)
            done += len(pairs)
            if show:
                cv2.imshow('video_demo', outs[-1])
                if cv2.waitKey(1) & 0xFF == ord('q'):
                    stop = True
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
        ms_per_frame={
            k: round(1000 * v / max(done, 1), 2)
            for k, v in timer.totals.items()
        },
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
    """A two-stream test clip from one registered still pair: a window of
    ``size`` pans across the pair (scaled up so that it covers 1.25 times
    the window) from the top-left to the bottom-right corner, the same
    window in both images, so the streams stay registered.

    Args:
        ir, vi (np.ndarray): the pair (grey or BGR ``uint8``, same size).
        out_ir, out_vi (str, optional): the two MP4 files (``mp4v``).
        size (tuple[int, int]): (width, height) of the frames.
        num_frames (int): frames per stream.
        fps (float): frame rate.
        side_by_side (str, optional): also (or instead) one MP4 with both
            streams side by side.
        left (str): the modality on the left of ``side_by_side``.

    Returns:
        tuple[int, int]: the frame size (width, height).
    """
    if ir.shape[:2] != vi.shape[:2]:
        raise ValueError(f'the pair differs in size: ir {ir.shape[:2]}, vi '
                         f'{vi.shape[:2]}')
    w, h = size
    scale = 1.25 * max(w / ir.shape[1], h / ir.shape[0])
    big = [
        cv2.resize(to_bgr(img), None, fx=scale, fy=scale,
                   interpolation=cv2.INTER_CUBIC) for img in (ir, vi)
    ]
    span_x, span_y = big[0].shape[1] - w, big[0].shape[0] - h
    fourcc = cv2.VideoWriter_fourcc(*'mp4v')
    writers = []
    if out_ir and out_vi:
        writers += [cv2.VideoWriter(p, fourcc, fps, (w, h))
                    for p in (out_ir, out_vi)]
    if side_by_side:
        writers.append(cv2.VideoWriter(side_by_side, fourcc, fps, (2 * w, h)))
    if not writers or not all(wr.isOpened() for wr in writers):
        raise OSError('give out_ir and out_vi or side_by_side (MP4 files '
                      'OpenCV can write)')
    for i in range(num_frames):
        t = i / max(num_frames - 1, 1)
        x, y = int(round(t * span_x)), int(round(t * span_y))
        crops = [b[y:y + h, x:x + w] for b in big]
        if out_ir and out_vi:
            writers[0].write(crops[0])
            writers[1].write(crops[1])
        if side_by_side:
            pair = crops if left == 'ir' else crops[::-1]
            writers[-1].write(np.concatenate(pair, 1))
    for wr in writers:
        wr.release()
    return w, h
