"""Write procedural RGB-D pairs for guided depth SR (``{train,val,test}``).

Example::

    python tools/misc/make_toy_rgbd.py data/toy_rgbd --num-train 24 \
        --num-val 4 --num-test 4 --num-search-val 32 --size 64 --seed 0

See :mod:`mmfusenas.testing.toy_data.rgbd` for the scene model.
"""
import argparse
from typing import List, Optional

from mmfusenas.testing.toy_data.rgbd import generate_toy_rgbd


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('out_dir', help='output folder')
    p.add_argument('--num-train', type=int, default=24,
                   help='training pairs (default: 24)')
    p.add_argument('--num-val', type=int, default=4,
                   help='validation pairs (default: 4)')
    p.add_argument('--num-test', type=int, default=4,
                   help='test pairs (default: 4)')
    p.add_argument('--num-search-val', type=int, default=32,
                   help='pairs of the search_val split that one-shot '
                   'searches score candidates on (default: 32; drawn after '
                   'the other splits, which it never changes)')
    p.add_argument('--size', type=int, default=64,
                   help='image side, a multiple of 32 (default: 64)')
    p.add_argument('--seed', type=int, default=0, help='seed (default: 0)')
    return p.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> None:
    args = parse_args(argv)
    info = generate_toy_rgbd(args.out_dir, args.num_train, args.num_val,
                             args.num_test, args.seed, args.size,
                             args.num_search_val)
    print(f'wrote {info} to {args.out_dir}')


if __name__ == '__main__':
    main()
