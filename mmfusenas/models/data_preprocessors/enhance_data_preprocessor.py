"""Batch single low-light images (and their optional ground truth)."""
from typing import Optional, Sequence

import torch
from mmengine.model import BaseDataPreprocessor, stack_batch

from mmfusenas.registry import MODELS


def _stem(sample) -> Optional[str]:
    return None if sample is None else sample.get('stem')


def _to_unit(img: torch.Tensor, what: str, sample) -> torch.Tensor:
    """Check an RGB ``(3, H, W)`` tensor and scale ``uint8`` to ``[0, 1]``."""
    if img.dim() != 3 or img.shape[0] != 3 or min(img.shape[1:]) < 1:
        raise ValueError(
            f'{what} of sample {_stem(sample)!r} must be a non-empty RGB '
            f'(3, H, W) tensor, got {tuple(img.shape)}')
    if img.dtype == torch.uint8:
        # ToTensor of the official code: uint8 / 255 in float32
        return img.float() / 255.0
    return img.float()


@MODELS.register_module()
class EnhanceDataPreprocessor(BaseDataPreprocessor):
    """Turn packed low-light images into an ``(N, 3, H, W)`` float batch.

    ``uint8`` inputs and ``gt_img`` are scaled to ``[0, 1]``; inputs are
    padded at the bottom / right to the batch's largest size (rounded up to
    ``pad_size_divisor``) and stacked.

    Args:
        pad_size_divisor (int): pad H and W to a multiple of this.
            Defaults to 1.
        pad_value (float): value of the padded pixels. Defaults to 0.
        non_blocking (bool): non-blocking host-to-device copies. Defaults
            to False.
    """

    def __init__(self,
                 pad_size_divisor: int = 1,
                 pad_value: float = 0.0,
                 non_blocking: bool = False) -> None:
        super().__init__(non_blocking=non_blocking)
        if not isinstance(pad_size_divisor, int) or pad_size_divisor < 1:
            raise ValueError(f'pad_size_divisor must be an int >= 1, got '
                             f'{pad_size_divisor!r}')
        self.pad_size_divisor = pad_size_divisor
        self.pad_value = pad_value

    def forward(self, data: dict, training: bool = False) -> dict:
        """Scale, pad and stack a batch."""
        data = self.cast_data(data)
        inputs = data['inputs']
        data_samples = data.get('data_samples')
        if isinstance(inputs, torch.Tensor):
            inputs = list(inputs)
        samples: Sequence = data_samples or [None] * len(inputs)
        if len(samples) != len(inputs):
            raise ValueError(f'got {len(inputs)} inputs but {len(samples)} '
                             'data samples')
        imgs = [
            _to_unit(img, 'the input', sample)
            for img, sample in zip(inputs, samples)
        ]
        for sample in data_samples or []:
            gt = sample.get('gt_img')
            if gt is not None:
                sample.gt_img = _to_unit(gt, 'gt_img', sample)
        batch = stack_batch(imgs, self.pad_size_divisor, self.pad_value)
        pad_shape = tuple(batch.shape[-2:])
        for sample in data_samples or []:
            sample.set_metainfo(
                dict(pad_shape=pad_shape, batch_input_shape=pad_shape))
        return dict(inputs=batch, data_samples=data_samples)
