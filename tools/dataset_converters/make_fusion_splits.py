"""Write the leak-free splits of the real fusion training sources.

Example::

    python tools/dataset_converters/make_fusion_splits.py \\
        --data-root ../shared/data/fusion \\
        --out configs/_base_/datasets/splits

For each source (``roadscene221``, ``harvard_ct``, ``harvard_pet``,
``harvard_spect``; default all) it writes
``OUT/<source>/{train,search_weights,search_arch,test,excluded}.txt`` (one
stem per line after ``#`` header lines; ``excluded.txt`` gives each removed
stem, its nearest test image, the modality, the distance ``1 - r`` and
whether the pixels are identical) and prints a histogram of every training
pair's distance to its nearest test image, so the threshold can be checked
against the measured distribution. The rule and the threshold are those of
:mod:`mmfusenas.datasets.real_fusion_splits` (see
``docs/user_guides/datasets.md``).
Every source is computed before anything is written; each file is written
atomically. The data root is only read.
"""
import argparse
import os.path as osp
from typing import List, Optional

import numpy as np


from mmfusenas.datasets.real_fusion_splits import (  # noqa: E402
    NEAR_DUP_THRESHOLD, REAL_FUSION_SOURCES, make_fusion_splits,
    split_file_texts)
from mmfusenas.utils.fileio import atomic_write  # noqa: E402

#: bin edges of the printed distance histogram
HIST_EDGES = (0, 1e-6, 0.02, 0.04, 0.06, 0.08, 0.1, 0.15, 0.2, 0.3, 0.5, 2)


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Leak-free train / search / test splits of the real '
        'fusion training sources')
    parser.add_argument(
        '--data-root',
        default='../shared/data/fusion',
        help='the fusion data root (default ../shared/data/fusion)')
    parser.add_argument(
        '--out',
        default='configs/_base_/datasets/splits',
        help='folder of the split folders (default '
        'configs/_base_/datasets/splits)')
    parser.add_argument(
        '--sources',
        nargs='+',
        choices=sorted(REAL_FUSION_SOURCES),
        default=list(REAL_FUSION_SOURCES),
        help='sources to split (default: all)')
    parser.add_argument(
        '--threshold',
        type=float,
        default=NEAR_DUP_THRESHOLD,
        help='near-duplicate distance 1-r (default '
        f'{NEAR_DUP_THRESHOLD})')
    return parser.parse_args(argv)


def histogram(distances: List[float]) -> str:
    """One line per bin: ``[lo, hi)  count``."""
    counts, _ = np.histogram(distances, bins=HIST_EDGES)
    return '\n'.join(f'    [{lo:.2f}, {hi:.2f})  {c}' for lo, hi, c in zip(
        HIST_EDGES[:-1], HIST_EDGES[1:], counts))


def main(argv: Optional[List[str]] = None) -> dict:
    """Compute and write the splits; returns source -> split dict."""
    args = parse_args(argv)
    results, texts = {}, {}
    for source in args.sources:
        splits = make_fusion_splits(source, args.data_root, args.threshold)
        results[source] = splits
        texts[source] = split_file_texts(source, splits, args.threshold)
        dists = [m.distance for m in splits['matches']]
        exact = sum(m.exact for m in splits['matches'])
        kept_nearest = sorted(m.distance for m in splits['matches']
                              if m.stem in set(splits['train']))[:5]
        print(f'{source}: {len(dists)} training pairs, {exact} exact '
              f'duplicate(s) of a test image, {len(splits["excluded"])} '
              f'excluded (distance <= {args.threshold}), '
              f'{len(splits["train"])} kept '
              f'({len(splits["search_weights"])} + '
              f'{len(splits["search_arch"])} search halves), '
              f'{len(splits["test"])} test ({splits["test_set"]})')
        print(f'  nearest kept distances: '
              f'{[round(d, 3) for d in kept_nearest]}')
        print('  distance to the nearest test image:\n' + histogram(dists))
    for source, files in texts.items():
        for name, text in files.items():
            atomic_write(text, osp.join(args.out, source, f'{name}.txt'))
        print(f'wrote {osp.join(args.out, source)}/'
              f'{{{",".join(files)}}}.txt')
    return results


if __name__ == '__main__':
    main()
