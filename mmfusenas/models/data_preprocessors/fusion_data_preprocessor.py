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
    ``[0, 1]``, reduced to its BT.601 luminance, padded at the bottom / right
    and stacked. The chroma (Cb, Cr) of the samples' ``color_modality`` is
    stored on each sample as ``chroma`` or, with ``append_chroma``, enters
    the batch as its two last channels (the neutral 0.5 for a sample
    without a colour source and in the padding). Samples get ``sources``
    (the unpadded luminances) and ``pad_shape`` / ``batch_input_shape``;
    modalities in ``keep_rgb`` enter the batch as RGB (``input_channels``
    metainfo).

    Args:
        pad_size_divisor (int): pad H and W to a multiple of this. Defaults
            to 1.
        pad_value (float): value of the padded pixels. Defaults to 0.
        keep_rgb (Sequence[str]): colour modalities kept as RGB. Defaults to
            ().
        append_chroma (bool): the chroma as the batch's two last channels
            instead of on the samples (a compound model's ``chroma``
            source). Defaults to False.
        non_blocking (bool): non-blocking host-to-device copies.
    """

    def __init__(self,
                 pad_size_divisor: int = 1,
                 pad_value: float = 0.0,
                 keep_rgb: Sequence[str] = (),
                 append_chroma: bool = False,
                 non_blocking: bool = False) -> None:
        super().__init__(non_blocking=non_blocking)
        if isinstance(keep_rgb, str):
            keep_rgb = (keep_rgb, )
        self.keep_rgb = tuple(keep_rgb)
        if append_chroma and self.keep_rgb:
            raise ValueError('FusionDataPreprocessor: append_chroma and '
                             'keep_rgb exclude each other (a kept RGB '
                             'modality carries its chroma)')
        self.append_chroma = append_chroma
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
        chroma: List[Optional[torch.Tensor]] = [None] * num
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
                    ycbcr = self._ycbcr(img, sample, mod)
                    lumas[i].append(ycbcr[:1])
                    batch_imgs[i].append(ycbcr[:1])
                    if sample.get('color_modality') == mod and \
                            len(ycbcr) == 3:
                        chroma[i] = ycbcr[1:]
        stacked = [torch.cat(per_mod, dim=0) for per_mod in lumas]
        for sample, src in zip(data_samples, stacked):
            sample.sources = src
        batch = stack_batch([torch.cat(m, dim=0) for m in batch_imgs],
                            self.pad_size_divisor, self.pad_value)
        if self.append_chroma:
            chroma = [
                src.new_full((2, ) + tuple(src.shape[-2:]), 0.5)
                if c is None else c for c, src in zip(chroma, stacked)
            ]
            batch = torch.cat(
                [batch, stack_batch(chroma, self.pad_size_divisor, 0.5)], 1)
        else:
            for sample, c in zip(data_samples, chroma):
                if c is not None:
                    sample.chroma = c
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
    def _ycbcr(img: torch.Tensor, sample, mod: str) -> torch.Tensor:
        """The luminance ``(1, H, W)`` of a grey image, Y, Cb, Cr
        ``(3, H, W)`` of an RGB one, in ``[0, 1]``."""
        if img.dim() != 3:  # a (1, ...) image would be batched silently
            raise ValueError(
                f"modality '{mod}' of sample '{sample.get('stem')}' must be "
                f'(C, H, W), got {tuple(img.shape)}')
        img = img.float() / 255.0
        return img if img.shape[0] == 1 else rgb_to_ycbcr(img)


def crop_to_shape(x: torch.Tensor, shape: Optional[Sequence[int]]
                  ) -> torch.Tensor:
    """Crop the trailing (H, W) of ``x`` to ``shape`` (undo bottom/right
    pad)."""
    if shape is None:
        return x
    return x[..., :shape[0], :shape[1]]
