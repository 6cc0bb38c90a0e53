"""The model that trains and runs a low-light enhancement network."""
import logging
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.logging import print_log

from mmfusenas.models.base_image_model import BaseImageModel, build_losses
from mmfusenas.registry import MODELS
from mmfusenas.utils.fileio import ROUNDINGS, to_uint8
from mmfusenas.utils.typing_utils import ModuleConfigType
from .loss_fields import (LOSS_FIELDS, call_field_loss, check_loss_fields,
                          network_fields)


def to_uint8_rgb(img: torch.Tensor, rounding: str = 'floor') -> np.ndarray:
    """``(3, H, W)`` float RGB in ``[0, 1]`` -> C-contiguous ``(H, W, 3)``
    uint8."""
    if img.dim() != 3 or img.shape[0] != 3:
        raise ValueError(f'expected a (3, H, W) image, got {tuple(img.shape)}')
    return np.ascontiguousarray(
        to_uint8(img, rounding).cpu().numpy().transpose(1, 2, 0))


def _pad_to(x: torch.Tensor, shape: Sequence[int]) -> torch.Tensor:
    return F.pad(x, (0, shape[1] - x.shape[-1], 0, shape[0] - x.shape[-2]))


@MODELS.register_module()
class ImageEnhancer(BaseImageModel):
    """Enhancement network + optional losses, MMEngine style.

    ``mode='predict'`` sets ``pred_img`` (``(3, H, W)`` in ``[0, 1]``) on the
    samples, ``'tensor'`` returns the raw output, ``'loss'`` the losses. A loss
    is called as ``loss(pred, target)`` (``target``: the ground truth when
    every sample has one, else the input), or, when it declares ``inputs``,
    with those :data:`LOSS_FIELDS` (a loss reading ``gt`` is skipped without
    ground truth). Each loss is multiplied by its one weight in
    :attr:`loss_weights` (the ``loss_weights`` argument's, else 1);
    :meth:`configure_losses` selects the losses and sets weights.

    Args:
        network (dict | nn.Module): maps ``(N, 3, H, W)`` to ``(N, 3, H, W)``.
        losses (Sequence[dict | nn.Module]): losses with unique
            ``loss_name``. Defaults to ().
        data_preprocessor (dict | nn.Module, optional): defaults to
            ``EnhanceDataPreprocessor``.
        pred_quantize (str, optional): None, ``'floor'`` (official RUAS) or
            ``'round'``: quantise the prediction to 8-bit levels.
        loss_weights (str | dict, optional): a loss-weight file of a loss
            search or its ``{loss_name: weight}`` mapping; a file's ``logits``
            also fix the group weights of searchable losses.
        init_cfg (dict, optional): weight initialisation config.
    """

    def __init__(self,
                 network: ModuleConfigType,
                 losses: Sequence[ModuleConfigType] = (),
                 data_preprocessor: Optional[ModuleConfigType] = None,
                 pred_quantize: Optional[str] = None,
                 loss_weights: Optional[Union[str, dict]] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(
            data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        if pred_quantize is not None and pred_quantize not in ROUNDINGS:
            raise ValueError(f'pred_quantize must be None or one of '
                             f'{ROUNDINGS}, got {pred_quantize!r}')
        self.network = self._build(network)
        self.losses = build_losses(losses, 'ImageEnhancer')
        self._needs_all = check_loss_fields(self.losses, LOSS_FIELDS)
        self.pred_quantize = pred_quantize
        self.active_losses: Optional[Tuple[str, ...]] = None
        # the weights of the config (a searched file or a mapping), and the
        # weights applied: those, with a phase's on top
        self._config_weights = self._apply_loss_weights(loss_weights)
        self.loss_weights: Dict[str, float] = dict(self._config_weights)

    def _apply_loss_weights(
            self, spec: Optional[Union[str, dict]]) -> Dict[str, float]:
        """Read searched loss weights (see ``loss_weights``)."""
        if spec is None:
            return {}
        # local import: mutables is a sibling room of enhancers
        from mmfusenas.models.mutables import load_loss_weights
        source = spec if isinstance(spec, str) else 'loss_weights'
        data = load_loss_weights(spec) if isinstance(spec, str) else dict(
            weights=dict(spec), logits={})
        names = [loss.loss_name for loss in self.losses]
        unknown = sorted(set(data['weights']) - set(names))
        if unknown:
            raise ValueError(f'{source} weighs losses {unknown} that the '
                             f'model does not have; its losses: {names}')
        logits = data['logits']
        unknown = sorted({k.partition('/')[0] for k in logits} - set(names))
        if unknown:
            raise ValueError(f'{source}: logits of losses {unknown} that the '
                             f'model does not have; its losses: {names}')
        for loss in self.losses:
            groups = {f'{loss.loss_name}/{g}': n for g, n in getattr(
                loss, 'hyper_logit_groups', dict)().items()}
            given = sorted(k for k in logits
                           if k.partition('/')[0] == loss.loss_name)
            if not given:
                continue
            if set(given) != set(groups):  # e.g. HBL: 4 searched VGG groups,
                print_log(  # trained at 4 fixed taps
                    f'{source}: logits {given} are not the logit groups of '
                    f'the model\'s {loss.loss_name} ({sorted(groups)}); it '
                    'keeps its own layer weights', logger='current',
                    level=logging.WARNING)
                continue
            for key, n in groups.items():
                if len(logits[key]) != n:
                    raise ValueError(f'{source}: logits {key!r} have '
                                     f'{len(logits[key])} entries, expected '
                                     f'{n} (the model\'s group)')
            loss.layer_weights = [
                torch.softmax(torch.tensor(logits[k]), 0).tolist()
                for k in groups
            ]
        return {k: float(v) for k, v in data['weights'].items()}

    default_preprocessor = dict(type='EnhanceDataPreprocessor')

    def tensor(self, inputs: torch.Tensor,
               data_samples: Optional[List] = None) -> torch.Tensor:
        """The network's output on the batch."""
        return self.network(inputs)

    def loss(self,
             inputs: torch.Tensor,
             data_samples: Optional[List] = None) -> Dict[str, torch.Tensor]:
        """Losses of a batch (see the class docstring for the target)."""
        if not len(self.losses):
            raise ValueError('ImageEnhancer has no losses to train with')
        samples = data_samples or []
        gts = [s.get('gt_img') for s in samples]
        if samples and all(gt is not None for gt in gts):
            target = torch.stack(
                [_pad_to(gt, inputs.shape[-2:]) for gt in gts])
        elif any(gt is not None for gt in gts):
            raise ValueError('a batch mixes samples with and without gt_img')
        else:
            target = inputs
        fields = network_fields(self.network, inputs, self._needs_all)
        fields.update(
            low=inputs,
            target=target,
            gt=target if target is not inputs else None)
        losses = {}
        for loss_fn in self.losses:
            name = loss_fn.loss_name
            if self.active_losses is not None and \
                    name not in self.active_losses:
                continue
            value = call_field_loss(loss_fn, fields)
            if value is None:
                continue  # supervised term, batch without ground truth
            losses[name] = value * self.loss_weights.get(name, 1.0)
        return losses

    def configure_losses(self,
                         active: Optional[Sequence[str]] = None,
                         weights: Optional[Dict[str, float]] = None) -> None:
        """Select the losses (``active`` names, None: all) and weigh them:
        ``weights`` replaces the weights of the losses it names; the others
        keep the config's (``loss_weights``, else 1)."""
        names = [loss.loss_name for loss in self.losses]
        for given in (active or ()), (weights or {}):
            unknown = set(given) - set(names)
            if unknown:
                raise ValueError(f'unknown loss names {sorted(unknown)}; '
                                 f'the model has {names}')
        self.active_losses = None if active is None else tuple(active)
        self.loss_weights = dict(self._config_weights)
        self.loss_weights.update(
            {k: float(v) for k, v in (weights or {}).items()})

    #: no name stands for every part in a ``StagingHook`` phase
    phase_group = None

    def phase_parts(self) -> Dict[str, nn.Module]:
        """The parts a ``StagingHook`` phase trains or freezes by name: the
        network's children (``network.<name>``)."""
        return {f'network.{name}': module
                for name, module in self.network.named_children()}

    def apply_phase(self,
                    task: Optional[bool] = None,
                    frozen: Optional[Dict[str, bool]] = None,
                    losses: Union[str, Sequence[str], None] = None,
                    loss_weights: Optional[Dict[str, float]] = None,
                    recalibrate_bn: Sequence[str] = (),
                    reset_bn: bool = False) -> None:
        """Set up one phase of ``StagingHook`` (None: left as it is).

        Args:
            task (bool, optional): Ignored (an enhancer has no task model).
            frozen (dict, optional): Part or module path -> frozen
                (``requires_grad`` off).
            losses (str | Sequence[str], optional): The loss names that
                count (``'all'``: every loss).
            loss_weights (dict, optional): Loss name -> weight; the others
                keep the config's (:meth:`configure_losses`).
            recalibrate_bn (Sequence[str]): Ignored.
            reset_bn (bool): Ignored.
        """
        for part, off in (frozen or {}).items():
            self.get_submodule(part).requires_grad_(not off)
        if (losses, loss_weights) != (None, None):
            self.configure_losses(
                self.active_losses if losses is None else None
                if losses == 'all' else [losses] if isinstance(losses, str)
                else list(losses),
                self.loss_weights if loss_weights is None else loss_weights)

    def predict(self,
                inputs: torch.Tensor,
                data_samples: Optional[List] = None) -> List:
        """Enhance a batch and attach ``pred_img`` to its data samples."""
        if data_samples is None:
            raise ValueError('predict mode needs data_samples')
        preds = self.network(inputs).clamp(0, 1)
        for pred, sample in zip(preds, data_samples):
            shape = sample.get('img_shape')
            if shape is not None:
                pred = pred[..., :shape[0], :shape[1]]
            if self.pred_quantize is not None:
                pred = to_uint8(pred, self.pred_quantize).float() / 255.0
            sample.pred_img = pred
        return data_samples
