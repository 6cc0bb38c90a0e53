"""Write darkened toy scenes in the LOL layout (``{train,val}/{low,high}``).

Example::

    python tools/misc/make_toy_lowlight.py data/toy_lowlight --num-train 16 \
        --num-val 4 --size 64 --seed 0

See :mod:`mmfusenas.testing.toy_data.lowlight` for the darkening model.
"""
import argparse
from typing import List, Optional

from mmfusenas.testing.toy_data.lowlight import generate_toy_lowlight


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('out_dir', help='output folder')
    p.add_argument('--num-train', type=int, default=16,
                   help='training pairs (default: 16)')
    p.add_argument('--num-val', type=int, default=4,
                   help='validation pairs (default: 4)')
    p.add_argument('--size', type=int, default=64,
                   help='image side, 64-2048 (default: 64)')
    p.add_argument('--seed', type=int, default=0, help='seed (default: 0)')
    p.add_argument('--gain', type=float, nargs=2, default=(0.05, 0.2),
                   metavar=('LOW', 'HIGH'),
                   help='exposure gain range (default: 0.05 0.2)')
    p.add_argument('--gamma', type=float, default=1.2,
                   help='gamma of the darkening (default: 1.2)')
    p.add_argument('--shot-noise', type=float, default=0.02,
                   help='shot-noise factor (default: 0.02)')
    p.add_argument('--read-noise', type=float, default=0.005,
                   help='read-noise std (default: 0.005)')
    return p.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> None:
    args = parse_args(argv)
    info = generate_toy_lowlight(
        args.out_dir, args.num_train, args.num_val, args.seed, args.size,
        gain_range=tuple(args.gain), gamma=args.gamma,
        shot_noise=args.shot_noise, read_noise=args.read_noise)
    print(f'wrote {info} to {args.out_dir}')


if __name__ == '__main__':
    main()
