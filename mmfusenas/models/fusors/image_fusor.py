"""The model that trains and runs a fusion network on paired images."""
from typing import Dict, List, Optional, Sequence, Union

import torch
import torch.nn as nn
from mmengine.model import BaseModel

from mmfusenas.models.data_preprocessors import crop_to_shape
from mmfusenas.models.fusion.fusion_outputs import (check_loss_outputs,
                                                    loss_output,
                                                    run_fusion_outputs)
from mmfusenas.registry import MODELS
from mmfusenas.utils.colorspace import ycbcr_to_rgb
from mmfusenas.utils.distributed import check_finite_losses

ConfigType = Union[dict, nn.Module]


@MODELS.register_module()
class ImageFusor(BaseModel):
    """Fusion network + unsupervised fusion losses, MMEngine style.

    ``forward(inputs, data_samples, mode)`` with ``inputs`` the
    ``(N, M, H, W)`` batch of :class:`FusionDataPreprocessor`:

    - ``mode='loss'``: dict of the weighted losses (``loss_name`` keys);
    - ``mode='predict'``: the data samples with ``pred_fused`` (fused
      luminance cropped back to ``img_shape``) and, when a colour source
      exists, ``pred_fused_rgb`` (fused Y + that source's chroma -> RGB);
    - ``mode='tensor'``: the raw fused batch ``(N, 1, H, W)``.

    Args:
        fusion_net (dict | nn.Module): the fusion network; maps
            ``(N, M, H, W)`` to ``(N, 1, H, W)`` in ``[0, 1]``.
        losses (Sequence[dict | nn.Module]): fusion losses (see
            ``mmfusenas.models.losses``), each with a unique ``loss_name``.
            A loss reads the fused image, or the output of ``fusion_net``
            it names with ``output`` (e.g. the branches of
            ``TIMTwoStageFusionNet``; see
            :mod:`mmfusenas.models.fusion.fusion_outputs`).
        data_preprocessor (dict | nn.Module, optional): defaults to
            ``FusionDataPreprocessor``.
        check_finite (bool): raise ``FloatingPointError`` naming the loss and
            the samples when a loss is NaN / Inf instead of training on.
            Defaults to True.
        init_cfg (dict, optional): weight initialisation config.
    """

    def __init__(self,
                 fusion_net: ConfigType,
                 losses: Sequence[ConfigType] = (),
                 data_preprocessor: Optional[ConfigType] = None,
                 check_finite: bool = True,
                 init_cfg: Optional[dict] = None) -> None:
        if data_preprocessor is None:
            data_preprocessor = dict(type='FusionDataPreprocessor')
        # built from our registry, so it resolves without a default scope
        super().__init__(
            data_preprocessor=self._build(data_preprocessor),
            init_cfg=init_cfg)
        self.fusion_net = self._build(fusion_net)
        self.losses = nn.ModuleList(self._build(loss) for loss in losses)
        names = [loss.loss_name for loss in self.losses]
        if len(set(names)) != len(names):
            raise ValueError(f'loss names must be unique, got {names}')
        #: whether some loss reads a branch output (``return_all=True``)
        self._needs_all = check_loss_outputs(self.fusion_net, self.losses,
                                             'ImageFusor')
        self.check_finite = check_finite

    @staticmethod
    def _build(cfg: ConfigType) -> nn.Module:
        return cfg if isinstance(cfg, nn.Module) else MODELS.build(cfg)

    def forward(self,
                inputs: torch.Tensor,
                data_samples: Optional[List] = None,
                mode: str = 'tensor'):
        if mode == 'loss':
            return self.loss(inputs, data_samples)
        if mode == 'predict':
            return self.predict(inputs, data_samples)
        if mode == 'tensor':
            return self.fusion_net(inputs)
        raise ValueError(f"mode must be 'loss', 'predict' or 'tensor', "
                         f"got '{mode}'")

    def loss(self, inputs: torch.Tensor,
             data_samples: Optional[List] = None) -> Dict[str, torch.Tensor]:
        """Weighted fusion losses on a batch."""
        if not len(self.losses):
            raise ValueError('ImageFusor has no losses to train with')
        outputs = run_fusion_outputs(self.fusion_net, inputs,
                                     self._needs_all, 'ImageFusor.fusion_net')
        losses = {
            loss_fn.loss_name: loss_fn(outputs[loss_output(loss_fn)], inputs)
            for loss_fn in self.losses
        }
        if self.check_finite:
            # collective in a data-parallel step: all ranks stop together
            check_finite_losses(losses, data_samples)
        return losses

    def predict(self, inputs: torch.Tensor,
                data_samples: Optional[List] = None) -> List:
        """Fuse a batch and attach the results to its data samples."""
        fused = self.fusion_net(inputs).clamp(0, 1)
        if data_samples is None:
            raise ValueError('predict mode needs data_samples')
        for i, sample in enumerate(data_samples):
            pred = crop_to_shape(fused[i], sample.get('img_shape'))
            sample.pred_fused = pred
            if 'chroma' in sample:
                rgb = ycbcr_to_rgb(torch.cat([pred, sample.chroma], dim=0))
                sample.pred_fused_rgb = rgb.clamp(0, 1)
        return data_samples
