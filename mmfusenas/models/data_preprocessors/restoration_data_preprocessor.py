"""Batch degraded images, their ground truth, blur kernels and guidance
targets (for :class:`~mmfusenas.models.HQSRestorer`)."""
from typing import Sequence

import torch
import torch.nn.functional as F
from mmengine.model import BaseDataPreprocessor
from torch import Tensor

from mmfusenas.registry import MODELS


def center_pad_kernels(kernels: Sequence[Tensor]) -> Tensor:
    """Zero-pad kernels to a common size keeping their centre.

    The centre ``(⌊kh/2⌋, ⌊kw/2⌋)`` of every kernel lands on the centre of
    the common ``(Kh, Kw)`` grid, so :func:`psf2otf` of the padded kernel
    equals that of the original.

    Returns:
        Tensor: ``(N, Kh, Kw)``.
    """
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

    Per sample the dataset yields ``inputs`` (``(C, H, W)`` float in ``[0,
    1]`` or ``uint8``) and a data sample with optional ``gt_img`` (same
    shape), ``kernel`` (``(kh, kw)``), ``noise_sigma`` (float, ``[0, 1]``
    units) and ``guidance_gt`` (``(G, H, W)`` map). All images of a batch
    must share their size (the synthetic crops and the Levin images do).

    Returns ``dict(inputs=(N, C, H, W), data_samples=...)`` with, on the
    samples, ``gt_img`` as float; the batched ``kernels`` (centre-padded to
    a common size) and ``guidance_gt`` (``(N, G, H, W)``, or ``(N, 1, 1,
    1)`` constant σ maps from ``noise_sigma``) are put in the returned dict
    under ``degradation`` / ``guidance_gt`` when every sample has them.
    """

    def forward(self, data: dict, training: bool = False) -> dict:
        data = self.cast_data(data)
        inputs = data['inputs']
        samples = data.get('data_samples') or []
        if isinstance(inputs, Tensor) and inputs.dim() == 4:
            inputs = list(inputs)
        shapes = {tuple(x.shape) for x in inputs}
        if len(shapes) != 1:
            raise ValueError(f'RestorationDataPreprocessor: the images of a '
                             f'batch must share their shape, got {shapes}')
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
