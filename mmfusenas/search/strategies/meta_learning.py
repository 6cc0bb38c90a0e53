"""The meta-gradient core of pretext meta-initialisation (PMI, MAML-style):
K differentiable inner steps by functional calls, then ∇_ω of the query loss,
without a runner (:class:`~mmfusenas.engine.runner.PMILoop` drives it)."""
from typing import Dict, List, Sequence, Tuple, Union

import torch
from mmengine.model import BaseModel
from torch import Tensor
from torch.func import functional_call

from mmfusenas.utils.distributed import (average_gradients, average_value,
                                         check_finite, differentiable_average)
from .functional import fill_zeros

PMI_ORDERS = ('first', 'second')
INNER_OPTIMIZERS = ('adam', 'sgd')
Batch = Union[dict, tuple, list]


def meta_parameters(model: torch.nn.Module) -> List[Tuple[str, Tensor]]:
    """``(name, parameter)`` of the parameters with ``requires_grad``."""
    return [(n, p) for n, p in model.named_parameters() if p.requires_grad]


def task_loss(model: BaseModel, params: Dict[str, Tensor],
              data_batch: Batch) -> Tuple[Tensor, Dict[str, Tensor]]:
    """``model.parse_losses`` of the loss forward of ``data_batch`` with the
    parameters ``params`` (:func:`torch.func.functional_call`)."""
    data = model.data_preprocessor(data_batch, True)
    args, kwargs = ((), data) if isinstance(data, dict) else (data, {})
    return model.parse_losses(functional_call(
        model, params, tuple(args), dict(kwargs, mode='loss')))


def _safe_sqrt(x: Tensor) -> Tensor:
    """``sqrt(x)`` whose derivative at 0 is 0 instead of nan."""
    positive = x > 0
    return torch.where(positive, torch.sqrt(torch.where(positive, x, 1.0)),
                       torch.zeros_like(x))


def inner_update(params: Sequence[Tensor],
                 grads: Sequence[Tensor],
                 state: Dict[str, List[Tensor]],
                 step: int,
                 optimizer: str = 'adam',
                 lr: float = 1e-3,
                 betas: Tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8) -> List[Tensor]:
    """The weights after one differentiable SGD or Adam step (no weight
    decay); ``state`` holds Adam's moments ``'m'``, ``'v'`` (replaced),
    ``step`` is 1-based."""
    if optimizer == 'sgd':
        return [p - lr * g for p, g in zip(params, grads)]
    if optimizer != 'adam':
        raise ValueError(f'inner optimizer must be one of {INNER_OPTIMIZERS}'
                         f', got {optimizer!r}')
    b1, b2 = betas
    state['m'] = [b1 * m + (1 - b1) * g for m, g in zip(state['m'], grads)]
    state['v'] = [b2 * v + (1 - b2) * g * g for v, g in zip(state['v'], grads)]
    c1, c2 = 1 - b1**step, 1 - b2**step
    return [
        p - lr * (m / c1) / (_safe_sqrt(v / c2) + eps)
        for p, m, v in zip(params, state['m'], state['v'])
    ]


def meta_gradient(model: BaseModel,
                  support: Sequence[Batch],
                  query: Batch,
                  order: str = 'first',
                  inner_optimizer: str = 'adam',
                  inner_lr: float = 1e-3,
                  inner_betas: Tuple[float, float] = (0.9, 0.999),
                  inner_eps: float = 1e-8
                  ) -> Tuple[List[Tensor], List[float], float]:
    """∇_ω f(θ_i(ω)) of one task (aligned with :func:`meta_parameters`),
    the K inner losses and the query loss; the model is unchanged.

    One :func:`inner_update` per ``support`` batch, then the loss on
    ``query``; ``order='second'`` differentiates through the inner steps.
    Under ``data_parallel`` gradients and losses are averaged over the
    ranks; a non-finite loss raises :class:`FloatingPointError`.
    """
    if order not in PMI_ORDERS:
        raise ValueError(f'order must be one of {PMI_ORDERS}, got {order!r}')
    named = meta_parameters(model)
    if not named:
        raise ValueError(f'meta_gradient: {type(model).__name__} has no '
                         'parameter with requires_grad to meta-learn')
    names, omega = zip(*named)
    second = order == 'second'
    theta = list(omega) if second else [
        p.detach().clone().requires_grad_(True) for p in omega]
    state = {k: [torch.zeros_like(p) for p in omega] for k in 'mv'}
    inner_losses = []
    for step, batch in enumerate(support, start=1):
        loss, _ = task_loss(model, dict(zip(names, theta)), batch)
        check_finite(loss, f'meta_gradient: the inner loss of step {step}')
        grads = torch.autograd.grad(
            loss, theta, create_graph=second, allow_unused=True)
        grads = differentiable_average(fill_zeros(grads, theta)) if second \
            else fill_zeros(average_gradients(grads, theta), theta)
        with torch.set_grad_enabled(second):
            theta = inner_update(theta, grads, state, step, inner_optimizer,
                                 inner_lr, inner_betas, inner_eps)
        if not second:
            theta = [p.detach().requires_grad_(True) for p in theta]
        inner_losses.append(average_value(loss.item()))
    meta_loss, _ = task_loss(model, dict(zip(names, theta)), query)
    check_finite(meta_loss, 'meta_gradient: the query loss')
    wrt = list(omega) if second else theta
    grads = average_gradients(
        torch.autograd.grad(meta_loss, wrt, allow_unused=True), wrt)
    grads = [g.detach() for g in fill_zeros(grads, omega)]
    return grads, inner_losses, average_value(meta_loss.item())
