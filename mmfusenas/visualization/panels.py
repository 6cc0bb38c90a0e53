"""Side-by-side panels of paired sources, fused images, boxes and masks."""
from typing import Dict, List, Optional, Sequence

import cv2
import numpy as np
import torch

from mmfusenas.utils.fileio import to_uint8

#: colours (BGR) of boxes / mask classes, cycled
PALETTE = np.array([[60, 20, 220], [0, 200, 0], [255, 128, 0], [0, 200, 255],
                    [200, 0, 200], [255, 255, 0], [128, 0, 255],
                    [0, 128, 128]], np.uint8)


def to_bgr(img) -> np.ndarray:
    """``(C, H, W)`` tensor (uint8, or float in [0, 1]) / ``(H, W[, C])``
    array, grey or RGB -> ``(H, W, 3)`` BGR ``uint8``."""
    if isinstance(img, torch.Tensor):
        arr = img.detach().cpu()
        if arr.is_floating_point():
            arr = to_uint8(arr, 'round')
        arr = arr.to(torch.uint8).numpy()
        if arr.ndim == 3:
            arr = arr.transpose(1, 2, 0)
            if arr.shape[2] == 3:
                arr = arr[..., ::-1]  # RGB -> BGR
    else:
        arr = np.asarray(img)
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[..., 0]
    if arr.ndim == 2:
        arr = cv2.cvtColor(arr, cv2.COLOR_GRAY2BGR)
    return np.ascontiguousarray(arr)


def draw_boxes(img: np.ndarray, boxes, labels=None,
               class_names: Optional[Sequence[str]] = None,
               scores=None, thickness: int = 1) -> np.ndarray:
    """Boxes ``(N, 4)`` x1 y1 x2 y2 (pixels) with class names / scores."""
    out = img.copy()
    boxes = np.asarray(getattr(boxes, 'tensor', boxes), float).reshape(-1, 4)
    labels = np.zeros(len(boxes), int) if labels is None else \
        np.asarray(labels).astype(int)
    for i, (x1, y1, x2, y2) in enumerate(boxes.round().astype(int)):
        color = tuple(int(c) for c in PALETTE[labels[i] % len(PALETTE)])
        cv2.rectangle(out, (x1, y1), (x2, y2), color, thickness)
        text = class_names[labels[i]] if class_names and \
            labels[i] < len(class_names) else str(labels[i])
        if scores is not None:
            text += f' {float(scores[i]):.2f}'
        cv2.putText(out, text, (x1, max(y1 - 2, 8)),
                    cv2.FONT_HERSHEY_SIMPLEX, 0.3, color, 1, cv2.LINE_AA)
    return out


def draw_mask(img: np.ndarray, mask, alpha: float = 0.45,
              ignore_index: int = 255) -> np.ndarray:
    """Overlay a label map ``(H, W)`` (class k -> ``PALETTE[k]``)."""
    mask = np.asarray(getattr(mask, 'data', mask)).squeeze()
    mask = mask.cpu().numpy() if isinstance(mask, torch.Tensor) else mask
    colour = PALETTE[mask.astype(int) % len(PALETTE)]
    keep = (mask != ignore_index)[..., None]
    blend = (img * (1 - alpha) + colour * alpha).astype(np.uint8)
    return np.where(keep, blend, img)


def titled(img: np.ndarray, title: str) -> np.ndarray:
    """The image with a 14-pixel title bar on top."""
    bar = np.full((14, img.shape[1], 3), 255, np.uint8)
    cv2.putText(bar, title, (2, 11), cv2.FONT_HERSHEY_SIMPLEX, 0.35,
                (0, 0, 0), 1, cv2.LINE_AA)
    return np.concatenate([bar, img], 0)


def hstack(panels: List[np.ndarray], gap: int = 4) -> np.ndarray:
    """Panels side by side (padded to the tallest), white gaps."""
    height = max(p.shape[0] for p in panels)
    row = []
    for i, p in enumerate(panels):
        if p.shape[0] < height:
            p = np.concatenate(
                [p, np.full((height - p.shape[0], ) + p.shape[1:], 255,
                            np.uint8)], 0)
        row.append(p)
        if i + 1 < len(panels):
            row.append(np.full((height, gap, 3), 255, np.uint8))
    return np.concatenate(row, 1)


def sample_panels(images: Dict[str, object],
                  sample=None,
                  class_names: Optional[Sequence[str]] = None,
                  score_thr: float = 0.3) -> np.ndarray:
    """One row: every image with the sample's boxes / masks (ground truth on
    the sources, predictions on images named ``pred*``).

    Args:
        images (dict): title -> image (tensor or array, grey or RGB).
        sample: a data sample with ``gt_*`` / ``pred_*`` instances or masks.
        class_names (Sequence[str], optional): names of the labels.
        score_thr (float): predictions below are not drawn.
    """
    panels = []
    for title, img in images.items():
        bgr = to_bgr(img)
        is_pred = title.startswith('pred')
        if sample is not None:
            inst_key = 'pred_instances' if is_pred else 'gt_instances'
            seg_key = 'pred_sem_seg' if is_pred else 'gt_sem_seg'
            if seg_key in sample:
                bgr = draw_mask(bgr, sample.get(seg_key).data)
            inst = sample.get(inst_key)
            if inst is not None and 'bboxes' in inst:
                keep = slice(None)
                scores = inst.get('scores') if is_pred else None
                if scores is not None:
                    keep = (scores >= score_thr).cpu().numpy()
                    scores = scores.cpu().numpy()[keep]
                bgr = draw_boxes(bgr, np.asarray(
                    getattr(inst.bboxes, 'tensor', inst.bboxes).cpu())[keep],
                    np.asarray(inst.labels.cpu())[keep], class_names, scores)
        panels.append(titled(bgr, title))
    return hstack(panels)


#: prediction fields holding an image, in order of preference
PRED_IMAGE_FIELDS = ('pred_fused_rgb', 'pred_fused', 'pred_img')


def source_images(inputs) -> Dict[str, object]:
    """Packed inputs of one sample -> title -> image: our dict of
    modalities, or the BGR ``(3, H, W)`` tensor of mmdet / mmseg packers."""
    if isinstance(inputs, dict):
        return dict(inputs)
    arr = inputs.detach().cpu().numpy().transpose(1, 2, 0)  # BGR already
    return {'image': np.ascontiguousarray(arr)}


def prediction_row(pred, class_names: Optional[Sequence[str]] = None,
                   score_thr: float = 0.3) -> np.ndarray:
    """The fused / enhanced image of a prediction with its boxes or masks
    (mapped back from the original size).
    """
    field = next((f for f in PRED_IMAGE_FIELDS if f in pred), None)
    if field is None:
        raise KeyError(
            f'the prediction carries no image ({PRED_IMAGE_FIELDS})')
    scale = pred.metainfo.get('scale_factor')
    if 'pred_instances' in pred and scale is not None:
        pred = pred.clone()
        inst = pred.pred_instances
        inst.bboxes = inst.bboxes * inst.bboxes.new_tensor(
            [scale[0], scale[1]] * 2)
    return sample_panels({f'pred ({field})': pred.get(field)}, pred,
                         class_names, score_thr=score_thr)
