"""Damaged image files for the readers' tests: JPEGs that keep their end
marker (``FF D9``) yet are corrupt, which OpenCV decodes mostly grey with
only libjpeg's warning on stderr, naming no file."""
import os
import os.path as osp

import numpy as np

#: the two injections: a file cut to a third with ``FF D9`` appended, and
#: one with its middle third zeroed (as by a damaged download)
JPEG_DAMAGE = ('cut', 'zeroed')


def damage_jpeg(data: bytes, how: str) -> bytes:
    """``data`` (a JPEG file) damaged as ``how`` (:data:`JPEG_DAMAGE`); the
    result still ends with the end marker."""
    third = len(data) // 3
    if how == 'cut':
        return data[:third] + b'\xff\xd9'
    if how == 'zeroed':
        return data[:third] + bytes(third) + data[2 * third:]
    raise ValueError(f'how={how!r}: one of {JPEG_DAMAGE}')


def write_damaged_jpeg(path, how: str, shape=(64, 80), seed: int = 0,
                       source=None) -> str:
    """Write to ``path`` a JPEG damaged as ``how``: ``source`` (a JPEG
    file) or else noise of ``shape`` encoded by OpenCV (folders made).
    Asserts that it keeps its end marker and that OpenCV alone decodes it
    without an error (the silent kind of damage); returns the path as a
    string."""
    import cv2
    if source is not None:
        with open(source, 'rb') as f:
            data = f.read()
    else:
        noise = np.random.default_rng(seed).integers(0, 256, shape, np.uint8)
        data = cv2.imencode('.jpg', noise)[1].tobytes()
    data = damage_jpeg(data, how)
    assert data.endswith(b'\xff\xd9')
    assert cv2.imdecode(np.frombuffer(data, np.uint8), -1) is not None
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    with open(path, 'wb') as f:
        f.write(data)
    return str(path)
