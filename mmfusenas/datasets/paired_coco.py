"""Paired detection folders read as COCO: pairs the image folders by stem,
checks the sizes of a pair and reads its boxes from YOLO, VOC or COCO
labels (:func:`read_boxes`), then builds the COCO dict (:func:`to_coco`).

Used by ``tools/dataset_converters/paired_to_coco.py``, whose options the
arguments of :func:`read_boxes` follow, and by
``tools/analysis_tools/task_protocol.py``; guide:
``docs/user_guides/det_seg_datasets.md``.
"""
import io
import json
import math
import os
import os.path as osp
import xml.etree.ElementTree as ET
from collections import Counter, OrderedDict
from typing import Dict, List, Optional, Sequence, Tuple

from .paired_det_dataset import check_coco
from .paired_image_dataset import IMG_SUFFIXES, image_size, listing

FORMATS = ('yolo', 'voc', 'coco')
#: the default label folder of a format under the data root
LABEL_DIRS = dict(yolo='labels', voc='Annotations')
SUFFIX = dict(yolo='.txt', voc='.xml')
OWNER = 'paired_to_coco'


def image_pairs(root: str, img_dirs: Sequence[str]) -> 'OrderedDict':
    """``stem -> file name`` of the stems with one image of that name in
    every folder, sorted; anything else is an error naming the files."""
    found = {}
    for sub in img_dirs:
        folder = osp.join(root, sub)
        if not osp.isdir(folder):
            raise FileNotFoundError(f'{folder}: image folder not found')
        files: Dict[str, str] = {}
        for name in sorted(os.listdir(folder)):
            stem, ext = osp.splitext(name)
            if ext.lower() in IMG_SUFFIXES and not name.startswith('.'):
                if stem in files:
                    raise ValueError(f'{folder}: {files[stem]} and {name} '
                                     'share one stem')
                files[stem] = name
        found[sub] = files
    stems = sorted(set().union(*found.values()))
    bad = [
        f'{s!r}: ' + ', '.join(f'{d}/{found[d].get(s, "-")}'
                               for d in img_dirs) for s in stems
        if len({found[d].get(s) for d in img_dirs}) > 1
    ]
    if bad:
        raise ValueError(
            f'{root}: {len(bad)} stem(s) lack an image of the same file name '
            f'in every folder of {list(img_dirs)} (PairedDetDataset reads '
            'one file_name in each):\n' + listing(bad))
    if not stems:
        raise ValueError(f'{root}: no image in {list(img_dirs)} (none of '
                         f'{", ".join(IMG_SUFFIXES)}); nothing to convert')
    return OrderedDict((s, found[img_dirs[0]][s]) for s in stems)


def read_lines(path: str) -> List[Tuple[int, str]]:
    """``(line number, stripped text)`` of the non-blank lines."""
    with open(path, 'rb') as f:
        data = f.read()
    try:
        text = io.StringIO(data.decode('utf-8'), newline=None)
    except UnicodeDecodeError as err:
        line = data.count(b'\n', 0, err.start) + 1
        raise ValueError(f'{path}:{line}: not UTF-8 text (byte '
                         f'0x{data[err.start]:02x} at offset {err.start}: '
                         f'{err.reason})') from None
    return [(n, t.strip()) for n, t in enumerate(text, 1) if t.strip()]


def read_split(path: str) -> List[str]:
    """The stems of a split file (``#`` lines are comments)."""
    stems = [t for _, t in read_lines(path) if not t.startswith('#')]
    repeated = sorted(s for s, n in Counter(stems).items() if n > 1)
    if repeated or not stems:
        raise ValueError(f'{path}: lists no stem or some twice: {repeated}')
    return stems


def read_classes_file(path: str) -> List[str]:
    """Class names, one per line (``name`` or ``index name``)."""
    names: Dict[str, int] = {}
    for lineno, line in read_lines(path):
        tokens = line.split(maxsplit=1)
        if len(tokens) == 2 and tokens[0].isdigit():
            if int(tokens[0]) != len(names):
                raise ValueError(f'{path}:{lineno}: class index {tokens[0]} '
                                 f'out of order; expected {len(names)}')
            line = tokens[1].strip()
        if line in names:
            raise ValueError(f'{path}:{lineno}: class {line!r} repeats line '
                             f'{names[line]}')
        names[line] = lineno
    if not names:
        raise ValueError(f'{path}: lists no class')
    return list(names)


def _number(text, where: str) -> float:
    try:
        value = float(text)
    except (TypeError, ValueError):
        value = math.nan
    if not math.isfinite(value):
        raise ValueError(f'{where}: expected a finite number, got {text!r}')
    return value


def parse_yolo(path: str, width: int, height: int, num_classes: int,
               source: str) -> list:
    """``(class index, [x1, y1, x2, y2], ignore, where)`` per line."""
    boxes = []
    for lineno, line in read_lines(path):
        where, fields = f'{path}:{lineno}', line.split()
        if len(fields) != 5:
            raise ValueError(f'{where}: expected 5 fields "class cx cy w h", '
                             f'got {len(fields)}: {line!r}')
        try:
            cls, cx, cy, w, h = map(float, fields)
        except ValueError:
            raise ValueError(f'{where}: non-numeric field in {line!r}') \
                from None
        if not cls.is_integer() or not 0 <= cls < num_classes:
            raise ValueError(f'{where}: class index {fields[0]} out of range '
                             f'[0, {num_classes}) of the classes of {source}')
        if not all(0 <= v <= 1 for v in (cx, cy, w, h)):
            raise ValueError(f'{where}: coordinates {fields[1:]} are not '
                             'normalised to [0, 1]; expected YOLO "class cx '
                             'cy w h" relative to the image size')
        boxes.append((int(cls), [(cx - w / 2) * width, (cy - h / 2) * height,
                                 (cx + w / 2) * width,
                                 (cy + h / 2) * height], 0, where))
    return boxes


def parse_voc(path: str, width: int, height: int, minus_one: bool) -> list:
    """``(name, [x1, y1, x2, y2], difficult, where)`` per ``<object>``."""
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as err:
        raise ValueError(f'{path}: malformed VOC xml (line '
                         f'{err.position[0]}, column {err.position[1]}): '
                         f'{err}') from None
    size = [(root.findtext(f'size/{k}') or '0').strip()
            for k in ('width', 'height')]
    if size != ['0', '0'] and size != [str(width), str(height)]:
        raise ValueError(f'{path}: <size> is {"x".join(size)} but the image '
                         f'is {width}x{height} (width x height)')
    boxes = []
    for k, obj in enumerate(root.findall('object')):
        where = f'{path} <object> #{k}'
        name = (obj.findtext('name') or '').strip()
        if not name or obj.find('bndbox') is None:
            raise ValueError(f'{where} ({name!r}) needs <name> and <bndbox>')
        box = [_number(obj.findtext(f'bndbox/{t}'), f'{where} <{t}>') -
               (1.0 if minus_one else 0.0)
               for t in ('xmin', 'ymin', 'xmax', 'ymax')]
        difficult = _number(obj.findtext('difficult', '0'), where)
        boxes.append((name, box, int(difficult != 0), where))
    return boxes


def read_coco(path: str, ignore_cats: Sequence[int]):
    """Categories and ``stem -> (image, boxes)`` of a COCO json (boxes as
    ``(category id, [x1, y1, x2, y2], ignore, where)``)."""
    try:
        with open(path, encoding='utf-8') as f:
            data = json.load(f)
        check_coco(data, path)
    except json.JSONDecodeError as err:
        raise ValueError(f'{path}: not valid JSON ({err})') from None
    except UnicodeDecodeError as err:
        raise ValueError(f'{path}: not UTF-8 text ({err})') from None
    records: Dict[str, tuple] = {}
    by_id = {}
    for img in data['images']:
        stem = osp.splitext(osp.basename(img['file_name']))[0]
        if stem in records:
            raise ValueError(f'{path}: images {records[stem][0]["id"]} and '
                             f'{img["id"]} share the stem {stem!r}')
        records[stem] = by_id[img['id']] = (img, [])
    for i, ann in enumerate(data['annotations']):
        x, y, w, h = ann['bbox']
        ignore = ann.get('iscrowd') or ann.get('ignore') or \
            ann['category_id'] in ignore_cats
        by_id[ann['image_id']][1].append(
            (ann['category_id'], [x, y, x + w, y + h], int(bool(ignore)),
             f'{path} annotations[{i}] (id={ann["id"]})'))
    return {c['id']: c['name'] for c in data['categories']}, records


def label_map(fmt: str,
              root: str,
              labels: str,
              classes: Optional[Sequence[str]] = None,
              classes_file: Optional[str] = None,
              cat_map: Sequence[str] = (),
              cats: Optional[dict] = None) -> Tuple[dict, list, str]:
    """``key -> label`` (None: another class), the classes and their
    source for the boxes of the format ``fmt``: YOLO class index, VOC name
    or COCO category id (``cats``: id -> name); the other arguments as in
    :func:`read_boxes`."""
    if fmt == 'voc':
        if not classes:
            raise ValueError('voc needs --classes (the <name>s to keep, in '
                             'label order)')
        return {n: i for i, n in enumerate(classes)}, classes, '--classes'
    if fmt == 'yolo':
        source = classes_file and osp.join(root, classes_file)
        if source and not osp.isfile(source):
            raise FileNotFoundError(f'--classes-file {source} not found')
        source = source or next(
            (p for p in (osp.join(root, labels, 'classes.txt'),
                         osp.join(root, 'classes.txt')) if osp.isfile(p)),
            None)
        names = read_classes_file(source) if source else None
        if not names and not classes:
            raise ValueError('yolo needs the class names: --classes, or a '
                             f'classes.txt in {labels} or {root}')
        if not names or not classes:
            keys = names or classes
            return {i: i for i in range(len(keys))}, keys, source or \
                '--classes'
        absent = [c for c in classes if c not in names]
        if absent:
            raise ValueError(f'--classes {absent} are not in {source} '
                             f'(its classes: {names})')
        return ({i: classes.index(n) if n in classes else None
                 for i, n in enumerate(names)}, classes, source)
    if cat_map:
        items = [item.partition('=') for item in cat_map]
        bad = [''.join(i) for i in items
               if not (i[0].isdigit() and i[2] and int(i[0]) in cats)]
        if bad:
            raise ValueError(f'--cat-map {bad} are not ID=NAME of the '
                             f'categories of the json {cats}')
        classes = classes or list(OrderedDict.fromkeys(n for *_, n in items))
        unknown = [n for *_, n in items if n not in classes]
        if unknown:
            raise ValueError(f'--cat-map names {unknown}, not in --classes')
        return ({int(i): classes.index(n) for i, _, n in items}, classes,
                '--cat-map')
    if not classes:
        return ({c: i for i, c in enumerate(sorted(cats))},
                [cats[c] for c in sorted(cats)], 'the json')
    key2label = {}
    for label, name in enumerate(classes):
        ids = [c for c, n in cats.items() if n == name]
        if len(ids) != 1:
            raise ValueError(f'class {name!r} names {len(ids)} categories of '
                             f'the json {cats}; give --cat-map')
        key2label[ids[0]] = label
    return key2label, classes, '--classes'


def read_boxes(fmt: str,
               data_root: str,
               labels: str,
               split: Optional[str] = None,
               img_dirs: Sequence[str] = ('ir', 'vi'),
               classes: Optional[Sequence[str]] = None,
               classes_file: Optional[str] = None,
               missing_labels: str = 'error',
               orphan_labels: str = 'error',
               voc_keep_coords: bool = False,
               cat_map: Sequence[str] = (),
               ignore_cats: Sequence[int] = ()):
    """The samples of ``split`` (a stem file; None: every pair) with their
    boxes in pixels.

    Args:
        fmt (str): the label format, one of :data:`FORMATS`.
        data_root (str): the paired folder.
        labels (str): under ``data_root``: the folder of ``<stem>.txt``
            (yolo) or ``<stem>.xml`` (voc), the json (coco).
        split (str, optional): a file of stems, one per line.
        img_dirs (Sequence[str]): image folders under ``data_root``, one
            per modality.
        classes (Sequence[str], optional): class names in label order
            (yolo: matched by name to the classes file; voc: required;
            coco: the categories by name, default all in id order).
        classes_file (str, optional): yolo: the class names under
            ``data_root`` (default ``labels/classes.txt``, else
            ``classes.txt``).
        missing_labels (str): a pair without labels: ``'error'``,
            ``'empty'`` (no boxes) or ``'skip'`` (left out).
        orphan_labels (str): labels without image pair: ``'error'`` or
            ``'ignore'``.
        voc_keep_coords (bool): voc: keep the coordinates (default: minus
            1, as mmdet's VOCDataset).
        cat_map (Sequence[str]): coco: ``'ID=NAME'`` items mapping category
            ids to class names; other categories left out.
        ignore_cats (Sequence[int]): coco: categories whose boxes are
            ignored (``ignore_flag`` 1).

    Returns:
        tuple: the samples (``stem``, ``file_name``, ``img_path`` (folder
        -> path), ``width``, ``height``, ``instances``: ``bbox`` [x1, y1,
        x2, y2], ``bbox_label``, ``ignore_flag``), the classes and the
        statistics (``num_boxes``, ``num_ignored``, ``unmapped`` (what ->
        count), ``clipped`` / ``degenerate`` / ``missing`` / ``orphans``
        (lists)).
    """
    root = data_root
    pairs = image_pairs(root, img_dirs)
    label_path = osp.join(root, labels)
    cats = None
    if fmt == 'coco':
        cats, records = read_coco(label_path, ignore_cats)
    else:
        if not osp.isdir(label_path):
            raise FileNotFoundError(f'{label_path}: label folder not found')
        records = {
            osp.splitext(n)[0]: osp.join(label_path, n)
            for n in sorted(os.listdir(label_path))
            if n.lower().endswith(SUFFIX[fmt]) and n != 'classes.txt'
        }
    key2label, classes, source = label_map(
        fmt, root, labels, classes, classes_file, cat_map, cats)
    what = dict(yolo='class index {}', voc='name {!r}',
                coco='category {}')[fmt]
    bad_ignore = [c for c in ignore_cats if key2label.get(c) is None]
    if bad_ignore:
        raise ValueError(f'--ignore-cats {bad_ignore} map to no class')
    stems = sorted(read_split(split)) if split else list(pairs)
    unknown = [s for s in stems if s not in pairs]
    if unknown:
        raise ValueError(f'{split}: {len(unknown)} stem(s) have no image pair '
                         f'in {root} {img_dirs}: {unknown[:20]}')
    stats = dict(
        unmapped=Counter(), clipped=[], degenerate=[], num_boxes=0,
        num_ignored=0, orphans=sorted(set(records) - set(pairs)),
        missing=[s for s in stems if s not in records])
    where = f'{label_path} ({fmt})'
    if stats['orphans'] and orphan_labels == 'error':
        raise ValueError(
            f'{where}: labels of {len(stats["orphans"])} stem(s) without '
            f'image pair in {root} {img_dirs} (--orphan-labels ignore '
            'leaves them unused):\n' + listing(stats['orphans']))
    if stats['missing'] and missing_labels == 'error':
        raise ValueError(
            f'{where}: no labels for {len(stats["missing"])} pair(s) '
            '(--missing-labels empty keeps them without boxes, skip leaves '
            'them out):\n' + listing(stats['missing']))
    samples, mismatched = [], []
    for stem in stems:
        if stem not in records and missing_labels == 'skip':
            continue
        name = pairs[stem]
        paths = {d: osp.join(root, d, name) for d in img_dirs}
        sizes = {d: image_size(p, OWNER) for d, p in paths.items()}
        if len(set(sizes.values())) > 1:
            mismatched.append(f'{stem!r}: ' + ', '.join(
                f'{d}={h}x{w} ({paths[d]})' for d, (w, h) in sizes.items()))
            continue
        width, height = sizes[img_dirs[0]]
        boxes = []
        if fmt == 'yolo' and stem in records:
            boxes = parse_yolo(records[stem], width, height, len(key2label),
                               source)
        elif fmt == 'voc' and stem in records:
            boxes = parse_voc(records[stem], width, height,
                              not voc_keep_coords)
        elif stem in records:
            img, boxes = records[stem]
            if (img['width'], img['height']) != (width, height):
                raise ValueError(
                    f'{label_path} image id={img["id"]} is {img["width"]}x'
                    f'{img["height"]} but {paths[img_dirs[0]]} is '
                    f'{width}x{height} (width x height)')
        instances = []
        for key, box, ignore, at in boxes:
            inside = [max(box[0], 0), max(box[1], 0), min(box[2], width),
                      min(box[3], height)]
            if key2label.get(key) is None:
                stats['unmapped'][what.format(key) + (
                    f' ({cats[key]!r})' if cats else '')] += 1
            elif inside[2] <= inside[0] or inside[3] <= inside[1]:
                stats['degenerate'].append(f'{at}: {box}')
            else:
                if inside != box:
                    stats['clipped'].append(f'{at}: {box} -> {inside}')
                instances.append(dict(bbox=inside, bbox_label=key2label[key],
                                      ignore_flag=ignore))
                stats['num_ignored'] += ignore
        stats['num_boxes'] += len(instances)
        samples.append(dict(stem=stem, file_name=name, img_path=paths,
                            width=width, height=height, instances=instances))
    if mismatched:
        raise ValueError(f'{len(mismatched)} pair(s) of {root} have images '
                         'of different sizes (HxW):\n' + listing(mismatched))
    if not samples:
        raise ValueError(f'{where}: none of the {len(stems)} pair(s) has '
                         'labels (--missing-labels skip left them all out)')
    return samples, list(classes), stats


def to_coco(samples: Sequence[dict], classes: Sequence[str]) -> dict:
    """The COCO dict of ``samples`` (:func:`read_boxes`): image and
    annotation ids from 1, ``category_id = label + 1``, ``iscrowd`` = the
    ignore flag."""
    images, anns = [], []
    for img_id, sample in enumerate(samples, 1):
        images.append(dict(id=img_id, file_name=sample['file_name'],
                           width=sample['width'], height=sample['height']))
        for inst in sample['instances']:
            x1, y1, x2, y2 = (float(v) for v in inst['bbox'])
            anns.append(dict(
                id=len(anns) + 1, image_id=img_id,
                category_id=inst['bbox_label'] + 1,
                bbox=[x1, y1, x2 - x1, y2 - y1], area=(x2 - x1) * (y2 - y1),
                iscrowd=inst['ignore_flag']))
    return dict(images=images, annotations=anns,
                categories=[dict(id=i + 1, name=n)
                            for i, n in enumerate(classes)])
