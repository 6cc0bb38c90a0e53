"""Low-light detection datasets: ExDark (VOC xml) and DARK FACE (txt)."""
import os.path as osp
import xml.etree.ElementTree as ET
from typing import Dict, List, Optional, Sequence

import numpy as np
from mmdet.datasets import BaseDetDataset, XMLDataset
from mmengine import fileio
from mmengine.logging import MMLogger

from mmfusenas.registry import DATASETS
from .paired_image_dataset import (IMG_SUFFIXES, check_choice, image_size,
                                   list_files, listing)

#: The 12 ExDark classes in the official order, spelt as in the VOC files.
EXDARK_CLASSES = ('Bicycle', 'Boat', 'Bottle', 'Bus', 'Car', 'Cat', 'Chair',
                  'Cup', 'Dog', 'Motorbike', 'People', 'Table')
EXDARK_PALETTE = [(119, 11, 32), (0, 0, 142), (255, 179, 240), (0, 60, 100),
                  (0, 0, 230), (255, 77, 255), (153, 69, 1), (120, 166, 157),
                  (0, 182, 199), (0, 226, 252), (220, 20, 60), (209, 0, 151)]
DARKFACE_CLASSES = ('face', )
FILTER_KEYS = ('filter_empty_gt', 'min_size', 'bbox_min_size')


def _number(text, where: str) -> float:
    """Parse a finite number; ``where`` prefixes the error message."""
    try:
        value = float(text)
    except (TypeError, ValueError):
        value = float('nan')
    if not np.isfinite(value):
        raise ValueError(f'{where}: expected a finite number, got {text!r}.')
    return value


class _FolderDetDataset(BaseDetDataset):
    """A folder of images with one annotation file per image.

    Subclasses set :attr:`DEFAULT_PREFIX` / :attr:`ANN_SUFFIX` and implement
    :meth:`_ann_candidates` / :meth:`_parse_ann_file`. ``filter_cfg`` as
    mmdet's ``XMLDataset``; :attr:`ann_stats` counts the last indexing.
    """

    DEFAULT_PREFIX: Dict[str, str] = dict(img='', ann='')
    ANN_SUFFIX = ''

    def __init__(self,
                 *args,
                 data_prefix: Optional[dict] = None,
                 img_suffixes: Sequence[str] = IMG_SUFFIXES,
                 on_missing_ann: str = 'error',
                 on_orphan_ann: str = 'error',
                 on_invalid_box: str = 'error',
                 **kwargs) -> None:
        owner = type(self).__name__
        unknown = set(data_prefix or {}) - set(self.DEFAULT_PREFIX)
        if unknown:
            raise ValueError(
                f'{owner}: data_prefix keys must be among '
                f'{sorted(self.DEFAULT_PREFIX)} (image and annotation '
                f'folders), got unknown {sorted(unknown)}.')
        prefix = dict(self.DEFAULT_PREFIX, **(data_prefix or {}))
        if isinstance(img_suffixes, str):
            img_suffixes = (img_suffixes, )
        self.img_suffixes = tuple(s.lower() for s in img_suffixes)
        self.on_missing_ann = check_choice(owner, 'on_missing_ann',
                                           on_missing_ann, ('error', 'empty'))
        self.on_orphan_ann = check_choice(owner, 'on_orphan_ann',
                                          on_orphan_ann, ('error', 'ignore'))
        self.on_invalid_box = check_choice(owner, 'on_invalid_box',
                                           on_invalid_box, ('error', 'skip'))
        bad = set(kwargs.get('filter_cfg') or {}) - set(FILTER_KEYS)
        if bad:
            raise ValueError(f'{owner}: unknown filter_cfg keys '
                             f'{sorted(bad)}; known: {FILTER_KEYS}.')
        self.ann_stats: Dict[str, int] = {}
        self._extra_stats: Dict[str, int] = {}
        super().__init__(*args, data_prefix=prefix, **kwargs)

    def _ann_candidates(self, rel_img: str) -> List[str]:
        """Annotation file names (relative to the folder) of an image."""
        raise NotImplementedError

    def _parse_ann_file(self, ann_path: str, img_path: str, width: int,
                        height: int) -> List[dict]:
        """Instances of one annotation file (see :meth:`_make_instance`)."""
        raise NotImplementedError

    def _make_instance(self, box: Sequence[float], label: int, ignore: bool,
                       where: str) -> Optional[dict]:
        """An mmdet instance of ``box`` (``x1, y1, x2, y2``) clipped to the
        image; None for an invalid box with ``on_invalid_box='skip'``."""
        x1, y1, x2, y2 = box
        width, height = self._cur_size
        cx1, cx2 = min(max(x1, 0.), width), min(max(x2, 0.), width)
        cy1, cy2 = min(max(y1, 0.), height), min(max(y2, 0.), height)
        problem = None
        if x2 <= x1 or y2 <= y1:
            problem = 'is degenerate (needs x2 > x1 and y2 > y1)'
        elif cx2 <= cx1 or cy2 <= cy1:
            problem = f'lies outside the {height}x{width} (HxW) image'
        if problem is not None:
            msg = (f'{type(self).__name__}: {where}: box '
                   f'[x1, y1, x2, y2] = {[float(v) for v in box]} {problem}.')
            if self.on_invalid_box == 'error':
                raise ValueError(msg + " Fix the annotation or pass "
                                 "on_invalid_box='skip' to drop such boxes.")
            self._invalid.append(msg)
            return None
        min_size = None if self.test_mode else (self.filter_cfg or {}).get(
            'bbox_min_size')
        if min_size is not None and min(cx2 - cx1, cy2 - cy1) < min_size:
            ignore = True
        return dict(
            bbox=[float(cx1), float(cy1), float(cx2), float(cy2)],
            bbox_label=int(label),
            ignore_flag=int(bool(ignore)))

    def _join(self, folder: str, name: str) -> str:
        return fileio.join_path(folder, name, backend_args=self.backend_args)

    def _list_images(self, img_dir: str) -> List[str]:
        """Sorted image file names of ``img_dir`` (unique stems), or those
        of the split file ``ann_file`` (file names or stems)."""
        owner, args = type(self).__name__, self.backend_args
        if not fileio.isdir(img_dir, backend_args=args):
            raise FileNotFoundError(
                f'{owner}: image folder {img_dir!r} does not exist (from '
                f'data_root + data_prefix["img"]).')
        names = [
            osp.basename(p)
            for p in list_files(img_dir, self.img_suffixes, args)
        ]
        stems = {osp.splitext(name)[0]: name for name in names}
        if len(stems) < len(names):
            dups = [n for n in names if stems[osp.splitext(n)[0]] != n]
            raise ValueError(
                f'{owner}: image folder {img_dir!r} has several images with '
                'the same stem (img_id must be unique):\n' + listing(dups))
        if not self.ann_file:
            return names
        if not fileio.isfile(self.ann_file, backend_args=args):
            raise FileNotFoundError(
                f'{owner}: split file ann_file={self.ann_file!r} does not '
                'exist; expected one image file name or stem per line.')
        known = set(names)
        out, missing, seen = [], [], {}
        text = fileio.get_text(self.ann_file, backend_args=args)
        for lineno, line in enumerate(text.splitlines(), 1):
            entry = line.strip()
            if not entry or entry.startswith('#'):
                continue
            if entry in known or (
                    osp.splitext(entry)[1].lower() in self.img_suffixes
                    and fileio.isfile(
                        self._join(img_dir, entry), backend_args=args)):
                name = entry  # a file name, or a path below the folder
            elif entry in stems:
                name = stems[entry]
            else:
                missing.append(f'line {lineno}: {entry!r}')
                continue
            if name in seen:
                raise ValueError(
                    f'{owner}: split file {self.ann_file!r} line {lineno} '
                    f'lists {entry!r} again (first on line {seen[name]}).')
            seen[name] = lineno
            out.append(name)
        if missing:
            raise ValueError(
                f'{owner}: {len(missing)} entr(y/ies) of split file '
                f'{self.ann_file!r} match no image (file name or stem with '
                f'suffix {self.img_suffixes}) in {img_dir!r}:\n' +
                listing(missing))
        return out

    def _find_ann(self, ann_dir: str, rel_img: str) -> Optional[str]:
        found = [
            c for c in self._ann_candidates(rel_img) if fileio.isfile(
                self._join(ann_dir, c), backend_args=self.backend_args)
        ]
        if len(found) > 1:
            raise ValueError(
                f'{type(self).__name__}: image {rel_img!r} has several '
                f'annotation files in {ann_dir!r}: {found}; keep one.')
        return self._join(ann_dir, found[0]) if found else None

    def load_data_list(self) -> List[dict]:
        """Index the images and parse every annotation file.

        Returns:
            list[dict]: mmdet data infos (``img_path``, ``img_id``,
            ``height``, ``width``, ``ann_path``, ``instances``).
        """
        owner = type(self).__name__
        logger = MMLogger.get_current_instance()
        img_dir, ann_dir = self.data_prefix['img'], self.data_prefix['ann']
        names = self._list_images(img_dir)
        with_ann = fileio.isdir(ann_dir, backend_args=self.backend_args)
        if not with_ann:
            if not self.test_mode:
                raise FileNotFoundError(
                    f'{owner}: annotation folder {ann_dir!r} does not exist '
                    '(from data_root + data_prefix["ann"]); it is required '
                    'for training. Only test_mode=True accepts images '
                    'without annotations.')
            logger.info(f'{owner}: no annotation folder {ann_dir!r}; '
                        f'{len(names)} image(s) in test mode without boxes.')
        if not names:
            raise ValueError(
                f'{owner}: no images with suffix {self.img_suffixes} in '
                f'{img_dir!r}' +
                (f' listed by {self.ann_file!r}.' if self.ann_file else '.'))
        self._invalid: List[str] = []
        data_list, missing, used = [], [], set()
        for name in names:
            img_path = self._join(img_dir, name)
            width, height = image_size(img_path, owner, self.backend_args)
            self._cur_size = (width, height)
            ann_path = self._find_ann(ann_dir, name) if with_ann else None
            instances = []
            if ann_path is not None:
                used.add(osp.abspath(ann_path))
                instances = self._parse_ann_file(ann_path, img_path, width,
                                                 height)
            elif with_ann:
                missing.append(name)
            data_list.append(
                dict(
                    img_path=img_path,
                    img_id=osp.splitext(osp.basename(name))[0],
                    height=int(height),
                    width=int(width),
                    ann_path=ann_path,
                    instances=instances))
        if missing:
            if self.on_missing_ann == 'error':
                raise ValueError(
                    f'{owner}: {len(missing)} image(s) have no annotation '
                    f'file ({" or ".join(self._ann_candidates("<name>.ext"))}'
                    f') in {ann_dir!r}; add them, or pass '
                    "on_missing_ann='empty' to use them without boxes:\n" +
                    listing(missing))
            logger.info(f'{owner}: {len(missing)} image(s) without '
                        'annotation file used without boxes.')
        if with_ann and not self.ann_file and self.on_orphan_ann == 'error':
            orphans = sorted(
                n for n in fileio.list_dir_or_file(
                    ann_dir, list_dir=False, backend_args=self.backend_args)
                if not n.startswith('.') and n.endswith(self.ANN_SUFFIX)
                and osp.abspath(self._join(ann_dir, n)) not in used)
            if orphans:
                raise ValueError(
                    f'{owner}: {len(orphans)} annotation file(s) in '
                    f'{ann_dir!r} have no image in {img_dir!r} (an '
                    'annotation for a missing image); fix the data, give a '
                    "split file (ann_file) or pass on_orphan_ann='ignore':\n"
                    + listing(orphans))
        if self._invalid:
            logger.warning(f'{owner}: dropped {len(self._invalid)} invalid '
                           'box(es):\n' + listing(self._invalid))
        instances = [i for info in data_list for i in info['instances']]
        self.ann_stats = dict(
            num_images=len(data_list),
            num_instances=len(instances),
            num_ignored=sum(i['ignore_flag'] for i in instances),
            num_invalid_dropped=len(self._invalid),
            num_missing_ann=len(missing) if with_ann else len(data_list),
            **self._extra_stats)
        return data_list

    def filter_data(self) -> List[dict]:
        """mmdet ``XMLDataset``'s ``filter_empty_gt`` and ``min_size``
        (shorter image side), outside test mode."""
        kept = XMLDataset.filter_data(self)
        if self.data_list and not kept:
            raise ValueError(
                f'{type(self).__name__}: filter_cfg={self.filter_cfg} '
                f'removes all {len(self.data_list)} image(s) of '
                f'{self.data_prefix["img"]!r}.')
        return kept


@DATASETS.register_module()
class ExDarkDataset(_FolderDetDataset):
    """ExDark low-light detection in PASCAL VOC format.

    ``images/<name>.<ext>`` + ``Annotations/<name>[.<ext>].xml``; names
    match ``metainfo['classes']`` case-insensitively, ``difficult`` sets
    ``ignore_flag``; coordinates minus 1 (mmdet's VOC reader), clipped. See
    ``docs/user_guides/restoration_datasets.md``.

    Args:
        ann_file (str): optional split file, one image name or stem a line.
        data_prefix (dict, optional): ``dict(img='images',
            ann='Annotations')``.
        img_suffixes (Sequence[str]): image suffixes, case-insensitive.
        unknown_class (str): ``'error'`` | ``'ignore'`` (drop).
        on_missing_ann (str): ``'error'`` | ``'empty'``.
        on_orphan_ann (str): ``'error'`` | ``'ignore'`` (no split file).
        on_invalid_box (str): ``'error'`` | ``'skip'``.
        voc_minus_one (bool): subtract 1. Defaults to True.
        **kwargs: :class:`~mmdet.datasets.BaseDetDataset` arguments.
    """

    METAINFO = dict(classes=EXDARK_CLASSES, palette=EXDARK_PALETTE)
    DEFAULT_PREFIX = dict(img='images', ann='Annotations')
    ANN_SUFFIX = '.xml'

    def __init__(self,
                 *args,
                 unknown_class: str = 'error',
                 voc_minus_one: bool = True,
                 **kwargs) -> None:
        self.unknown_class = check_choice('ExDarkDataset', 'unknown_class',
                                          unknown_class, ('error', 'ignore'))
        self.voc_minus_one = bool(voc_minus_one)
        super().__init__(*args, **kwargs)

    def _ann_candidates(self, rel_img: str) -> List[str]:
        return [rel_img + '.xml', osp.splitext(rel_img)[0] + '.xml']

    def load_data_list(self) -> List[dict]:
        classes = self._metainfo.get('classes')
        if not classes:
            raise ValueError('ExDarkDataset: metainfo["classes"] is empty.')
        self.cat2label: Dict[str, int] = {}
        for i, c in enumerate(classes):
            key = str(c).strip().lower()
            if key in self.cat2label:
                raise ValueError(
                    f'ExDarkDataset: metainfo["classes"] {tuple(classes)} '
                    f'has {c!r} twice (names are matched case-insensitively).')
            self.cat2label[key] = i
        self._excluded = {c.lower() for c in EXDARK_CLASSES} - set(
            self.cat2label)
        self._extra_stats = dict(num_unknown_dropped=0, num_excluded=0)
        return super().load_data_list()

    def _parse_ann_file(self, ann_path: str, img_path: str, width: int,
                        height: int) -> List[dict]:
        owner = 'ExDarkDataset'
        try:
            root = ET.fromstring(
                fileio.get(ann_path, backend_args=self.backend_args))
        except (ET.ParseError, OSError) as err:
            raise ValueError(f'{owner}: cannot parse VOC annotation '
                             f'{ann_path!r} ({err}).') from err
        size = root.find('size')
        if size is not None:
            xml_size = [
                0 if not (size.findtext(k) or '').strip() else _number(
                    size.findtext(k), f'{owner}: {ann_path!r} <size><{k}>')
                for k in ('width', 'height')
            ]
            if all(xml_size) and tuple(xml_size) != (width, height):
                raise ValueError(
                    f'{owner}: {ann_path!r} gives the image size '
                    f'{xml_size[0]:g}x{xml_size[1]:g} (width x height) but '
                    f'the image {img_path!r} is {width}x{height}.')
        shift = 1.0 if self.voc_minus_one else 0.0
        instances = []
        for k, obj in enumerate(root.findall('object')):
            where = f'{ann_path!r} object #{k}'
            name = (obj.findtext('name') or '').strip()
            if not name:
                raise ValueError(f'{owner}: {where} has no <name>.')
            key = name.lower()
            if key not in self.cat2label:
                if key in self._excluded:
                    self._extra_stats['num_excluded'] += 1
                    continue
                if self.unknown_class == 'ignore':
                    self._extra_stats['num_unknown_dropped'] += 1
                    continue
                raise ValueError(
                    f'{owner}: {where} has unknown class {name!r}; known '
                    f'classes (case-insensitive): '
                    f'{tuple(self._metainfo["classes"])}. Pass '
                    "unknown_class='ignore' to drop such objects.")
            difficult = _number((obj.findtext('difficult') or '0').strip(),
                                f'{owner}: {where} <difficult>')
            box_el = obj.find('bndbox')
            if box_el is None:
                raise ValueError(f'{owner}: {where} ({name!r}) has no '
                                 '<bndbox>.')
            box = []
            for coord in ('xmin', 'ymin', 'xmax', 'ymax'):
                text = box_el.findtext(coord)
                if text is None:
                    raise ValueError(f'{owner}: {where} ({name!r}) has no '
                                     f'<bndbox><{coord}>.')
                box.append(
                    _number(text.strip(), f'{owner}: {where} <{coord}>') -
                    shift)
            inst = self._make_instance(box, self.cat2label[key],
                                       difficult != 0, where)
            if inst is not None:
                instances.append(inst)
        return instances


@DATASETS.register_module()
class DarkFaceDataset(_FolderDetDataset):
    """DARK FACE low-light face detection (one class, ``face``).

    Layout: ``image/<id>.png`` and ``label/<id>.txt`` (first line: the
    number of faces N, then N lines ``x1 y1 x2 y2`` in pixels, used as they
    are and clipped to the image). Unlabelled images (no label folder) need
    ``test_mode=True``, e.g. ``DarkFaceDataset(data_root='darkface',
    data_prefix=dict(img=''), test_mode=True)``. Arguments as
    :class:`ExDarkDataset` (without ``unknown_class`` / ``voc_minus_one``);
    ``data_prefix`` defaults ``img='image'``, ``ann='label'``.
    """

    METAINFO = dict(classes=DARKFACE_CLASSES, palette=[(220, 20, 60)])
    DEFAULT_PREFIX = dict(img='image', ann='label')
    ANN_SUFFIX = '.txt'

    def _ann_candidates(self, rel_img: str) -> List[str]:
        return [osp.splitext(rel_img)[0] + '.txt']

    def load_data_list(self) -> List[dict]:
        classes = self._metainfo.get('classes')
        if not classes or len(classes) != 1:
            raise ValueError('DarkFaceDataset: metainfo["classes"] must name '
                             f'exactly one class, got {classes!r}.')
        return super().load_data_list()

    def _parse_ann_file(self, ann_path: str, img_path: str, width: int,
                        height: int) -> List[dict]:
        owner = 'DarkFaceDataset'
        try:
            lines = fileio.get_text(
                ann_path, backend_args=self.backend_args).splitlines()
        except (OSError, UnicodeDecodeError) as err:
            raise ValueError(f'{owner}: cannot read label file {ann_path!r} '
                             f'({err}).') from err
        rows = [(i, line.strip()) for i, line in enumerate(lines, 1)
                if line.strip()]
        if not rows:
            raise ValueError(f'{owner}: label file {ann_path!r} is empty; '
                             'expected the number of faces on line 1.')
        lineno, first = rows[0]
        try:
            count = int(first)
        except ValueError:
            count = -1
        if count < 0:
            raise ValueError(
                f'{owner}: {ann_path!r} line {lineno}: expected the number of '
                f'faces (an integer >= 0), got {first!r}.')
        if len(rows) - 1 != count:
            raise ValueError(
                f'{owner}: {ann_path!r} line {lineno} says {count} face(s) '
                f'but {len(rows) - 1} box line(s) follow.')
        instances = []
        for lineno, line in rows[1:]:
            where = f'{ann_path!r} line {lineno}'
            parts = line.replace(',', ' ').split()
            if len(parts) != 4:
                raise ValueError(f'{owner}: {where}: expected 4 numbers '
                                 f'"x1 y1 x2 y2", got {line!r}.')
            box = [_number(p, f'{owner}: {where}') for p in parts]
            inst = self._make_instance(box, 0, False, where)
            if inst is not None:
                instances.append(inst)
        return instances
