"""File helpers shared by models, datasets, engine, search and tools.

:func:`atomic_write` writes through a temporary file in the destination's
folder, ``fsync``-s it, ``os.replace``-s it over the destination and
``fsync``-s the folder, so a file at the destination is always whole: a
run killed while writing leaves the previous version (or nothing), never a
truncated file. The file gets the permissions of an ordinary ``open(path,
'w')``. :func:`read_stored_run` reads back a benchmark run stored as JSON
if it was made with the same options. :func:`read_json`,
:func:`decode_image` and :func:`read_image` are the checked readers of
JSON files and images: damaged or truncated input is refused with the
file named; :func:`to_uint8` gives the 8-bit levels an image is saved with.
"""
import errno
import json
import os
import os.path as osp
import tempfile
from pathlib import Path
from typing import Any, Optional, Union

import numpy as np


def current_umask() -> int:
    """The process umask, read without changing it where possible.

    Linux exposes it in ``/proc/self/status``; elsewhere it is read with the
    ``os.umask`` set-and-restore idiom.
    """
    try:
        with open('/proc/self/status') as f:
            for line in f:
                if line.startswith('Umask:'):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def default_file_mode() -> int:
    """``0o666 & ~umask``: the mode ``open(path, 'w')`` creates files with."""
    return 0o666 & ~current_umask()


def default_dir_mode() -> int:
    """``0o777 & ~umask``: the mode ``os.makedirs`` creates folders with."""
    return 0o777 & ~current_umask()


def fsync_dir(folder: Union[str, Path]) -> None:
    """``fsync`` a folder so that renames / removals in it are durable.

    A no-op where folders cannot be opened (Windows).
    """
    try:
        fd = os.open(str(folder), os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_write(data: Union[bytes, str],
                 filepath: Union[str, Path],
                 encoding: str = 'utf-8') -> None:
    """Write ``data`` to ``filepath`` via a temporary file and a rename.

    The temporary file is named ``.<basename>.<random>.tmp`` in the
    destination's folder (a killed write leaves one behind;
    :class:`~mmfusenas.engine.SafeCheckpointHook` removes those of
    checkpoints on the next start). The data and then the folder are
    ``fsync``-ed, so the new file is durable when this returns.

    Args:
        data (bytes | str): content; ``str`` is encoded with ``encoding``.
        filepath (str | Path): destination; parent folders are created.
        encoding (str): text encoding. Defaults to 'utf-8'.
    """
    filepath = str(filepath)
    folder = osp.dirname(osp.abspath(filepath))
    os.makedirs(folder, exist_ok=True)
    if isinstance(data, str):
        data = data.encode(encoding)
    fd, tmp = tempfile.mkstemp(
        dir=folder, prefix=f'.{osp.basename(filepath)}.', suffix='.tmp')
    try:
        with os.fdopen(fd, 'wb') as f:
            if hasattr(os, 'fchmod'):
                os.fchmod(f.fileno(), default_file_mode())
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, filepath)
    except BaseException as err:
        if osp.exists(tmp):
            os.remove(tmp)
        if isinstance(err, OSError) and err.errno in (errno.ENOSPC,
                                                      errno.EDQUOT):
            raise OSError(
                err.errno,
                f'{err.strerror} while writing {filepath} ({len(data)} '
                f'bytes): free space on the device of {folder} (or write '
                'elsewhere, e.g. --work-dir / --out); nothing was written, '
                'the file there before, if any, is unchanged',
                filepath) from err
        raise
    fsync_dir(folder)


def read_stored_run(path: Union[str, Path],
                    options: Any,
                    key: str = 'options',
                    missing_ok_on_mismatch: bool = False) -> Optional[dict]:
    """The run stored at ``path`` (JSON), if it records ``options``.

    Args:
        path (str | Path): the run's JSON file.
        options: what the run must record under ``key`` to be reused.
        key (str): the record's key holding its options. Defaults to
            ``'options'``.
        missing_ok_on_mismatch (bool): a run made with other options is
            treated as not run (None) instead of an error, e.g. when only
            reporting finished runs. Defaults to False.

    Returns:
        dict | None: the stored run, or None when ``path`` does not exist
        (or records other options and ``missing_ok_on_mismatch``).

    Raises:
        ValueError: the stored run records other options (both named, with
            the file).
    """
    if not osp.isfile(path):
        return None
    run = read_json(path)
    if run.get(key) == options:
        return run
    if missing_ok_on_mismatch:
        return None
    raise ValueError(f'{path} was run with other options ({run.get(key)}) '
                     f'than these ({options}); remove it or choose another '
                     'output folder')


def read_json(path: Union[str, Path]) -> Any:
    """Parse the JSON file ``path``.

    Raises:
        ValueError: the file is not valid JSON (empty, truncated, edited);
            the message names the file.
    """
    try:
        with open(path, encoding='utf-8') as f:
            return json.load(f)
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ValueError(f'{path} is damaged (not valid JSON: {err}); '
                         'remove it to have it made again') from None


def image_truncated(content: bytes) -> bool:
    """Whether an encoded JPEG ends before its image does: its last scan
    (``FFDA``) is not followed by an end-of-image marker (``FFD9``).

    OpenCV decodes such a file without an error, filling the missing part
    with grey; it refuses other formats cut short by itself.
    """
    return (content[:2] == b'\xff\xd8'
            and content.rfind(b'\xff\xd9') < content.rfind(b'\xff\xda'))


_CV2_FLAGS = {'unchanged': -1, 'grayscale': 0, 'color': 1}


def decode_image(content: bytes, path: str,
                 flag: str = 'unchanged') -> np.ndarray:
    """Decode the bytes of the image file ``path`` as ``cv2.imread`` does
    (``flag``: ``'unchanged'``, ``'grayscale'`` or ``'color'`` (BGR), as
    ``mmcv.imfrombytes(..., backend='cv2')``).

    Raises:
        OSError: empty, not an image, or truncated (OpenCV's refusal, or
            :func:`image_truncated` for the JPEG it accepts); the message
            names the file.
    """
    import cv2
    if content and image_truncated(content):
        raise OSError(f'image {path!r} is truncated ({len(content)} bytes: '
                      'the file ends before its image data does)')
    img = cv2.imdecode(np.frombuffer(content, np.uint8),
                       _CV2_FLAGS[flag]) if content else None
    if img is None:
        raise OSError(f'cannot decode image {path!r} (empty, corrupt or not '
                      'an image)')
    return img


def read_image(path: str, flag: str = 'unchanged',
               backend_args: Optional[dict] = None) -> np.ndarray:
    """Read and decode the image file ``path`` through
    :mod:`mmengine.fileio` (``backend_args``: None infers the backend from
    the path), checked as :func:`decode_image`.

    Raises:
        FileNotFoundError: no such file (named).
        OSError: see :func:`decode_image`.
    """
    from mmengine import fileio
    try:
        content = fileio.get(path, backend_args=backend_args)
    except FileNotFoundError:
        raise FileNotFoundError(f'image file {path!r} does not exist') from None
    return decode_image(content, path, flag)


#: rounding modes of :func:`to_uint8`
ROUNDINGS = ('floor', 'round')


def to_uint8(img, rounding: str = 'floor'):
    """``[0, 1]`` float image (tensor, any shape) -> ``uint8`` levels, as
    it is saved.

    ``'floor'`` truncates (the official RUAS / TIM medical saving,
    ``np.clip(x * 255, 0, 255).astype('uint8')``); ``'round'`` rounds half
    up (``floor(255 x + 0.5)``, most fusion code and
    ``torchvision.utils.save_image``). Computed in float32 on the image's
    device.
    """
    import torch
    if rounding not in ROUNDINGS:
        raise ValueError(
            f'rounding must be one of {ROUNDINGS}, got {rounding!r}')
    scaled = img.detach().float() * 255.0
    if rounding == 'round':
        scaled = scaled + 0.5
    return scaled.clamp(0, 255).floor().to(torch.uint8)
