"""Registered image pairs with COCO detection boxes (mmdet's CocoDataset);
see ``docs/user_guides/det_seg_datasets.md``."""
import json
import math
import os.path as osp
from collections import Counter, OrderedDict
from typing import List, Optional

from mmdet.datasets import CocoDataset
from mmengine import fileio
from mmengine.logging import MMLogger

from mmfusenas.registry import DATASETS
from .paired_image_dataset import (check_modality_names, data_hint,
                                   detect_layout, listing, pipeline_scope)

CONVERTER = 'tools/dataset_converters/paired_to_coco.py'


def check_coco(data, path: str) -> None:
    """Refuse what pycocotools would index wrongly or mmdet skip silently.

    Raises:
        ValueError: naming ``path`` and the record: no ``images`` /
            ``annotations`` / ``categories`` lists, an image or annotation
            without a unique ``id``, an image without ``file_name`` or a
            positive int ``width`` / ``height``, a category without a
            unique int ``id`` or a string ``name``, an annotation of an
            unknown image or category, or whose ``bbox`` is not 4 finite
            numbers.
    """
    keys = ('images', 'annotations', 'categories')
    if not isinstance(data, dict) or not all(
            isinstance(data.get(k), list) for k in keys):
        raise ValueError(f'{path!r} is not a COCO detection file; expected '
                         f'a dict with the lists {keys}.')
    cats = set()
    for i, cat in enumerate(data['categories']):
        cat_id = cat.get('id') if isinstance(cat, dict) else None
        if not (isinstance(cat_id, int) and not isinstance(cat_id, bool)
                and isinstance(cat.get('name'), str)) or cat_id in cats:
            raise ValueError(f'{path!r} categories[{i}] ({cat!r}) is no dict '
                             'with a unique int id and a string name.')
        cats.add(cat_id)
    seen = dict(images=set(), annotations=set())
    for key, ids in seen.items():
        for i, rec in enumerate(data[key]):
            rec = rec if isinstance(rec, dict) else {}
            ann, box = key == 'annotations', rec.get('bbox')
            for bad, what in (
                (rec.get('id') is None or rec['id'] in ids,
                 'is no dict with a unique id'),
                (not ann and not (isinstance(rec.get('file_name'), str)
                                  and all(isinstance(rec.get(k), int)
                                          and rec[k] > 0
                                          for k in ('width', 'height'))),
                 'needs a file_name and positive int width and height'),
                (ann and rec.get('image_id') not in seen['images'],
                 f'refers to image_id {rec.get("image_id")!r}, which is not '
                 'among its images (an annotation for a missing image)'),
                (ann and rec.get('category_id') not in cats,
                 f'has category_id {rec.get("category_id")!r}, which is not '
                 f'among its categories {sorted(cats)}'),
                (ann and not (isinstance(box, list) and len(box) == 4 and all(
                    isinstance(v, (int, float)) and math.isfinite(v)
                    for v in box)),
                 f'has bbox {box!r}; expected [x, y, width, height] of '
                 'finite numbers')):
                if bad:
                    raise ValueError(f'{path!r} {key}[{i}] (id='
                                     f'{rec.get("id")!r}) {what}.')
            ids.add(rec['id'])


@DATASETS.register_module()
class PairedDetDataset(CocoDataset):
    """Paired modality images with the boxes of a COCO json.

    mmdet's ``CocoDataset`` arguments, but ``data_prefix`` maps each
    modality to its folder (None: detected as by :class:`PairedImageDataset`)
    where every json ``file_name`` is read. ``metainfo['classes']`` match
    the categories by name; ``iscrowd`` / ``ignore`` set ``ignore_flag``;
    boxes left out or clipped are logged and counted in :attr:`ann_stats`.

    Attributes:
        ann_stats (dict): ``num_samples``, ``num_boxes``, ``num_ignored``,
            ``unmapped`` (dict category -> count), ``degenerate``,
            ``clipped``, ``filtered``.
    """

    METAINFO = dict(classes=(), modalities=())

    def __init__(self,
                 data_root: str = '',
                 data_prefix: Optional[dict] = None,
                 backend_args: Optional[dict] = None,
                 **kwargs) -> None:
        if not kwargs.get('ann_file'):
            raise ValueError(
                'PairedDetDataset reads the boxes of a COCO json, ann_file; '
                f'`python {CONVERTER}` writes one from VOC / YOLO / KAIST '
                'boxes (docs/user_guides/det_seg_datasets.md).')
        prefix = OrderedDict(data_prefix
                             or detect_layout(data_root, backend_args))
        check_modality_names('PairedDetDataset', prefix)
        self.modalities = tuple(prefix)
        self.ann_stats: dict = {}
        with pipeline_scope():
            super().__init__(
                data_root=data_root,
                data_prefix=dict(prefix),
                backend_args=backend_args,
                **kwargs)
        self._metainfo['modalities'] = self.modalities

    def load_data_list(self) -> List[dict]:
        """Read and check the json, the classes and the image files: one
        data-info per json image (``img_path`` per modality, ``stem``,
        ``img_id``, ``width``, ``height``, ``ann_path``, ``instances``)."""
        path = self.ann_file
        try:
            data = json.loads(
                fileio.get_text(path, backend_args=self.backend_args))
            check_coco(data, path)
        except FileNotFoundError:
            raise FileNotFoundError(
                f'PairedDetDataset: annotation file {path!r} not found; '
                f'`python {CONVERTER}` writes it from VOC / YOLO / KAIST '
                f'boxes. {data_hint(path)}') from None
        except ValueError as err:  # json.JSONDecodeError included
            raise ValueError(f'PairedDetDataset: {path!r}: {err}') from None
        coco = self.COCOAPI()  # mmdet's pycocotools wrapper
        coco.dataset = data
        coco.createIndex()
        self.cats = {c['id']: c['name'] for c in data['categories']}
        classes = self._metainfo.get('classes') or tuple(
            self.cats[c] for c in sorted(self.cats))
        self.cat_ids = []
        for name in classes:
            ids = [c for c, n in self.cats.items() if n == name]
            if len(ids) != 1:
                what = f'names categories {ids}' if ids else 'is no category'
                raise ValueError(
                    f'PairedDetDataset: class {name!r} {what} of {path!r} '
                    f'(its categories: {self.cats}).')
            self.cat_ids += ids
        self.cat2label = {c: i for i, c in enumerate(self.cat_ids)}
        self.cat_img_map = coco.catToImgs
        self._metainfo['classes'] = tuple(classes)
        self.ann_stats = dict(unmapped=Counter(), degenerate=[], clipped=[])
        data_list = [
            self.parse_data_info(
                dict(raw_img_info=dict(img, img_id=img['id']),
                     raw_ann_info=coco.imgToAnns[img['id']]))
            for img in data['images']
        ]
        missing = [
            p for info in data_list for p in info['img_path'].values()
            if not fileio.exists(p, backend_args=self.backend_args)
        ]
        if missing:
            raise FileNotFoundError(
                f'PairedDetDataset: {len(missing)} image file(s) of {path!r} '
                '(its file_name in each folder of data_prefix '
                f'{dict(self.data_prefix)}) do not exist. '
                f'{data_hint(missing[0])}\n' + listing(missing))
        stats, logger = self.ann_stats, MMLogger.get_current_instance()
        for key, what in (('clipped', 'clipped to the image'),
                          ('degenerate', 'dropped: empty or outside it')):
            if stats[key]:
                logger.warning(
                    f'PairedDetDataset: {len(stats[key])} box(es) of {path!r} '
                    f'{what} (x1, y1, x2, y2):\n' + listing(stats[key]))
            stats[key] = len(stats[key])
        flags = [i['ignore_flag'] for d in data_list for i in d['instances']]
        stats.update(unmapped=dict(stats['unmapped']), filtered=0,
                     num_samples=len(data_list), num_boxes=len(flags),
                     num_ignored=sum(flags))
        logger.info(
            f'PairedDetDataset: {len(data_list)} samples, {len(flags)} boxes '
            f'({sum(flags)} ignored) of {classes} from {path!r}; boxes of '
            f'other categories left out: {stats["unmapped"]}.')
        return data_list

    def parse_data_info(self, raw_data_info: dict) -> dict:
        """One data-info from a json image and its annotations: boxes as
        ``[x1, y1, x2, y2]`` clipped to the image, empty ones and those of
        other categories left out (counted)."""
        img, stats = raw_data_info['raw_img_info'], self.ann_stats
        w, h, name = img['width'], img['height'], img['file_name']
        stem = osp.splitext(osp.basename(name))[0]
        instances = []
        for ann in raw_data_info['raw_ann_info']:
            cat, (x, y, bw, bh) = ann['category_id'], ann['bbox']
            box = [x, y, x + bw, y + bh]
            inside = [max(x, 0), max(y, 0), min(x + bw, w), min(y + bh, h)]
            where = f'{stem!r} (annotation id={ann["id"]}): {box}'
            if cat not in self.cat2label:
                stats['unmapped'][self.cats[cat]] += 1
            elif inside[2] <= inside[0] or inside[3] <= inside[1]:
                stats['degenerate'].append(where)
            else:
                if inside != box:
                    stats['clipped'].append(f'{where} -> {inside}')
                flag = bool(ann.get('iscrowd') or ann.get('ignore'))
                instances.append(
                    dict(bbox=inside, bbox_label=self.cat2label[cat],
                         ignore_flag=int(flag)))
                if ann.get('segmentation'):  # for LoadPairedAnnotations
                    instances[-1]['mask'] = ann['segmentation']
        return dict(
            img_path={m: osp.join(self.data_prefix[m], name)
                      for m in self.modalities},
            stem=stem, modalities=self.modalities, img_id=img['img_id'],
            width=w, height=h, ann_path=self.ann_file, instances=instances)

    def filter_data(self) -> List[dict]:
        """mmdet's ``filter_cfg`` (not in ``test_mode``), logged."""
        kept = super().filter_data()
        dropped = self.ann_stats['filtered'] = len(self.data_list) - len(kept)
        what = f'PairedDetDataset: filter_cfg {self.filter_cfg} drops'
        if not kept:
            raise ValueError(f'{what} every sample of {self.ann_file!r}.')
        if dropped:
            MMLogger.get_current_instance().info(
                f'{what} {dropped} sample(s); {len(kept)} left.')
        return kept
