"""Write toy haze or underwater pairs (HBL tasks SIHR / UIE).

Examples::

    python tools/misc/make_toy_restoration.py haze data/toy_haze
    python tools/misc/make_toy_restoration.py underwater data/toy_underwater \
        --num-train 16 --num-val 4 --size 64 --source auto

Layouts: ``{train,val}/{hazy,clear}`` and ``{train,val}/{raw,reference}``.
See :mod:`mmfusenas.testing.toy_data.restoration` for the physical models.
"""
import argparse
from typing import List, Optional

from mmfusenas.testing.toy_data.restoration import (SOURCES, generate_toy_haze,
                                                    generate_toy_underwater)


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('kind', choices=['haze', 'underwater'])
    p.add_argument('out_dir', help='output folder')
    p.add_argument('--num-train', type=int, default=16)
    p.add_argument('--num-val', type=int, default=4)
    p.add_argument('--size', type=int, default=64)
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--source', choices=SOURCES, default='auto',
                   help="'rgbd': real RGB-D pairs of ../shared/data/gisr/"
                   "RGBDD_subset40, 'toy': procedural scenes, 'auto': real "
                   'when present')
    p.add_argument('--rgbd-root', default=None,
                   help='RGB-D folder (RGB/, Depth/)')
    return p.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> None:
    args = parse_args(argv)
    fn = generate_toy_haze if args.kind == 'haze' else generate_toy_underwater
    info = fn(args.out_dir, args.num_train, args.num_val, args.seed,
              args.size, args.source, args.rgbd_root)
    print(f"wrote {info['num_train']} train + {info['num_val']} val "
          f"{args.kind} pairs ({info['source']} source) to {args.out_dir}")


if __name__ == '__main__':
    main()
