"""The proxy (hyper-network) and the base denoisers of unrolled HQS
(official ``noise_est``, ``ffd_model(bn=False)``, ``small_ffd`` and the
IRCNN ``denoise_model``).
"""
from typing import Optional, Sequence

import torch
import torch.nn as nn
from torch import Tensor

from mmfusenas.registry import MODELS

__all__ = ['NoiseLevelProxy', 'DilatedDenoiser', 'DENOISER_DILATIONS']

#: dilation presets of the official ``denoise_net.py``
DENOISER_DILATIONS = dict(
    ffd=(1, 2, 3, 4, 4, 4, 3, 2, 1),
    small_ffd=(1, 2, 3, 3, 2, 1),
    ircnn=(1, 2, 3, 4, 3, 2, 1))


def _glorot_init(module: nn.Module) -> None:
    """Keras defaults: Glorot-uniform weights, zero bias."""
    for m in module.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.xavier_uniform_(m.weight)
            if m.bias is not None:
                nn.init.zeros_(m.bias)


@MODELS.register_module()
class NoiseLevelProxy(nn.Module):
    """Proxy: image -> per-pixel guidance map (official ``noise_est``).

    Args:
        in_channels (int): input channels. Defaults to 1.
        out_channels (int): channels of the guidance map. Defaults to 1.
        width (int): hidden width. Defaults to 64.
        num_convs (int): number of 3x3 convs (>= 2). Defaults to 4.
        out_act (str): ``'relu'`` (official), ``'softplus'``, ``'sigmoid'``
            or ``'none'``. Defaults to 'relu'.
        init (str): ``'glorot'`` (Keras) or ``'torch'``. Defaults to 'glorot'.
    """

    def __init__(self,
                 in_channels: int = 1,
                 out_channels: int = 1,
                 width: int = 64,
                 num_convs: int = 4,
                 out_act: str = 'relu',
                 init: str = 'glorot') -> None:
        super().__init__()
        if num_convs < 2:
            raise ValueError(f'NoiseLevelProxy: num_convs must be >= 2, got '
                             f'{num_convs}')
        acts = dict(relu=nn.ReLU, softplus=nn.Softplus, sigmoid=nn.Sigmoid,
                    none=nn.Identity)
        if out_act not in acts:
            raise ValueError(f'NoiseLevelProxy: out_act must be one of '
                             f'{sorted(acts)}, got {out_act!r}')
        chans = [in_channels] + [width] * (num_convs - 1) + [out_channels]
        layers = []
        for i in range(num_convs):
            layers.append(nn.Conv2d(chans[i], chans[i + 1], 3, padding=1))
            last = i == num_convs - 1
            layers.append(acts[out_act]() if last else nn.ReLU(inplace=True))
        self.body = nn.Sequential(*layers)
        _apply_init(self, init)

    def forward(self, x: Tensor) -> Tensor:
        return self.body(x)


def _apply_init(module: nn.Module, init: str) -> None:
    if init == 'glorot':
        _glorot_init(module)
    elif init != 'torch':
        raise ValueError(f"init must be 'glorot' or 'torch', got {init!r}")


@MODELS.register_module()
class DilatedDenoiser(nn.Module):
    """Residual dilated-conv denoiser: ``x - n`` (or ``n``) from ``[x,
    guidance]``.

    Args:
        in_channels (int): channels of the image. Defaults to 1.
        guidance_channels (int): channels of the guidance map (0: none).
            Defaults to 1.
        dilations (str | Sequence[int]): a preset of
            :data:`DENOISER_DILATIONS` or one dilation per conv. Defaults to
            'ffd'.
        width (int): hidden width. Defaults to 64.
        residual (bool): return ``x - n`` (True) or ``n``. Defaults to True.
        init (str): ``'glorot'`` or ``'torch'``. Defaults to 'glorot'.
    """

    def __init__(self,
                 in_channels: int = 1,
                 guidance_channels: int = 1,
                 dilations: str | Sequence[int] = 'ffd',
                 width: int = 64,
                 residual: bool = True,
                 init: str = 'glorot') -> None:
        super().__init__()
        if isinstance(dilations, str):
            if dilations not in DENOISER_DILATIONS:
                raise ValueError(
                    f'DilatedDenoiser: unknown dilation preset {dilations!r};'
                    f' presets: {sorted(DENOISER_DILATIONS)}')
            dilations = DENOISER_DILATIONS[dilations]
        dilations = [int(d) for d in dilations]
        if len(dilations) < 2 or min(dilations) < 1:
            raise ValueError('DilatedDenoiser: needs >= 2 dilations >= 1, got '
                             f'{dilations}')
        self.in_channels = in_channels
        self.guidance_channels = guidance_channels
        self.residual = residual
        chans = [in_channels + guidance_channels] + \
            [width] * (len(dilations) - 1) + [in_channels]
        layers = []
        for i, d in enumerate(dilations):
            layers.append(
                nn.Conv2d(chans[i], chans[i + 1], 3, padding=d, dilation=d))
            if i < len(dilations) - 1:
                layers.append(nn.ReLU(inplace=True))
        self.body = nn.Sequential(*layers)
        _apply_init(self, init)

    def forward(self, x: Tensor, guidance: Optional[Tensor] = None) -> Tensor:
        if self.guidance_channels:
            if guidance is None:
                raise ValueError('DilatedDenoiser: this denoiser takes a '
                                 f'{self.guidance_channels}-channel guidance '
                                 'map, got None')
            inp = torch.cat([x, guidance.to(x.dtype)], dim=1)
        else:
            inp = x
        noise = self.body(inp)
        return x - noise if self.residual else noise
