"""Frozen VGG feature stacks in torchvision's layout, loaded from local files.

torchvision is not a dependency: :func:`vgg_layers` builds
``torchvision.models.vgg*().features`` (same indices), so a torchvision
state dict loads with :func:`load_features`. Nothing is downloaded.
"""
import os.path as osp
from typing import Optional, Sequence, Tuple

import torch
import torch.nn as nn

from mmfusenas.utils.checkpoint import read_checkpoint

#: VGG16 (configuration "D") channel plan; 'M' is a 2x2 max pool.
VGG16_PLAN = (64, 64, 'M', 128, 128, 'M', 256, 256, 256, 'M', 512, 512, 512,
              'M', 512, 512, 512)
#: ``features`` indices of relu1_2, relu2_2, relu3_3, relu4_3, relu5_3 (the
#: five feature maps U2Fusion measures).
VGG16_OUT_INDICES = (3, 8, 15, 22, 29)
VGG16_TORCHVISION_FILE = 'vgg16-397923af.pth'
VGG16_TORCHVISION_URL = ('https://download.pytorch.org/models/'
                         f'{VGG16_TORCHVISION_FILE}')
VGG16_TORCH_HUB_DIR = '~/.cache/torch/hub/checkpoints'
#: ImageNet statistics expected by torchvision's weights (RGB).
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def vgg_layers(plan: Sequence, inplace: bool = False,
               last_index: Optional[int] = None) -> nn.Sequential:
    """3x3 conv + ReLU per width of ``plan``, 2x2 max pool per ``'M'``,
    stopped after module ``last_index`` (None: all)."""
    layers, c = [], 3
    for item in plan:
        if item == 'M':
            layers.append(nn.MaxPool2d(2, 2))
        else:
            layers += [nn.Conv2d(c, item, 3, padding=1), nn.ReLU(inplace)]
            c = item
        if last_index is not None and len(layers) > last_index:
            break
    return nn.Sequential(*layers[:None if last_index is None else
                                 last_index + 1])


def load_features(module: nn.Module, path: str, prefix: str, who: str,
                  hint: str) -> None:
    """Load the ``<prefix><key>`` tensors of a local file into ``module``.

    Raises:
        FileNotFoundError: ``path`` does not exist (the message adds
            ``hint``).
        KeyError: tensors are missing; lists some.
        ValueError: a tensor has the wrong shape; names it.
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'{who}: weights file not found: {path!r}. '
                                f'{hint}; nothing is downloaded')
    state = read_checkpoint(path, f'{who} weights file')
    if isinstance(state, dict) and 'state_dict' in state:
        state = state['state_dict']
    expected = module.state_dict()
    missing = [prefix + k for k in expected if prefix + k not in state]
    if missing:
        raise KeyError(f'{who}: {path!r} lack {len(missing)} tensor(s), '
                       f'e.g. {missing[:4]}')
    for key, ref in expected.items():
        if tuple(state[prefix + key].shape) != tuple(ref.shape):
            raise ValueError(
                f'{who}: {path!r}: {prefix + key} has shape '
                f'{tuple(state[prefix + key].shape)}, expected '
                f'{tuple(ref.shape)}')
    module.load_state_dict({k: state[prefix + k] for k in expected})


class VGG16Features(nn.Module):
    """Frozen VGG16 conv stack returning relu1_2 ... relu5_3.

    ``(N, 1 | 3, H, W)`` images in ``[0, 1]`` (grey is replicated to RGB)
    are ImageNet-normalised; the output is the five feature maps at
    :data:`VGG16_OUT_INDICES`.

    Args:
        weights (str): local torchvision VGG16 state dict
            (``features.*`` keys), optionally under ``'state_dict'``.
    """

    def __init__(self, weights: str) -> None:
        super().__init__()
        self.features = vgg_layers(VGG16_PLAN, inplace=True)
        self.register_buffer(
            'mean',
            torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1),
            persistent=False)
        self.register_buffer(
            'std',
            torch.tensor(IMAGENET_STD).view(1, 3, 1, 1),
            persistent=False)
        load_features(
            self.features, weights, 'features.', 'VGG16',
            f"torchvision's ImageNet file is {VGG16_TORCHVISION_FILE} "
            f'({VGG16_TORCHVISION_URL}; once fetched by torchvision it is in '
            f'{VGG16_TORCH_HUB_DIR}/); copy it there or set the '
            'feature_weights of the loss')
        self.requires_grad_(False)
        self.eval()

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        if x.dim() != 4:  # else broadcast against the (1, 3, 1, 1) mean
            raise ValueError(f'VGG16Features expects (N, 1|3, H, W) images, '
                             f'got {tuple(x.shape)}')
        if x.shape[1] == 1:
            x = x.expand(-1, 3, -1, -1)
        x = (x - self.mean) / self.std
        outs = []
        for i, layer in enumerate(self.features):
            x = layer(x)
            if i in VGG16_OUT_INDICES:
                outs.append(x)
        return tuple(outs)
