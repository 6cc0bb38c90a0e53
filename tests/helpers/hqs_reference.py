"""The official hyper-guidance network (TVC 2023), rebuilt functionally.

The authors' code (github.com/moriyaya/Proxy-based-Bilevel-Hyper-Trainging,
of Gao et al., "Learning Adaptive Hyper-guidance via Proxy-based Bilevel
Optimization for Image Enhancement", The Visual Computer 39(4), 2023) is
Keras / TensorFlow 1 and ships no weights. :func:`official_hqs_forward`
rewrites its ``meta_model.py`` ``meta_stack_divide(5, rho)`` with
``torch.nn.functional`` on the state dict of a toolbox
:class:`~mmfusenas.models.restoration.UnrolledHQSNet` (no MMFuseNAS module
is used): per stage the FFT deconvolution (:func:`official_psf2otf`), the
``noise_est`` proxy and the dilated ``ffd_model`` denoiser
(:data:`FFD_DILATIONS`). The latency benchmark
(``benchmarks/bench_inference.py``) and the deployment tests compare the
toolbox's network with it.
"""
from typing import Dict, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor

#: dilations of the official ``ffd_model``
FFD_DILATIONS = (1, 2, 3, 4, 4, 4, 3, 2, 1)


def official_psf2otf(kernel: Tensor, h: int, w: int) -> Tensor:
    """``(N, kh, kw)`` kernels -> ``(N, H, W)`` complex OTFs."""
    kh, kw = kernel.shape[-2:]
    pad = kernel.new_zeros(kernel.shape[0], h, w)
    pad[:, :kh, :kw] = kernel
    pad = torch.roll(pad, shifts=(-(kh // 2), -(kw // 2)), dims=(1, 2))
    return torch.fft.fft2(pad)


def official_hqs_forward(sd: Dict[str, Tensor],
                         y: Tensor,
                         kernel: Tensor,
                         num_stages: int = 5,
                         num_proxy_convs: int = 4,
                         dilations: Sequence[int] = FFD_DILATIONS) -> Tensor:
    """The official forward pass, final estimate ``x_K``.

    Args:
        sd (dict): weights in the toolbox layout (``data_steps.<t>.rho``,
            ``proxies.<t>.body.<2i>.{weight,bias}``,
            ``denoisers.<t>.body.<2i>.{weight,bias}``).
        y (Tensor): ``(N, 1, H, W)`` observation (edge-tapered).
        kernel (Tensor): ``(N, kh, kw)`` blur kernels.
        num_stages (int): K. Defaults to 5.
        num_proxy_convs (int): convs of ``noise_est``. Defaults to 4.
        dilations (Sequence[int]): of the denoiser. Defaults to the
            official ``ffd_model``.

    Returns:
        Tensor: ``(N, 1, H, W)``.
    """
    h, w = y.shape[-2:]
    x = y
    for t in range(num_stages):
        # every official deconvolution layer computes its OTF and F(y)
        otf = official_psf2otf(kernel, h, w)[:, None]
        num = torch.conj(otf) * torch.fft.fft2(y)
        den = otf.abs()**2
        rho = sd[f'data_steps.{t}.rho']
        x_tilde = torch.fft.ifft2((num + rho * torch.fft.fft2(x)) /
                                  (den + rho)).real
        s = x_tilde
        for i in range(num_proxy_convs):
            p = f'proxies.{t}.body.{2 * i}'
            s = F.relu(F.conv2d(s, sd[f'{p}.weight'], sd[f'{p}.bias'],
                                padding=1))
        z = torch.cat([x_tilde, s], 1)
        for i, d in enumerate(dilations):
            p = f'denoisers.{t}.body.{2 * i}'
            z = F.conv2d(z, sd[f'{p}.weight'], sd[f'{p}.bias'], padding=d,
                         dilation=d)
            if i < len(dilations) - 1:
                z = F.relu(z)
        x = x_tilde - z
    return x
