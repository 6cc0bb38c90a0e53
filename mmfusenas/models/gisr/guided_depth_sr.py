"""The model that trains and runs a guided depth SR network."""
from typing import Dict, List, Optional, Union

import torch
import torch.nn as nn

from mmfusenas.models.base_image_model import BaseImageModel
from mmfusenas.registry import MODELS

LOSS_SPACES = ('native', 'normalised')


@MODELS.register_module()
class GuidedDepthSR(BaseImageModel):
    """Guided depth SR network + masked L1 loss, MMEngine style.

    ``inputs`` is ``{'lr_up': (N, 1, H, W), 'rgb': (N, 3, H, W)}``, passed as
    ``network(lr_up, rgb)``. ``mode='loss'`` gives the L1 over valid pixels,
    ``'predict'`` one dict per sample with ``pred_depth``, ``gt_depth``,
    ``bicubic`` and ``sample_id``.

    Args:
        network (dict | nn.Module): e.g. :class:`DCNASNet`.
        loss_space (str): ``'native'`` (stored unit, official) or
            ``'normalised'``. Defaults to 'native'.
        mask_invalid (bool): ignore GT <= 0 pixels. Defaults to True.
        data_preprocessor (dict, optional): defaults to
            ``BaseDataPreprocessor``.
        init_cfg (dict, optional): weight initialisation.
    """

    def __init__(self,
                 network: Union[dict, nn.Module],
                 loss_space: str = 'native',
                 mask_invalid: bool = True,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(
            data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        if loss_space not in LOSS_SPACES:
            raise ValueError(f'loss_space must be one of {LOSS_SPACES}, got '
                             f'{loss_space!r}')
        self.network = self._build(network)
        self.loss_space = loss_space
        self.mask_invalid = mask_invalid

    @staticmethod
    def _range(samples: dict, like: torch.Tensor):
        lo = samples['norm_min'].to(like).view(-1, 1, 1, 1)
        hi = samples['norm_max'].to(like).view(-1, 1, 1, 1)
        return lo, hi - lo

    def denormalise(self, x: torch.Tensor, samples: dict) -> torch.Tensor:
        """Normalised ``(N, 1, H, W)`` -> stored unit."""
        lo, span = self._range(samples, x)
        return x * span + lo

    def loss(self, inputs: dict, data_samples: dict) -> Dict[str, torch.Tensor]:
        """Masked L1 (see the class doc)."""
        pred = self.network(inputs['lr_up'], inputs['rgb'])
        gt = data_samples['gt'].to(pred)
        if self.loss_space == 'native':
            pred, target = self.denormalise(pred, data_samples), gt
        else:
            target = data_samples['gt_norm'].to(pred)
        err = (pred - target).abs()
        if self.mask_invalid:
            mask = (gt > 0).to(pred)
            loss = (err * mask).sum() / mask.sum().clamp(min=1)
        else:
            loss = err.mean()
        return dict(loss=loss)

    def predict(self, inputs: dict, data_samples: dict) -> List[dict]:
        pred = self.denormalise(
            self.network(inputs['lr_up'], inputs['rgb']), data_samples)
        bic = self.denormalise(inputs['lr_up'], data_samples)
        ids = data_samples.get('sample_id', [''] * pred.shape[0])
        gts = data_samples.get('gt')  # None on real LR without ground truth
        out = []
        for i in range(pred.shape[0]):
            item = dict(pred_depth=pred[i, 0].detach(),
                        bicubic=bic[i, 0].detach(), sample_id=ids[i])
            if gts is not None:
                item['gt_depth'] = gts[i, 0]
            out.append(item)
        return out

    def tensor(self, inputs: dict, data_samples: Optional[dict] = None):
        """The network's depth on the up-sampled depth and the guide."""
        return self.network(inputs['lr_up'], inputs['rgb'])
