"""Data sample passed between datasets, models, metrics and hooks."""
from mmengine.structures import BaseDataElement


class FusionDataSample(BaseDataElement):
    """Per-image annotations and predictions of multi-modality fusion.

    Metainfo (set by the pipeline): ``sample_idx``, ``stem`` (the name shared
    by the modality files), ``img_path`` (dict modality -> file), ``ori_shape``
    / ``img_shape`` (H, W), ``modalities`` (tuple of modality names, the order
    in which the data preprocessor stacks them), ``color_modality`` (the
    modality whose chroma is re-attached to the fused luminance, or ``None``
    when every source is grey), ``pad_shape`` after batching.

    Data fields (tensors, ``float`` in ``[0, 1]``, shape ``(C, H, W)``):

    - ``sources``: the luminance / grey level of every modality stacked in
      ``modalities`` order, ``(M, H, W)``; set by the data preprocessor and
      used by fusion metrics.
    - ``chroma``: ``(2, H, W)`` Cb, Cr of ``color_modality`` (absent for grey
      inputs).
    - ``pred_fused``: ``(1, H, W)`` fused luminance (or grey image).
    - ``pred_fused_rgb``: ``(3, H, W)`` fused colour image, present when a
      colour source exists.
    - ``gt_flow``: ``(2, H, W)`` the displacement field (pixels, x / y) that
      registers a synthetically misaligned modality back
      (:class:`~mmfusenas.datasets.transforms.RandomElasticAffineWarp`);
      ``pred_flow`` / ``pred_warped``: a registration model's field and
      registered image (:class:`~mmfusenas.models.ImageRegistrator`).
    """
