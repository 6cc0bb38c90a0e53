"""Coarse-to-fine correlation registration network (PWC-Net style).

``(fixed, moving) -> flow`` in pixels, ``warped(p) = moving(p + flow(p))``
(:mod:`.spatial_transformer`). See ``docs/methods/registration.md``.
"""
from typing import List, Optional

import torch
import torch.nn as nn
import torch.nn.functional as F

from mmfusenas.models.losses.registration_losses import image_gradients
from mmfusenas.models.ops import conv_lrelu
from mmfusenas.models.utils.colorspace import luminance
from mmfusenas.registry import MODELS
from .spatial_transformer import (bound_flow, check_flow_bound,
                                  check_pair, warp_image)


def standardise(x: torch.Tensor, eps: float = 1e-2) -> torch.Tensor:
    """Per-sample, per-channel zero mean and unit standard deviation
    (``eps`` keeps a flat image finite)."""
    mean = x.mean((2, 3), keepdim=True)
    std = x.std((2, 3), keepdim=True) if x[0, 0].numel() > 1 else \
        torch.zeros_like(mean)
    return (x - mean) / (std + eps)


def gradient_magnitude(x: torch.Tensor) -> torch.Tensor:
    """``|∇x|`` by central differences (replicated border), same shape."""
    gx, gy = image_gradients(x)
    return (gx.pow(2) + gy.pow(2) + 1e-12).sqrt()


def orientation_features(x: torch.Tensor, eps: float) -> torch.Tensor:
    """Contrast-free structure image of ``(N, 1, H, W)`` -> ``(N, 3, H, W)``.

    With ``g = grad x`` and ``m = |g|^2``: ``[(g_x^2 - g_y^2), 2 g_x g_y, m] /
    (m + eps^2)`` -- the doubled-angle orientation, invariant to the contrast
    sign, so correlating two of them gives an NGF-like cost.
    """
    gx, gy = image_gradients(x)
    m = gx.pow(2) + gy.pow(2)
    den = m + eps**2
    return torch.cat([(gx.pow(2) - gy.pow(2)) / den, 2 * gx * gy / den,
                      m / den], 1)


def local_correlation(fixed: torch.Tensor, moving: torch.Tensor,
                      radius: int) -> torch.Tensor:
    """Cost volume ``out[:, k](p) = <fixed(p), moving(p + d_k)>``.

    The ``(2r + 1)^2`` offsets run ``dy`` outer, ``dx`` inner; zero outside
    the image. Returns ``(N, (2r + 1)^2, H, W)``.
    """
    if fixed.shape != moving.shape or fixed.dim() != 4:
        raise ValueError('local_correlation: two (N, C, H, W) tensors of one '
                         f'shape, got {tuple(fixed.shape)} and '
                         f'{tuple(moving.shape)}')
    if radius < 0:
        raise ValueError(f'local_correlation: radius >= 0, got {radius}')
    h, w = fixed.shape[-2:]
    padded = F.pad(moving, (radius, radius, radius, radius))
    size = 2 * radius + 1
    out = [(fixed * padded[..., dy:dy + h, dx:dx + w]).sum(1)
           for dy in range(size) for dx in range(size)]
    return torch.stack(out, 1)


def ngf_cost(fixed: torch.Tensor, moving: torch.Tensor, radius: int,
             eps: float) -> torch.Tensor:
    """Parameter-free NGF cost volume (Haber & Modersitzki 2006).

    Squared cosine of the normalised gradient fields of ``fixed`` and shifted
    ``moving`` for every offset of :func:`local_correlation`, averaged over
    3x3. Returns ``(N, (2r + 1)^2, H, W)``.
    """

    def field(x):
        gx, gy = image_gradients(x)
        g = torch.cat([gx, gy], 1)
        return g / (g.pow(2).sum(1, keepdim=True) + eps**2).sqrt()

    dot = local_correlation(field(fixed), field(moving), radius)
    return F.avg_pool2d(dot.pow(2), 3, stride=1, padding=1,
                        count_include_pad=False)


def resize_flow(flow: torch.Tensor, size) -> torch.Tensor:
    """Resample a pixel field to ``size = (H', W')``, rescaling its x / y
    displacements by ``W' / W`` / ``H' / H``."""
    h, w = flow.shape[-2:]
    if (h, w) == tuple(size):
        return flow
    out = F.interpolate(
        flow, size=tuple(size), mode='bilinear', align_corners=False)
    scale = flow.new_tensor([size[1] / w, size[0] / h]).view(1, 2, 1, 1)
    return out * scale


@MODELS.register_module()
class PyramidCorrRegNet(nn.Module):
    """Coarse-to-fine, correlation-based displacement predictor.

    ``forward(fixed, moving) -> flow (N, 2, H, W)`` in pixels; the images are
    reduced to BT.601 luminance. A (siamese) encoder gives features at strides
    ``2 .. 2^num_levels``; from coarse to fine, the moving features are warped
    by the current flow, correlated with the fixed ones, and a decoder (whose
    last conv starts at zero) adds a residual flow of ``flow_scale`` pixels per
    unit output. The stride-2 flow is up-sampled bilinearly.

    Args:
        channels (int): encoder width of the first level. Defaults to 16.
        num_levels (int): pyramid levels. Defaults to 3.
        radius (int): correlation radius per level. Defaults to 3.
        decoder_channels (int): width of the flow decoders. Defaults to 32.
        ngf_eps (float, optional): edge scale of the NGF cost volume
            (:func:`ngf_cost`) each decoder also reads; None: not read.
            Defaults to 0.1.
        flow_scale (float): full-resolution pixels per unit of decoder
            output. Defaults to 4.0.
        max_displacement (float, optional): bound ``max tanh(flow / max)``.
            Defaults to None.
        inputs (str): encoder input, ``'intensity'`` (standardised luminance
            and gradient magnitude), ``'orientation'``
            (:func:`orientation_features`) or ``'both'``. Defaults to
            'intensity'.
        input_eps (float): edge scale of ``'orientation'``. Defaults to 0.1.
        shared_encoder (bool): one encoder for both images. Defaults to True.
        flow_bound (float, optional): bound ``B tanh(flow / B)`` of the field
            at every level; the decoders then read ``flow / B``
            (docs/methods/registration.md#stability-of-the-field). Defaults to
            None.
    """

    #: encoder input channels of each ``inputs`` choice
    input_channels = dict(intensity=2, orientation=3, both=5)
    input_types = tuple(input_channels)

    def __init__(self,
                 channels: int = 16,
                 num_levels: int = 3,
                 radius: int = 3,
                 decoder_channels: int = 32,
                 ngf_eps: Optional[float] = 0.1,
                 flow_scale: float = 4.0,
                 max_displacement: Optional[float] = None,
                 inputs: str = 'intensity',
                 input_eps: float = 0.1,
                 shared_encoder: bool = True,
                 flow_bound: Optional[float] = None) -> None:
        super().__init__()
        self.flow_bound = check_flow_bound(flow_bound, 'PyramidCorrRegNet',
                                           'flow_bound')
        if inputs not in self.input_types:
            raise ValueError(f'PyramidCorrRegNet: inputs must be one of '
                             f'{self.input_types}, got {inputs!r}')
        self.inputs = inputs
        self.input_eps = float(input_eps)
        self.shared_encoder = bool(shared_encoder)
        self.num_levels = num_levels
        self.radius = radius
        self.ngf_eps = ngf_eps
        self.flow_scale = float(flow_scale)
        self.max_displacement = check_flow_bound(
            max_displacement, 'PyramidCorrRegNet')
        widths = [self.input_channels[inputs]] + [
            channels * 2**min(l, 2) for l in range(num_levels)
        ]

        def encoder() -> nn.ModuleList:
            return nn.ModuleList(
                nn.Sequential(
                    conv_lrelu(widths[l], widths[l + 1], 2, 0.1),
                    conv_lrelu(widths[l + 1], widths[l + 1], 1, 0.1))
                for l in range(num_levels))

        self.encoder = encoder()
        # the moving image's own encoder (pseudo-siamese)
        self.moving_encoder = None if shared_encoder else encoder()
        corr = (2 * radius + 1)**2 * (1 if ngf_eps is None else 2)
        self.decoders = nn.ModuleList()
        for l in range(num_levels):
            head = nn.Conv2d(decoder_channels, 2, 3, padding=1)
            nn.init.zeros_(head.weight)
            nn.init.zeros_(head.bias)
            self.decoders.append(
                nn.Sequential(
                    conv_lrelu(corr + widths[l + 1] + 2, decoder_channels, 1,
                               0.1),
                    conv_lrelu(decoder_channels, decoder_channels, 1, 0.1),
                    head))

    def encoder_inputs(self, image: torch.Tensor) -> torch.Tensor:
        """The representation of one image the encoder reads
        (``inputs``)."""
        y = standardise(luminance(image))
        parts = []
        if self.inputs in ('intensity', 'both'):
            parts += [y, standardise(gradient_magnitude(y))]
        if self.inputs in ('orientation', 'both'):
            parts.append(orientation_features(y, self.input_eps))
        return torch.cat(parts, 1)

    def features(self,
                 image: torch.Tensor,
                 moving: bool = False) -> List[torch.Tensor]:
        """Encoder features at strides ``2 .. 2^num_levels`` of one image."""
        x = self.encoder_inputs(image)
        encoder = self.moving_encoder if moving and \
            self.moving_encoder is not None else self.encoder
        feats = []
        for level in encoder:
            x = level(x)
            feats.append(x)
        return feats

    def forward(self, fixed: torch.Tensor,
                moving: torch.Tensor) -> torch.Tensor:
        check_pair(fixed, moving, 'PyramidCorrRegNet')
        n = fixed.shape[0]
        images = torch.cat([luminance(fixed), luminance(moving)])
        if self.moving_encoder is None:
            # one encoder pass over both images (shared weights)
            feats = self.features(images)
        else:
            feats = [
                torch.cat(pair) for pair in zip(
                    self.features(images[:n]),
                    self.features(images[n:], moving=True))
            ]
        images = standardise(images)
        flow = None
        for level in reversed(range(self.num_levels)):
            f_fix, f_mov = feats[level][:n], feats[level][n:]
            size = f_fix.shape[-2:]
            if flow is None:
                flow = f_fix.new_zeros(n, 2, *size)
            else:
                flow = resize_flow(flow, size)
                f_mov = warp_image(f_mov, flow, padding_mode='zeros')
            cost = local_correlation(
                F.normalize(f_fix, dim=1), F.normalize(f_mov, dim=1),
                self.radius)
            if self.ngf_eps is not None:
                pooled = F.adaptive_avg_pool2d(images, size)
                i_mov = pooled[n:]
                if level < self.num_levels - 1:
                    i_mov = warp_image(i_mov, flow)
                cost = torch.cat([
                    cost,
                    ngf_cost(pooled[:n], i_mov, self.radius, self.ngf_eps)
                ], 1)
            # the decoders predict in full-resolution pixels: a weight step
            # moves the field equally at every level (in level pixels, a
            # coarse step would be amplified 2^level times on up-sampling)
            stride = fixed.shape[-1] / size[-1]
            if self.flow_bound is None:
                flow = flow + self.decoders[level](torch.cat(
                    [cost, f_fix, flow], 1)) * (self.flow_scale / stride)
            else:
                bound = self.flow_bound / stride
                flow = flow + self.decoders[level](torch.cat(
                    [cost, f_fix, flow / bound], 1)) * (self.flow_scale /
                                                         stride)
                flow = bound_flow(flow, bound)
        flow = resize_flow(flow, fixed.shape[-2:])
        return bound_flow(flow, self.max_displacement)
