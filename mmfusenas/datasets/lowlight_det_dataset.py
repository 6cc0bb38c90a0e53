"""Low-light detection datasets: ExDark (VOC xml) and DARK FACE (txt).

:class:`ExDarkDataset` and :class:`DarkFaceDataset` are MMDetection
:class:`~mmdet.datasets.BaseDetDataset` subclasses registered in
:data:`mmfusenas.registry.DATASETS`. They index a folder of single RGB
images with one annotation file per image (``images/`` +
``Annotations/*.xml``; ``image/`` + ``label/*.txt``) and produce mmdet's
standard data-info dicts, so mmdet's own pipeline reads them. Boxes are
float pixel coordinates in mmdet's continuous frame, clipped to the image.
Indexing checks every image header and every annotation when the dataset
is built; errors name the file and what was expected. See
``docs/user_guides/restoration_datasets.md`` ("Low-light detection and
segmentation datasets").
"""
import os.path as osp
import xml.etree.ElementTree as ET
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
from mmdet.datasets import BaseDetDataset
from mmengine import fileio
from mmengine.logging import MMLogger

from mmfusenas.registry import DATASETS
from .paired_image_dataset import IMG_SUFFIXES, _listing, image_size

#: The 12 ExDark classes in the official order, spelt as in the VOC files.
EXDARK_CLASSES = ('Bicycle', 'Boat', 'Bottle', 'Bus', 'Car', 'Cat', 'Chair',
                  'Cup', 'Dog', 'Motorbike', 'People', 'Table')
#: A palette (RGB) for :data:`EXDARK_CLASSES`.
EXDARK_PALETTE = [(119, 11, 32), (0, 0, 142), (255, 179, 240), (0, 60, 100),
                  (0, 0, 230), (255, 77, 255), (153, 69, 1), (120, 166, 157),
                  (0, 182, 199), (0, 226, 252), (220, 20, 60), (209, 0, 151)]
#: The single DARK FACE class.
DARKFACE_CLASSES = ('face', )

MISSING_ANN = ('error', 'empty')
ORPHAN_ANN = ('error', 'ignore')
INVALID_BOX = ('error', 'skip')
UNKNOWN_CLASS = ('error', 'ignore')
FILTER_KEYS = ('filter_empty_gt', 'min_size', 'bbox_min_size')


def _choice(owner: str, name: str, value, choices: Sequence[str]) -> str:
    if value not in choices:
        raise ValueError(f'{owner}: {name} must be one of {tuple(choices)}, '
                         f'got {value!r}.')
    return value


class _FolderDetDataset(BaseDetDataset):
    """A folder of images with one annotation file per image.

    Subclasses set :attr:`DEFAULT_PREFIX` and :attr:`ANN_SUFFIX` and
    implement :meth:`_ann_candidates` and :meth:`_parse_ann_file`.
    """

    #: default ``data_prefix``: image folder ``img``, annotation folder
    #: ``ann`` (both relative to ``data_root``)
    DEFAULT_PREFIX: Dict[str, str] = dict(img='', ann='')
    #: suffix of the annotation files
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
        prefix = dict(self.DEFAULT_PREFIX)
        if data_prefix is not None:
            unknown = set(data_prefix) - set(self.DEFAULT_PREFIX)
            if unknown:
                raise ValueError(
                    f'{owner}: data_prefix keys must be among '
                    f'{sorted(self.DEFAULT_PREFIX)} (image and annotation '
                    f'folders), got unknown {sorted(unknown)}.')
            prefix.update(data_prefix)
        if isinstance(img_suffixes, str):
            img_suffixes = (img_suffixes, )
        self.img_suffixes = tuple(s.lower() for s in img_suffixes)
        self.on_missing_ann = _choice(owner, 'on_missing_ann', on_missing_ann,
                                      MISSING_ANN)
        self.on_orphan_ann = _choice(owner, 'on_orphan_ann', on_orphan_ann,
                                     ORPHAN_ANN)
        self.on_invalid_box = _choice(owner, 'on_invalid_box', on_invalid_box,
                                      INVALID_BOX)
        filter_cfg = kwargs.get('filter_cfg')
        if filter_cfg is not None:
            bad = set(filter_cfg) - set(FILTER_KEYS)
            if bad:
                raise ValueError(f'{owner}: unknown filter_cfg keys '
                                 f'{sorted(bad)}; known: {FILTER_KEYS}.')
        #: counts of the last indexing (images, instances, dropped boxes...)
        self.ann_stats: Dict[str, int] = {}
        super().__init__(*args, data_prefix=prefix, **kwargs)

    # ------------------------------------------------------------------
    # hooks of the subclasses
    # ------------------------------------------------------------------
    def _ann_candidates(self, rel_img: str) -> List[str]:
        """Annotation file names (relative to the folder) of an image."""
        raise NotImplementedError

    def _parse_ann_file(self, ann_path: str, img_path: str, width: int,
                        height: int) -> List[dict]:
        """Instances of one annotation file (see :meth:`_make_instance`)."""
        raise NotImplementedError

    # ------------------------------------------------------------------
    # shared machinery
    # ------------------------------------------------------------------
    @property
    def bbox_min_size(self) -> Optional[float]:
        """``filter_cfg['bbox_min_size']``: smaller boxes are ignored."""
        if self.filter_cfg is None or self.test_mode:
            return None
        return self.filter_cfg.get('bbox_min_size', None)

    def _make_instance(self, box: Sequence[float], label: int, ignore: bool,
                       where: str) -> Optional[dict]:
        """Clip ``box`` (continuous ``x1, y1, x2, y2``) into an instance.

        Args:
            box (Sequence[float]): Box before clipping.
            label (int): Class index.
            ignore (bool): Initial ignore flag (e.g. VOC ``difficult``).
            where (str): ``'<file> <record>'`` for messages.

        Returns:
            dict | None: the instance, or None when the box is invalid and
            ``on_invalid_box='skip'``.

        Raises:
            ValueError: the box is degenerate (``x2 <= x1`` or ``y2 <= y1``)
                or entirely outside the image and ``on_invalid_box='error'``.
        """
        x1, y1, x2, y2 = box
        width, height = self._cur_size
        problem = None
        if x2 <= x1 or y2 <= y1:
            problem = 'is degenerate (needs x2 > x1 and y2 > y1)'
        else:
            cx1, cx2 = min(max(x1, 0.), width), min(max(x2, 0.), width)
            cy1, cy2 = min(max(y1, 0.), height), min(max(y2, 0.), height)
            if cx2 <= cx1 or cy2 <= cy1:
                problem = (f'lies outside the {height}x{width} (HxW) image')
        if problem is not None:
            msg = (f'{type(self).__name__}: {where}: box '
                   f'[x1, y1, x2, y2] = {[float(v) for v in box]} {problem}.')
            if self.on_invalid_box == 'error':
                raise ValueError(msg + " Fix the annotation or pass "
                                 "on_invalid_box='skip' to drop such boxes.")
            self._invalid.append(msg)
            return None
        min_size = self.bbox_min_size
        if min_size is not None and (cx2 - cx1 < min_size
                                     or cy2 - cy1 < min_size):
            ignore = True
        return dict(
            bbox=[float(cx1), float(cy1),
                  float(cx2), float(cy2)],
            bbox_label=int(label),
            ignore_flag=int(bool(ignore)))

    def _list_images(self, img_dir: str) -> Tuple[List[str], Dict[str, str]]:
        """Sorted image file names of ``img_dir`` and stem -> name."""
        owner = type(self).__name__
        if not fileio.isdir(img_dir, backend_args=self.backend_args):
            raise FileNotFoundError(
                f'{owner}: image folder {img_dir!r} does not exist (from '
                f'data_root + data_prefix["img"]).')
        names = sorted(
            name for name in fileio.list_dir_or_file(
                img_dir, list_dir=False, backend_args=self.backend_args)
            if not name.startswith('.')
            and osp.splitext(name)[1].lower() in self.img_suffixes)
        stems: Dict[str, str] = {}
        dups = []
        for name in names:
            stem = osp.splitext(name)[0]
            if stem in stems:
                dups.append(f'{stems[stem]} / {name}')
            stems[stem] = name
        if dups:
            raise ValueError(
                f'{owner}: image folder {img_dir!r} has several images with '
                'the same stem (img_id must be unique):\n' + _listing(dups))
        return names, stems

    def _read_split(self, img_dir: str, names: List[str],
                    stems: Dict[str, str]) -> List[str]:
        """Image names listed in the split file ``ann_file``."""
        owner = type(self).__name__
        if not fileio.isfile(self.ann_file, backend_args=self.backend_args):
            raise FileNotFoundError(
                f'{owner}: split file ann_file={self.ann_file!r} does not '
                'exist; expected one image file name or stem per line.')
        known = set(names)
        out, missing, seen = [], [], {}
        text = fileio.get_text(self.ann_file, backend_args=self.backend_args)
        for lineno, line in enumerate(text.splitlines(), 1):
            entry = line.strip()
            if not entry or entry.startswith('#'):
                continue
            if entry in known:
                name = entry
            elif osp.splitext(entry)[1].lower() in self.img_suffixes \
                    and fileio.isfile(self._join(img_dir, entry),
                                      backend_args=self.backend_args):
                name = entry  # a path below the image folder
            elif entry in stems:
                name = stems[entry]
            else:
                missing.append(f'line {lineno}: {entry!r}')
                continue
            if name in seen:
                raise ValueError(
                    f'{owner}: split file {self.ann_file!r} line '
                    f'{lineno} lists {entry!r} again (first on line '
                    f'{seen[name]}).')
            seen[name] = lineno
            out.append(name)
        if missing:
            raise ValueError(
                f'{owner}: {len(missing)} entr(y/ies) of split file '
                f'{self.ann_file!r} match no image (file name or stem with '
                f'suffix {self.img_suffixes}) in {img_dir!r}:\n' +
                _listing(missing))
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

    def _join(self, folder: str, name: str) -> str:
        """``folder/name`` in the file backend's convention."""
        return fileio.join_path(folder, name, backend_args=self.backend_args)

    def load_data_list(self) -> List[dict]:
        """Index the images and parse every annotation file.

        Returns:
            list[dict]: mmdet data infos (``img_path``, ``img_id``,
            ``height``, ``width``, ``ann_path``, ``instances``).
        """
        owner = type(self).__name__
        logger = MMLogger.get_current_instance()
        img_dir = self.data_prefix['img']
        ann_dir = self.data_prefix['ann']
        names, stems = self._list_images(img_dir)
        if self.ann_file:
            names = self._read_split(img_dir, names, stems)
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
        num_inst = num_ignored = 0
        for name in names:
            img_path = self._join(img_dir, name)
            width, height = image_size(img_path, owner, self.backend_args)
            self._cur_size = (width, height)
            ann_path = self._find_ann(ann_dir, name) if with_ann else None
            if ann_path is None:
                if with_ann:
                    missing.append(name)
                instances = []
            else:
                used.add(osp.abspath(ann_path))
                instances = self._parse_ann_file(ann_path, img_path, width,
                                                 height)
            num_inst += len(instances)
            num_ignored += sum(i['ignore_flag'] for i in instances)
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
                    _listing(missing))
            logger.info(f'{owner}: {len(missing)} image(s) without '
                        'annotation file used without boxes.')
        if with_ann and not self.ann_file:
            orphans = sorted(
                n for n in fileio.list_dir_or_file(
                    ann_dir, list_dir=False, backend_args=self.backend_args)
                if not n.startswith('.') and n.endswith(self.ANN_SUFFIX)
                and osp.abspath(self._join(ann_dir, n)) not in used)
            if orphans and self.on_orphan_ann == 'error':
                raise ValueError(
                    f'{owner}: {len(orphans)} annotation file(s) in '
                    f'{ann_dir!r} have no image in {img_dir!r} (an '
                    'annotation for a missing image); fix the data, give a '
                    "split file (ann_file) or pass on_orphan_ann='ignore':\n"
                    + _listing(orphans))
        if self._invalid:
            logger.warning(f'{owner}: dropped {len(self._invalid)} invalid '
                           'box(es):\n' + _listing(self._invalid))
        self.ann_stats = dict(
            num_images=len(data_list),
            num_instances=num_inst,
            num_ignored=num_ignored,
            num_invalid_dropped=len(self._invalid),
            num_missing_ann=len(missing) if with_ann else len(data_list))
        self.ann_stats.update(getattr(self, '_extra_stats', {}))
        return data_list

    def filter_data(self) -> List[dict]:
        """Apply ``filter_cfg`` as mmdet's ``XMLDataset`` (not in test mode).

        ``filter_empty_gt`` drops images without instances (ignored ones
        count), ``min_size`` drops images whose shorter side is smaller.

        Returns:
            list[dict]: the kept data infos.
        """
        if self.test_mode or not self.filter_cfg:
            return self.data_list
        filter_empty_gt = self.filter_cfg.get('filter_empty_gt', False)
        min_size = self.filter_cfg.get('min_size', 0) or 0
        kept = [
            info for info in self.data_list
            if not (filter_empty_gt and not info['instances'])
            and min(info['width'], info['height']) >= min_size
        ]
        if self.data_list and not kept:
            raise ValueError(
                f'{type(self).__name__}: filter_cfg={self.filter_cfg} '
                f'removes all {len(self.data_list)} image(s) of '
                f'{self.data_prefix["img"]!r}.')
        return kept


def _number(text, where: str) -> float:
    """Parse a finite number; ``where`` prefixes the error message."""
    try:
        value = float(text)
    except (TypeError, ValueError):
        value = float('nan')
    if not np.isfinite(value):
        raise ValueError(f'{where}: expected a finite number, got {text!r}.')
    return value


@DATASETS.register_module()
class ExDarkDataset(_FolderDetDataset):
    """ExDark low-light detection in PASCAL VOC format.

    Layout (``data_root`` = the ExDark folder)::

        images/<name>.<ext>            (any of ``img_suffixes``, flat)
        Annotations/<name>.<ext>.xml   (or Annotations/<name>.xml)
        splits/train.txt               (optional, see ``ann_file``)

    The VOC file gives ``<size><width>/<height>`` and ``<object>`` with
    ``<name>``, optional ``<difficult>`` and ``<bndbox>`` ``xmin, ymin,
    xmax, ymax``. Class names are matched to ``metainfo['classes']``
    (default :data:`EXDARK_CLASSES`) case-insensitively; ``difficult`` 1
    gives ``ignore_flag=1``.

    Coordinates follow mmdet's VOC convention (``mmdet/datasets/
    xml_style.py``, ``XMLDataset._parse_instance_info(minus_one=True)``):
    1 is subtracted from all four of ``xmin, ymin, xmax, ymax`` (mmdet also
    truncates them with ``int``; here fractional values are kept). The box
    is then clipped to ``[0, width] x [0, height]``; a box with ``xmax <=
    xmin`` or ``ymax <= ymin`` or entirely outside the image is invalid
    (``on_invalid_box``).

    Checks when the dataset is built (errors name the file): every image
    header is readable (PIL, without decoding) and its size equals the
    XML's ``<size>`` (a missing or zero size is not checked); the XML
    parses, every object has a ``<name>`` and four numeric coordinates;
    object names outside the known classes (``unknown_class``); images
    without annotation (``on_missing_ann``); annotations without image
    (``on_orphan_ann``, only without split file). ExDark names given in
    :data:`EXDARK_CLASSES` but left out of a custom ``metainfo['classes']``
    are dropped silently (counted in :attr:`ann_stats`), as in mmdet.

    ``filter_cfg`` works as in mmdet's ``XMLDataset`` (skipped in test
    mode): ``filter_empty_gt``, ``min_size`` (shorter image side) and
    ``bbox_min_size`` (smaller boxes get ``ignore_flag=1``).

    Example::

        dict(type='ExDarkDataset', data_root='data/ExDark',
             ann_file='splits/train.txt',
             filter_cfg=dict(filter_empty_gt=True),
             pipeline=[dict(type='mmdet.LoadImageFromFile'),
                       dict(type='mmdet.LoadAnnotations', with_bbox=True),
                       dict(type='mmdet.Resize', scale=(512, 512)),
                       dict(type='mmdet.PackDetInputs')])

    Args:
        ann_file (str): Optional split file (relative to ``data_root`` or
            absolute), one image file name or stem per line; blank lines
            and ``#`` comments are skipped. ``''`` uses every image of the
            image folder, sorted by name. Defaults to ''.
        data_prefix (dict, optional): ``dict(img=..., ann=...)`` folders
            relative to ``data_root`` (or absolute); missing keys take the
            defaults ``img='images'``, ``ann='Annotations'``.
        img_suffixes (Sequence[str]): Image suffixes, case-insensitive.
            Defaults to ``('.png', '.jpg', '.jpeg', '.bmp', '.tif',
            '.tiff')``.
        unknown_class (str): An object whose name is no known class:
            ``'error'`` raises naming the file and the class, ``'ignore'``
            drops the object (counted). Defaults to 'error'.
        on_missing_ann (str): An image without annotation file: ``'error'``
            or ``'empty'`` (kept without boxes). With ``test_mode=True`` and
            no annotation folder at all, every image is used without boxes.
            Defaults to 'error'.
        on_orphan_ann (str): An annotation file without image (only checked
            without split file): ``'error'`` or ``'ignore'``. Defaults to
            'error'.
        on_invalid_box (str): A degenerate box or one outside the image:
            ``'error'`` or ``'skip'`` (dropped with a warning). Defaults to
            'error'.
        voc_minus_one (bool): Subtract 1 from the VOC coordinates (mmdet's
            convention). Defaults to True.
        **kwargs: Arguments of :class:`~mmdet.datasets.BaseDetDataset` /
            :class:`~mmengine.dataset.BaseDataset` (``data_root``,
            ``metainfo``, ``filter_cfg``, ``pipeline``, ``test_mode``,
            ``indices``, ``lazy_init``, ...).
    """

    METAINFO = dict(classes=EXDARK_CLASSES, palette=EXDARK_PALETTE)
    DEFAULT_PREFIX = dict(img='images', ann='Annotations')
    ANN_SUFFIX = '.xml'

    def __init__(self,
                 *args,
                 unknown_class: str = 'error',
                 voc_minus_one: bool = True,
                 **kwargs) -> None:
        self.unknown_class = _choice('ExDarkDataset', 'unknown_class',
                                     unknown_class, UNKNOWN_CLASS)
        self.voc_minus_one = bool(voc_minus_one)
        super().__init__(*args, **kwargs)

    def _ann_candidates(self, rel_img: str) -> List[str]:
        return [rel_img + '.xml', osp.splitext(rel_img)[0] + '.xml']

    def load_data_list(self) -> List[dict]:
        """Index images and parse the VOC files (see the class doc).

        Returns:
            list[dict]: mmdet data infos.
        """
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
            xml_size = []
            for key in ('width', 'height'):
                text = size.findtext(key)
                xml_size.append(0 if text is None or not text.strip() else
                                _number(text, f'{owner}: {ann_path!r} '
                                        f'<size><{key}>'))
            if all(xml_size) and (xml_size[0], xml_size[1]) != (width,
                                                                height):
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
            diff = (obj.findtext('difficult') or '0').strip()
            difficult = _number(diff, f'{owner}: {where} <difficult>')
            box_el = obj.find('bndbox')
            if box_el is None:
                raise ValueError(f'{owner}: {where} ({name!r}) has no '
                                 '<bndbox>.')
            box = []
            for key_ in ('xmin', 'ymin', 'xmax', 'ymax'):
                text = box_el.findtext(key_)
                if text is None:
                    raise ValueError(f'{owner}: {where} ({name!r}) has no '
                                     f'<bndbox><{key_}>.')
                box.append(
                    _number(text.strip(), f'{owner}: {where} <{key_}>') -
                    shift)
            inst = self._make_instance(box, self.cat2label[key],
                                       difficult != 0, where)
            if inst is not None:
                instances.append(inst)
        return instances


@DATASETS.register_module()
class DarkFaceDataset(_FolderDetDataset):
    """DARK FACE low-light face detection.

    Layout (``data_root`` = the DARK FACE folder)::

        image/<id>.png
        label/<id>.txt     first line: number of faces N, then N lines
                           ``x1 y1 x2 y2`` (pixels)

    One class, ``('face', )``. Coordinates are used as they are (no
    VOC-style shift) as continuous ``x1, y1, x2, y2``: a box that sticks out
    of the image is clipped to it; a degenerate box (``x2 <= x1`` or ``y2
    <= y1``) or one entirely outside the image is invalid
    (``on_invalid_box``: error by default, or dropped with a warning).
    Blank lines are skipped. Errors name the file and the line: a first
    line that is not a count >= 0, a count that differs from the number of
    box lines, a line without exactly 4 numbers.

    For inference on unlabelled images (the DARK FACE test set, or a flat
    folder of images such as ``../shared/data/lowlight/darkface``), use
    ``test_mode=True``: when the label folder does not exist every image is
    used without boxes, e.g. ``DarkFaceDataset(data_root='darkface',
    data_prefix=dict(img=''), test_mode=True)``. Outside test mode a
    missing label folder is an error.

    Args:
        ann_file (str): Optional split file (one image file name or stem per
            line); ``''`` uses every image. Defaults to ''.
        data_prefix (dict, optional): ``dict(img=..., ann=...)``; missing
            keys take the defaults ``img='image'``, ``ann='label'``.
        img_suffixes (Sequence[str]): Image suffixes, case-insensitive.
        on_missing_ann (str): ``'error'`` or ``'empty'`` for an image
            without label file. Defaults to 'error'.
        on_orphan_ann (str): ``'error'`` or ``'ignore'`` for a label file
            without image (only checked without split file). Defaults to
            'error'.
        on_invalid_box (str): ``'error'`` or ``'skip'``. Defaults to
            'error'.
        **kwargs: Arguments of :class:`~mmdet.datasets.BaseDetDataset`
            (``data_root``, ``filter_cfg``, ``pipeline``, ``test_mode``,
            ...); ``filter_cfg`` as for :class:`ExDarkDataset`.
    """

    METAINFO = dict(classes=DARKFACE_CLASSES, palette=[(220, 20, 60)])
    DEFAULT_PREFIX = dict(img='image', ann='label')
    ANN_SUFFIX = '.txt'

    def _ann_candidates(self, rel_img: str) -> List[str]:
        return [osp.splitext(rel_img)[0] + '.txt']

    def load_data_list(self) -> List[dict]:
        """Index images and parse the label files (see the class doc).

        Returns:
            list[dict]: mmdet data infos.
        """
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
        boxes = rows[1:]
        if len(boxes) != count:
            raise ValueError(
                f'{owner}: {ann_path!r} line {lineno} says {count} face(s) '
                f'but {len(boxes)} box line(s) follow.')
        instances = []
        for lineno, line in boxes:
            parts = line.replace(',', ' ').split()
            if len(parts) != 4:
                raise ValueError(
                    f'{owner}: {ann_path!r} line {lineno}: expected 4 numbers '
                    f'"x1 y1 x2 y2", got {line!r}.')
            box = [
                _number(p, f'{owner}: {ann_path!r} line {lineno}')
                for p in parts
            ]
            inst = self._make_instance(box, 0, False,
                                       f'{ann_path!r} line {lineno}')
            if inst is not None:
                instances.append(inst)
        return instances
