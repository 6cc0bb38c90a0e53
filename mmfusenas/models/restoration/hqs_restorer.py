"""Task model of unrolled-HQS restoration: network at ``.network`` + losses;
the degradation and guidance travel in the data samples.
"""
from typing import Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor

from mmfusenas.models.base_image_model import BaseImageModel
from mmfusenas.registry import MODELS
from .hqs_unrolled_net import HQSOutputs

__all__ = ['HQSRestorer', 'LOSS_TERMS']

#: the loss terms of :class:`HQSRestorer`
LOSS_TERMS = ('rec', 'guide')


@MODELS.register_module()
class HQSRestorer(BaseImageModel):
    """Unrolled-HQS network + reconstruction / guidance losses.

    ``forward(inputs, data_samples, mode, degradation, guidance_gt)``:
    ``mode='loss'`` gives ``loss_rec = rec_weight * mean_t MSE(x_t, gt)`` and
    ``loss_guide = guidance_weight * mean_t MSE(s_t, sigma)`` (terms of weight
    0 are left out), ``'predict'`` sets ``pred_img`` (clamped), ``'tensor'``
    returns :class:`~.hqs_unrolled_net.HQSOutputs`. A single-channel network
    restores every channel of a colour image on its own.

    Args:
        network (dict | nn.Module): e.g. ``dict(type='UnrolledHQSNet')``.
        network_channels (int): channels the network takes. Defaults to 1.
        rec_weight (float): reconstruction loss weight. Defaults to 1.
        guidance_weight (float): guidance loss weight. Defaults to 100.
        rec_stages (Sequence[int] | str): ``'last'`` (official), ``'all'`` or
            stage indices.
        guidance_stages (Sequence[int] | str): supervised proxies (official
            ``(0,)``) or ``'all'``.
        manual_guidance (str | float): ``'true'`` feeds ``guidance_gt`` to a
            ``'manual'`` network; a float a constant map. Defaults to 'true'.
        data_preprocessor (dict | nn.Module, optional): defaults to
            :class:`RestorationDataPreprocessor`.
        init_cfg (dict, optional): initialisation config.
    """

    def __init__(self,
                 network: dict | nn.Module,
                 network_channels: int = 1,
                 rec_weight: float = 1.0,
                 guidance_weight: float = 100.0,
                 rec_stages: Sequence[int] | str = 'last',
                 guidance_stages: Sequence[int] | str = (0, ),
                 manual_guidance: str | float = 'true',
                 data_preprocessor: Optional[dict | nn.Module] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(data_preprocessor=data_preprocessor,
                         init_cfg=init_cfg)
        self.network = self._build(network)
        k = getattr(self.network, 'num_stages', 1)
        self.network_channels = network_channels
        self.rec_weight = float(rec_weight)
        self.guidance_weight = float(guidance_weight)
        self.rec_stages = self._stages(rec_stages, k, 'rec_stages')
        self.guidance_stages = self._stages(guidance_stages, k,
                                            'guidance_stages')
        if not (manual_guidance == 'true'
                or isinstance(manual_guidance, (int, float))):
            raise ValueError("HQSRestorer: manual_guidance must be 'true' or "
                             f'a number, got {manual_guidance!r}')
        self.manual_guidance = manual_guidance
        self.active_terms: Tuple[str, ...] = LOSS_TERMS

    @staticmethod
    def _stages(stages, k: int, what: str) -> Tuple[int, ...]:
        if stages == 'last':
            return (k - 1, )
        if stages == 'all':
            return tuple(range(k))
        stages = tuple(int(s) for s in stages)
        if not stages or any(not 0 <= s < k for s in stages):
            raise ValueError(f'HQSRestorer: {what} must be non-empty stage '
                             f'indices in [0, {k}), got {stages}')
        return stages

    def _fold(self, x: Tensor) -> Tensor:
        """``(N, C, H, W)`` → ``(N·C, 1, H, W)`` for a 1-channel network."""
        n, c = x.shape[:2]
        if c == self.network_channels:
            return x
        if self.network_channels != 1:
            raise ValueError(f'HQSRestorer: images have {c} channels, the '
                             f'network takes {self.network_channels}')
        return x.reshape(n * c, 1, *x.shape[2:])

    def run_network(self,
                    inputs: Tensor,
                    degradation: Optional[dict] = None,
                    guidance_gt: Optional[Tensor] = None) -> HQSOutputs:
        """All stage outputs, channels folded into the batch if needed."""
        if inputs.dim() != 4:
            raise ValueError(f'HQSRestorer: inputs must be (N, C, H, W), got '
                             f'{tuple(inputs.shape)}')
        reps = inputs.shape[1] // self.network_channels
        degradation = {
            k: (v.repeat_interleave(reps, 0) if reps > 1 else v)
            for k, v in (degradation or {}).items()
        }
        manual = None
        if getattr(self.network, 'manual_stages', ()):
            if self.manual_guidance == 'true':
                if guidance_gt is None:
                    raise ValueError(
                        "HQSRestorer: manual_guidance='true' needs the true "
                        'guidance map (noise_sigma / guidance_gt of the data '
                        'samples)')
                manual = guidance_gt
            else:
                manual = inputs.new_full((inputs.shape[0], 1, 1, 1),
                                         float(self.manual_guidance))
            if reps > 1:
                manual = manual.repeat_interleave(reps, 0)
        return self.network(
            self._fold(inputs), guidance=manual, return_all=True,
            **degradation)

    default_preprocessor = dict(type='RestorationDataPreprocessor')

    def tensor(self,
               inputs: Tensor,
               data_samples: Optional[List] = None,
               degradation: Optional[dict] = None,
               guidance_gt: Optional[Tensor] = None):
        """The unrolled network's outputs (``mode='tensor'``)."""
        return self.run_network(inputs, degradation, guidance_gt)

    def loss(self,
             inputs: Tensor,
             data_samples: Optional[List] = None,
             degradation: Optional[dict] = None,
             guidance_gt: Optional[Tensor] = None,
             terms: Optional[Sequence[str]] = None) -> Dict[str, Tensor]:
        """The loss terms (``terms`` overrides :attr:`active_terms`)."""
        terms = tuple(self.active_terms if terms is None else terms)
        bad = set(terms) - set(LOSS_TERMS)
        if bad:
            raise ValueError(f'HQSRestorer: unknown loss terms {sorted(bad)}'
                             f'; known: {LOSS_TERMS}')
        out = self.run_network(inputs, degradation, guidance_gt)
        reps = inputs.shape[1] // self.network_channels
        losses = {}
        if 'rec' in terms and self.rec_weight:
            gts = [s.get('gt_img') for s in (data_samples or [])]
            if not gts or any(g is None for g in gts):
                raise ValueError('HQSRestorer: the reconstruction loss needs '
                                 'gt_img on every data sample')
            gt = self._fold(torch.stack(gts).to(inputs))
            losses['loss_rec'] = self.rec_weight * sum(
                F.mse_loss(out.x[t], gt)
                for t in self.rec_stages) / len(self.rec_stages)
        if 'guide' in terms and self.guidance_weight:
            if guidance_gt is None:
                raise ValueError('HQSRestorer: the guidance loss needs the '
                                 'true guidance (noise_sigma or guidance_gt '
                                 'on the data samples)')
            missing = [t for t in self.guidance_stages
                       if t in getattr(self.network, 'manual_stages', ())
                       or out.guidance[t] is None]
            if missing:
                raise ValueError(
                    f'HQSRestorer: guidance_stages {missing} have no proxy '
                    '(guidance mode none / manual); set guidance_weight=0')
            target = guidance_gt.to(inputs)
            if reps > 1:
                target = target.repeat_interleave(reps, 0)
            losses['loss_guide'] = self.guidance_weight * sum(
                F.mse_loss(out.guidance[t], target.expand_as(out.guidance[t]))
                for t in self.guidance_stages) / len(self.guidance_stages)
        if not losses:
            raise ValueError(f'HQSRestorer: no loss term to compute (terms '
                             f'{terms}, rec_weight {self.rec_weight}, '
                             f'guidance_weight {self.guidance_weight})')
        return losses

    def predict(self,
                inputs: Tensor,
                data_samples: Optional[List] = None,
                degradation: Optional[dict] = None,
                guidance_gt: Optional[Tensor] = None) -> List:
        """Set ``pred_img`` (cropped by a sample's ``crop_pad``) and
        ``pred_guidance`` on the data samples.
        """
        if data_samples is None:
            raise ValueError('predict mode needs data_samples')
        out = self.run_network(inputs, degradation, guidance_gt)
        n = inputs.shape[0]
        pred = out.pred.reshape(n, -1, *out.pred.shape[2:]).clamp(0, 1)
        first = out.guidance[0]
        for i, sample in enumerate(data_samples):
            img = pred[i].detach()
            pad = sample.get('crop_pad')
            if pad is not None and any(pad):
                top, bottom, left, right = (int(v) for v in pad)
                img = img[:, top:img.shape[1] - bottom,
                          left:img.shape[2] - right]
            sample.pred_img = img
            if first is not None and 0 not in getattr(
                    self.network, 'manual_stages', ()):
                sample.pred_guidance = first.reshape(
                    n, -1, *first.shape[2:])[i].detach()
        return data_samples
