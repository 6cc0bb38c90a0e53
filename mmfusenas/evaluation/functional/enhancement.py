"""Full-reference quality metrics for low-light enhancement / restoration.

Images are ``(3, H, W)`` (or ``(C, H, W)`` / ``(H, W)``) arrays or tensors
with values in ``[0, 1]``.
"""
import os.path as osp
from typing import Optional

import numpy as np
import torch
import torch.nn as nn

from ._utils import ArrayLike, check_same_shape, to_numpy

__all__ = ['psnr', 'ssim_uint8', 'gt_mean_correct', 'LPIPS']


def _chw(x: ArrayLike, name: str) -> np.ndarray:
    x = to_numpy(x, name)
    if x.ndim == 2:
        x = x[None]
    if x.ndim != 3:
        raise ValueError(f'{name} must be (C, H, W) or (H, W); got shape '
                         f'{tuple(x.shape)}')
    return x


def psnr(pred: ArrayLike, gt: ArrayLike, mode: str = 'float') -> float:
    r"""PSNR in dB, :math:`10\log_{10}(L^2/MSE)` over all pixels/channels.

    Args:
        mode: ``'float'``: MSE of the ``[0, 1]`` images, :math:`L=1`;
            ``'uint8'``: both images first quantised as saved,
            ``round(255 x)`` clipped, :math:`L = 255`.
    """
    p, g = _chw(pred, 'pred'), _chw(gt, 'gt')
    check_same_shape(pred=p, gt=g)
    if mode == 'uint8':
        p = np.clip(np.round(p * 255), 0, 255)
        g = np.clip(np.round(g * 255), 0, 255)
        peak = 255.0
    elif mode == 'float':
        peak = 1.0
    else:
        raise ValueError(f"PSNR mode must be 'float' or 'uint8', got {mode!r}")
    mse = np.mean((p - g)**2)
    if mse == 0:
        return float('inf')
    return float(10 * np.log10(peak**2 / mse))


def ssim_uint8(pred: ArrayLike, gt: ArrayLike) -> float:
    r"""SSIM on the 8-bit images, per channel, averaged over channels.

    Both images are quantised (``round(255 x)``); 11x11 Gaussian window with
    :math:`\sigma=1.5`, :math:`C_1=(0.01\cdot255)^2`,
    :math:`C_2=(0.03\cdot255)^2`, mean over the 'valid' region (the
    convention of BasicSR / most low-light code):

    .. math:: SSIM = \frac{(2\mu_x\mu_y + C_1)(2\sigma_{xy}+C_2)}
              {(\mu_x^2+\mu_y^2+C_1)(\sigma_x^2+\sigma_y^2+C_2)}
    """
    from .fusion import ssim as _ssim
    p, g = _chw(pred, 'pred'), _chw(gt, 'gt')
    check_same_shape(pred=p, gt=g)
    p = np.clip(np.round(p * 255), 0, 255)
    g = np.clip(np.round(g * 255), 0, 255)
    return float(
        np.mean([_ssim(p[c], g[c], 'gaussian', 255.0)
                 for c in range(p.shape[0])]))


def gt_mean_correct(pred: ArrayLike, gt: ArrayLike) -> np.ndarray:
    r"""GT-mean correction used by LLFlow / Retinexformer style evaluation.

    Scales the prediction so that its mean gray level equals the ground
    truth's: :math:`\hat P = \mathrm{clip}(P\cdot\bar Y_{gt}/\bar Y_P,0,1)`,
    with :math:`Y` the BT.601 luma (for 3-channel inputs) or the image
    itself. Returns a float64 ``(C, H, W)`` array.
    """
    p, g = _chw(pred, 'pred'), _chw(gt, 'gt')
    check_same_shape(pred=p, gt=g)
    w = np.array([0.299, 0.587, 0.114])

    def luma(x):
        return np.tensordot(w, x, 1) if x.shape[0] == 3 else x.mean(0)

    mp = luma(p).mean()
    if mp == 0:
        return p
    return np.clip(p * (luma(g).mean() / mp), 0, 1)


class LPIPS(nn.Module):
    """LPIPS (Zhang et al. 2018), AlexNet variant, from local weights only.

    Nothing is downloaded. ``weights`` must be a local ``.pth`` file holding
    one state dict with both the AlexNet ``features.*`` parameters (as in
    torchvision's ``alexnet``) and the LPIPS linear heads ``lin0..lin4``
    (``linK.model.1.weight`` of shape ``(1, C_K, 1, 1)``, as in the
    ``lpips`` package's ``alex.pth``); merge the two files once, e.g.
    ``{**torchvision_alexnet_sd, **lpips_alex_sd}``.

    .. math:: d(x,y)=\\sum_k \\frac{1}{H_kW_k}\\sum_{h,w}\\|w_k\\odot
              (\\hat y^k_{hw}-\\hat x^k_{hw})\\|_2^2

    where :math:`\\hat x^k` are unit-normalised (over channels) features of
    layer :math:`k`. Inputs in ``[0, 1]`` are mapped to ``[-1, 1]``.
    """
    _CHANNELS = (64, 192, 384, 256, 256)

    def __init__(self, weights: Optional[str] = None) -> None:
        super().__init__()
        if weights is None:
            raise ValueError(
                'LPIPS needs a local weights file (weights=...): a state '
                'dict with AlexNet features.* and LPIPS lin0..lin4 '
                'parameters; nothing is downloaded')
        if not osp.isfile(weights):
            raise FileNotFoundError(f'LPIPS weights file not found: '
                                    f'{weights}')
        self.features = nn.Sequential(
            nn.Conv2d(3, 64, 11, 4, 2), nn.ReLU(True), nn.MaxPool2d(3, 2),
            nn.Conv2d(64, 192, 5, padding=2), nn.ReLU(True),
            nn.MaxPool2d(3, 2), nn.Conv2d(192, 384, 3, padding=1),
            nn.ReLU(True), nn.Conv2d(384, 256, 3, padding=1), nn.ReLU(True),
            nn.Conv2d(256, 256, 3, padding=1), nn.ReLU(True))
        self.lins = nn.ModuleList(
            [nn.Conv2d(c, 1, 1, bias=False) for c in self._CHANNELS])
        self.register_buffer(
            'shift',
            torch.tensor([-.030, -.088, -.188]).view(1, 3, 1, 1))
        self.register_buffer(
            'scale', torch.tensor([.458, .448, .450]).view(1, 3, 1, 1))
        from mmfusenas.utils.checkpoint import read_checkpoint  # mmengine
        sd = read_checkpoint(weights, 'LPIPS weights file')
        feat = {k[len('features.'):]: v
                for k, v in sd.items() if k.startswith('features.')}
        lins = {}
        for k, v in sd.items():
            if k.startswith('lin') and k.endswith('weight'):
                lins[f'{int(k[3])}.weight'] = v
        missing = [f'features.{k}' for k in self.features.state_dict()
                   if k not in feat] + [
                       f'lin{i}.model.1.weight' for i in range(5)
                       if f'{i}.weight' not in lins]
        if missing:
            raise KeyError(f'LPIPS weights file {weights} lacks {missing}')
        self.features.load_state_dict(feat)
        self.lins.load_state_dict(lins)
        self.eval()
        self._taps = (1, 4, 7, 9, 11)  # ReLU outputs relu1..relu5

    @torch.no_grad()
    def forward(self, pred: torch.Tensor, gt: torch.Tensor) -> torch.Tensor:
        """Distance per image for ``(N, 3, H, W)`` inputs in ``[0, 1]``."""
        if pred.dim() == 3:
            pred, gt = pred[None], gt[None]
        x = ((pred.float() * 2 - 1) - self.shift) / self.scale
        y = ((gt.float() * 2 - 1) - self.shift) / self.scale
        d = 0
        k = 0
        for i, layer in enumerate(self.features):
            x, y = layer(x), layer(y)
            if i in self._taps:
                nx = x / (x.pow(2).sum(1, keepdim=True).sqrt() + 1e-10)
                ny = y / (y.pow(2).sum(1, keepdim=True).sqrt() + 1e-10)
                d = d + self.lins[k]((nx - ny)**2).mean((2, 3))
                k += 1
        return d.flatten()
