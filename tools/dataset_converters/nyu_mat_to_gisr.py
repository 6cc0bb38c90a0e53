"""Convert the official NYU Depth v2 labelled ``.mat`` to the GISR layout.

``python tools/dataset_converters/nyu_mat_to_gisr.py
nyu_depth_v2_labeled.mat data/nyu_v2 [--rgb-ext png] [--num-train 1000]``

``nyu_depth_v2_labeled.mat`` (MATLAB v7.3 = HDF5; from the NYU Depth v2
site) holds ``images`` (h5py shape ``(1449, 3, 640, 480)``: MATLAB's
column-major ``480 x 640 x 3 x 1449`` seen transposed) and ``depths``
(``(1449, 640, 480)``, metres). Written::

    data/nyu_v2/RGB/<i>.png      (480 x 640 RGB; --rgb-ext jpg for JPEG q95)
    data/nyu_v2/Depth/<i>.npy    (480 x 640 float32, metres)
    data/nyu_v2/train.txt        ids 0 .. num_train-1   (standard: 1000)
    data/nyu_v2/test.txt         ids num_train .. N-1   (standard: 449)
    data/nyu_v2/search_val.txt   the last tenth of the training ids: what an
                                 architecture search scores candidates on

the standard guided-SR split (DKN / FDSR / DCNAS: the first 1000 images
train, the last 449 test). Needs ``h5py`` (``pip install h5py``).
"""
import argparse
import os
import os.path as osp
from typing import List, Optional

import cv2
import numpy as np


from mmfusenas.utils.fileio import atomic_write  # noqa: E402
from mmfusenas.utils.progress import track  # noqa: E402


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('mat', help='nyu_depth_v2_labeled.mat')
    p.add_argument('out_dir', help='output folder')
    p.add_argument('--num-train', type=int, default=1000,
                   help='first N images form the training split (1000)')
    p.add_argument('--rgb-ext', choices=('png', 'jpg'), default='png')
    p.add_argument('--limit', type=int, default=None,
                   help='convert only the first N images (debugging)')
    return p.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> dict:
    args = parse_args(argv)
    try:
        import h5py
    except ImportError as err:
        raise ImportError('reading the NYU .mat (HDF5) needs h5py: pip '
                          'install h5py') from err
    if not osp.isfile(args.mat):
        raise FileNotFoundError(f'{args.mat} not found (download '
                                'nyu_depth_v2_labeled.mat from the NYU Depth '
                                'v2 site)')
    try:
        f = h5py.File(args.mat, 'r')
    except OSError as err:
        raise OSError(f'{args.mat}: cannot be opened as a MATLAB v7.3 (HDF5) '
                      f'.mat file ({err})') from err
    with f:
        for key in ('images', 'depths'):
            if key not in f:
                raise KeyError(f'{args.mat} has no {key!r} dataset; keys: '
                               f'{sorted(f.keys())}')
        images, depths = f['images'], f['depths']
        n = images.shape[0]
        if images.ndim != 4 or images.shape[1] != 3 or \
                depths.shape != (n, ) + images.shape[2:]:
            raise ValueError(f'unexpected shapes images {images.shape}, '
                             f'depths {depths.shape} (expected (N, 3, W, H) '
                             'and (N, W, H))')
        if args.limit is not None:
            n = min(n, args.limit)
        # check every depth map first: a bad one must not leave a
        # half-written dataset
        for i in track(range(n), f'checking {n} NYU v2 depth map(s)'):
            if not np.isfinite(np.asarray(depths[i], np.float32)).all():
                raise ValueError(f'{args.mat}: depth map {i} has non-finite '
                                 'values; nothing was written')
        os.makedirs(osp.join(args.out_dir, 'RGB'), exist_ok=True)
        os.makedirs(osp.join(args.out_dir, 'Depth'), exist_ok=True)
        for i in track(range(n), f'converting {n} NYU v2 pair(s)'):
            rgb = np.ascontiguousarray(
                np.asarray(images[i]).transpose(2, 1, 0))
            depth = np.ascontiguousarray(
                np.asarray(depths[i], np.float32).T)
            params = [cv2.IMWRITE_JPEG_QUALITY, 95] \
                if args.rgb_ext == 'jpg' else []
            ok, enc = cv2.imencode(f'.{args.rgb_ext}',
                                   cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR),
                                   params)
            if not ok:
                raise OSError(f'cannot encode image {i}')
            atomic_write(enc.tobytes(),
                         osp.join(args.out_dir, 'RGB', f'{i}.{args.rgb_ext}'))
            import io
            buf = io.BytesIO()
            np.save(buf, depth)
            atomic_write(buf.getvalue(),
                         osp.join(args.out_dir, 'Depth', f'{i}.npy'))
    train = [str(i) for i in range(min(args.num_train, n))]
    test = [str(i) for i in range(min(args.num_train, n), n)]
    atomic_write('\n'.join(train) + '\n', osp.join(args.out_dir, 'train.txt'))
    atomic_write('\n'.join(test) + '\n', osp.join(args.out_dir, 'test.txt'))
    # a held-out tenth of the training ids scores the candidates of an
    # architecture search (the evolution), never the test ids; the supernet
    # trains on the rest
    num_search_val = len(train) // 10
    if num_search_val:
        for name, ids in (('search_train', train[:-num_search_val]),
                          ('search_val', train[-num_search_val:])):
            atomic_write('\n'.join(ids) + '\n',
                         osp.join(args.out_dir, f'{name}.txt'))
    print(f'wrote {n} pairs ({len(train)} train / {len(test)} test) to '
          f'{args.out_dir}')
    return dict(total=n, train=len(train), test=len(test))


if __name__ == '__main__':
    main()
