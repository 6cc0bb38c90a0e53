"""Atomic writes, checked JSON and image readers naming a damaged file, and
the 8-bit levels images are saved with."""
import errno
import io
import json
import math
import os
import os.path as osp
import secrets
import struct
import sys
import tempfile
import threading
from contextlib import suppress
from pathlib import Path
from typing import IO, Any, Callable, Optional, Union

import numpy as np


def atomic_write(data: Union[bytes, str],
                 filepath: Union[str, Path],
                 encoding: str = 'utf-8') -> None:
    """Write ``data`` via a temporary file, ``fsync`` and ``os.replace``; a
    full or read-only disk raises an OSError naming the file."""
    filepath = str(filepath)
    folder = osp.dirname(osp.abspath(filepath))
    os.makedirs(folder, exist_ok=True)
    if isinstance(data, str):
        data = data.encode(encoding)
    tmp = osp.join(folder,
                   f'.{osp.basename(filepath)}.{secrets.token_hex(4)}.tmp')
    try:  # mode 0o666 less the umask, as open(path, 'w') creates files
        with open(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666),
                  'wb') as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, filepath)
    except BaseException as err:
        if osp.exists(tmp):
            os.remove(tmp)
        code = getattr(err, 'errno', None)
        if code in (errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES):
            why = (f' ({len(data)} bytes): free space on the device of '
                   f'{folder} (or write elsewhere' if code in (
                       errno.ENOSPC, errno.EDQUOT) else
                   f': {folder} is not writable (write elsewhere')
            raise OSError(
                code, f'{err.strerror} while writing {filepath}{why}, e.g. '
                '--work-dir / --out); nothing was written, the file there '
                'before, if any, is unchanged', filepath) from err
        raise
    with suppress(OSError):  # make the rename durable where folders open
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def write_png(image: np.ndarray, path: str) -> None:
    """Write ``image`` (OpenCV layout) as PNG to ``path`` atomically."""
    import cv2
    ok, buf = cv2.imencode('.png', image)
    if not ok:
        raise RuntimeError(f'PNG encoding failed for {path}')
    atomic_write(buf.tobytes(), path)


def is_finite_number(value: Any) -> bool:
    """Whether ``value`` read from a file is a finite int or float (a
    numpy one too; not a bool)."""
    return isinstance(value, (int, float, np.integer, np.floating)) and \
        not isinstance(value, bool) and math.isfinite(float(value))


def decode_file(content: bytes, path: str, read: Callable[[IO[bytes]], Any],
                what: str = 'decoded') -> Any:
    """``read`` (e.g. ``np.load``) of a file object of ``content``; a
    ``ValueError`` naming ``path`` for whatever the reader raises on bad
    bytes ("``path``: cannot be ``what`` (...)")."""
    try:
        return read(io.BytesIO(content))
    except Exception as err:  # the readers raise many types on bad bytes
        raise ValueError(f'{path}: cannot be {what} '
                         f'({type(err).__name__}: {err})') from err


def read_json(path: Union[str, Path]) -> Any:
    """Parse the JSON file ``path``; ValueError naming it if damaged."""
    try:
        with open(path, encoding='utf-8') as f:
            return json.load(f)
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ValueError(f'{path} is damaged (not valid JSON: {err}); '
                         'remove it to have it made again') from None


#: libjpeg's warnings on damaged data, which OpenCV prints and decodes on
_JPEG_DAMAGE = ('Corrupt JPEG data', 'Premature end of JPEG file')
_STDERR_LOCK = threading.Lock()


def _imdecode_jpeg(buf: np.ndarray, path: str, flag: int) -> np.ndarray:
    """``cv2.imdecode`` of JPEG bytes with libjpeg's warnings on stderr
    caught; OSError naming the file if one says the data is damaged."""
    import cv2
    with _STDERR_LOCK, tempfile.TemporaryFile() as log:
        if sys.stderr is not None:
            sys.stderr.flush()
        saved = os.dup(2)
        os.dup2(log.fileno(), 2)
        try:
            img = cv2.imdecode(buf, flag)
        finally:
            os.dup2(saved, 2)
            os.close(saved)
        log.seek(0)
        text = log.read()
    damage = [line for line in text.decode(errors='replace').splitlines()
              if line.startswith(_JPEG_DAMAGE)]
    if damage:
        raise OSError(f'image {path!r} is corrupt (libjpeg: {damage[0]}; '
                      'OpenCV would decode the damaged part grey)')
    if text:  # not libjpeg's: pass it on
        os.write(2, text)
    return img


def decode_image(content: bytes, path: str,
                 flag: str = 'unchanged') -> np.ndarray:
    """Decode image bytes read from ``path`` as ``cv2.imread`` (``flag``:
    ``'unchanged'``, ``'grayscale'``, ``'color'``); OSError naming the file
    if empty, not an image, a truncated or corrupt JPEG (OpenCV fills the
    damaged part grey) or too large to decode."""
    import cv2  # not mmcv: the fusion evaluator must not import it
    flag = dict(unchanged=-1, grayscale=0, color=1)[flag]
    is_jpeg = content[:2] == b'\xff\xd8'
    if is_jpeg and content.rfind(b'\xff\xd9') < content.rfind(b'\xff\xda'):
        raise OSError(f'image {path!r} is truncated ({len(content)} bytes: '
                      'the file ends before its image data does)')
    buf, img = np.frombuffer(content, np.uint8), None
    try:
        if is_jpeg:
            img = _imdecode_jpeg(buf, path, flag)
        elif content:
            img = cv2.imdecode(buf, flag)
    except cv2.error as err:  # e.g. a header claiming 100000 x 100000
        why = f'OpenCV: {getattr(err, "err", err)}'
        if content[:8] == b'\x89PNG\r\n\x1a\n' and content[12:16] == b'IHDR':
            why = ('its header claims {} x {} pixels: a damaged header or an '
                   'image too large; '.format(
                       *struct.unpack('>II', content[16:24])) + why)
        raise OSError(f'cannot decode image {path!r} ({why})') from None
    if img is None:
        raise OSError(f'cannot decode image {path!r} (empty, corrupt or not '
                      'an image)')
    return img


def read_image(path: str, flag: str = 'unchanged',
               backend_args: Optional[dict] = None) -> np.ndarray:
    """:func:`decode_image` of ``path`` read through :mod:`mmengine.fileio`."""
    from mmengine import fileio
    try:
        content = fileio.get(path, backend_args=backend_args)
    except FileNotFoundError:
        raise FileNotFoundError(
            f'image file {path!r} does not exist') from None
    return decode_image(content, path, flag)


#: rounding modes of :func:`to_uint8`
ROUNDINGS = ('floor', 'round')


def to_uint8(img, rounding: str = 'floor'):
    """``[0, 1]`` float tensor -> ``uint8``: ``'floor'`` (official RUAS /
    TIM) or ``'round'`` (``floor(255 x + 0.5)``), computed in float32."""
    import torch
    if rounding not in ROUNDINGS:
        raise ValueError(
            f'rounding must be one of {ROUNDINGS}, got {rounding!r}')
    scaled = img.detach().float() * 255.0 + (rounding == 'round') * 0.5
    return scaled.clamp(0, 255).floor().to(torch.uint8)
