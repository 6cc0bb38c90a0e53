"""Write darkened toy scenes with boxes / label maps in a real low-light
layout: ExDark (VOC xml), DARK FACE (txt), ACDC or Cityscapes (train ids).

Example::

    python tools/misc/make_toy_lowlight_tasks.py data/toy_exdark \
        --task exdark --num-train 16 --num-val 4 --size 128 --seed 0

See :mod:`mmfusenas.testing.toy_data.lowlight_tasks` for the layouts and the
class mappings, :mod:`mmfusenas.testing.toy_data.lowlight` for the darkening.
"""
import argparse
from typing import List, Optional

from mmfusenas.testing.toy_data.lowlight_tasks import (
    TASKS, generate_toy_lowlight_task)


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('out_dir', help='output folder')
    p.add_argument('--task', choices=TASKS, required=True,
                   help='layout to write')
    p.add_argument('--num-train', type=int, default=16,
                   help='training images (default: 16)')
    p.add_argument('--num-val', type=int, default=4,
                   help='validation images (default: 4)')
    p.add_argument('--size', type=int, default=128,
                   help='image side, 64-2048 (default: 128)')
    p.add_argument('--seed', type=int, default=0, help='seed (default: 0)')
    p.add_argument('--min-objects', type=int, default=2,
                   help='fewest objects per image (default: 2)')
    p.add_argument('--max-objects', type=int, default=8,
                   help='most objects per image (default: 8)')
    p.add_argument('--no-normal', action='store_true',
                   help='do not write the normal-light images')
    p.add_argument('--gain', type=float, nargs=2, default=(0.05, 0.2),
                   metavar=('LOW', 'HIGH'),
                   help='exposure gain range (default: 0.05 0.2)')
    p.add_argument('--gamma', type=float, default=1.2,
                   help='gamma of the darkening (default: 1.2)')
    p.add_argument('--shot-noise', type=float, default=0.02,
                   help='shot-noise factor (default: 0.02)')
    p.add_argument('--read-noise', type=float, default=0.005,
                   help='read-noise std (default: 0.005)')
    p.add_argument('--overwrite', action='store_true',
                   help='replace a non-empty folder that is not a toy set')
    return p.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> dict:
    args = parse_args(argv)
    info = generate_toy_lowlight_task(
        args.task,
        args.out_dir,
        num_train=args.num_train,
        num_val=args.num_val,
        size=args.size,
        seed=args.seed,
        min_objects=args.min_objects,
        max_objects=args.max_objects,
        write_normal=not args.no_normal,
        darken_kwargs=dict(
            gain_range=tuple(args.gain),
            gamma=args.gamma,
            shot_noise=args.shot_noise,
            read_noise=args.read_noise),
        overwrite=args.overwrite)
    print(f'wrote {info}')
    return info


if __name__ == '__main__':
    main()
