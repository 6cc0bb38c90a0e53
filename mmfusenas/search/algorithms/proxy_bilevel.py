"""Proxy-based bilevel training of hyper-guidance (TVC 2023): ω the
denoisers, θ the proxies whose output is the hyper-guidance; ``f`` the
reconstruction loss, ``g`` the guidance loss. ``'alternating'`` (official)
steps the proxies on g (``arch``) then all weights on f (``weights``);
``'hypergradient'`` steps ω by a hypergradient of f (``arch``) then the
proxies on g (``weights``)."""
from typing import Any, Dict, List, Mapping, Optional

import torch.nn as nn
from torch import Tensor

from mmfusenas.registry import MODELS
from ..strategies import BaseBilevelStrategy, BilevelProblem
from .base import BaseSearchAlgorithm, frozen_parameters

__all__ = ['ProxyBilevelAlgorithm', 'PROXY_SCHEMES']

#: the training schemes of :class:`ProxyBilevelAlgorithm`
PROXY_SCHEMES = ('alternating', 'hypergradient')


@MODELS.register_module()
class ProxyBilevelAlgorithm(BaseSearchAlgorithm):
    """Train an :class:`~mmfusenas.models.HQSRestorer` by proxy-based bilevel
    optimisation (see the module docstring).

    ``train_step`` takes a batch (both levels) or ``dict(train=..., val=...)``
    (``'hypergradient'`` uses ``val`` for the upper loss).

    Args:
        architecture (dict | nn.Module): the restorer (``guidance_stages``:
            the supervised proxies; ``guidance_weight``: the weight of g).
        scheme (str): ``'alternating'`` (official) or ``'hypergradient'``.
        strategy (dict | BaseBilevelStrategy, optional): required by
            ``'hypergradient'``.
        data_preprocessor (dict | nn.Module, optional): see
            :class:`BaseSearchAlgorithm`.
        init_cfg (dict, optional): initialisation config.
    """

    def __init__(self,
                 architecture: dict | nn.Module,
                 scheme: str = 'alternating',
                 strategy: Optional[dict | BaseBilevelStrategy] = None,
                 data_preprocessor: Optional[dict | nn.Module] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(
            architecture,
            data_preprocessor=data_preprocessor,
            init_cfg=init_cfg)
        arch = self.architecture
        if scheme not in PROXY_SCHEMES:
            raise ValueError(f'ProxyBilevelAlgorithm: scheme must be one of '
                             f'{PROXY_SCHEMES}, got {scheme!r}')
        self.scheme = scheme
        network = getattr(arch, 'network', None)
        if not hasattr(network, 'proxy_parameters') or not hasattr(
                arch, 'guidance_stages'):
            raise TypeError('ProxyBilevelAlgorithm: architecture must be an '
                            'HQSRestorer holding an UnrolledHQSNet (with '
                            'proxies) at .network')
        if not arch.guidance_weight:
            raise ValueError('ProxyBilevelAlgorithm: the architecture has '
                             'guidance_weight 0, so there is no guidance '
                             'loss; use plain training (naive end-to-end)')
        if not self.supervised_proxy_parameters():
            raise ValueError(
                f'ProxyBilevelAlgorithm: guidance_stages '
                f'{arch.guidance_stages} have no proxy (guidance mode '
                f'{network.guidance_mode!r})')
        if scheme == 'hypergradient':
            if strategy is None:
                raise ValueError("ProxyBilevelAlgorithm: scheme "
                                 "'hypergradient' needs a strategy, e.g. "
                                 "dict(type='DartsSecondOrderStrategy')")
            strategy = self.build_strategy(strategy)
        elif strategy is not None:
            raise ValueError("ProxyBilevelAlgorithm: scheme 'alternating' "
                             'takes no strategy (it has no hypergradient)')
        self.strategy = strategy

    def supervised_proxy_parameters(self) -> List[nn.Parameter]:
        """θ of the proxies supervised by the guidance loss."""
        return self.architecture.network.proxy_parameters(
            self.architecture.guidance_stages)

    def upper_parameters(self) -> List[nn.Parameter]:
        """ω: every weight but the supervised proxies."""
        ids = {id(p) for p in self.supervised_proxy_parameters()}
        return [p for p in self.architecture.parameters() if id(p) not in ids]

    def arch_parameters(self) -> List[nn.Parameter]:
        """What the ``arch`` optimizer steps (see the module table)."""
        if self.scheme == 'alternating':
            return self.supervised_proxy_parameters()
        return self.upper_parameters()

    def weight_parameters(self) -> List[nn.Parameter]:
        """What the ``weights`` optimizer steps (see the module table)."""
        if self.scheme == 'alternating':
            return list(self.architecture.parameters())
        return self.supervised_proxy_parameters()

    def guidance_loss(self, data: dict) -> Tensor:
        """``g`` (weighted) on a preprocessed batch."""
        return self.architecture.loss(**data, terms=('guide', ))['loss_guide']

    def reconstruction_loss(self, data: dict) -> Tensor:
        """``f`` (weighted) on a preprocessed batch."""
        return self.architecture.loss(**data, terms=('rec', ))['loss_rec']

    def train_step(self, data: Any,
                   optim_wrapper: Mapping) -> Dict[str, Tensor | float]:
        weights_ow, arch_ow = self._split_optim_wrapper(optim_wrapper)
        if isinstance(data, Mapping) and 'train' in data:
            train_batch, val_batch = data['train'], data.get('val')
        else:
            train_batch, val_batch = data, None
        train = self.data_preprocessor(train_batch, True)
        if self.scheme == 'alternating':
            return self._alternating_step(train, weights_ow, arch_ow)
        val = train if val_batch is None else self.data_preprocessor(
            val_batch, True)
        return self._hypergradient_step(train, val, weights_ow, arch_ow)

    def _alternating_step(self, data: dict, weights_ow,
                          arch_ow) -> Dict[str, Tensor]:
        with arch_ow.optim_context(self):
            guide = self.guidance_loss(data)
            arch_ow.update_params(guide)
        with weights_ow.optim_context(self):
            rec = self.reconstruction_loss(data)
            weights_ow.update_params(rec)
        return dict(loss_guide=guide.detach(), loss_rec=rec.detach())

    def _hypergradient_step(self, train: dict, val: dict, weights_ow,
                            arch_ow) -> Dict[str, Any]:
        problem = BilevelProblem(
            self.upper_parameters(),
            self.supervised_proxy_parameters(),
            train_batch=train,
            val_batch=val,
            train_loss=self.guidance_loss,
            val_loss=self.reconstruction_loss,
            weight_optimizer=weights_ow)
        log_vars = self._upper_step(arch_ow, problem)
        with weights_ow.optim_context(self), \
                frozen_parameters(self.upper_parameters()):
            guide = self.guidance_loss(train)
            weights_ow.update_params(guide)
        log_vars['loss_guide'] = guide.detach()
        return log_vars
