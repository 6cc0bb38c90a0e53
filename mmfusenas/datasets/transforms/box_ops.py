"""Move ``gt_bboxes`` (``float32 (N, 4)``, mmdet's continuous pixel frame)
with the paired geometric transforms; no-ops without boxes."""
from typing import Optional, Tuple

import numpy as np

#: per-instance arrays filtered with ``gt_bboxes`` by a crop
INSTANCE_KEYS = ('gt_bboxes_labels', 'gt_ignore_flags')


def _get_boxes(results: dict, transform: str) -> Optional[np.ndarray]:
    """``results['gt_bboxes']`` checked to be an ``(N, 4)`` array, or None."""
    boxes = results.get('gt_bboxes')
    if boxes is None:
        return None
    if not isinstance(boxes, np.ndarray) or boxes.ndim != 2 or \
            boxes.shape[1] != 4:
        raise TypeError(
            f'{transform}: results["gt_bboxes"] must be an (N, 4) numpy '
            f'array of (x1, y1, x2, y2), got {type(boxes).__name__}'
            f'{getattr(boxes, "shape", "")} for sample '
            f'{results.get("stem")!r}; load boxes with '
            'LoadPairedAnnotations (mmdet box types are made by the packer).')
    return boxes


def crop_boxes(results: dict, crop_bbox: Tuple[int, int, int, int],
               transform: str) -> None:
    """Shift the boxes into the window ``crop_bbox`` (``x1, y1, x2, y2``),
    clip them and drop the empty ones with their :data:`INSTANCE_KEYS`
    entries and ``gt_masks`` channels, counted in ``num_dropped_boxes``."""
    boxes = _get_boxes(results, transform)
    if boxes is None:
        return
    x1, y1, x2, y2 = crop_bbox
    limits = np.array([x2 - x1, y2 - y1, x2 - x1, y2 - y1], np.float32)
    shifted = boxes - np.array([x1, y1, x1, y1], np.float32)
    clipped = np.clip(shifted, 0, limits)
    keep = (clipped[:, 2] > clipped[:, 0]) & (clipped[:, 3] > clipped[:, 1])
    for key in INSTANCE_KEYS:
        if key in results:
            if len(results[key]) != len(boxes):
                raise ValueError(
                    f'{transform}: results[{key!r}] has {len(results[key])} '
                    f'entries but gt_bboxes has {len(boxes)} for sample '
                    f'{results.get("stem")!r}; expected one per box.')
            results[key] = results[key][keep]
    masks = results.get('gt_masks')
    if masks is not None:  # (H, W, N): one channel per box
        if masks.ndim != 3 or masks.shape[2] != len(boxes):
            raise ValueError(
                f'{transform}: results["gt_masks"] has shape {masks.shape} '
                f'but gt_bboxes has {len(boxes)} boxes for sample '
                f'{results.get("stem")!r}; expected (H, W, N).')
        results['gt_masks'] = np.ascontiguousarray(masks[..., keep])
    results['gt_bboxes'] = np.ascontiguousarray(clipped[keep],
                                                dtype=np.float32)
    results['num_dropped_boxes'] = int(
        results.get('num_dropped_boxes', 0) + np.count_nonzero(~keep))


def flip_boxes(results: dict, shape: Tuple[int, int], direction: str,
               transform: str) -> None:
    """Flip the boxes of an ``(H, W)`` image like ``mmcv.imflip``."""
    boxes = _get_boxes(results, transform)
    if boxes is None:
        return
    h, w = shape
    flipped = boxes.copy()
    if direction in ('horizontal', 'diagonal'):
        flipped[:, 0::2] = w - boxes[:, 2::-2]
    if direction in ('vertical', 'diagonal'):
        flipped[:, 1::2] = h - boxes[:, 3::-2]
    results['gt_bboxes'] = flipped


def rot90_boxes(results: dict, shape: Tuple[int, int], k: int,
                transform: str) -> None:
    """Rotate the boxes of an ``(H, W)`` image like ``np.rot90(arr, k,
    axes=(0, 1))``."""
    boxes = _get_boxes(results, transform)
    if boxes is None:
        return
    h, w = shape
    for _ in range(k % 4):
        x1, y1, x2, y2 = boxes.T
        boxes = np.stack([y1, w - x2, y2, w - x1], axis=1)
        h, w = w, h
    results['gt_bboxes'] = np.ascontiguousarray(boxes, dtype=np.float32)


def rescale_boxes(results: dict, scale_factor: Tuple[float, float],
                  transform: str) -> None:
    """Scale the boxes by ``(w_factor, h_factor)`` (no clipping)."""
    boxes = _get_boxes(results, transform)
    if boxes is None:
        return
    fw, fh = scale_factor
    results['gt_bboxes'] = (boxes * np.array([fw, fh, fw, fh],
                                             np.float32)).astype(np.float32)
