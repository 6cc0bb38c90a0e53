"""Write the COCO json of a paired detection folder from YOLO, VOC or COCO.

:class:`~mmfusenas.datasets.PairedDetDataset` reads one COCO json per split.
This tool pairs the image folders (``--img-dirs``) by stem, checks that the
images of a pair have one size, reads the boxes (YOLO ``<stem>.txt`` +
``classes.txt``, VOC ``<stem>.xml`` or a COCO json with its own categories,
e.g. KAIST) and writes that json, one per ``--split`` file; the data folder
is only read. Malformed labels, class indices out of range, missing or
orphan label files are errors naming the file and line (YOLO), object (VOC)
or record (COCO); boxes partly outside the image are clipped, empty ones
and those of other classes left out, each listed in a warning. The commands
for MSRS_det, LLVIP and KAIST: ``docs/user_guides/det_seg_datasets.md``.
The reading and checking live in :mod:`mmfusenas.datasets.paired_coco`.
"""
import argparse
import json
import os.path as osp
from collections import Counter
from typing import Dict, List, Optional

from mmfusenas.datasets.paired_coco import (FORMATS, LABEL_DIRS, read_boxes,
                                            to_coco)
from mmfusenas.datasets.paired_image_dataset import listing
from mmfusenas.utils.fileio import atomic_write


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Write the COCO json of a paired detection folder')
    parser.add_argument('format', choices=FORMATS, help='the label format')
    parser.add_argument('data_root', help='the paired folder (read only)')
    parser.add_argument(
        'out', help='the json to write; with several --split files it holds '
        '{split}, replaced by each split file name without extension')
    parser.add_argument(
        '--labels', help='under DATA_ROOT: the folder of <stem>.txt (yolo, '
        'default labels) or <stem>.xml (voc, default Annotations), the json '
        '(coco)')
    parser.add_argument('--img-dirs', nargs='+', default=['ir', 'vi'],
                        help='image folders under DATA_ROOT, one per '
                        'modality (default ir vi)')
    parser.add_argument(
        '--classes', nargs='+', help='class names in label order (yolo: '
        'classes.txt, matched by name when both; voc: required; coco: the '
        'json categories by name, default all in id order)')
    parser.add_argument(
        '--classes-file', help='yolo: one name (or "index name") per line '
        '(default LABELS/classes.txt, else DATA_ROOT/classes.txt)')
    parser.add_argument('--split', nargs='+', default=[],
                        help='stem files (one per line, # comments); one '
                        'json each (default: all pairs)')
    parser.add_argument(
        '--missing-labels', choices=('error', 'empty', 'skip'),
        default='error', help='a pair without labels: refused (default), '
        'kept without boxes, or left out')
    parser.add_argument(
        '--orphan-labels', choices=('error', 'ignore'), default='error',
        help='labels of a stem without image pair: refused (default) or '
        'not used (a label folder shared by several image folders)')
    parser.add_argument(
        '--voc-keep-coords', action='store_true',
        help='voc: keep the coordinates (default: minus 1, as mmdet\'s '
        'VOCDataset)')
    parser.add_argument('--cat-map', nargs='+', default=[],
                        metavar='ID=NAME', help='coco: category id -> class '
                        'name (several ids may share one); others left out')
    parser.add_argument('--ignore-cats', nargs='+', type=int, default=[],
                        metavar='ID', help='coco: categories whose boxes '
                        'get iscrowd=1 (ignored by training and metric)')
    args = parser.parse_args(argv)
    if len(args.split) > 1 and '{split}' not in args.out:
        parser.error('several --split files need {split} in OUT')
    args.labels = args.labels or LABEL_DIRS.get(args.format)
    if not args.labels:
        parser.error('coco needs --labels, the json under DATA_ROOT')
    return args


def report(stats: dict, what: str) -> None:
    """Print the warnings of :func:`read_boxes`."""
    for key, text in (
            ('clipped', 'box(es) partly outside the image clipped to it'),
            ('degenerate', 'box(es) empty or outside the image left out'),
            ('missing', 'pair(s) without labels (--missing-labels)'),
            ('orphans', 'label(s) without image pair left unused')):
        if stats[key]:
            print(f'warning: {what}: {len(stats[key])} {text}:\n' +
                  listing(stats[key]))
    if stats['unmapped']:
        print(f'warning: {what}: boxes of other classes left out: '
              f'{dict(stats["unmapped"])}')


def main(argv: Optional[List[str]] = None) -> Dict[str, dict]:
    args = parse_args(argv)
    written = {}
    for split in args.split or [None]:
        samples, classes, stats = read_boxes(
            args.format, args.data_root, args.labels, split,
            img_dirs=args.img_dirs, classes=args.classes,
            classes_file=args.classes_file,
            missing_labels=args.missing_labels,
            orphan_labels=args.orphan_labels,
            voc_keep_coords=args.voc_keep_coords, cat_map=args.cat_map,
            ignore_cats=args.ignore_cats)
        name = osp.splitext(osp.basename(split))[0] if split else 'all'
        out = args.out.replace('{split}', name)
        report(stats, out)
        coco = to_coco(samples, classes)
        atomic_write(json.dumps(coco) + '\n', out)
        counts = Counter(classes[a['category_id'] - 1]
                         for a in coco['annotations'])
        print(f'{out}: {len(samples)} images, {stats["num_boxes"]} boxes '
              f'({stats["num_ignored"]} ignored; ' +
              ', '.join(f'{c} {counts[c]}' for c in classes) + ')')
        written[out] = coco
    return written


if __name__ == '__main__':
    main()
