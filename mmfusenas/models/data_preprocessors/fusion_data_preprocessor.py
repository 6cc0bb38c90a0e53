"""Batch the modalities of paired images into one tensor."""
from typing import List, Optional, Sequence

import torch
import torch.nn.functional as F
from mmengine.model import BaseDataPreprocessor

from mmfusenas.registry import MODELS
from mmfusenas.utils.colorspace import rgb_to_ycbcr


@MODELS.register_module()
class FusionDataPreprocessor(BaseDataPreprocessor):
    """Turn packed paired images into ``(N, M, H, W)`` float inputs.

    ``PackFusionInputs`` yields, per sample, ``inputs = {modality: uint8
    (C, H, W)}`` with ``C`` 1 (grey) or 3 (RGB). For every modality, in the
    order given by the samples' ``modalities`` metainfo, this module

    1. moves the images to the model's device and scales them to ``[0, 1]``;
    2. converts colour images to YCbCr (BT.601 full range) and keeps Y — the
       fusion convention: the luminance is fused, the chroma of
       ``color_modality`` is stored on the data sample (``chroma``) and
       re-attached to the fused image by the model;
    3. pads every image at the bottom / right to the batch's largest size,
       rounded up to ``pad_size_divisor``, and stacks the modalities along
       the channel axis.

    Each data sample receives ``sources`` (``(M, H, W)``, unpadded) for the
    metrics, ``chroma`` when a colour source exists, and ``pad_shape`` /
    ``batch_input_shape`` metainfo.

    With ``keep_rgb`` naming colour modalities, those enter the batch as
    their 3 RGB channels instead of Y (``sources`` still holds their Y, and
    no ``chroma`` is stored for them): what a chain of pre-modules needs to
    enhance the colour image before fusing it
    (:class:`~mmfusenas.models.PreModuleChain`). Every sample then gets the
    ``input_channels`` metainfo, ``[(modality, channels), ...]`` in batch
    order.

    Args:
        pad_size_divisor (int): pad H and W to a multiple of this (e.g. the
            network's down-sampling factor). Defaults to 1.
        pad_value (float): value of the padded pixels, in ``[0, 1]`` units.
            Defaults to 0.
        keep_rgb (Sequence[str]): colour modalities kept as RGB in the
            batch (see above). Defaults to () (every colour image gives Y).
        non_blocking (bool): non-blocking host-to-device copies.
    """

    def __init__(self,
                 pad_size_divisor: int = 1,
                 pad_value: float = 0.0,
                 keep_rgb: Sequence[str] = (),
                 non_blocking: bool = False) -> None:
        super().__init__(non_blocking=non_blocking)
        if isinstance(keep_rgb, str):
            keep_rgb = (keep_rgb, )
        self.keep_rgb = tuple(keep_rgb)
        if pad_size_divisor < 1:
            raise ValueError(
                f'pad_size_divisor must be >= 1, got {pad_size_divisor}')
        self.pad_size_divisor = pad_size_divisor
        self.pad_value = pad_value

    def forward(self, data: dict, training: bool = False) -> dict:
        data = self.cast_data(data)
        inputs = data['inputs']
        data_samples = data.get('data_samples')
        if isinstance(inputs, torch.Tensor):  # already (N, M, H, W)
            return dict(inputs=inputs.float(), data_samples=data_samples)
        if not data_samples:
            raise ValueError('FusionDataPreprocessor needs data_samples with '
                             "'modalities' metainfo (use PackFusionInputs)")
        modalities = self._modalities(data_samples)
        num = len(data_samples)
        unknown = sorted(set(self.keep_rgb) - set(modalities))
        if unknown:
            raise KeyError(f'keep_rgb names modalities {unknown} that the '
                           f'samples do not have (they have {modalities})')
        lumas: List[List[torch.Tensor]] = [[] for _ in range(num)]
        batch_imgs: List[List[torch.Tensor]] = [[] for _ in range(num)]
        for mod in modalities:
            if mod not in inputs:
                raise KeyError(f"modality '{mod}' missing from the inputs "
                               f'(got {sorted(inputs)})')
            for i, (img, sample) in enumerate(zip(inputs[mod],
                                                  data_samples)):
                if mod in self.keep_rgb:
                    if img.dim() != 3 or img.shape[0] != 3:
                        raise ValueError(
                            f"keep_rgb modality '{mod}' of sample "
                            f"'{sample.get('stem')}' must be an RGB image "
                            f'(3, H, W), got {tuple(img.shape)}')
                    rgb = img.float() / 255.0
                    lumas[i].append(rgb_to_ycbcr(rgb)[:1])
                    batch_imgs[i].append(rgb)
                else:
                    luma = self._luminance(img, sample, mod)
                    lumas[i].append(luma)
                    batch_imgs[i].append(luma)
        stacked = [torch.cat(per_mod, dim=0) for per_mod in lumas]
        for sample, src in zip(data_samples, stacked):
            sample.sources = src
        batch = self._pad_and_stack(
            [torch.cat(per_mod, dim=0) for per_mod in batch_imgs])
        pad_shape = tuple(batch.shape[-2:])
        meta = dict(pad_shape=pad_shape, batch_input_shape=pad_shape)
        if self.keep_rgb:
            meta['input_channels'] = [
                (mod, 3 if mod in self.keep_rgb else 1) for mod in modalities
            ]
        for sample in data_samples:
            sample.set_metainfo(meta)
        return dict(inputs=batch, data_samples=data_samples)

    @staticmethod
    def _modalities(data_samples: Sequence) -> Sequence[str]:
        modalities = tuple(data_samples[0].modalities)
        for sample in data_samples[1:]:
            if tuple(sample.modalities) != modalities:
                raise ValueError(
                    'all samples of a batch must share the same modalities; '
                    f'got {modalities} and {tuple(sample.modalities)} '
                    f"(sample '{sample.get('stem')}')")
        return modalities

    @staticmethod
    def _luminance(img: torch.Tensor, sample, mod: str) -> torch.Tensor:
        if img.dim() != 3 or img.shape[0] not in (1, 3):
            raise ValueError(
                f"modality '{mod}' of sample '{sample.get('stem')}' must be "
                f'(C, H, W) with C in (1, 3), got {tuple(img.shape)}')
        img = img.float() / 255.0
        if img.shape[0] == 1:
            return img
        ycbcr = rgb_to_ycbcr(img)
        if sample.get('color_modality') == mod:
            sample.chroma = ycbcr[1:]
        return ycbcr[:1]

    def _pad_and_stack(self, imgs: List[torch.Tensor]) -> torch.Tensor:
        div = self.pad_size_divisor
        max_h = max(img.shape[-2] for img in imgs)
        max_w = max(img.shape[-1] for img in imgs)
        target_h = -(-max_h // div) * div
        target_w = -(-max_w // div) * div
        padded = [
            F.pad(img, (0, target_w - img.shape[-1], 0,
                        target_h - img.shape[-2]),
                  value=self.pad_value) for img in imgs
        ]
        return torch.stack(padded, dim=0)


def crop_to_shape(x: torch.Tensor, shape: Optional[Sequence[int]]
                  ) -> torch.Tensor:
    """Crop the trailing (H, W) of ``x`` to ``shape`` (undo bottom/right pad)."""
    if shape is None:
        return x
    return x[..., :shape[0], :shape[1]]
