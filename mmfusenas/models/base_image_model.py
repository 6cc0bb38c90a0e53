"""The base of the image-to-image models."""
from typing import Any, List, Optional, Sequence

import torch.nn as nn
from mmengine.model import BaseModel

from mmfusenas.registry import MODELS
from mmfusenas.utils.typing_utils import ModuleConfigType

#: the modes of :meth:`BaseImageModel.forward`
MODES = ('loss', 'predict', 'tensor')


def build_module(cfg: ModuleConfigType) -> nn.Module:
    """A module from its config (``MODELS``), or the module itself."""
    return cfg if isinstance(cfg, nn.Module) else MODELS.build(cfg)


def build_losses(cfgs: Sequence[ModuleConfigType],
                 owner: str) -> nn.ModuleList:
    """The loss modules of ``cfgs``; a ``ValueError`` naming ``owner`` when
    two share a ``loss_name``."""
    losses = nn.ModuleList(build_module(cfg) for cfg in cfgs)
    names = [loss.loss_name for loss in losses]
    if len(set(names)) != len(names):
        raise ValueError(f'{owner}: loss names must be unique, got {names}')
    return losses


class BaseImageModel(BaseModel):
    """An MMEngine model mapping images to images.

    ``forward(inputs, data_samples=None, mode='tensor', **kwargs)`` dispatches
    to :meth:`loss`, :meth:`predict` or :meth:`tensor`; sub-modules are built
    with :meth:`_build`.

    Args:
        data_preprocessor (dict | nn.Module, optional): None gives
            :attr:`default_preprocessor`.
        init_cfg (dict, optional): weight initialisation config.
    """

    #: the data preprocessor built when none is given
    default_preprocessor: Optional[dict] = None

    def __init__(self,
                 data_preprocessor: Optional[ModuleConfigType] = None,
                 init_cfg: Optional[dict] = None) -> None:
        if data_preprocessor is None and self.default_preprocessor:
            data_preprocessor = dict(self.default_preprocessor)
        # built from our registry, so it resolves without a default scope
        super().__init__(
            data_preprocessor=None if data_preprocessor is None else
            self._build(data_preprocessor),
            init_cfg=init_cfg)

    _build = staticmethod(build_module)

    def forward(self,
                inputs: Any,
                data_samples: Optional[List] = None,
                mode: str = 'tensor',
                **kwargs):
        if mode == 'loss':
            return self.loss(inputs, data_samples, **kwargs)
        if mode == 'predict':
            return self.predict(inputs, data_samples, **kwargs)
        if mode == 'tensor':
            return self.tensor(inputs, data_samples, **kwargs)
        raise ValueError(f"{type(self).__name__}: mode must be 'loss', "
                         f"'predict' or 'tensor', got {mode!r}")

    def loss(self, inputs: Any, data_samples: Optional[List] = None,
             **kwargs) -> dict:
        """The losses of a batch."""
        raise NotImplementedError

    def predict(self, inputs: Any, data_samples: Optional[List] = None,
                **kwargs) -> list:
        """The data samples with the predictions attached."""
        raise NotImplementedError

    def tensor(self, inputs: Any, data_samples: Optional[List] = None,
               **kwargs) -> Any:
        """The raw network output."""
        raise NotImplementedError


__all__ = ['BaseImageModel', 'MODES']
