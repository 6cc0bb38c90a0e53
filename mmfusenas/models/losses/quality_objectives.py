"""Upper-level image-quality objectives of a loss search (HBL, IJCAI 2022).

``objective(pred, target=None, low=None) -> scalar`` (lower is better);
``needs_target`` says whether it reads ground truth.
"""
import os.path as osp
from typing import Optional, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmdet.models.backbones import ResNet

from mmfusenas.registry import MODELS
from mmfusenas.utils.checkpoint import load_legacy_checkpoint
from .differentiable_ssim import gaussian_moments, ssim_map
from .vgg16_features import IMAGENET_MEAN, IMAGENET_STD


class ResNet18(ResNet):
    """mmdet's ResNet-18 with torchvision's ``fc`` head (a torchvision
    ``resnet18`` state dict loads).

    Args:
        num_classes (int): classifier outputs. Defaults to 2.
        base_width (int): width of the first stage. Defaults to 64.
    """

    def __init__(self, num_classes: int = 2, base_width: int = 64) -> None:
        super().__init__(
            depth=18, base_channels=base_width, out_indices=(3, ),
            norm_eval=False)
        self.fc = nn.Linear(8 * base_width, num_classes)

    def train(self, mode: bool = True) -> 'ResNet18':
        super().train(mode)
        return self

    def forward(self, x):
        x = super().forward(x)[0]
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


class _Objective(nn.Module):
    needs_target = False


@MODELS.register_module()
class ClassifierQualityObjective(_Objective):
    """Cross-entropy of a frozen quality classifier towards ``target_label``.

    The official HBL objective (``LossClassifier``) on ImageNet-normalised
    outputs.

    Args:
        checkpoint (str, optional): local ResNet-18 state dict (torchvision
            names), or with ``trust=True`` a pickled whole model (official).
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
        # the official file: {'model': <pickled net>, 'model_state_dict': ...}
        key = next((k for k in ('state_dict', 'model_state_dict')
                    if isinstance(obj, dict) and k in obj), None)
        obj = obj[key] if key else obj
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
    """Zero-DCE-style no-reference score (lower is better).

    ``w_exp`` exposure control, ``w_col`` grey-world colour constancy and
    ``w_spa`` spatial consistency with the input ``low`` (Guo et al. 2020).

    Args:
        exposure_level (float): target local brightness. Defaults to 0.6.
        patch (int): exposure patch size. Defaults to 16.
        weights (Sequence[float]): ``(w_exp, w_col, w_spa)``. Defaults to
            (10, 5, 1).
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
