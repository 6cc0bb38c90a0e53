"""Small files for the paired-dataset and converter tests: a text file and
flat gray image pairs in ``ir/`` and ``vi/``."""
import os
import os.path as osp

import cv2
import numpy as np


def write_text(path, text: str) -> str:
    """Write ``text`` to ``path`` (folders made); the path as a string."""
    os.makedirs(osp.dirname(str(path)), exist_ok=True)
    with open(path, 'w') as f:
        f.write(text)
    return str(path)


def make_pairs(root, stems, h: int = 8, w: int = 10) -> None:
    """``root/{ir,vi}/<stem>.png``: flat ``h x w`` gray images."""
    for stem in stems:
        for mod in ('ir', 'vi'):
            os.makedirs(osp.join(root, mod), exist_ok=True)
            assert cv2.imwrite(osp.join(root, mod, stem + '.png'),
                               np.full((h, w), 9, np.uint8))
