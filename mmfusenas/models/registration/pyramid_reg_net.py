"""A coarse-to-fine registration network with local correlation (cost
volumes): (fixed, moving) -> displacement field.

:class:`PyramidCorrRegNet` follows PWC-Net (Sun et al., CVPR 2018) and, for
registration, PDD-Net (Heinrich, MICCAI 2019) and LapIRN (Mok & Chung,
MICCAI 2020): a feature pyramid, a local correlation
(:func:`local_correlation`) of the fixed features with the warped moving
features at each level, and a decoder that predicts a residual flow,
coarse to fine. Across modalities the siamese encoder reads standardised
images and gradient magnitudes, and each decoder also reads a
parameter-free NGF cost volume (:func:`ngf_cost`). Output convention of
:mod:`.spatial_transformer` (pixels, ``warped(p) = moving(p + flow(p))``).
See ``docs/methods/tim.md``.
"""
from typing import List, Optional

import torch
import torch.nn as nn
import torch.nn.functional as F

from mmfusenas.models.losses.registration_losses import image_gradients
from mmfusenas.registry import MODELS
from mmfusenas.utils.colorspace import luminance
from .spatial_transformer import (bound_flow, check_flow_bound,
                                  check_pair, warp_image)


def _conv(cin: int, cout: int, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, stride=stride, padding=1),
        nn.LeakyReLU(0.1, inplace=True))


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
    """Contrast-free structure image: the doubled-angle orientation of the
    gradient and its normalised strength.

    With ``g = ∇x`` (central differences) and ``m = |g|^2``::

        out = [(g_x^2 - g_y^2) / (m + eps^2),
               2 g_x g_y / (m + eps^2),
               m / (m + eps^2)]

    The first two channels are ``w (cos 2θ, sin 2θ)`` with ``w = m / (m +
    eps^2)`` in ``[0, 1)``: invariant to the sign of the gradient (an edge
    whose contrast is inverted in the other modality gives the same
    vector) and to its magnitude above ``eps``. The dot product of two such
    vectors is ``w_a w_b cos 2Δθ`` -- the normalised-gradient-field (NGF)
    similarity up to an affine map (``cos^2 Δθ = (1 + cos 2Δθ) / 2``), so
    a correlation of these images is an NGF cost volume and a network that
    reads them starts from a representation shared by IR and VIS.

    Args:
        x (Tensor): ``(N, 1, H, W)`` image.
        eps (float): edge scale (in the units of ``x``'s gradients).

    Returns:
        Tensor: ``(N, 3, H, W)``.
    """
    gx, gy = image_gradients(x)
    m = gx.pow(2) + gy.pow(2)
    den = m + eps**2
    return torch.cat([(gx.pow(2) - gy.pow(2)) / den, 2 * gx * gy / den,
                      m / den], 1)


def local_correlation(fixed: torch.Tensor, moving: torch.Tensor,
                      radius: int) -> torch.Tensor:
    """Cost volume: ``out[:, k](p) = <fixed(p), moving(p + d_k)>`` for
    the ``(2r + 1)^2`` integer offsets ``d_k = (dx, dy)``, ``dy`` outer,
    ``dx`` inner (zero outside the image).

    Args:
        fixed (Tensor): ``(N, C, H, W)``.
        moving (Tensor): ``(N, C, H, W)``.
        radius (int): ``r >= 0``.

    Returns:
        Tensor: ``(N, (2r + 1)^2, H, W)``.
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
    """Parameter-free cross-modality cost volume: the squared cosine of the
    normalised gradient fields (NGF, Haber & Modersitzki 2006) of
    ``fixed`` and ``moving`` shifted by every offset of
    :func:`local_correlation`, averaged over a 3x3 window -- 1 where the
    edges coincide whatever their contrast sign, 0 where they cross or
    where one image is flat.

    Args:
        fixed (Tensor): ``(N, 1, H, W)`` image.
        moving (Tensor): ``(N, 1, H, W)`` image.
        radius (int): offsets ``-r .. r``.
        eps (float): edge scale of the normalisation.

    Returns:
        Tensor: ``(N, (2r + 1)^2, H, W)``.
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

    ``forward(fixed, moving) -> flow``: ``fixed`` ``(N, Cf, H, W)``,
    ``moving`` ``(N, Cm, H, W)`` (reduced to their BT.601 luminance, as
    :class:`DeformableRegNet`), ``flow`` ``(N, 2, H, W)`` in pixels.

    Architecture (see the module docstring): a shared encoder turns
    ``[standardise(y), standardise(|∇y|)]`` of each image into features at
    strides ``2, 4, ..., 2^num_levels`` (widths ``channels · 2^min(l - 1,
    2)``). From the coarsest level to stride 2: the moving features are
    warped by the up-sampled flow of the level below (zero at the coarsest),
    their cosine correlation with the fixed features over ``(2r + 1)^2``
    offsets (``r = radius``) is computed, and a decoder (three 3x3 convs,
    ``decoder_channels`` wide, reading the cost volume, the fixed features
    and the current flow) adds a residual flow, its output times
    ``flow_scale`` full-resolution pixels at every level (divided by the
    level's stride), so one weight step moves the field by the same amount
    at every level (in level pixels, a coarse step would be amplified
    ``2^level`` times on up-sampling); the last conv of every
    decoder starts at zero, so the network starts as the identity warp. The
    stride-2 flow is up-sampled bilinearly to full resolution. Capture
    range: about ``radius · 2^num_levels`` pixels at the coarsest level
    (24 px with the defaults), plus the residuals of the finer levels.
    Each decoder also reads the NGF cost volume of the standardised images
    at its level (``ngf_eps``).

    Args:
        channels (int): encoder width of the first level. Defaults to 16.
        num_levels (int): pyramid levels (strides ``2 .. 2^num_levels``).
            Defaults to 3.
        radius (int): correlation radius in pixels of each level. Defaults
            to 3.
        decoder_channels (int): width of the flow decoders. Defaults to 32.
        ngf_eps (float, optional): with a value, each decoder also reads
            the parameter-free NGF cost volume (:func:`ngf_cost`) of the
            standardised images pooled to its level (the moving one warped
            by the current flow), with this edge scale: a cross-modality
            matching signal the decoder can read from the first step,
            while the learned features still have to learn one. None: the
            learned correlation only. Defaults to 0.1.
        flow_scale (float): full-resolution pixels per unit of a decoder's
            output (the step of the field per weight step; with 1 the
            60-step synthetic test of tests/test_models/
            test_registration_learning.py only went from 2.27 to 2.02 px,
            with 4 it passes). Defaults to 4.0.
        max_displacement (float, optional): bound in pixels,
            ``max · tanh(flow / max)``. Defaults to None (unbounded).
        inputs (str): what the encoder reads of each image's luminance
            ``y`` (standardised per sample first). ``'intensity'``:
            ``[standardise(y), standardise(|∇y|)]`` (2 channels; the
            intensity channel is modality-specific). ``'orientation'``:
            :func:`orientation_features` of ``y`` at edge scale
            ``input_eps`` (3 channels, contrast-sign and magnitude free,
            shared by IR and VIS: what learned on real IR/VIS pairs, see
            docs/methods/tim.md). ``'both'``: the five channels. Defaults to
            ``'intensity'``.
        input_eps (float): edge scale of ``'orientation'`` (on the
            standardised luminance). Defaults to 0.1.
        shared_encoder (bool): one (siamese) encoder for both images; False
            gives the fixed and the moving image their own encoder (pseudo
            siamese: each modality may learn its own mapping to a common
            feature space). Defaults to True.
        flow_bound (float, optional): bound of the field at every level, in
            full-resolution pixels: after each residual the level's field
            is ``B tanh(flow / B)`` (``B = flow_bound`` in that level's
            pixels), and the decoders read the field divided by ``B``
            (in ``(-1, 1)``) instead of in pixels. Why: the decoders read
            the current field as an input, so a field that grows feeds a
            larger input to the next step -- a loop in which Adam's
            unit-size weight steps change the output in proportion to the
            field; past the pyramid's reach the warped features leave the
            image, the cost volume goes blank and nothing pulls the field
            back; gradient clipping does not stop this
            (docs/methods/registration.md#stability-of-the-field). A bound
            of about the capture range (``radius · 2^num_levels``) keeps
            the field and the decoders' inputs in range. None: unbounded,
            the field in pixels (the earlier behaviour). Defaults to None.
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
        if not input_eps > 0:
            raise ValueError('PyramidCorrRegNet: input_eps must be > 0, got '
                             f'{input_eps}')
        self.inputs = inputs
        self.input_eps = float(input_eps)
        self.shared_encoder = bool(shared_encoder)
        if channels < 1 or num_levels < 1 or radius < 0 or \
                decoder_channels < 1:
            raise ValueError(
                'PyramidCorrRegNet: channels >= 1, num_levels >= 1, radius '
                f'>= 0 and decoder_channels >= 1, got {channels}, '
                f'{num_levels}, {radius}, {decoder_channels}')
        if ngf_eps is not None and not ngf_eps > 0:
            raise ValueError('PyramidCorrRegNet: ngf_eps must be > 0 or '
                             f'None, got {ngf_eps}')
        self.num_levels = num_levels
        self.radius = radius
        self.ngf_eps = ngf_eps
        if not flow_scale > 0:
            raise ValueError('PyramidCorrRegNet: flow_scale must be > 0, got '
                             f'{flow_scale}')
        self.flow_scale = float(flow_scale)
        self.max_displacement = check_flow_bound(
            max_displacement, 'PyramidCorrRegNet')
        widths = [self.input_channels[inputs]] + [
            channels * 2**min(l, 2) for l in range(num_levels)
        ]

        def encoder() -> nn.ModuleList:
            return nn.ModuleList(
                nn.Sequential(
                    _conv(widths[l], widths[l + 1], stride=2),
                    _conv(widths[l + 1], widths[l + 1]))
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
                    _conv(corr + widths[l + 1] + 2, decoder_channels),
                    _conv(decoder_channels, decoder_channels), head))

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
        """Encoder features at strides ``2 .. 2^num_levels`` of one
        image's luminance (``moving``: through the moving image's encoder
        when it has its own)."""
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
