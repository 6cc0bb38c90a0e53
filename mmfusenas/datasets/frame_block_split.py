"""Split frames of video sequences by contiguous number blocks, with gaps.

Datasets cut from videos (MSRS: frames numbered along the sequences in
steps of about 4) hold near-duplicates in neighbouring frames: a random
split puts one frame in training and its neighbour in the test set. Here
the frame-number axis is cut into blocks of ``block_size`` numbers, each
block goes to one split by a fixed list, and the frames within ``gap``
numbers of a boundary with a block of **another** split are left out, so
that any two frames of different splits are more than ``2 * gap`` numbers
apart (:func:`min_cross_split_distance`). Everything is deterministic.

The MSRS_det split (``configs/_base_/datasets/splits/msrs_det/``) is made
by ``tools/dataset_converters/make_msrs_det_split.py`` with
:data:`MSRS_DET_SPLIT`; ``docs/user_guides/datasets.md`` explains it.
"""
import re
from typing import Dict, List, Sequence, Tuple

#: The MSRS_det split: frame numbers 0-1603 in 10 blocks of 160 (the last
#: holds the rest); test = a day block (320-479) and a night block
#: (960-1119), val = a mixed block (640-799) and a night / day block
#: (1280-1439), train = the other six; 16 numbers (about 4 frames) left out
#: on each side of a boundary between splits, so frames of two splits are at
#: least 33 numbers (about 8 frames) apart.
MSRS_DET_SPLIT = dict(
    block_size=160,
    blocks=('train', 'train', 'test', 'train', 'val', 'train', 'test',
            'train', 'val', 'train'),
    gap=16)

SPLITS = ('train', 'val', 'test')


def frame_number(stem: str) -> int:
    """The frame number of a stem: its leading digits (``'00412D'`` ->
    412).

    Raises:
        ValueError: the stem does not start with digits.
    """
    match = re.match(r'(\d+)', stem)
    if match is None:
        raise ValueError(f'stem {stem!r} does not start with a frame '
                         'number')
    return int(match[1])


def block_split(stems: Sequence[str], block_size: int,
                blocks: Sequence[str], gap: int) -> Dict[str, List[str]]:
    """Assign stems to splits by frame-number blocks.

    Args:
        stems (Sequence[str]): Stems starting with their frame number.
        block_size (int): Frame numbers per block; block ``i`` holds
            ``[i * block_size, (i + 1) * block_size)``, the last block
            everything above.
        blocks (Sequence[str]): The split of each block (``'train'``,
            ``'val'`` or ``'test'``).
        gap (int): Frames within ``gap`` numbers of a boundary with a block
            of another split are left out (listed under ``'gap'``).

    Returns:
        dict: ``{'train': [...], 'val': [...], 'test': [...], 'gap':
        [...]}``, each sorted by frame number.

    Raises:
        ValueError: a bad ``blocks`` entry, a non-positive size, a negative
            gap, or two stems with one frame number.
    """
    if block_size <= 0 or gap < 0 or 2 * gap >= block_size:
        raise ValueError(f'need block_size > 2 * gap >= 0, got block_size '
                         f'{block_size}, gap {gap}')
    bad = [b for b in blocks if b not in SPLITS]
    if bad or not blocks:
        raise ValueError(f'blocks must name splits of {SPLITS}, got '
                         f'{list(blocks)}')
    numbers: Dict[int, str] = {}
    for stem in stems:
        n = frame_number(stem)
        if n in numbers:
            raise ValueError(f'stems {numbers[n]!r} and {stem!r} share frame '
                             f'number {n}')
        numbers[n] = stem
    out: Dict[str, List[str]] = {k: [] for k in SPLITS + ('gap', )}
    last = len(blocks) - 1
    for n in sorted(numbers):
        i = min(n // block_size, last)
        start = i * block_size
        end = (i + 1) * block_size if i < last else None
        near_prev = i > 0 and blocks[i - 1] != blocks[i] and \
            n - start < gap
        near_next = end is not None and blocks[i + 1] != blocks[i] and \
            end - n <= gap
        out['gap' if near_prev or near_next else blocks[i]].append(
            numbers[n])
    return out


def min_cross_split_distance(split: Dict[str, List[str]]
                             ) -> Tuple[int, Tuple[str, str]]:
    """The smallest frame-number distance between two stems of different
    splits (``'gap'`` not counted), and the pair.

    Returns:
        tuple[int, tuple[str, str]]: the distance and the two stems.
    """
    tagged = sorted((frame_number(s), k, s) for k in SPLITS
                    for s in split.get(k, []))
    best = (10**9, ('', ''))
    for (n1, k1, s1), (n2, k2, s2) in zip(tagged, tagged[1:]):
        if k1 != k2 and n2 - n1 < best[0]:
            best = (n2 - n1, (s1, s2))
    return best
