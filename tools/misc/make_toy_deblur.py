"""Write toy deblurring data (clean scenes, motion kernels, Levin layout).

Example::

    python tools/misc/make_toy_deblur.py data/toy_deblur
    # toy deraining / dehazing data (Rain100 and SOTS test layouts)
    python tools/misc/make_toy_deblur.py data/toy_restoration --derain-dehaze

See :mod:`mmfusenas.testing.toy_data.deblur` for the layouts.
"""
import argparse
from typing import List, Optional

from mmfusenas.testing.toy_data.deblur import (generate_toy_deblur,
                                               generate_toy_restoration)


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('out_dir', help='output folder')
    p.add_argument('--num-train', type=int, default=8,
                   help='clean training images (default: 8)')
    p.add_argument('--num-test', type=int, default=2,
                   help='test images, each blurred by every kernel '
                   '(default: 2)')
    p.add_argument('--num-kernels', type=int, default=4,
                   help='motion-blur kernels (default: 4)')
    p.add_argument('--size', type=int, default=96,
                   help='training image side (default: 96)')
    p.add_argument('--test-size', type=int, default=64,
                   help='test image side (default: 64)')
    p.add_argument('--kernel-size', type=int, default=9,
                   help='kernel side (default: 9)')
    p.add_argument('--noise-sigma', type=float, default=0.01,
                   help='noise of the stored blurred images (default: 0.01)')
    p.add_argument('--seed', type=int, default=0, help='seed (default: 0)')
    p.add_argument('--derain-dehaze', action='store_true',
                   help='write the toy deraining / dehazing data instead '
                   '(uses --num-train, --num-test, --test-size, --seed)')
    return p.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> None:
    a = parse_args(argv)
    if a.derain_dehaze:
        generate_toy_restoration(a.out_dir, a.num_train, a.num_test,
                                 a.test_size, a.seed)
        print(f'toy deraining / dehazing data written to {a.out_dir}')
        return
    generate_toy_deblur(a.out_dir, a.num_train, a.num_test, a.num_kernels,
                        a.size, a.test_size, a.kernel_size, a.noise_sigma,
                        a.seed)
    print(f'toy deblurring data written to {a.out_dir}')


if __name__ == '__main__':
    main()
