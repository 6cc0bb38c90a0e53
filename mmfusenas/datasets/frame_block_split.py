"""Split video frames into train / val / test by contiguous frame-number
blocks, leaving out the frames within ``gap`` numbers of a boundary between
splits (near-duplicate neighbours). Used by
``tools/dataset_converters/make_msrs_det_split.py``."""
import re
from typing import Dict, List, Sequence, Tuple

#: the MSRS_det split: 10 blocks of 160 frame numbers, gaps of 16
MSRS_DET_SPLIT = dict(
    block_size=160,
    blocks=('train', 'train', 'test', 'train', 'val', 'train', 'test',
            'train', 'val', 'train'),
    gap=16)

SPLITS = ('train', 'val', 'test')


def frame_number(stem: str) -> int:
    """The leading digits of a stem (``'00412D'`` -> 412); ValueError when
    there are none."""
    match = re.match(r'(\d+)', stem)
    if match is None:
        raise ValueError(f'stem {stem!r} does not start with a frame '
                         'number')
    return int(match[1])


def block_split(stems: Sequence[str], block_size: int,
                blocks: Sequence[str], gap: int) -> Dict[str, List[str]]:
    """Assign stems to splits by frame-number blocks.

    Args:
        stems (Sequence[str]): stems starting with their frame number.
        block_size (int): frame numbers per block (the last block takes
            everything above).
        blocks (Sequence[str]): the split of each block.
        gap (int): frames within ``gap`` numbers of a boundary with another
            split go to ``'gap'``.

    Returns:
        dict: ``{'train', 'val', 'test', 'gap'}`` -> stems by frame number.
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
    """The smallest frame-number distance between stems of different splits
    (``'gap'`` not counted) and the two stems."""
    tagged = sorted((frame_number(s), k, s) for k in SPLITS
                    for s in split.get(k, []))
    best = (10**9, ('', ''))
    for (n1, k1, s1), (n2, k2, s2) in zip(tagged, tagged[1:]):
        if k1 != k2 and n2 - n1 < best[0]:
            best = (n2 - n1, (s1, s2))
    return best
