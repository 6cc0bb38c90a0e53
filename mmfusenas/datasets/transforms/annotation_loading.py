"""Loading of the detection / segmentation ground truth of paired samples."""
import os.path as osp

import numpy as np
from mmcv.transforms import BaseTransform
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
    """

    def __init__(self,
                 with_bbox: bool = True,
                 with_label: bool = True,
                 with_seg: bool = False) -> None:
        if not (with_bbox or with_label or with_seg):
            raise ValueError('LoadPairedAnnotations: with_bbox, with_label '
                             'and with_seg are all False; nothing to load.')
        self.with_bbox = with_bbox
        self.with_label = with_label
        self.with_seg = with_seg

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

    @staticmethod
    def _read_seg(path: str) -> np.ndarray:
        """Read a label file as ``uint8 (H, W)`` raw values."""
        if not osp.isfile(path):
            raise FileNotFoundError(
                f'LoadPairedAnnotations: label map {path!r} does not exist.')
        try:
            with Image.open(path) as img:
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
        if self.with_seg:
            self._load_seg(results)
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(with_bbox={self.with_bbox}, '
                f'with_label={self.with_label}, with_seg={self.with_seg})')
