"""The eight restoration loss terms of HBL's loss search space (IJCAI 2022).

Each takes ``(pred, target)`` ``(N, 3, H, W)`` in ``[0, 1]`` and returns a
scalar times ``loss_weight``, following ``zhudear/HBLALS_pytorch``.
Pretrained networks load from local state dicts (``random_init=True``
builds stand-ins); differences from the official code are in
``docs/methods/hbl.md``.
"""
import math
from typing import Dict, List, Optional, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F

from mmfusenas.registry import MODELS
from .differentiable_ssim import gaussian_moments, ssim_map
from .fusion_losses import _NamedLoss
from .vgg16_features import (IMAGENET_MEAN, IMAGENET_STD, load_features,
                             vgg_layers)

#: the VGG19 candidate groups of HBL's loss search (module indices)
HBL_VGG_GROUPS = ((0, 1, 2, 3), (5, 6, 7, 8), tuple(range(10, 18)),
                  tuple(range(19, 27)))
#: the fixed VGG19 taps of the architecture search and the final training
#: (relu1_1, relu2_1, relu3_1, relu4_2)
HBL_VGG_LAYERS = (1, 6, 11, 22)
VGG19_URL = 'https://download.pytorch.org/models/vgg19-dcbb9e9d.pth'
ALEXNET_URL = 'https://download.pytorch.org/models/alexnet-owt-7be5be79.pth'
LPIPS_LIN_URL = ('https://github.com/richzhang/PerceptualSimilarity/raw/'
                 'master/lpips/weights/v0.1/alex.pth')


def _check_pair(pred: torch.Tensor, target: torch.Tensor, who: str) -> None:
    if pred.shape != target.shape or pred.dim() != 4:
        raise ValueError(f'{who} expects two (N, C, H, W) tensors of the '
                         f'same shape, got {tuple(pred.shape)} and '
                         f'{tuple(target.shape)}')


@MODELS.register_module()
class PixelL1Loss(_NamedLoss):
    """Mean absolute error (``loss_l1``)."""
    default_name = 'loss_l1'

    def forward(self, pred, target):
        _check_pair(pred, target, type(self).__name__)
        return self.loss_weight * F.l1_loss(pred, target)


@MODELS.register_module()
class PixelMSELoss(_NamedLoss):
    """Mean squared error (``loss_l2``)."""
    default_name = 'loss_l2'

    def forward(self, pred, target):
        _check_pair(pred, target, type(self).__name__)
        return self.loss_weight * F.mse_loss(pred, target)


def color_angle(pred: torch.Tensor,
                target: torch.Tensor,
                clip: float = 0.999999) -> torch.Tensor:
    """Per-pixel angle (degrees) between the RGB vectors, ``(N, H, W)``."""
    a = F.normalize(pred, p=2, dim=1)
    b = F.normalize(target, p=2, dim=1)
    dot = (a * b).sum(dim=1).clamp(-clip, clip)
    return torch.acos(dot) * (180.0 / math.pi)


@MODELS.register_module()
class ColorAngleLoss(_NamedLoss):
    """``scale *`` mean RGB angle in degrees (``loss_color``; scale 0.1)."""
    default_name = 'loss_color'

    def __init__(self, scale: float = 0.1, **kwargs) -> None:
        super().__init__(**kwargs)
        self.scale = scale

    def forward(self, pred, target):
        _check_pair(pred, target, type(self).__name__)
        return self.loss_weight * self.scale * color_angle(pred, target).mean()


@MODELS.register_module()
class SSIMDistanceLoss(_NamedLoss):
    """``1 - mean SSIM`` (``loss_ssim``).

    Args:
        window_size (int): Defaults to 11.
        sigma (float): Defaults to 1.5.
        padding (str): ``'zeros'`` (official), ``'reflect'`` or ``'valid'``.
        loss_weight (float): Defaults to 1.0.
    """
    default_name = 'loss_ssim'
    ssim_moments = staticmethod(gaussian_moments)

    def __init__(self,
                 window_size: int = 11,
                 sigma: float = 1.5,
                 padding: str = 'zeros',
                 **kwargs) -> None:
        super().__init__(**kwargs)
        self.ssim_cfg = dict(
            window_size=window_size, sigma=sigma, padding=padding)

    def forward(self, pred, target):
        _check_pair(pred, target, type(self).__name__)
        return self.loss_weight * (1 - ssim_map(
            pred, target, moments=self.ssim_moments, **self.ssim_cfg).mean())


@MODELS.register_module()
class TotalVariationLoss(_NamedLoss):
    """``2 (mean (Δ_v x)^2 + mean (Δ_h x)^2)`` of the prediction
    (``loss_tv``; official ``TVLoss``). Reads only ``pred``."""
    default_name = 'loss_tv'

    def forward(self, pred, target=None):
        dv = (pred[:, :, 1:] - pred[:, :, :-1]).square().mean()
        dh = (pred[:, :, :, 1:] - pred[:, :, :, :-1]).square().mean()
        return self.loss_weight * 2 * (dv + dh)


@MODELS.register_module()
class LaplacianLoss(_NamedLoss):
    """``sum (L * x)^2 / (N C H W)``, valid 3x3 Laplacian on ``pred`` only."""
    default_name = 'loss_lap'

    def forward(self, pred, target=None):
        c = pred.shape[1]
        kernel = pred.new_tensor([[0., 1., 0.], [1., -4., 1.], [0., 1., 0.]])
        lap = F.conv2d(pred, kernel.expand(c, 1, 3, 3), groups=c)
        return self.loss_weight * lap.square().sum() / pred.numel()


def _load_features(module: nn.Module, path: str, prefix: str, who: str,
                   url: str) -> None:
    load_features(module, path, prefix, who,
                  f'get it from {url} and name it in the config, or set '
                  'random_init=True for a random stand-in (tests only)')


def vgg19_layers(last_index: int,
                 widths: Sequence[int] = (64, 128, 256, 512)) -> nn.Sequential:
    """``torchvision.models.vgg19().features[:last_index + 1]`` (ReLUs not in
    place), at the given block widths."""
    w = widths
    plan = [w[0]] * 2 + ['M'] + [w[1]] * 2 + ['M'] + [w[2]] * 4 + ['M'] + \
        [w[3]] * 4 + ['M'] + [w[3]] * 4
    return vgg_layers(plan, last_index=last_index)


@MODELS.register_module()
class VGGLayerMixtureLoss(_NamedLoss):
    """Weighted L1 distances of VGG19 features (``loss_vgg``).

    ``sum_g sum_l w_gl mean|phi_l(pred) - phi_l(target)|``; the weights of
    group ``g`` are ``softmax(gamma_<loss_name>/g<k>)`` of bound
    :class:`~mmfusenas.models.mutables.LossHyperParams`, else
    ``layer_weights[g]``, else 1.

    Args:
        weights (str, optional): local torchvision VGG19 state dict.
        groups (Sequence[Sequence[int]]): tap groups (module indices).
            Defaults to ``((1, 6, 11, 22),)``.
        layer_weights (Sequence[Sequence[float]], optional): fixed weights.
        random_init (bool): random stand-in instead of ``weights``.
        widths (Sequence[int]): block widths (stand-ins only).
    """
    default_name = 'loss_vgg'

    def __init__(self,
                 weights: Optional[str] = None,
                 groups: Sequence[Sequence[int]] = (HBL_VGG_LAYERS, ),
                 layer_weights: Optional[Sequence[Sequence[float]]] = None,
                 random_init: bool = False,
                 widths: Sequence[int] = (64, 128, 256, 512),
                 **kwargs) -> None:
        super().__init__(**kwargs)
        self.groups = [tuple(int(i) for i in g) for g in groups]
        if not self.groups or any(not g for g in self.groups):
            raise ValueError('VGGLayerMixtureLoss: groups must be non-empty')
        features = vgg19_layers(max(max(g) for g in self.groups) + 1, widths)
        self._is_conv = [isinstance(m, nn.Conv2d) for m in features]
        if any(isinstance(features[i], nn.MaxPool2d)
               for g in self.groups for i in g):
            raise ValueError('VGGLayerMixtureLoss: a tap is a max-pool '
                             f'layer; groups {self.groups}')
        if weights is not None:
            _load_features(features, weights, 'features.',
                           'VGGLayerMixtureLoss', VGG19_URL)
        elif not random_init:
            raise ValueError(
                'VGGLayerMixtureLoss needs weights=<local torchvision vgg19 '
                f'state dict> ({VGG19_URL}); nothing is downloaded. '
                'random_init=True builds a random stand-in (tests only)')
        features.requires_grad_(False).eval()
        self._features = (features, )  # frozen, not part of the tree
        if layer_weights is not None:
            if len(layer_weights) != len(self.groups) or any(
                    len(w) != len(g)
                    for w, g in zip(layer_weights, self.groups)):
                raise ValueError('VGGLayerMixtureLoss: layer_weights must '
                                 'match groups in shape')
        self.layer_weights = layer_weights
        self._hyper = None
        self.register_buffer(
            'mean', torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), False)
        self.register_buffer(
            'std', torch.tensor(IMAGENET_STD).view(1, 3, 1, 1), False)

    def hyper_logit_groups(self) -> Dict[str, int]:
        """``{'g<k>': size}``: searchable softmax groups."""
        return {f'g{k + 1}': len(g) for k, g in enumerate(self.groups)}

    def bind_hyper(self, hyper) -> None:
        """Read the group weights from ``hyper`` (a plain reference)."""
        object.__setattr__(self, '_hyper', hyper)

    def group_weights(self) -> List[torch.Tensor]:
        """The weights of every group (see the class docstring)."""
        out = []
        for k, g in enumerate(self.groups):
            if self._hyper is not None:
                out.append(self._hyper.softmax(f'{self.loss_name}/g{k + 1}'))
            elif self.layer_weights is not None:
                out.append(self.mean.new_tensor(self.layer_weights[k]))
            else:
                out.append(self.mean.new_ones(len(g)))
        return out

    def features(self, x: torch.Tensor) -> Dict[int, torch.Tensor]:
        """The tapped feature maps ``{index: map}``."""
        net = self._features[0]
        if next(net.parameters()).device != x.device:
            net.to(x.device)
        wanted = {self._tap(i) for g in self.groups for i in g}
        out, h = {}, (x - self.mean) / self.std
        for i, layer in enumerate(net):
            h = layer(h)
            if i in wanted:
                out[i] = h
        return out

    def _tap(self, i: int) -> int:
        return i + 1 if self._is_conv[i] else i

    def forward(self, pred, target):
        _check_pair(pred, target, type(self).__name__)
        fp, ft = self.features(pred), self.features(target)
        total = pred.new_zeros(())
        for g, w in zip(self.groups, self.group_weights()):
            for i, wi in zip(g, w):
                j = self._tap(i)
                total = total + wi * F.l1_loss(fp[j], ft[j])
        return self.loss_weight * total


def alexnet_layers(widths: Sequence[int] = (64, 192, 384, 256, 256)
                   ) -> nn.Sequential:
    """``torchvision.models.alexnet().features`` (up to relu5)."""
    w = widths
    return nn.Sequential(
        nn.Conv2d(3, w[0], 11, 4, 2), nn.ReLU(), nn.MaxPool2d(3, 2),
        nn.Conv2d(w[0], w[1], 5, padding=2), nn.ReLU(), nn.MaxPool2d(3, 2),
        nn.Conv2d(w[1], w[2], 3, padding=1), nn.ReLU(),
        nn.Conv2d(w[2], w[3], 3, padding=1), nn.ReLU(),
        nn.Conv2d(w[3], w[4], 3, padding=1), nn.ReLU())


#: indices of relu1..relu5 in :func:`alexnet_layers` (the LPIPS slices)
_ALEX_TAPS = (1, 4, 7, 9, 11)
#: LPIPS ``ScalingLayer`` constants
_LPIPS_SHIFT = (-.030, -.088, -.188)
_LPIPS_SCALE = (.458, .448, .450)


@MODELS.register_module()
class LPIPSLoss(_NamedLoss):
    """LPIPS with AlexNet features (Zhang et al. 2018, ``lpips`` v0.1).

    Args:
        backbone_weights (str, optional): local torchvision ``alexnet`` state
            dict.
        lin_weights (str, optional): local ``lpips`` linear weights
            (``weights/v0.1/alex.pth``).
        random_init (bool): random stand-ins instead of the files.
        widths (Sequence[int]): AlexNet widths (stand-ins only).
    """
    default_name = 'loss_lpips'

    def __init__(self,
                 backbone_weights: Optional[str] = None,
                 lin_weights: Optional[str] = None,
                 random_init: bool = False,
                 widths: Sequence[int] = (64, 192, 384, 256, 256),
                 **kwargs) -> None:
        super().__init__(**kwargs)
        net = alexnet_layers(widths)
        lins = nn.ModuleDict({
            f'lin{k}': nn.Sequential(
                nn.Dropout(), nn.Conv2d(c, 1, 1, bias=False))
            for k, c in enumerate(widths)
        })
        if backbone_weights is None or lin_weights is None:
            if not random_init:
                raise ValueError(
                    'LPIPSLoss needs backbone_weights=<local torchvision '
                    f'alexnet state dict> ({ALEXNET_URL}) and lin_weights='
                    f'<local lpips alex.pth> ({LPIPS_LIN_URL}); nothing is '
                    'downloaded. random_init=True builds random stand-ins '
                    '(tests only)')
            with torch.no_grad():
                for lin in lins.values():
                    lin[1].weight.abs_()  # LPIPS weights are >= 0
        if backbone_weights is not None:
            _load_features(net, backbone_weights, 'features.', 'LPIPSLoss',
                           ALEXNET_URL)
        if lin_weights is not None:
            flat = nn.Module()
            for k, lin in lins.items():
                setattr(flat, k, nn.Module())
                getattr(flat, k).model = lin
            _load_features(flat, lin_weights, '', 'LPIPSLoss', LPIPS_LIN_URL)
        net.requires_grad_(False).eval()
        lins.requires_grad_(False).eval()
        self._nets = (net, lins)
        self.register_buffer(
            'shift', torch.tensor(_LPIPS_SHIFT).view(1, 3, 1, 1), False)
        self.register_buffer(
            'scale', torch.tensor(_LPIPS_SCALE).view(1, 3, 1, 1), False)

    def _feats(self, x: torch.Tensor) -> List[torch.Tensor]:
        net = self._nets[0]
        if next(net.parameters()).device != x.device:
            net.to(x.device)
            self._nets[1].to(x.device)
        h, out = (x - self.shift) / self.scale, []
        for i, layer in enumerate(net):
            h = layer(h)
            if i in _ALEX_TAPS:
                out.append(h / (h.square().sum(1, keepdim=True).sqrt() +
                                1e-10))
        return out

    def distance(self, pred, target) -> torch.Tensor:
        """Per-image LPIPS distance, ``(N,)``."""
        _check_pair(pred, target, type(self).__name__)
        lins = list(self._nets[1].values())
        total = 0
        for lin, a, b in zip(lins, self._feats(pred), self._feats(target)):
            total = total + lin((a - b).square()).mean(dim=(1, 2, 3))
        return total

    def forward(self, pred, target):
        return self.loss_weight * self.distance(pred, target).mean()
