"""Atomic writes, checked JSON and image readers naming a damaged file, and
the 8-bit levels images are saved with."""
import errno
import json
import os
import os.path as osp
import secrets
from contextlib import suppress
from pathlib import Path
from typing import Any, Optional, Union

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


def read_json(path: Union[str, Path]) -> Any:
    """Parse the JSON file ``path``; ValueError naming it if damaged."""
    try:
        with open(path, encoding='utf-8') as f:
            return json.load(f)
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ValueError(f'{path} is damaged (not valid JSON: {err}); '
                         'remove it to have it made again') from None


def decode_image(content: bytes, path: str,
                 flag: str = 'unchanged') -> np.ndarray:
    """Decode image bytes read from ``path`` as ``cv2.imread`` (``flag``:
    ``'unchanged'``, ``'grayscale'``, ``'color'``); OSError naming the file
    if empty, not an image or a truncated JPEG (OpenCV fills it grey)."""
    import cv2  # not mmcv: the fusion evaluator must not import it
    if content[:2] == b'\xff\xd8' and content.rfind(b'\xff\xd9') < \
            content.rfind(b'\xff\xda'):
        raise OSError(f'image {path!r} is truncated ({len(content)} bytes: '
                      'the file ends before its image data does)')
    img = cv2.imdecode(np.frombuffer(content, np.uint8), dict(
        unchanged=-1, grayscale=0, color=1)[flag]) if content else None
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
