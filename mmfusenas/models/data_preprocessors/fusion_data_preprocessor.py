"""Batch the modalities of paired images into one tensor."""
from typing import List, Optional, Sequence

import torch
from mmengine.model import BaseDataPreprocessor, stack_batch

from mmfusenas.models.utils.colorspace import rgb_to_ycbcr
from mmfusenas.registry import MODELS


@MODELS.register_module()
class FusionDataPreprocessor(BaseDataPreprocessor):
    """Turn packed paired images into ``(N, M, H, W)`` float inputs.

    Each modality (in the samples' ``modalities`` order) is scaled to
    ``[0, 1]``, reduced to its BT.601 luminance (the chroma of a colour source
    is stored as ``chroma``), padded at the bottom / right and stacked. Samples
    get ``sources`` (unpadded) and ``pad_shape`` / ``batch_input_shape``;
    modalities in ``keep_rgb`` enter the batch as RGB (``input_channels``
    metainfo).

    Args:
        pad_size_divisor (int): pad H and W to a multiple of this. Defaults
            to 1.
        pad_value (float): value of the padded pixels. Defaults to 0.
        keep_rgb (Sequence[str]): colour modalities kept as RGB. Defaults to
            ().
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
        batch = stack_batch([torch.cat(m, dim=0) for m in batch_imgs],
                            self.pad_size_divisor, self.pad_value)
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
        if img.dim() != 3:  # a (1, ...) image would be batched silently
            raise ValueError(
                f"modality '{mod}' of sample '{sample.get('stem')}' must be "
                f'(C, H, W), got {tuple(img.shape)}')
        img = img.float() / 255.0
        if img.shape[0] == 1:
            return img
        ycbcr = rgb_to_ycbcr(img)
        if sample.get('color_modality') == mod:
            sample.chroma = ycbcr[1:]
        return ycbcr[:1]


def crop_to_shape(x: torch.Tensor, shape: Optional[Sequence[int]]
                  ) -> torch.Tensor:
    """Crop the trailing (H, W) of ``x`` to ``shape`` (undo bottom/right
    pad)."""
    if shape is None:
        return x
    return x[..., :shape[0], :shape[1]]
