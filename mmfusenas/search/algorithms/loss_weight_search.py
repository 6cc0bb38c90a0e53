"""Bilevel search of loss hyper-parameters (HBL's loss search, IJCAI 2022):
loss weights β and in-loss softmax groups γ at the upper level against a
quality objective, the model's weights at the lower level; β (and γ) are
clamped to ``>= 0`` after every upper step."""
from typing import Any, Dict, List, Mapping, Optional, Sequence, Union

import torch
import torch.nn as nn
from torch import Tensor

from mmfusenas.models.mutables import (ArchParams, DiffMixedOp,
                                       LossHyperParams, bind_arch_params,
                                       bind_loss_hyper)
from mmfusenas.registry import MODELS
from mmfusenas.utils.typing_utils import ModuleConfigType
from ..strategies import BaseBilevelStrategy, BilevelProblem
from .base import BaseSearchAlgorithm, frozen_parameters


@MODELS.register_module()
class LossWeightSearchAlgorithm(BaseSearchAlgorithm):
    """Search the loss weights (and in-loss softmax groups) of a model.

    Args:
        architecture (dict | nn.Module): a model with ``'loss'`` (named
            losses) and ``'tensor'`` modes whose loss modules (with
            ``loss_name``) are in ``.losses``.
        objective (dict | nn.Module): the upper objective ``objective(pred,
            target, low) -> scalar`` (``MODELS``); its ``needs_target`` says
            whether validation batches need ground truth.
        strategy (dict | BaseBilevelStrategy): the hypergradient. Defaults to
            ``DartsSecondOrderStrategy(use_optimizer_state=True)`` (HBL).
        searched_losses (Sequence[str], optional): loss names weighted by β
            (others weigh 1). Defaults to every loss.
        init_weight (float | dict): initial β. Defaults to 1.0.
        logit_init_std (float): γ init std. Defaults to 1e-3.
        clamp_min (float, optional): β projection. Defaults to 0.0.
        clamp_logits (bool): also clamp γ (official). Defaults to True.
        update_interval (int): β / γ step every T-th call. Defaults to 1.
        arch_init_std (float): std of the frozen random α of a supernet's
            choice points. Defaults to 1e-3.
        frozen_modules (Sequence[str]): see :class:`BaseSearchAlgorithm`.
        data_preprocessor (dict | nn.Module, optional): see
            :class:`BaseSearchAlgorithm`.
        init_cfg (dict, optional): initialisation config.
    """

    def __init__(self,
                 architecture: ModuleConfigType,
                 objective: Union[dict, nn.Module],
                 strategy: Union[dict, BaseBilevelStrategy] = dict(
                     type='DartsSecondOrderStrategy',
                     use_optimizer_state=True),
                 searched_losses: Optional[Sequence[str]] = None,
                 init_weight=1.0,
                 logit_init_std: float = 1e-3,
                 clamp_min: Optional[float] = 0.0,
                 clamp_logits: bool = True,
                 update_interval: int = 1,
                 arch_init_std: float = 1e-3,
                 frozen_modules: Sequence[str] = (),
                 data_preprocessor: Optional[ModuleConfigType] = None,
                 init_cfg: Optional[dict] = None) -> None:
        update_interval = self.check_interval(
            update_interval, 'LossWeightSearchAlgorithm: update_interval')
        super().__init__(
            architecture,
            data_preprocessor=data_preprocessor,
            frozen_modules=frozen_modules,
            init_cfg=init_cfg)
        arch_model = self.architecture
        self.update_interval = update_interval
        # a supernet searched for its loss keeps a frozen random α
        self.frozen_arch = None
        if any(isinstance(m, DiffMixedOp) for m in arch_model.modules()):
            self.frozen_arch = ArchParams(init_std=arch_init_std)
            bind_arch_params(arch_model, self.frozen_arch)
            self.frozen_arch.requires_grad_(False)

        losses = list(getattr(arch_model, 'losses', []))
        names = [getattr(m, 'loss_name', None) for m in losses]
        if searched_losses is None:
            searched_losses = [n for n in names if n is not None]
        unknown = sorted(set(searched_losses) - set(names))
        if unknown or not searched_losses:
            raise ValueError(
                f'LossWeightSearchAlgorithm: searched_losses {unknown or []} '
                f'are not losses of the architecture (its losses: {names}); '
                'the architecture must hold its loss modules in .losses')
        self.hyper = LossHyperParams(
            init_weight=init_weight,
            logit_init_std=logit_init_std,
            clamp_min=clamp_min,
            clamp_logits=clamp_logits)
        self.searched_losses = bind_loss_hyper(losses, self.hyper,
                                               list(searched_losses))
        self.objective = objective if isinstance(
            objective, nn.Module) else MODELS.build(objective)
        self.strategy = self.build_strategy(strategy)
        self._register_step_counter()

    def arch_parameters(self) -> List[nn.Parameter]:
        """The upper-level tensors: β and γ (named ``arch`` for the
        strategies and the ``BilevelOptimWrapperConstructor``)."""
        return list(self.hyper.parameters())

    def weight_parameters(self) -> List[nn.Parameter]:
        """θ: the trainable parameters of the architecture."""
        return [p for p in self.architecture.parameters() if p.requires_grad]

    @property
    def arch_step_due(self) -> bool:
        """Whether the next train step updates β / γ (needs ``val``)."""
        return (self.num_train_steps + 1) % self.update_interval == 0

    def weighted_loss(self, data: dict) -> Tensor:
        """The lower loss ``Σ β_k ℓ_k`` (+ unsearched losses) of a
        preprocessed batch."""
        losses = self.architecture(**data, mode='loss')
        total = None
        for name, value in losses.items():
            if 'loss' not in name:
                continue
            if isinstance(value, (list, tuple)):
                value = sum(value)
            if name in self.searched_losses:
                value = self.hyper.weight(name) * value
            total = value if total is None else total + value
        if total is None:
            raise ValueError('LossWeightSearchAlgorithm: the architecture '
                             'returned no loss')
        return total

    def _target(self, data: dict) -> Optional[Tensor]:
        if not getattr(self.objective, 'needs_target', False):
            return None
        samples = data.get('data_samples') or []
        gts = [s.get('gt_img') for s in samples]
        if not gts or any(g is None for g in gts):
            raise ValueError(
                f'{type(self.objective).__name__} needs ground truth '
                '(gt_img) on every validation sample')
        return torch.stack(gts)

    def quality_loss(self, data: dict) -> Tensor:
        """The upper objective on a preprocessed batch."""
        pred = self.architecture(data['inputs'], data.get('data_samples'),
                                 mode='tensor')
        return self.objective(pred, self._target(data), data['inputs'])

    def train_step(self, data: dict,
                   optim_wrapper: Mapping) -> Dict[str, Union[Tensor, float]]:
        """A β / γ step (every T-th call), then a weight step."""
        weights_ow, hyper_ow = self._split_optim_wrapper(optim_wrapper)
        train_data, val_data = self._train_val(data, self.arch_step_due)
        log_vars: Dict[str, Any] = {}
        if val_data is not None:
            problem = BilevelProblem(
                self.arch_parameters(),
                self.weight_parameters(),
                train_batch=train_data,
                val_batch=val_data,
                train_loss=self.weighted_loss,
                val_loss=self.quality_loss,
                weight_optimizer=weights_ow)
            log_vars.update(self._upper_step(hyper_ow, problem))
            self.hyper.project_()
            for name in self.searched_losses:
                log_vars[f'beta/{name}'] = self.hyper.weight(name).detach()
        with weights_ow.optim_context(self), \
                frozen_parameters(self.arch_parameters()):
            loss = self.weighted_loss(train_data)
            weights_ow.update_params(loss)
        self._count_step()
        log_vars['loss'] = loss.detach()
        return log_vars

    def export_loss_weights(self, path: str,
                            meta: Optional[dict] = None) -> None:
        """Write β / γ as a loss-weight file (YAML / JSON)."""
        info = dict(
            strategy=type(self.strategy).__name__,
            objective=type(self.objective).__name__,
            train_steps=self.num_train_steps)
        info.update(meta or {})
        self.hyper.dump(path, meta=info)
