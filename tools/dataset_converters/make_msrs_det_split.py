"""Write the frame-block split of MSRS_det (train / val / test lists).

Example::

    python tools/dataset_converters/make_msrs_det_split.py \\
        --data-root ../shared/data/detection/MSRS_det \\
        --out configs/_base_/datasets/splits/msrs_det

MSRS frames are numbered along video sequences (steps of about 4), so
neighbouring frames are near-duplicates: the split cuts the frame-number
axis into contiguous blocks and leaves a gap between blocks of different
splits (:mod:`mmfusenas.datasets.frame_block_split`, parameters
:data:`~mmfusenas.datasets.frame_block_split.MSRS_DET_SPLIT`). It writes
``OUT/{train,val,test,gap}.txt`` (one stem per line after ``#`` header
lines; ``gap.txt`` lists the frames left out) and prints the counts, the
day / night mix of each split and the smallest frame-number distance
between two splits. Every file is computed before anything is written and
written atomically; the data root is only read.
"""
import argparse
import os
import os.path as osp
from typing import Dict, List, Optional


from mmfusenas.datasets.frame_block_split import (  # noqa: E402
    MSRS_DET_SPLIT, block_split, min_cross_split_distance)
from mmfusenas.utils.fileio import atomic_write  # noqa: E402

IMG_EXTS = ('.png', '.jpg', '.jpeg', '.bmp')


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Frame-block split of MSRS_det')
    parser.add_argument('--data-root',
                        default='../shared/data/detection/MSRS_det',
                        help='the MSRS_det folder (ir/, vi/, labels/)')
    parser.add_argument('--out',
                        default='configs/_base_/datasets/splits/msrs_det',
                        help='folder of the split files')
    return parser.parse_args(argv)


def paired_stems(root: str) -> List[str]:
    """Stems present in both ``ir/`` and ``vi/``; an unpaired image is an
    error naming it."""
    found = {}
    for mod in ('ir', 'vi'):
        folder = osp.join(root, mod)
        if not osp.isdir(folder):
            raise FileNotFoundError(f'{folder} not found (expected '
                                    'DIR/{ir,vi}/<stem>.<ext>)')
        found[mod] = {osp.splitext(n)[0] for n in os.listdir(folder)
                      if osp.splitext(n)[1].lower() in IMG_EXTS}
    unpaired = sorted(found['ir'] ^ found['vi'])
    if unpaired:
        raise ValueError(f'{root}: {len(unpaired)} stem(s) without a partner '
                         f'in ir/ or vi/: {unpaired[:10]}')
    return sorted(found['ir'])


def split_texts(split: Dict[str, List[str]]) -> Dict[str, str]:
    """File name -> text of each split file."""
    what = dict(train='training', val='validation (model selection)',
                test='test (never read in training)',
                gap='left out: within the gap of a block of another split')
    params = ', '.join(f'{k}={v}' for k, v in MSRS_DET_SPLIT.items()
                       if k != 'blocks')
    out = {}
    for key, stems in split.items():
        head = (f'# msrs_det: made by tools/dataset_converters/'
                f'make_msrs_det_split.py ({params}, blocks '
                f'{"/".join(MSRS_DET_SPLIT["blocks"])})\n'
                f'# stems of MSRS_det for {what[key]}\n')
        out[f'{key}.txt'] = head + ''.join(s + '\n' for s in stems)
    return out


def main(argv: Optional[List[str]] = None) -> Dict[str, List[str]]:
    args = parse_args(argv)
    split = block_split(paired_stems(args.data_root), **MSRS_DET_SPLIT)
    texts = split_texts(split)
    for key, stems in split.items():
        day = sum(s.endswith('D') for s in stems)
        print(f'{key:5s} {len(stems):4d} pairs ({day} day, '
              f'{len(stems) - day} night)')
    dist, pair = min_cross_split_distance(split)
    print(f'smallest frame-number distance between two splits: {dist} '
          f'({pair[0]} / {pair[1]})')
    os.makedirs(args.out, exist_ok=True)
    for name, text in texts.items():
        atomic_write(text, osp.join(args.out, name))
    print(f'wrote {", ".join(sorted(texts))} to {args.out}')
    return split


if __name__ == '__main__':
    main()
