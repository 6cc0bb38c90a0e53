"""Batch degraded images, ground truth, blur kernels and guidance targets."""
from typing import Sequence

import torch
import torch.nn.functional as F
from mmengine.model import BaseDataPreprocessor
from torch import Tensor

from mmfusenas.registry import MODELS


def center_pad_kernels(kernels: Sequence[Tensor]) -> Tensor:
    """Zero-pad kernels to a common ``(N, Kh, Kw)`` size keeping their
    centre."""
    kh = max(k.shape[-2] for k in kernels)
    kw = max(k.shape[-1] for k in kernels)
    out = []
    for k in kernels:
        top = kh // 2 - k.shape[-2] // 2
        left = kw // 2 - k.shape[-1] // 2
        out.append(
            F.pad(k, (left, kw - k.shape[-1] - left, top,
                      kh - k.shape[-2] - top)))
    return torch.stack(out)


@MODELS.register_module()
class RestorationDataPreprocessor(BaseDataPreprocessor):
    """Batch degraded images, ground truth, kernels and guidance targets.

    Returns ``dict(inputs=(N, C, H, W), data_samples=...)`` plus
    ``degradation=dict(kernel=...)`` (centre-padded kernels) and
    ``guidance_gt`` when every sample has them; all images of a batch share
    their size.
    """

    def forward(self, data: dict, training: bool = False) -> dict:
        data = self.cast_data(data)
        inputs = data['inputs']
        samples = data.get('data_samples') or []
        if isinstance(inputs, Tensor) and inputs.dim() == 4:
            inputs = list(inputs)
        batch = torch.stack([
            x.float() / 255.0 if x.dtype == torch.uint8 else x.float()
            for x in inputs
        ])
        out = dict(inputs=batch, data_samples=data.get('data_samples'))
        for s in samples:
            gt = s.get('gt_img')
            if gt is not None and gt.dtype == torch.uint8:
                s.gt_img = gt.float() / 255.0
        kernels = [s.get('kernel') for s in samples]
        if samples and all(k is not None for k in kernels):
            out['degradation'] = dict(kernel=center_pad_kernels(
                [torch.as_tensor(k, dtype=batch.dtype) for k in kernels]).to(
                    batch.device))
        maps = [s.get('guidance_gt') for s in samples]
        sigmas = [s.get('noise_sigma') for s in samples]
        if samples and all(m is not None for m in maps):
            out['guidance_gt'] = torch.stack(
                [torch.as_tensor(m, dtype=batch.dtype) for m in maps]).to(
                    batch.device)
        elif samples and all(s is not None for s in sigmas):
            out['guidance_gt'] = torch.tensor(
                [float(s) for s in sigmas], dtype=batch.dtype,
                device=batch.device).view(-1, 1, 1, 1)
        return out


__all__ = ['RestorationDataPreprocessor', 'center_pad_kernels']
