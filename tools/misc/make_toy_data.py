"""Write the embedded procedural IR/VIS toy data set.

Example::

    python tools/misc/make_toy_data.py data/toy --num 300 --seed 0

writes ``data/toy/{ir,vi,masks,instance_masks}/NNNNN.png``,
``data/toy/annotations/instances_{train,val}.json`` (COCO),
``data/toy/splits/{train,val}.txt`` and ``data/toy/meta.json``; see
``docs/user_guides/toy_data.md``.
"""
import argparse
import sys
from typing import Dict, List, Optional

from mmfusenas.testing.toy_data.ivif import CLASSES, generate_toy_dataset


def parse_class_weights(text: str) -> Dict[str, float]:
    """``'person=2,car=1'`` -> ``{'person': 2.0, 'car': 1.0}``."""
    weights = {}
    for item in text.split(','):
        name, sep, value = item.partition('=')
        name = name.strip()
        if not sep or name not in CLASSES:
            raise argparse.ArgumentTypeError(
                f'bad class weight {item!r}: expected NAME=WEIGHT with NAME '
                f'in {", ".join(CLASSES)}')
        try:
            weights[name] = float(value)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f'bad class weight {item!r}: {value!r} is not a number')
    return weights


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description='Write the procedural infrared-visible toy data set '
        '(paired IR/VIS PNGs, COCO boxes, semantic and instance masks).')
    p.add_argument('out_dir', metavar='OUT_DIR', help='output directory')
    p.add_argument(
        '--num',
        type=int,
        default=300,
        help='number of image pairs (default: 300)')
    p.add_argument('--seed', type=int, default=0, help='seed (default: 0)')
    p.add_argument(
        '--size',
        type=int,
        default=256,
        help='image side in pixels, 64-2048 (default: 256)')
    p.add_argument(
        '--val-fraction',
        type=float,
        default=0.25,
        help='fraction of images in the val split, [0, 1) '
        '(default: 0.25)')
    p.add_argument(
        '--night-fraction',
        type=float,
        default=0.7,
        help='probability of a low-light scene (default: 0.7)')
    p.add_argument(
        '--min-objects',
        type=int,
        default=2,
        help='fewest objects drawn per image (default: 2)')
    p.add_argument(
        '--max-objects',
        type=int,
        default=8,
        help='most objects drawn per image (default: 8)')
    p.add_argument(
        '--class-weights',
        type=parse_class_weights,
        default=None,
        help='relative class frequencies, e.g. person=2,car=1 '
        '(unlisted classes get 0; default: person=0.35,car=0.25,'
        'bicycle=0.2,cone=0.2)')
    p.add_argument(
        '--clutter',
        type=float,
        default=1.0,
        help='distractor density multiplier (default: 1.0)')
    p.add_argument(
        '--noise',
        type=float,
        default=1.0,
        help='sensor noise multiplier, 0 = none (default: 1.0)')
    p.add_argument(
        '--night-darkness',
        type=float,
        default=1.0,
        help='>= 1: night VIS radiance is divided by it before the sensor '
        'noise (darker, noisier night VIS; default: 1.0)')
    p.add_argument(
        '--occluder-prob',
        type=float,
        default=0.35,
        help='probability of foreground occluders (default: 0.35)')
    p.add_argument(
        '--min-visible-area',
        type=int,
        default=12,
        help='instances with fewer visible pixels are not '
        'annotated and marked 255 in the masks (default: 12)')
    p.add_argument(
        '--layout',
        choices=('toy', 'multispectral'),
        default='toy',
        help="on-disk layout: 'toy' (COCO instances_*.json + masks) or "
        "'multispectral' (the MultiSpectral detection layout: "
        'annotations/{train,test,search_weights,search_arch}.json with its '
        "five classes, see docs/user_guides/toy_data.md; default: 'toy')")
    p.add_argument(
        '--overwrite',
        action='store_true',
        help='replace OUT_DIR even if it is a non-empty directory '
        'that is not a previous toy data set')
    return p.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> dict:
    """Run the CLI; returns the summary of :func:`generate_toy_dataset`."""
    args = parse_args(argv)
    try:
        summary = generate_toy_dataset(
            args.out_dir,
            num=args.num,
            seed=args.seed,
            size=args.size,
            val_fraction=args.val_fraction,
            night_fraction=args.night_fraction,
            min_objects=args.min_objects,
            max_objects=args.max_objects,
            class_weights=args.class_weights,
            clutter=args.clutter,
            noise=args.noise,
            occluder_prob=args.occluder_prob,
            min_visible_area=args.min_visible_area,
            night_darkness=args.night_darkness,
            layout=args.layout,
            overwrite=args.overwrite,
            progress=True)
    except (ValueError, FileExistsError) as err:
        sys.exit(f'make_toy_data.py: error: {err}')
    inst = ', '.join(f'{k} {v}' for k, v in summary['num_instances'].items())
    print(f"wrote {summary['num']} IR/VIS pairs of {summary['size']}x"
          f"{summary['size']} (seed {summary['seed']}) to "
          f"{summary['out_dir']} in {summary['seconds']:.1f} s\n"
          f"  splits: {summary['num_train']} train / {summary['num_val']} val;"
          f" {summary['num_night']} night, "
          f"{summary['num'] - summary['num_night']} day scenes\n"
          f"  instances: {inst}; {summary['num_dropped']} dropped "
          '(fully occluded or below --min-visible-area)\n'
          f"  generator version {summary['version']}")
    return summary


if __name__ == '__main__':
    main()
