"""Registered image pairs with detection boxes (COCO json, VOC xml, YOLO txt).

:class:`PairedDetDataset` pairs the modality folders exactly like
:class:`~mmfusenas.datasets.PairedImageDataset` and attaches to every sample
the boxes of its stem, in MMDetection's data-info convention::

    dict(img_path={'ir': ..., 'vi': ...}, stem='00001D', modalities=(...),
         img_id=..., width=640, height=480, ann_path='.../00001D.txt',
         instances=[dict(bbox=[x1, y1, x2, y2], bbox_label=0,
                         ignore_flag=0), ...])

Boxes are float pixel coordinates in mmdet's continuous frame, turned into
arrays by :class:`~mmfusenas.datasets.transforms.LoadPairedAnnotations`.
See ``docs/user_guides/det_seg_datasets.md``.
"""
import io
import json
import os.path as osp
import xml.etree.ElementTree as ET
from collections import Counter, OrderedDict
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
from mmengine import fileio
from mmengine.logging import MMLogger
from PIL import Image, UnidentifiedImageError

from mmfusenas.registry import DATASETS
from .paired_image_dataset import PairedImageDataset, _listing

ANN_FORMATS = ('coco', 'voc', 'yolo')
ANN_SUFFIXES = {'voc': '.xml', 'yolo': '.txt'}
MISSING_ANN = ('error', 'empty', 'skip')
ORPHAN_ANN = ('error', 'ignore')
FILTER_KEYS = ('filter_empty_gt', 'min_size', 'bbox_min_size')

#: Keys the annotated datasets and transforms write into a data-info /
#: ``results``; a modality may not be called like one of them.
ANN_RESERVED_KEYS = frozenset({
    'instances', 'img_id', 'width', 'height', 'ann_path', 'gt_bboxes',
    'gt_bboxes_labels', 'gt_ignore_flags', 'num_dropped_boxes', 'gt_seg_map',
    'seg_map_path', 'reduce_zero_label', 'label_map', 'ignore_index',
    'num_classes', 'img_channels'
})


def check_modality_names(owner: str, modalities: Sequence[str]) -> None:
    """Refuse modality names that collide with annotation keys.

    Args:
        owner (str): Class name for the message.
        modalities (Sequence[str]): The dataset's modality names.

    Raises:
        ValueError: a name is in :data:`ANN_RESERVED_KEYS`.
    """
    bad = [m for m in modalities if m in ANN_RESERVED_KEYS]
    if bad:
        raise ValueError(
            f'{owner}: modality name(s) {bad} collide with annotation keys '
            f'{sorted(ANN_RESERVED_KEYS)}; rename them in data_prefix.')


def image_size(path: str,
               owner: str,
               backend_args: Optional[dict] = None) -> Tuple[int, int]:
    """``(width, height)`` from an image header (PIL, no decoding).

    Args:
        path (str): Image file.
        owner (str): Class name for the message.
        backend_args (dict, optional): :mod:`mmengine.fileio` backend
            arguments; None reads a local file's header only.

    Returns:
        tuple[int, int]: ``(width, height)``.

    Raises:
        ValueError: the file cannot be identified as an image.
    """
    try:
        if backend_args is None and osp.isfile(path):
            source = path
        else:
            source = io.BytesIO(fileio.get(path, backend_args=backend_args))
        with Image.open(source) as img:
            return img.size
    except (UnidentifiedImageError, OSError) as err:
        raise ValueError(
            f'{owner}: cannot read the size of image {path!r} '
            f'({err.__class__.__name__}: {err}); it is needed to convert '
            'the annotations to pixels.') from err


def match_ann_files(owner: str, data_list: List[dict], folder: str,
                    suffix: str, on_missing: str, strict: bool,
                    exclude: Sequence[str] = (),
                    backend_args: Optional[dict] = None
                    ) -> Tuple[Dict[str, str], List[str], List[str]]:
    """Match one annotation file per sample stem in ``folder``.

    Args:
        owner (str): Class name for messages.
        data_list (list[dict]): Paired samples (with ``stem``).
        folder (str): Folder of ``<stem><suffix>`` annotation files.
        suffix (str): Annotation suffix, compared case-insensitively.
        on_missing (str): ``'error'`` raises for samples without a file;
            otherwise they are returned.
        strict (bool): Raise for annotation files whose stem is not a
            sample (an annotation for a missing image); otherwise return
            them.
        exclude (Sequence[str]): Files of ``folder`` that are not
            annotations (e.g. ``classes.txt``).
        backend_args (dict, optional): :mod:`mmengine.fileio` backend
            arguments of ``folder``. Defaults to None (inferred).

    Returns:
        tuple: (stem -> file, stems without a file, stems of unused files).

    Raises:
        FileNotFoundError: ``folder`` does not exist.
        ValueError: as described for ``on_missing`` and ``strict``.
    """
    if not fileio.isdir(folder, backend_args=backend_args):
        raise FileNotFoundError(
            f'{owner}: annotation folder {folder!r} does not exist; expected '
            f'one <stem>{suffix} file per sample.')
    excluded = {osp.abspath(p) for p in exclude}
    files = {}
    for name in fileio.list_dir_or_file(
            folder, list_dir=False, backend_args=backend_args):
        stem, ext = osp.splitext(name)
        path = fileio.join_path(folder, name, backend_args=backend_args)
        if (name.startswith('.') or ext.lower() != suffix
                or osp.abspath(path) in excluded):
            continue
        files[stem] = path
    stems = {info['stem'] for info in data_list}
    missing = sorted(stems - set(files))
    extra = sorted(set(files) - stems)
    if missing and on_missing == 'error':
        raise ValueError(
            f'{owner}: {len(missing)} sample(s) have no annotation file '
            f'<stem>{suffix} in {folder!r}; add them, or set on_missing_ann '
            "('skip' drops those samples):\n" +
            _listing([repr(s) for s in missing]))
    if extra and strict:
        raise ValueError(
            f'{owner}: {len(extra)} annotation file(s) in {folder!r} have '
            'no paired image (an annotation for a missing image); fix the '
            'data, or, when the folder also serves other splits, give a '
            "split file (ann_file) or set on_orphan_ann='ignore':\n" +
            _listing([files[s] for s in extra]))
    return files, missing, extra


def _number(value, where: str, path: str) -> float:
    """Parse a finite number, naming the record on failure."""
    try:
        num = float(value)
    except (TypeError, ValueError):
        num = float('nan')
    if not np.isfinite(num):
        raise ValueError(f'PairedDetDataset: {path!r} {where}: expected a '
                         f'finite number, got {value!r}.')
    return num


@DATASETS.register_module()
class PairedDetDataset(PairedImageDataset):
    """Paired modality images with detection boxes.

    The images are indexed as by :class:`PairedImageDataset` (``data_root``,
    ``data_prefix``, ``img_suffixes``, ``on_unpaired``, ``check_sizes``,
    ...); the boxes are read when the dataset is built from one of three
    formats:

    - ``'coco'``: one json ``ann_file`` (``images`` / ``annotations`` /
      ``categories``). The json's images are the samples (as mmdet's
      ``CocoDataset``): the stem of each ``file_name`` is matched to the
      pair stem, ``img_id`` is the image ``id``. ``bbox = [x, y, w, h]``
      becomes ``[x, y, x + w, y + h]``; ``iscrowd`` or KAIST's ``ignore``
      set ``ignore_flag``. Categories become contiguous labels through
      ``cat_ids``, else ``metainfo['classes']`` (matched to the category
      names), else all json categories in id order (their names become
      the classes).
    - ``'voc'``: ``ann_dir/<stem>.xml``. ``<name>`` is mapped through
      ``metainfo['classes']`` (required), ``<difficult>1`` sets
      ``ignore_flag``; ``<size>`` gives width / height (else the image
      header). VOC coordinates are 1-based inclusive pixel indices: like
      mmdet's ``VOCDataset`` 1 is subtracted from all four (so ``xmax`` of
      a box touching the right border of a 1280-wide image becomes 1279);
      ``voc_minus_one=False`` keeps them.
    - ``'yolo'``: ``ann_dir/<stem>.txt``, one ``class cx cy w h`` line per
      box, normalised to ``[0, 1]``; converted with the image size read
      from the first modality's header at build time. Class indices refer
      to ``classes_file`` (``name`` or ``index name`` per line) or, without
      one, to ``metainfo['classes']``; with both, they are matched by name.

    ``ann_file`` is the COCO json for ``'coco'`` and, as for
    :class:`PairedImageDataset` and mmdet's ``VOCDataset``, an optional
    split file (one stem per line) for ``'voc'`` / ``'yolo'``.

    Cleaning (nothing is dropped silently; counts are logged through the
    current :class:`~mmengine.logging.MMLogger` and kept in
    :attr:`ann_stats`): boxes of categories / names / classes that map to
    no label are dropped (info log); boxes with zero or negative width or
    height, or entirely outside the image, are dropped (warning listing
    them); boxes partly outside the image are clipped to
    ``[0, width] x [0, height]`` (warning listing them, count in
    ``ann_stats['clipped']``), as the ExDark / DARK FACE datasets do.
    ``filter_cfg`` works as in mmdet and is skipped in
    ``test_mode``:

    - ``filter_empty_gt`` (bool): drop samples without any box (ignored
      boxes count as boxes, as in mmdet's VOC). Default False.
    - ``min_size`` (int): drop samples whose shorter image side is smaller.
      Default 0.
    - ``bbox_min_size`` (float): boxes narrower or lower than this get
      ``ignore_flag=1`` (mmdet's VOC). Default None.

    Errors name the file and the line (YOLO), object (VOC) or record
    (COCO): malformed files, a class index / category outside the known
    ones, an annotation of an image the json does not list, a json image or
    annotation file without a paired image, a sample without an annotation
    file (see ``on_missing_ann``).

    Args:
        ann_format (str): ``'coco'``, ``'voc'`` or ``'yolo'``. Defaults to
            'coco'.
        ann_file (str): COCO json (required for ``'coco'``) or split file
            (optional for ``'voc'`` / ``'yolo'``), relative to ``data_root``
            or absolute. Defaults to ''.
        ann_dir (str): Folder of the VOC / YOLO files, relative to
            ``data_root`` or absolute (required for those formats; must be
            empty for ``'coco'``). Defaults to ''.
        classes_file (str, optional): YOLO class-name file, relative to
            ``data_root`` or absolute. None looks for ``classes.txt`` in
            ``ann_dir`` and then in ``data_root`` and uses it when present.
            Defaults to None.
        cat_ids (Sequence[int] | dict[int, int], optional): COCO category
            ids to use. A sequence gives the label order (label ``i`` =
            ``cat_ids[i]``; the classes are the category names unless
            ``metainfo['classes']`` of the same length is given); a dict maps
            category id -> label index into ``metainfo['classes']``
            (required), so several categories may share a label. Categories
            left out are dropped (counted). KAIST (categories ``0
            __ignore__, 1 person, 2 cyclist, 3 people, 4 person?``):
            ``metainfo=dict(classes=('person', ))``, ``cat_ids={1: 0, 2: 0,
            3: 0, 4: 0}``, ``ignore_cat_ids=(2, 3, 4)``. Defaults to None.
        ignore_cat_ids (Sequence[int]): COCO category ids whose boxes get
            ``ignore_flag=1`` (they must map to a label). Defaults to ().
        voc_minus_one (bool): Subtract 1 from VOC coordinates (see above).
            Defaults to True.
        on_missing_ann (str): A VOC / YOLO sample without annotation file:
            ``'error'`` raises listing them, ``'empty'`` keeps it without
            boxes (YOLO's convention for background images), ``'skip'``
            drops it; both log the stems. Defaults to 'error'.
        on_orphan_ann (str): A VOC / YOLO annotation file whose stem is no
            sample (an annotation for a missing image): ``'error'`` raises
            listing them; ``'ignore'`` leaves them unused with an info log
            of their number (for an annotation folder shared by several
            splits, e.g. LLVIP's ``Annotations/``). With a split file
            (``ann_file``) they are always ignored. Defaults to 'error'.
        filter_cfg (dict, optional): See above. Defaults to None.
        **kwargs: The other arguments of :class:`PairedImageDataset`
            (``data_root``, ``data_prefix``, ``img_suffixes``,
            ``on_unpaired``, ``check_sizes``, ``metainfo``, ``pipeline``,
            ``test_mode``, ``lazy_init``, ...). Without
            ``metainfo['classes']`` the classes are found when the data list
            is built (``full_init``).

    Attributes:
        ann_stats (dict): Counts of the last build: ``num_samples``,
            ``num_boxes``, ``num_ignored``, ``unmapped`` (dict what ->
            count), ``degenerate``, ``small_ignored``, ``missing_ann``
            (stems), ``unused_ann`` (stems), ``filtered_empty``,
            ``filtered_small``.
    """

    def __init__(self,
                 ann_format: str = 'coco',
                 ann_file: str = '',
                 ann_dir: str = '',
                 classes_file: Optional[str] = None,
                 cat_ids: Optional[Union[Sequence[int], Dict[int,
                                                             int]]] = None,
                 ignore_cat_ids: Sequence[int] = (),
                 voc_minus_one: bool = True,
                 on_missing_ann: str = 'error',
                 on_orphan_ann: str = 'error',
                 filter_cfg: Optional[dict] = None,
                 **kwargs) -> None:
        if ann_format not in ANN_FORMATS:
            raise ValueError(f'PairedDetDataset: ann_format must be one of '
                             f'{ANN_FORMATS}, got {ann_format!r}.')
        if on_missing_ann not in MISSING_ANN:
            raise ValueError(f'PairedDetDataset: on_missing_ann must be one '
                             f'of {MISSING_ANN}, got {on_missing_ann!r}.')
        if on_orphan_ann not in ORPHAN_ANN:
            raise ValueError(f'PairedDetDataset: on_orphan_ann must be one '
                             f'of {ORPHAN_ANN}, got {on_orphan_ann!r}.')
        if ann_format == 'coco':
            if not ann_file:
                raise ValueError(
                    "PairedDetDataset: ann_format='coco' needs ann_file, the "
                    'COCO json.')
            if ann_dir:
                raise ValueError(
                    "PairedDetDataset: ann_dir is for ann_format='voc' / "
                    "'yolo'; for 'coco' give the json as ann_file.")
        elif not ann_dir:
            raise ValueError(
                f'PairedDetDataset: ann_format={ann_format!r} needs ann_dir, '
                f'the folder of <stem>{ANN_SUFFIXES[ann_format]} files.')
        unknown = sorted(set(filter_cfg or {}) - set(FILTER_KEYS))
        if unknown:
            raise ValueError(f'PairedDetDataset: unknown filter_cfg keys '
                             f'{unknown}; expected some of {FILTER_KEYS}.')
        if (cat_ids is not None or ignore_cat_ids) and ann_format != 'coco':
            raise ValueError('PairedDetDataset: cat_ids / ignore_cat_ids '
                             "apply to ann_format='coco' only.")
        self.ann_format = ann_format
        self.ann_dir = osp.join(kwargs.get('data_root', ''), ann_dir) \
            if ann_dir else ''
        self.classes_file = classes_file
        self.cat_ids = cat_ids
        self.ignore_cat_ids = tuple(ignore_cat_ids)
        self.voc_minus_one = voc_minus_one
        self.on_missing_ann = on_missing_ann
        self.on_orphan_ann = on_orphan_ann
        self.ann_stats: dict = {}
        super().__init__(ann_file=ann_file, filter_cfg=filter_cfg, **kwargs)
        check_modality_names('PairedDetDataset', self.modalities)

    # ------------------------------------------------------------------
    # classes
    # ------------------------------------------------------------------
    def _coco_labels(self, cats: Dict[int, str]) -> Dict[int, int]:
        """Category id -> label; sets ``metainfo['classes']``."""
        path = self.ann_file
        classes = self._metainfo.get('classes')
        cat_ids = self.cat_ids
        if cat_ids is not None:
            ids = list(cat_ids)
            unknown = [c for c in ids if c not in cats]
            if unknown:
                raise ValueError(
                    f'PairedDetDataset: cat_ids {unknown} are not categories '
                    f'of {path!r} (its categories: {cats}).')
        if isinstance(cat_ids, dict):
            if not classes:
                raise ValueError(
                    'PairedDetDataset: cat_ids given as a dict (category id '
                    '-> label) needs metainfo=dict(classes=...).')
            bad = {c: lab for c, lab in cat_ids.items()
                   if not isinstance(lab, int)
                   or not 0 <= lab < len(classes)}
            if bad:
                raise ValueError(
                    f'PairedDetDataset: cat_ids maps {bad} to labels outside '
                    f'[0, {len(classes)}) of classes {tuple(classes)}.')
            cat2label = dict(cat_ids)
        elif cat_ids is not None:
            if len(set(cat_ids)) != len(cat_ids):
                raise ValueError(f'PairedDetDataset: cat_ids {list(cat_ids)}'
                                 ' lists a category twice.')
            if classes and len(classes) != len(cat_ids):
                raise ValueError(
                    f'PairedDetDataset: cat_ids {list(cat_ids)} and classes '
                    f'{tuple(classes)} differ in length; expected one class '
                    'per category id.')
            classes = classes or tuple(cats[c] for c in cat_ids)
            cat2label = {c: i for i, c in enumerate(cat_ids)}
        elif classes:
            cat2label = {}
            for label, name in enumerate(classes):
                ids = [c for c, n in cats.items() if n == name]
                if len(ids) != 1:
                    problem = ('is not a category' if not ids else
                               f'names several categories {ids}')
                    raise ValueError(
                        f'PairedDetDataset: class {name!r} {problem} of '
                        f'{path!r} (its categories: {cats}); fix '
                        'metainfo classes or give cat_ids.')
                cat2label[ids[0]] = label
        else:
            order = sorted(cats)
            classes = tuple(cats[c] for c in order)
            cat2label = {c: i for i, c in enumerate(order)}
        bad_ignore = [c for c in self.ignore_cat_ids if c not in cat2label]
        if bad_ignore:
            raise ValueError(
                f'PairedDetDataset: ignore_cat_ids {bad_ignore} map to no '
                f'label (categories of {path!r} with labels: '
                f'{sorted(cat2label)}); map them with cat_ids.')
        self._metainfo['classes'] = tuple(classes)
        return cat2label

    def _read_classes_file(self) -> Tuple[Optional[List[str]], str]:
        """YOLO class names from ``classes_file`` (or the default places).

        Raises:
            ValueError: indices out of order, a name listed twice (the file
                and line named) or no name at all.
        """
        if self.classes_file is None:
            root = self.data_root or ''
            found = [
                p for p in (osp.join(self.ann_dir, 'classes.txt'),
                            osp.join(root, 'classes.txt'))
                if fileio.isfile(p, backend_args=self.backend_args)
            ]
            if not found:
                return None, ''
            path = found[0]
        else:
            path = osp.join(self.data_root or '', self.classes_file)
            if not fileio.isfile(path, backend_args=self.backend_args):
                raise FileNotFoundError(
                    f'PairedDetDataset: classes_file {path!r} not found; '
                    "expected one class name (or 'index name') per line.")
        names: List[str] = []
        seen: Dict[str, int] = {}
        text = fileio.get_text(path, backend_args=self.backend_args)
        for lineno, line in enumerate(text.splitlines(), 1):
            line = line.strip()
            if not line:
                continue
            tokens = line.split(maxsplit=1)
            if len(tokens) == 2 and tokens[0].isdigit():
                if int(tokens[0]) != len(names):
                    raise ValueError(
                        f'PairedDetDataset: {path}:{lineno}: class index '
                        f'{tokens[0]} out of order; expected '
                        f'{len(names)} (indices 0, 1, ... in order).')
                line = tokens[1].strip()
            if line in seen:
                raise ValueError(
                    f'PairedDetDataset: {path}:{lineno}: class {line!r} '
                    f'repeats line {seen[line]}; every class name must be '
                    'listed once.')
            seen[line] = lineno
            names.append(line)
        if not names:
            raise ValueError(
                f'PairedDetDataset: classes_file {path!r} lists no class.')
        return names, path

    def _yolo_labels(self) -> Tuple[Dict[int, Optional[int]], str]:
        """YOLO class index -> label (None: unmapped); sets the classes."""
        names, path = self._read_classes_file()
        classes = self._metainfo.get('classes')
        if names is None and not classes:
            raise ValueError(
                "PairedDetDataset: ann_format='yolo' needs the class names: "
                'give metainfo=dict(classes=...), classes_file, or put a '
                f'classes.txt into ann_dir {self.ann_dir!r} or data_root.')
        if names is None:
            return {i: i for i in range(len(classes))}, 'metainfo classes'
        if not classes:
            self._metainfo['classes'] = tuple(names)
            return {i: i for i in range(len(names))}, path
        absent = [c for c in classes if c not in names]
        if absent:
            raise ValueError(
                f'PairedDetDataset: metainfo classes {absent} are not in '
                f'{path!r} (its classes: {names}).')
        return {i: (classes.index(n) if n in classes else None)
                for i, n in enumerate(names)}, path

    # ------------------------------------------------------------------
    # parsers
    # ------------------------------------------------------------------
    def _load_coco(self) -> 'OrderedDict[str, dict]':
        """Parse the json into stem -> data-info (json image order)."""
        path = self.ann_file
        if not fileio.isfile(path, backend_args=self.backend_args):
            raise FileNotFoundError(
                f'PairedDetDataset: COCO annotation file {path!r} not found.')
        try:
            data = json.loads(
                fileio.get_text(path, backend_args=self.backend_args))
        except json.JSONDecodeError as err:
            raise ValueError(
                f'PairedDetDataset: {path!r} is not valid JSON (line '
                f'{err.lineno}, column {err.colno}: {err.msg}).') from err
        if not isinstance(data, dict) or not all(
                isinstance(data.get(k), list)
                for k in ('images', 'annotations', 'categories')):
            raise ValueError(
                f'PairedDetDataset: {path!r} is not a COCO detection file; '
                "expected a dict with lists 'images', 'annotations' and "
                "'categories'.")
        cats: Dict[int, str] = {}
        for i, cat in enumerate(data['categories']):
            if not isinstance(cat, dict) or not isinstance(
                    cat.get('id'), int) or 'name' not in cat:
                raise ValueError(
                    f'PairedDetDataset: {path!r} categories[{i}] = {cat!r}; '
                    "expected a dict with an int 'id' and a 'name'.")
            if cat['id'] in cats:
                raise ValueError(f'PairedDetDataset: {path!r} categories[{i}]'
                                 f" repeats category id {cat['id']}.")
            cats[cat['id']] = str(cat['name'])
        cat2label = self._coco_labels(cats)
        ignore_cats = set(self.ignore_cat_ids)

        by_id: Dict[int, dict] = {}
        by_stem: 'OrderedDict[str, dict]' = OrderedDict()
        for i, img in enumerate(data['images']):
            if not isinstance(img, dict) or 'id' not in img or \
                    not isinstance(img.get('file_name'), str):
                raise ValueError(
                    f'PairedDetDataset: {path!r} images[{i}] = {img!r}; '
                    "expected a dict with 'id' and 'file_name'.")
            where = f"images[{i}] (id={img['id']!r}, " \
                    f"file_name={img['file_name']!r})"
            stem = osp.splitext(osp.basename(img['file_name']))[0]
            if img['id'] in by_id:
                raise ValueError(f'PairedDetDataset: {path!r} {where} '
                                 'repeats an image id.')
            if stem in by_stem:
                raise ValueError(
                    f'PairedDetDataset: {path!r} {where} has the same stem '
                    f'{stem!r} as image id {by_stem[stem]["img_id"]!r}; '
                    'expected one image record per stem.')
            size = {}
            for key in ('width', 'height'):
                if img.get(key) is not None:
                    if not isinstance(img[key], int) or img[key] <= 0:
                        raise ValueError(
                            f'PairedDetDataset: {path!r} {where} has {key}='
                            f'{img[key]!r}; expected a positive int.')
                    size[key] = img[key]
            info = dict(img_id=img['id'], ann_path=path, instances=[], **size)
            by_id[img['id']] = info
            by_stem[stem] = info

        unmapped: Counter = Counter()
        ann_ids = set()
        for i, ann in enumerate(data['annotations']):
            if not isinstance(ann, dict):
                raise ValueError(f'PairedDetDataset: {path!r} annotations[{i}]'
                                 f' = {ann!r}; expected a dict.')
            where = f'annotations[{i}] (id={ann.get("id")!r})'
            if 'id' in ann:
                if ann['id'] in ann_ids:
                    raise ValueError(f'PairedDetDataset: {path!r} {where} '
                                     'repeats an annotation id.')
                ann_ids.add(ann['id'])
            if ann.get('image_id') not in by_id:
                raise ValueError(
                    f'PairedDetDataset: {path!r} {where} refers to image_id '
                    f'{ann.get("image_id")!r}, which is not among its images '
                    '(an annotation for a missing image).')
            cat = ann.get('category_id')
            if cat not in cats:
                raise ValueError(
                    f'PairedDetDataset: {path!r} {where} has category_id '
                    f'{cat!r}, which is not among its categories '
                    f'{sorted(cats)}.')
            bbox = ann.get('bbox')
            if not isinstance(bbox, (list, tuple)) or len(bbox) != 4:
                raise ValueError(
                    f'PairedDetDataset: {path!r} {where} has bbox {bbox!r}; '
                    'expected [x, y, width, height].')
            x, y, w, h = (_number(v, f'{where} bbox', path) for v in bbox)
            if cat not in cat2label:
                unmapped[f'category {cat} ({cats[cat]!r})'] += 1
                continue
            flag = bool(ann.get('iscrowd', 0)) or bool(ann.get(
                'ignore', 0)) or cat in ignore_cats
            instance = dict(
                bbox=[x, y, x + w, y + h],
                bbox_label=cat2label[cat],
                ignore_flag=int(flag))
            if ann.get('segmentation') is not None:
                # polygons or RLE, decoded by LoadPairedAnnotations(
                # with_mask=True), as mmdet's CocoDataset keeps them
                instance['mask'] = ann['segmentation']
            by_id[ann['image_id']]['instances'].append(instance)
        self.ann_stats['unmapped'] = dict(unmapped)
        return by_stem

    def _parse_voc(self, path: str, name2label: Dict[str, int],
                   unmapped: Counter) -> dict:
        """Parse one VOC xml into a partial data-info."""
        try:
            root = ET.fromstring(
                fileio.get(path, backend_args=self.backend_args))
        except ET.ParseError as err:
            line, col = err.position
            raise ValueError(
                f'PairedDetDataset: malformed VOC xml {path!r} (line {line},'
                f' column {col}): {err}.') from err
        info: dict = dict(ann_path=path, instances=[])
        size = root.find('size')
        if size is not None:
            for key in ('width', 'height'):
                value = _number(size.findtext(key), f'<size><{key}>', path)
                if value <= 0 or not value.is_integer():
                    raise ValueError(
                        f'PairedDetDataset: {path!r} <size><{key}> is '
                        f'{value}; expected a positive integer.')
                info[key] = int(value)
        offset = 1.0 if self.voc_minus_one else 0.0
        for k, obj in enumerate(root.findall('object')):
            where = f'<object> #{k}'
            name = obj.findtext('name')
            if name is None or not name.strip():
                raise ValueError(f'PairedDetDataset: {path!r} {where} has no '
                                 '<name>.')
            name = name.strip()
            box = obj.find('bndbox')
            if box is None:
                raise ValueError(f'PairedDetDataset: {path!r} {where} '
                                 f'({name!r}) has no <bndbox>.')
            coords = [
                _number(box.findtext(t), f'{where} <bndbox><{t}>', path) -
                offset for t in ('xmin', 'ymin', 'xmax', 'ymax')
            ]
            difficult = _number(
                obj.findtext('difficult', '0'), f'{where} <difficult>', path)
            if name not in name2label:
                unmapped[f'name {name!r}'] += 1
                continue
            info['instances'].append(
                dict(
                    bbox=coords,
                    bbox_label=name2label[name],
                    ignore_flag=int(difficult != 0)))
        return info

    def _parse_yolo(self, path: str, width: int, height: int,
                    file2label: Dict[int, Optional[int]], source: str,
                    unmapped: Counter) -> dict:
        """Parse one YOLO txt into a partial data-info."""
        rows = []
        text = fileio.get_text(path, backend_args=self.backend_args)
        for lineno, line in enumerate(text.splitlines(), 1):
            fields = line.split()
            if not fields:
                continue
            where = f'{path}:{lineno}'
            if len(fields) != 5:
                raise ValueError(
                    f'PairedDetDataset: {where}: expected 5 fields '
                    f'"class cx cy w h", got {len(fields)}: '
                    f'{line.strip()!r}.')
            try:
                values = [float(v) for v in fields]
            except ValueError as err:
                raise ValueError(
                    f'PairedDetDataset: {where}: non-numeric field in '
                    f'{line.strip()!r}.') from err
            cls = values[0]
            if not cls.is_integer() or int(cls) not in file2label:
                raise ValueError(
                    f'PairedDetDataset: {where}: class index '
                    f'{fields[0]} out of range [0, {len(file2label)}) '
                    f'of the classes of {source}.')
            if not all(0 <= v <= 1 for v in values[1:]):
                raise ValueError(
                    f'PairedDetDataset: {where}: coordinates '
                    f'{fields[1:]} are not normalised to [0, 1]; '
                    'expected YOLO "class cx cy w h" relative to the '
                    'image size.')
            rows.append(values)
        arr = np.array(rows, dtype=np.float64).reshape(-1, 5)
        half_w, half_h = arr[:, 3] / 2, arr[:, 4] / 2
        boxes = np.stack([(arr[:, 1] - half_w) * width,
                          (arr[:, 2] - half_h) * height,
                          (arr[:, 1] + half_w) * width,
                          (arr[:, 2] + half_h) * height], axis=1)
        instances = []
        for cls, box in zip(arr[:, 0].astype(int), boxes.tolist()):
            label = file2label[cls]
            if label is None:
                unmapped[f'class index {cls}'] += 1
                continue
            instances.append(dict(bbox=box, bbox_label=label, ignore_flag=0))
        return dict(ann_path=path, instances=instances)

    # ------------------------------------------------------------------
    # building
    # ------------------------------------------------------------------
    def _read_split(self) -> List[str]:
        """COCO: the json's image stems; VOC / YOLO: the split file."""
        if self.ann_format != 'coco':
            return super()._read_split()
        self._coco_infos = self._load_coco()
        present = set()
        for mod in self.modalities:
            present.update(self._scan_folder(mod))
        absent = [
            f"image id={info['img_id']!r} (stem {stem!r})"
            for stem, info in self._coco_infos.items() if stem not in present
        ]
        if absent:
            raise ValueError(
                f'PairedDetDataset: {len(absent)} image record(s) of '
                f'{self.ann_file!r} have no file in any modality folder '
                f'{dict(self.data_prefix)} (suffixes {self.img_suffixes}):\n'
                + _listing(absent))
        if not self._coco_infos:
            raise ValueError(
                f'PairedDetDataset: {self.ann_file!r} lists no image.')
        return list(self._coco_infos)

    def _clean(self,
                info: dict,
                degenerate: List[str],
                clipped: Optional[List[str]] = None) -> None:
        """Drop empty / outside boxes, clip boxes partly outside the image;
        flag small ones (``bbox_min_size``)."""
        instances = info['instances']
        if not instances:
            return
        boxes = np.array([inst['bbox'] for inst in instances],
                         dtype=np.float64).reshape(-1, 4)
        w, h = info['width'], info['height']
        x1, y1, x2, y2 = boxes.T
        keep = (np.minimum(x2, w) > np.maximum(x1, 0)) & (
            np.minimum(y2, h) > np.maximum(y1, 0))
        degenerate.extend(f'{info["stem"]!r}: {box} ({info["ann_path"]})'
                          for box in boxes[~keep].tolist())
        inside = np.clip(boxes, 0, [w, h, w, h])
        moved = keep & (inside != boxes).any(axis=1)
        for i in np.flatnonzero(moved):
            if clipped is not None:
                clipped.append(f'{info["stem"]!r}: {boxes[i].tolist()} -> '
                               f'{inside[i].tolist()} ({info["ann_path"]})')
            instances[i]['bbox'] = inside[i].tolist()
        boxes = inside
        x1, y1, x2, y2 = boxes.T
        min_size = (self.filter_cfg or {}).get('bbox_min_size')
        small = np.zeros(len(boxes), bool)
        if min_size is not None and not self.test_mode:
            small = (x2 - x1 < min_size) | (y2 - y1 < min_size)
        kept = []
        for inst, k, s in zip(instances, keep, small):
            if k:
                if s:
                    inst['ignore_flag'] = 1
                kept.append(inst)
        self.ann_stats['small_ignored'] += int((small & keep).sum())
        info['instances'] = kept

    def _attach_files(self, data_list: List[dict]) -> List[dict]:
        """Attach the VOC / YOLO file of every sample (``on_missing_ann``)."""
        logger = MMLogger.get_current_instance()
        if self.ann_format == 'yolo':
            file2label, source = self._yolo_labels()
            exclude = [] if source == 'metainfo classes' else [source]
        else:
            classes = self._metainfo['classes']
            name2label = {n: i for i, n in enumerate(classes)}
            exclude = []
        strict = not self.ann_file and self.on_orphan_ann == 'error'
        files, missing, extra = match_ann_files(
            'PairedDetDataset', data_list, self.ann_dir,
            ANN_SUFFIXES[self.ann_format], self.on_missing_ann, strict,
            exclude, backend_args=self.backend_args)
        self.ann_stats.update(missing_ann=missing, unused_ann=extra)
        if missing:
            fate = ('kept without boxes'
                    if self.on_missing_ann == 'empty' else 'dropped')
            logger.warning(
                f'PairedDetDataset: on_missing_ann={self.on_missing_ann!r}: '
                f'{len(missing)} sample(s) without annotation file in '
                f'{self.ann_dir!r} are {fate}:\n' +
                _listing([repr(s) for s in missing]))
            if self.on_missing_ann == 'skip':
                data_list = [d for d in data_list if d['stem'] in files]
        if extra:
            logger.info(
                f'PairedDetDataset: {len(extra)} annotation file(s) in '
                f'{self.ann_dir!r} belong to no sample of this dataset '
                '(other split / unpaired) and are not used.')
        unmapped: Counter = Counter()
        for idx, info in enumerate(data_list):
            path = files.get(info['stem'])
            info['img_id'] = idx
            if path is None:
                info.update(ann_path=None, instances=[])
            elif self.ann_format == 'voc':
                info.update(self._parse_voc(path, name2label, unmapped))
            else:
                w, h = image_size(info['img_path'][self.modalities[0]],
                                  'PairedDetDataset', self.backend_args)
                info.update(width=w, height=h)
                info.update(
                    self._parse_yolo(path, w, h, file2label, source,
                                     unmapped))
        self.ann_stats['unmapped'] = dict(unmapped)
        return data_list

    def load_data_list(self) -> List[dict]:
        """Pair the modality folders and attach the boxes of every sample.

        Returns:
            list[dict]: One data-info per sample (see the module doc).
        """
        self.ann_stats = dict(
            unmapped={},
            degenerate=0,
            clipped=0,
            small_ignored=0,
            missing_ann=[],
            unused_ann=[],
            filtered_empty=0,
            filtered_small=0)
        if self.ann_format == 'voc' and not self._metainfo.get('classes'):
            raise ValueError(
                "PairedDetDataset: ann_format='voc' needs "
                'metainfo=dict(classes=...) to map the <name> of the '
                'objects to labels.')
        data_list = super().load_data_list()
        if self.ann_format == 'coco':
            coco_infos = self._coco_infos
            del self._coco_infos
            for info in data_list:
                info.update(coco_infos[info['stem']])
        else:
            data_list = self._attach_files(data_list)
        if not data_list:
            raise ValueError('PairedDetDataset: no sample left after '
                             'dropping those without annotation file.')

        degenerate: List[str] = []
        clipped: List[str] = []
        for info in data_list:
            if 'width' not in info or 'height' not in info:
                w, h = image_size(info['img_path'][self.modalities[0]],
                                  'PairedDetDataset', self.backend_args)
                info.update(width=w, height=h)
            self._clean(info, degenerate, clipped)
        logger = MMLogger.get_current_instance()
        self.ann_stats['degenerate'] = len(degenerate)
        self.ann_stats['clipped'] = len(clipped)
        if clipped:
            logger.warning(
                f'PairedDetDataset: clipped {len(clipped)} box(es) partly '
                'outside the image to it (x1, y1, x2, y2):\n' +
                _listing(clipped))
        if degenerate:
            logger.warning(
                f'PairedDetDataset: dropped {len(degenerate)} box(es) with '
                'zero width / height or entirely outside the image '
                '(x1, y1, x2, y2):\n' + _listing(degenerate))
        if self.ann_stats['unmapped']:
            logger.info(
                'PairedDetDataset: dropped boxes that map to no label of '
                f'classes {self._metainfo["classes"]}: '
                f'{self.ann_stats["unmapped"]}')
        flags = [
            inst['ignore_flag'] for info in data_list
            for inst in info['instances']
        ]
        self.ann_stats.update(
            num_samples=len(data_list),
            num_boxes=len(flags),
            num_ignored=int(sum(flags)))
        source = self.ann_file if self.ann_format == 'coco' else self.ann_dir
        logger.info(
            f'PairedDetDataset: {len(data_list)} samples, {len(flags)} boxes '
            f'({sum(flags)} ignored) from {self.ann_format} annotations '
            f'{source!r}; classes {self._metainfo["classes"]}.')
        return data_list

    def filter_data(self) -> List[dict]:
        """Apply ``filter_cfg`` (not in ``test_mode``), logging the counts.

        Returns:
            list[dict]: The kept data-infos.
        """
        if self.test_mode or not self.filter_cfg:
            return self.data_list
        filter_empty_gt = self.filter_cfg.get('filter_empty_gt', False)
        min_size = self.filter_cfg.get('min_size', 0)
        kept, empty, small = [], 0, 0
        for info in self.data_list:
            if filter_empty_gt and not info['instances']:
                empty += 1
            elif min(info['width'], info['height']) < min_size:
                small += 1
            else:
                kept.append(info)
        self.ann_stats.update(filtered_empty=empty, filtered_small=small)
        if not kept:
            raise ValueError(
                f'PairedDetDataset: filter_cfg {self.filter_cfg} drops every '
                f'sample ({empty} without boxes, {small} smaller than '
                f'min_size); relax it or check the annotations.')
        if empty or small:
            MMLogger.get_current_instance().info(
                f'PairedDetDataset: filter_cfg dropped {empty} sample(s) '
                f'without boxes (filter_empty_gt) and {small} with a side '
                f'shorter than min_size={min_size}; {len(kept)} left.')
        return kept
