"""Upper-level image-quality objectives of a loss search (HBL, IJCAI 2022).

Each objective is a module ``objective(pred, target=None, low=None) ->
scalar`` (lower is better) with ``needs_target`` telling whether it reads
ground truth. :class:`ClassifierQualityObjective` is the official HBL
objective, the cross-entropy towards the "good" class of a frozen
image-quality classifier (a :class:`ResNet18`; the official weights are
not released); :class:`FullReferenceQualityObjective` is ``-PSNR`` or
``1 - SSIM`` against the validation ground truth;
:class:`NoReferenceQualityObjective` is a download-free score from the
differentiable priors of the Zero-DCE family (Guo et al. CVPR 2020):
exposure control, grey-world colour constancy and spatial consistency.
"""
import os.path as osp
from typing import Optional, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F

from mmfusenas.registry import MODELS
from mmfusenas.utils.checkpoint import load_legacy_checkpoint
from .differentiable_ssim import gaussian_moments, ssim_map

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


class _BasicBlock(nn.Module):

    def __init__(self, cin: int, cout: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(
                nn.Conv2d(cin, cout, 1, stride, bias=False),
                nn.BatchNorm2d(cout))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        skip = x if self.downsample is None else self.downsample(x)
        return F.relu(out + skip)


class ResNet18(nn.Module):
    """ResNet-18 with torchvision's module names (so a torchvision
    ``resnet18`` state dict with an ``fc`` of ``num_classes`` outputs loads).

    Args:
        num_classes (int): classifier outputs. Defaults to 2.
        base_width (int): width of the first stage (64; smaller for
            stand-ins).
    """

    def __init__(self, num_classes: int = 2, base_width: int = 64) -> None:
        super().__init__()
        w = base_width
        self.conv1 = nn.Conv2d(3, w, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(w)
        widths = [w, 2 * w, 4 * w, 8 * w]
        cin = w
        for k, cout in enumerate(widths):
            stride = 1 if k == 0 else 2
            setattr(self, f'layer{k + 1}',
                    nn.Sequential(
                        _BasicBlock(cin, cout, stride),
                        _BasicBlock(cout, cout, 1)))
            cin = cout
        self.fc = nn.Linear(cin, num_classes)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.bn1(self.conv1(x))), 3, 2, 1)
        for k in range(4):
            x = getattr(self, f'layer{k + 1}')(x)
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


class _Objective(nn.Module):
    needs_target = False


@MODELS.register_module()
class ClassifierQualityObjective(_Objective):
    """Cross-entropy of a frozen quality classifier towards ``target_label``.

    The official HBL loss-search objective (``LossClassifier``): the output
    is normalised with the ImageNet mean / std and classified; the loss is
    ``CE(classifier(x), target_label)`` averaged over the batch.

    Args:
        checkpoint (str, optional): local classifier file: a ResNet-18 state
            dict (torchvision names, ``fc`` with ``num_classes`` outputs;
            loaded with ``weights_only=True``), optionally under
            ``'state_dict'``, or, with ``trust=True``, a pickled whole model
            (the official format).
        num_classes (int): Defaults to 2.
        target_label (int): the "good" class. Defaults to 1 (official).
        base_width (int): ResNet width (stand-ins). Defaults to 64.
        trust (bool): allow unpickling a whole model. Defaults to False.
        random_init (bool): random stand-in classifier (tests only).
    """

    def __init__(self,
                 checkpoint: Optional[str] = None,
                 num_classes: int = 2,
                 target_label: int = 1,
                 base_width: int = 64,
                 trust: bool = False,
                 random_init: bool = False) -> None:
        super().__init__()
        if not 0 <= target_label < num_classes:
            raise ValueError(f'target_label {target_label} is not a class of '
                             f'{num_classes}')
        if checkpoint is None:
            if not random_init:
                raise ValueError(
                    'ClassifierQualityObjective needs checkpoint=<local '
                    'image-quality classifier> (the official HBL ResNet-18 '
                    'weights/resnet18/<task>/<task>.pth from the authors; '
                    'nothing is downloaded); random_init=True builds a '
                    'random stand-in (tests only)')
            net = ResNet18(num_classes, base_width)
        else:
            net = self._load(checkpoint, num_classes, base_width, trust)
        net.requires_grad_(False).eval()
        self._net = (net, )
        self.target_label = target_label
        self.register_buffer(
            'mean', torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), False)
        self.register_buffer(
            'std', torch.tensor(IMAGENET_STD).view(1, 3, 1, 1), False)

    @staticmethod
    def _load(path: str, num_classes: int, base_width: int,
              trust: bool) -> nn.Module:
        if not osp.isfile(path):
            raise FileNotFoundError(
                f'ClassifierQualityObjective: classifier checkpoint not '
                f'found: {path!r}; the official HBL classifiers are '
                'distributed by the authors (weights/resnet18/<task>/'
                '<task>.pth); nothing is downloaded')
        obj = load_legacy_checkpoint(path, trust=trust)
        if isinstance(obj, nn.Module):
            return obj
        if isinstance(obj, dict) and 'state_dict' in obj:
            obj = obj['state_dict']
        net = ResNet18(num_classes, base_width)
        try:
            net.load_state_dict(obj)
        except (RuntimeError, TypeError) as err:
            raise ValueError(
                f'ClassifierQualityObjective: {path!r} is not a ResNet-18 '
                f'state dict with {num_classes} classes: {err}') from err
        return net

    @property
    def classifier(self) -> nn.Module:
        """The frozen classifier."""
        return self._net[0]

    def forward(self, pred, target=None, low=None):
        net = self.classifier
        if next(net.parameters()).device != pred.device:
            net.to(pred.device)
        net.eval()
        logits = net((pred - self.mean) / self.std)
        labels = torch.full((pred.shape[0], ),
                            self.target_label,
                            dtype=torch.long,
                            device=pred.device)
        return F.cross_entropy(logits, labels)


@MODELS.register_module()
class FullReferenceQualityObjective(_Objective):
    """``-PSNR`` (dB, data range 1) or ``1 - SSIM`` against ground truth.

    Args:
        metric (str): ``'psnr'`` or ``'ssim'``. Defaults to 'psnr'.
        eps (float): MSE floor of the PSNR. Defaults to 1e-10.
    """
    needs_target = True
    #: computes the SSIM's local moments (``ssim_map(moments=...)``)
    ssim_moments = staticmethod(gaussian_moments)

    def __init__(self, metric: str = 'psnr', eps: float = 1e-10) -> None:
        super().__init__()
        if metric not in ('psnr', 'ssim'):
            raise ValueError(f"metric must be 'psnr' or 'ssim', got "
                             f'{metric!r}')
        self.metric = metric
        self.eps = eps

    def forward(self, pred, target=None, low=None):
        if target is None:
            raise ValueError('FullReferenceQualityObjective needs ground '
                             'truth on the validation batches')
        if self.metric == 'ssim':
            return 1 - ssim_map(pred, target, padding='reflect',
                                moments=self.ssim_moments).mean()
        mse = (pred - target).square().mean(dim=(1, 2, 3)).clamp(min=self.eps)
        return (10 * torch.log10(mse)).mean()


@MODELS.register_module()
class NoReferenceQualityObjective(_Objective):
    """A differentiable no-reference score (lower is better).

    ``w_exp · mean((avgpool_p(grey) - E)^2) + w_col · Σ_{c<c'} (m_c -
    m_c')^2 + w_spa · mean(Σ_dirs (|∇_d Y| - |∇_d X|)^2)`` with ``grey`` the
    channel mean of the output Y, ``m_c`` its channel means (grey world),
    ``X`` the input, ``∇_d`` the 4-neighbour differences of ``avgpool_4``
    maps (Zero-DCE's exposure, colour-constancy and spatial-consistency
    terms). Needs no ground truth and no pretrained network.

    Args:
        exposure_level (float): target local brightness E. Defaults to 0.6.
        patch (int): exposure patch size p. Defaults to 16.
        weights (Sequence[float]): ``(w_exp, w_col, w_spa)``. Defaults to
            (10, 5, 1) (Zero-DCE's exposure / colour ratio).
    """

    def __init__(self,
                 exposure_level: float = 0.6,
                 patch: int = 16,
                 weights: Sequence[float] = (10.0, 5.0, 1.0)) -> None:
        super().__init__()
        self.exposure_level = exposure_level
        self.patch = patch
        self.weights = tuple(float(w) for w in weights)

    @staticmethod
    def _grads(x: torch.Tensor) -> list:
        g = F.avg_pool2d(x.mean(1, keepdim=True), 4, ceil_mode=True)
        p = F.pad(g, (1, 1, 1, 1), mode='replicate')
        c = p[:, :, 1:-1, 1:-1]
        return [c - p[:, :, :-2, 1:-1], c - p[:, :, 2:, 1:-1],
                c - p[:, :, 1:-1, :-2], c - p[:, :, 1:-1, 2:]]

    def forward(self, pred, target=None, low=None):
        w_exp, w_col, w_spa = self.weights
        grey = pred.mean(1, keepdim=True)
        local = F.avg_pool2d(grey, self.patch, ceil_mode=True)
        exposure = (local - self.exposure_level).square().mean()
        m = pred.mean(dim=(2, 3))
        colour = ((m[:, 0] - m[:, 1])**2 + (m[:, 0] - m[:, 2])**2 +
                  (m[:, 1] - m[:, 2])**2).mean()
        total = w_exp * exposure + w_col * colour
        if low is not None and w_spa:
            spatial = sum((a.abs() - b.abs()).square().mean()
                          for a, b in zip(self._grads(pred), self._grads(low)))
            total = total + w_spa * spatial
        return total
