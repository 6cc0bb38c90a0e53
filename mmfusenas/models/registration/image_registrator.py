"""The model that trains and runs a registration network on paired images."""
from typing import Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F

from mmfusenas.models.base_image_model import BaseImageModel, build_losses
from mmfusenas.models.enhancers.loss_fields import call_field_loss
from mmfusenas.models.data_preprocessors import crop_to_shape
from mmfusenas.registry import MODELS
from mmfusenas.utils.typing_utils import ModuleConfigType
from .fields import (check_registration_losses,
                     register_pair)


@MODELS.register_module()
class ImageRegistrator(BaseImageModel):
    """Registration network + registration losses, MMEngine style.

    The network reads the ``fixed`` and ``moving`` modalities of the
    :class:`~mmfusenas.models.FusionDataPreprocessor` batch and predicts the
    field that warps ``moving`` onto ``fixed``. ``mode='predict'`` sets
    ``pred_flow`` and ``pred_warped``; ``'tensor'`` returns the field.

    Args:
        registration_net (dict | nn.Module): ``net(fixed, moving) -> flow``.
        losses (Sequence[dict | nn.Module]): registration losses.
        fixed (str): modality registered to. Defaults to 'vi'.
        moving (str): modality warped. Defaults to 'ir'.
        padding_mode (str): of the spatial transformer. Defaults to 'border'.
        data_preprocessor (dict | nn.Module, optional): defaults to
            ``FusionDataPreprocessor``.
        init_cfg (dict, optional): weight initialisation config.
    """

    def __init__(self,
                 registration_net: ModuleConfigType,
                 losses: Sequence[ModuleConfigType] = (),
                 fixed: str = 'vi',
                 moving: str = 'ir',
                 padding_mode: str = 'border',
                 data_preprocessor: Optional[ModuleConfigType] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(
            data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        if fixed == moving:
            raise ValueError('ImageRegistrator: fixed and moving must be two '
                             f'different modalities, got {fixed!r} twice')
        self.registration_net = self._build(registration_net)
        self.losses = build_losses(losses, 'ImageRegistrator')
        check_registration_losses(self.losses, owner='ImageRegistrator')
        self.fixed = fixed
        self.moving = moving
        self.padding_mode = padding_mode

    default_preprocessor = dict(type='FusionDataPreprocessor')

    def _pair(self, inputs: torch.Tensor,
              data_samples: Optional[List]) -> Tuple[torch.Tensor,
                                                     torch.Tensor]:
        if not data_samples or 'modalities' not in data_samples[0]:
            raise ValueError('ImageRegistrator needs data samples with '
                             "'modalities' metainfo (use PackFusionInputs)")
        modalities = list(data_samples[0].modalities)
        for name in (self.fixed, self.moving):
            if name not in modalities:
                raise KeyError(f'ImageRegistrator: modality {name!r} is not '
                               f'in the batch (modalities {modalities})')
        if inputs.shape[1] != len(modalities):
            raise ValueError(
                f'ImageRegistrator: the batch has {inputs.shape[1]} channels '
                f'for modalities {modalities}; expected one luminance '
                'channel per modality (FusionDataPreprocessor without '
                'keep_rgb)')
        f, m = modalities.index(self.fixed), modalities.index(self.moving)
        return inputs[:, f:f + 1], inputs[:, m:m + 1]

    @staticmethod
    def _gt_flow(data_samples: List,
                 shape: torch.Size) -> Optional[torch.Tensor]:
        """The samples' ``gt_flow`` padded (zeros) to the batch and stacked;
        None unless every sample has one."""
        if not all('gt_flow' in s for s in data_samples):
            return None
        flows = []
        for sample in data_samples:
            flow = torch.as_tensor(sample.gt_flow).float()
            h, w = flow.shape[-2:]
            flows.append(F.pad(flow, (0, shape[-1] - w, 0, shape[-2] - h)))
        return torch.stack(flows)

    def run(self, inputs: torch.Tensor, data_samples: List) -> Dict:
        """The fields of one forward pass (see :func:`register_pair`), plus
        ``gt_flow`` when the samples carry it."""
        fixed, moving = self._pair(inputs, data_samples)
        fields = register_pair(self.registration_net, fixed, moving,
                               self.padding_mode)
        gt_flow = self._gt_flow(data_samples, inputs.shape)
        fields['gt_flow'] = None if gt_flow is None else gt_flow.to(inputs)
        return fields

    def tensor(self, inputs: torch.Tensor,
               data_samples: Optional[List] = None):
        """The registration network's output on the (fixed, moving)
        pair."""
        fixed, moving = self._pair(inputs, data_samples)
        return self.registration_net(fixed, moving)

    def loss(self, inputs: torch.Tensor,
             data_samples: Optional[List] = None) -> Dict[str, torch.Tensor]:
        """Weighted registration losses on a batch."""
        if not len(self.losses):
            raise ValueError('ImageRegistrator has no losses to train with')
        fields = self.run(inputs, data_samples)
        losses = {
            loss_fn.loss_name: call_field_loss(loss_fn, fields)
            for loss_fn in self.losses
        }
        return losses

    def predict(self, inputs: torch.Tensor,
                data_samples: Optional[List] = None) -> List:
        """Register a batch and attach ``pred_flow`` / ``pred_warped``."""
        fields = self.run(inputs, data_samples)
        for i, sample in enumerate(data_samples):
            shape = sample.get('img_shape')
            sample.pred_flow = crop_to_shape(fields['flow'][i], shape)
            sample.pred_warped = crop_to_shape(
                fields['warped'][i].clamp(0, 1), shape)
        return data_samples
