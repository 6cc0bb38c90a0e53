"""Loading of the detection / segmentation ground truth of paired samples."""
import io
from typing import Optional

import numpy as np
from mmcv.transforms import BaseTransform
from mmengine import fileio
from PIL import Image, UnidentifiedImageError

from mmfusenas.registry import TRANSFORMS
from .formatting import attr_repr


@TRANSFORMS.register_module()
class LoadPairedAnnotations(BaseTransform):
    """Load boxes, instance masks and / or a semantic label map of a paired
    sample as numpy arrays.

    Boxes from ``instances``: ``gt_bboxes`` (``float32 (N, 4)``),
    ``gt_ignore_flags``, ``gt_bboxes_labels``; ``gt_masks`` ``uint8 (H, W,
    N)`` from the COCO ``mask`` of each instance; ``gt_seg_map`` from
    ``seg_map_path`` (PIL) through ``reduce_zero_label`` and ``label_map``
    as mmseg, labels checked against ``num_classes`` / ``ignore_index``.

    Args:
        with_bbox (bool): load boxes and ignore flags. Defaults to True.
        with_label (bool): load box labels. Defaults to True.
        with_seg (bool): load the label map. Defaults to False.
        with_mask (bool): load instance masks. Defaults to False.
        backend_args (dict, optional): :mod:`mmengine.fileio` arguments.
    """

    def __init__(self,
                 with_bbox: bool = True,
                 with_label: bool = True,
                 with_seg: bool = False,
                 with_mask: bool = False,
                 backend_args: Optional[dict] = None) -> None:
        if not (with_bbox or with_label or with_seg or with_mask):
            raise ValueError('LoadPairedAnnotations: with_bbox, with_label, '
                             'with_seg and with_mask are all False; nothing '
                             'to load.')
        self.with_bbox = with_bbox
        self.with_label = with_label
        self.with_seg = with_seg
        self.with_mask = with_mask
        self.backend_args = backend_args

    @staticmethod
    def _check_size(results: dict, shape: tuple, what: str) -> None:
        """Compare an annotation ``(H, W)`` with the loaded images."""
        ori = results.get('ori_shape')
        if ori is not None and tuple(ori[:2]) != tuple(shape):
            raise ValueError(
                f'LoadPairedAnnotations: {what} is {shape[0]}x{shape[1]} '
                f'(HxW) but the images {results.get("img_path")} are '
                f'{ori[0]}x{ori[1]}; expected annotations of the image size.')

    def _load_instances(self, results: dict) -> None:
        instances = results.get('instances')
        if instances is None:
            raise KeyError(
                'LoadPairedAnnotations: results has no "instances" for '
                f'sample {results.get("stem")!r}; with_bbox / with_label need '
                'a dataset that provides them (PairedDetDataset).')
        if 'width' in results and 'height' in results:
            self._check_size(
                results, (results['height'], results['width']),
                f'the annotation {results.get("ann_path")!r} (width/height)')
        if self.with_bbox:
            results['gt_bboxes'] = np.array(
                [inst['bbox'] for inst in instances],
                dtype=np.float32).reshape(-1, 4)
            results['gt_ignore_flags'] = np.array(
                [inst['ignore_flag'] for inst in instances], dtype=bool)
        if self.with_label:
            results['gt_bboxes_labels'] = np.array(
                [inst['bbox_label'] for inst in instances], dtype=np.int64)
        if self.with_mask:
            self._load_masks(results, instances)

    def _load_masks(self, results: dict, instances: list) -> None:
        if 'height' in results and 'width' in results:
            h, w = results['height'], results['width']
        elif results.get('ori_shape') is not None:
            h, w = results['ori_shape'][:2]
        else:
            raise KeyError(
                'LoadPairedAnnotations: with_mask needs the image size '
                '("height" / "width" from the dataset, or "ori_shape" from '
                f'LoadPairedImages) for sample {results.get("stem")!r}.')
        masks = np.zeros((h, w, len(instances)), np.uint8)
        for i, inst in enumerate(instances):
            if inst.get('mask') is None:
                raise KeyError(
                    f'LoadPairedAnnotations: instance {i} of sample '
                    f'{results.get("stem")!r} ({results.get("ann_path")!r}) '
                    'has no mask; with_mask needs COCO annotations with a '
                    '"segmentation" (polygons or RLE) for every instance.')
            masks[..., i] = decode_coco_mask(
                inst['mask'], h, w,
                f'instance {i} of {results.get("ann_path")!r}')
        results['gt_masks'] = masks
        seg_fields = results.setdefault('seg_fields', [])
        if 'gt_masks' not in seg_fields:
            seg_fields.append('gt_masks')

    def _read_seg(self, path: str) -> np.ndarray:
        """Read a label file as ``uint8 (H, W)`` raw values."""
        try:
            content = fileio.get(path, backend_args=self.backend_args)
        except FileNotFoundError:
            raise FileNotFoundError(
                f'LoadPairedAnnotations: label map {path!r} does not '
                'exist.') from None
        try:
            with Image.open(io.BytesIO(content)) as img:
                seg = np.asarray(img)
        except (UnidentifiedImageError, OSError) as err:
            raise ValueError(
                f'LoadPairedAnnotations: cannot decode label map {path!r} '
                f'({err}); expected an 8-bit single-channel image.') from err
        if seg.dtype == bool:  # 1-bit PNG
            seg = seg.astype(np.uint8)
        if seg.ndim == 3 and seg.shape[2] in (3, 4) and (
                seg[..., :3] == seg[..., :1]).all():
            seg = seg[..., 0]
        if seg.ndim != 2 or seg.dtype != np.uint8:
            raise ValueError(
                f'LoadPairedAnnotations: label map {path!r} is '
                f'{seg.dtype} with shape {seg.shape}; expected an 8-bit '
                'single-channel (or palette, or equal-channel) image.')
        return seg

    def _load_seg(self, results: dict) -> None:
        path = results.get('seg_map_path')
        if path is None:
            raise KeyError(
                'LoadPairedAnnotations: results has no "seg_map_path" for '
                f'sample {results.get("stem")!r}; with_seg needs a dataset '
                'that provides it (PairedSegDataset).')
        raw = self._read_seg(path)
        self._check_size(results, raw.shape, f'label map {path!r}')

        lut = np.arange(256, dtype=np.uint8)
        if results.get('reduce_zero_label', False):
            lut = np.where(lut == 0, 255, lut - 1).astype(np.uint8)
            lut[255] = 255
        for old, new in (results.get('label_map') or {}).items():
            lut[old] = new

        num_classes = results.get('num_classes')
        if num_classes is not None:
            ignore_index = results.get('ignore_index', 255)
            present = np.flatnonzero(np.bincount(raw.ravel(), minlength=256))
            labels = lut[present]
            bad = (labels >= num_classes) & (labels != ignore_index)
            if bad.any():
                raise ValueError(
                    f'LoadPairedAnnotations: label map {path!r} has labels '
                    f'{labels[bad].tolist()} (raw values '
                    f'{present[bad].tolist()}) outside [0, {num_classes}) '
                    f'that are not ignore_index {ignore_index}; check the '
                    'classes, reduce_zero_label and label_map.')
        results['gt_seg_map'] = lut[raw]
        seg_fields = results.setdefault('seg_fields', [])
        if 'gt_seg_map' not in seg_fields:
            seg_fields.append('gt_seg_map')

    def transform(self, results: dict) -> dict:
        if self.with_bbox or self.with_label:
            self._load_instances(results)
        elif self.with_mask:
            self._load_masks(results, results.get('instances') or [])
        if self.with_seg:
            self._load_seg(results)
        return results

    __repr__ = attr_repr


def decode_coco_mask(segm, height: int, width: int,
                     where: str = 'mask') -> np.ndarray:
    """A COCO ``segmentation`` (polygons, or RLE compressed or not) as a
    ``uint8 (height, width)`` 0/1 mask; ``where`` names it in errors."""
    from pycocotools import mask as mask_utils
    if isinstance(segm, list):
        polys = [p for p in segm if len(p) >= 6]
        if not polys or any(len(p) % 2 for p in polys):
            raise ValueError(
                f'LoadPairedAnnotations: {where} has polygons {segm!r:.80}; '
                'expected lists of >= 3 (x, y) points.')
        rle = mask_utils.merge(mask_utils.frPyObjects(polys, height, width))
    elif isinstance(segm, dict) and 'counts' in segm and 'size' in segm:
        if list(segm['size']) != [height, width]:
            raise ValueError(
                f'LoadPairedAnnotations: {where} has an RLE of size '
                f'{segm["size"]}, the image is {[height, width]} (h, w).')
        rle = segm
        if isinstance(segm['counts'], list):  # uncompressed
            rle = mask_utils.frPyObjects(segm, height, width)
        elif isinstance(segm['counts'], str):
            rle = dict(segm, counts=segm['counts'].encode())
    else:
        raise ValueError(
            f'LoadPairedAnnotations: {where} has segmentation {segm!r:.80}; '
            'expected COCO polygons or RLE.')
    return mask_utils.decode(rle).astype(np.uint8)
