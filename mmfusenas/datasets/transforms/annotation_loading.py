"""Loading of the detection / segmentation ground truth of paired samples."""
import io
from typing import Optional

import numpy as np
from mmcv.transforms import BaseTransform
from mmengine import fileio
from PIL import Image, UnidentifiedImageError

from mmfusenas.registry import TRANSFORMS


@TRANSFORMS.register_module()
class LoadPairedAnnotations(BaseTransform):
    """Load boxes and / or a semantic label map for a paired sample.

    Boxes come from the ``instances`` that
    :class:`~mmfusenas.datasets.PairedDetDataset` puts into each data-info
    (the mmdet convention); the label map is read from ``seg_map_path`` set
    by :class:`~mmfusenas.datasets.PairedSegDataset` (the mmseg convention).
    The outputs are numpy arrays, which the paired geometric transforms keep
    aligned with every modality; the packers make tensors / mmdet box types.

    Place it after :class:`LoadPairedImages` in training pipelines (it then
    checks the annotation size against the loaded images). For mmdet's
    ``VOCMetric`` and mmseg's ``IoUMetric`` the test pipeline may load the
    annotations after :class:`PairedResize`, as mmdet / mmseg do, so that
    they stay in the original image frame like the rescaled predictions.

    Required keys:

    - instances (list[dict]): with ``with_bbox`` / ``with_label``; each
      ``dict(bbox=[x1, y1, x2, y2], bbox_label=int, ignore_flag=0|1)``.
    - seg_map_path (str): with ``with_seg``.
    - reduce_zero_label (bool), label_map (dict[int, int] | None),
      ignore_index (int), num_classes (int): optional, with ``with_seg``
      (set by the dataset; default False / None / 255 / no range check).
    - width, height (int), ori_shape (tuple): optional; when both are
      present the annotation size is checked against the images.

    Added keys:

    - gt_bboxes (np.ndarray): ``float32 (N, 4)`` ``(x1, y1, x2, y2)`` pixels
      (with ``with_bbox``).
    - gt_ignore_flags (np.ndarray): ``bool (N, )`` (with ``with_bbox``).
    - gt_bboxes_labels (np.ndarray): ``int64 (N, )`` (with ``with_label``).
    - gt_seg_map (np.ndarray): ``uint8 (H, W)`` labels in
      ``[0, num_classes)`` or ``ignore_index`` (with ``with_seg``); its key
      is appended to ``seg_fields``.
    - gt_masks (np.ndarray): ``uint8 (H, W, N)`` instance masks, channel
      ``i`` = instance ``i`` (1 inside, 0 outside), decoded from each
      instance's ``mask`` (COCO ``segmentation``: polygons, uncompressed or
      compressed RLE) at the annotation's ``height`` x ``width`` (with
      ``with_mask``). Its key is appended to ``seg_fields``, so the paired
      geometric transforms move it like a label map (nearest-neighbour
      resize; a crop drops the channels of the boxes it drops, padding
      writes 255, which the packer reads as outside); the packer makes
      mmdet ``BitmapMasks``.

    The label map is read with PIL, so palette PNGs give their indices (as
    mmseg's default ``imdecode_backend='pillow'``) and 1-bit PNGs give 0/1.
    Its raw values go through one 256-entry lookup table:
    ``reduce_zero_label`` maps 0 to 255 and ``v`` to ``v - 1`` (255 stays
    255), as mmseg; then ``label_map`` (raw file value -> label) overrides
    the listed raw values, e.g. ``{255: 1}`` for 0/255 binary masks.

    Errors: a missing ``instances`` / ``seg_map_path`` (KeyError); a missing
    or undecodable label file, a label file that is not 8-bit single-channel
    (a 3-channel file is accepted only when its channels are equal), labels
    outside ``[0, num_classes)`` other than ``ignore_index`` after mapping,
    and a size differing from the images (ValueError / FileNotFoundError
    naming the files).

    Args:
        with_bbox (bool): Load ``gt_bboxes`` and ``gt_ignore_flags``.
            Defaults to True.
        with_label (bool): Load ``gt_bboxes_labels``. Defaults to True.
        with_seg (bool): Load ``gt_seg_map``. Defaults to False.
        with_mask (bool): Load ``gt_masks`` (instance masks; Mask R-CNN and
            other mmdet detectors with a mask head). Defaults to False.
        backend_args (dict, optional): :mod:`mmengine.fileio` backend
            arguments for the label maps (object storage). Defaults to None
            (the backend is inferred from the path).
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
        """Load the requested annotations.

        Args:
            results (dict): Result dict from the dataset / previous
                transforms.

        Returns:
            dict: ``results`` with the keys added as described above.
        """
        if self.with_bbox or self.with_label:
            self._load_instances(results)
        elif self.with_mask:
            self._load_masks(results, results.get('instances') or [])
        if self.with_seg:
            self._load_seg(results)
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(with_bbox={self.with_bbox}, '
                f'with_label={self.with_label}, with_seg={self.with_seg}, '
                f'with_mask={self.with_mask}, '
                f'backend_args={self.backend_args!r})')


def decode_coco_mask(segm, height: int, width: int,
                     where: str = 'mask') -> np.ndarray:
    """A COCO ``segmentation`` as a ``uint8 (height, width)`` 0/1 mask.

    Args:
        segm (list | dict): polygons ``[[x0, y0, x1, y1, ...], ...]``, an
            uncompressed RLE ``{'size': [h, w], 'counts': [int, ...]}`` or
            a compressed one (``counts`` a string / bytes).
        height (int): image height.
        width (int): image width.
        where (str): what the mask belongs to, for messages.

    Returns:
        np.ndarray: the mask.
    """
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
