"""The convolutional part of VGG16, for feature-based information measures.

torchvision is not a dependency, so the extractor is defined here with
torchvision's module layout: ``features`` is an ``nn.Sequential`` whose
indices match ``torchvision.models.vgg16().features`` (convs at 0, 2, 5, 7,
10, 12, 14, 17, 19, 21, 24, 26, 28), so a torchvision VGG16 state dict (or
just its ``features.*`` entries) loads directly. Nothing is ever downloaded:
the weights come from a local file given by the user.
"""
import os.path as osp
from typing import List, Tuple

import torch
import torch.nn as nn

from mmfusenas.utils.checkpoint import read_checkpoint

#: VGG16 (configuration "D") channel plan; 'M' is a 2x2 max pool.
VGG16_PLAN = (64, 64, 'M', 128, 128, 'M', 256, 256, 256, 'M', 512, 512, 512,
              'M', 512, 512, 512)
#: ``features`` indices of relu1_2, relu2_2, relu3_3, relu4_3, relu5_3 (the
#: five feature maps U2Fusion measures).
VGG16_OUT_INDICES = (3, 8, 15, 22, 29)
#: the file torchvision's ``vgg16(weights='IMAGENET1K_V1')`` downloads, its
#: URL, and where torch keeps it once downloaded (nothing here downloads it)
VGG16_TORCHVISION_FILE = 'vgg16-397923af.pth'
VGG16_TORCHVISION_URL = ('https://download.pytorch.org/models/'
                         f'{VGG16_TORCHVISION_FILE}')
VGG16_TORCH_HUB_DIR = '~/.cache/torch/hub/checkpoints'
#: ImageNet statistics expected by torchvision's VGG weights (RGB).
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


class VGG16Features(nn.Module):
    """Frozen VGG16 conv stack returning relu1_2 ... relu5_3.

    Input: ``(N, 1, H, W)`` grey or ``(N, 3, H, W)`` RGB images in
    ``[0, 1]``; grey images are replicated to three channels, then
    normalised with the ImageNet mean / std. Output: the list of the five
    feature maps at :data:`VGG16_OUT_INDICES`.

    Args:
        weights (str): path of a local ``.pth`` file holding a torchvision
            VGG16 state dict (``features.<i>.weight`` / ``.bias`` keys;
            ``classifier.*`` entries are ignored), optionally wrapped in a
            ``{'state_dict': ...}`` checkpoint dict. Loaded with
            ``torch.load(weights_only=True)``.
    """

    def __init__(self, weights: str) -> None:
        super().__init__()
        layers: List[nn.Module] = []
        in_ch = 3
        for item in VGG16_PLAN:
            if item == 'M':
                layers.append(nn.MaxPool2d(2, 2))
            else:
                layers += [
                    nn.Conv2d(in_ch, item, 3, padding=1),
                    nn.ReLU(inplace=True)
                ]
                in_ch = item
        self.features = nn.Sequential(*layers)
        self.register_buffer(
            'mean',
            torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1),
            persistent=False)
        self.register_buffer(
            'std',
            torch.tensor(IMAGENET_STD).view(1, 3, 1, 1),
            persistent=False)
        self.load_weights(weights)
        self.requires_grad_(False)
        self.eval()

    def load_weights(self, path: str) -> None:
        """Load the ``features.*`` tensors of a torchvision VGG16 file.

        Args:
            path (str): local weights file (see the class docstring).

        Raises:
            FileNotFoundError: ``path`` does not exist.
            KeyError: tensors of the conv stack are missing; lists them.
            ValueError: a tensor has the wrong shape; names it.
        """
        if not osp.isfile(path):
            raise FileNotFoundError(
                f'VGG16 weights file not found: {path!r}. Give a local '
                'torchvision VGG16 state dict (features.<i>.weight/bias): '
                f"torchvision's ImageNet file is {VGG16_TORCHVISION_FILE} "
                f'({VGG16_TORCHVISION_URL}; once torchvision has fetched it, '
                f'it is in {VGG16_TORCH_HUB_DIR}/). Copy it to that path or '
                'set the feature_weights of the loss in the config; nothing '
                'is downloaded.')
        state = read_checkpoint(path, 'VGG16 weights file')
        if isinstance(state, dict) and 'state_dict' in state:
            state = state['state_dict']
        expected = self.features.state_dict()
        missing = [
            f'features.{k}' for k in expected if f'features.{k}' not in state
        ]
        if missing:
            raise KeyError(
                f'VGG16 weights {path!r} lack {len(missing)} tensor(s) of '
                f'the conv stack, e.g. {missing[:4]}; expected the keys of '
                'torchvision.models.vgg16().state_dict() (features.*)')
        for key, ref in expected.items():
            value = state[f'features.{key}']
            if tuple(value.shape) != tuple(ref.shape):
                raise ValueError(
                    f'VGG16 weights {path!r}: features.{key} has shape '
                    f'{tuple(value.shape)}, expected {tuple(ref.shape)}')
        self.features.load_state_dict(
            {k: state[f'features.{k}']
             for k in expected})

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        if x.dim() != 4 or x.shape[1] not in (1, 3):
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
