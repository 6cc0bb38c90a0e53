"""Pure building blocks of the bilevel strategies: explicit tensor lists, no
``.grad`` writes. Inside :func:`mmfusenas.utils.distributed.data_parallel`
gradients are averaged and finiteness checks are collective.
"""
from contextlib import contextmanager
from typing import Any, Callable, Iterator, List, Optional, Sequence

import torch
from torch import Tensor

from mmfusenas.utils.distributed import average_gradients

LossFn = Callable[[Any], Tensor]


def scalar_loss(loss_fn: LossFn, batch: Any, who: str) -> Tensor:
    """``loss_fn(batch)`` as a 0-dim tensor, checked to be one element
    (``who`` names it in errors). A NaN / Inf value is not looked at here: it
    reaches the gradients, whose optimizer step the runner's
    ``FiniteStepGuardHook`` refuses.

    Raises:
        TypeError: the result is not a one-element tensor.
    """
    loss = loss_fn(batch)
    if not isinstance(loss, Tensor) or loss.numel() != 1:
        shape = tuple(loss.shape) if isinstance(loss, Tensor) else type(loss)
        raise TypeError(f'{who} must be a one-element tensor, got {shape}')
    return loss.reshape(())


def grads_wrt(loss: Tensor,
              inputs: Sequence[Tensor]) -> List[Optional[Tensor]]:
    """``∂ loss / ∂ inputs`` (None where unused), writing no ``.grad``;
    averaged over the ranks under ``data_parallel``.
    """
    inputs = list(inputs)
    if not loss.requires_grad:
        grads = [None] * len(inputs)
    else:
        grads = list(torch.autograd.grad(loss, inputs, allow_unused=True))
    return average_gradients(grads, inputs)


def fill_zeros(grads: Sequence[Optional[Tensor]],
               like: Sequence[Tensor]) -> List[Tensor]:
    """``grads`` with None replaced by zeros shaped like ``like``."""
    return [
        torch.zeros_like(p) if g is None else g for g, p in zip(grads, like)
    ]


def flat_dot(xs: Sequence[Tensor], ys: Sequence[Tensor]) -> Tensor:
    """``Σ_i ⟨x_i, y_i⟩`` over a list of tensors (as if concatenated)."""
    return sum((x * y).sum() for x, y in zip(xs, ys))


def flat_norm(xs: Sequence[Tensor]) -> Tensor:
    """Euclidean norm of a list of tensors (as if concatenated)."""
    return flat_dot(xs, xs).sqrt()


@contextmanager
def replaced_values(params: Sequence[Tensor],
                    values: Sequence[Tensor]) -> Iterator[None]:
    """Temporarily give ``params`` the data ``values``; restore it bit-exactly
    on exit (also on an exception). Do not back-propagate a graph built
    before the block after it.
    """
    backups = [p.detach().clone() for p in params]
    try:
        with torch.no_grad():
            for p, v in zip(params, values):
                p.copy_(v)
        yield
    finally:
        with torch.no_grad():
            for p, b in zip(params, backups):
                p.copy_(b)


def finite_difference_hvp(arch_params: Sequence[Tensor],
                          weight_params: Sequence[Tensor],
                          loss_fn: LossFn,
                          batch: Any,
                          vector: Sequence[Tensor],
                          r: float = 0.01,
                          who: str = 'finite_difference_hvp') -> List[Tensor]:
    """Mixed Hessian–vector product ``∇²_{αθ} L(θ, α) · v`` by central FD:
    ``[∇_α L(θ + εv) - ∇_α L(θ - εv)] / 2ε``, ``ε = r / ‖v‖`` (DARTS Eq. 8).

    θ is restored bit-exactly; no ``.grad`` is written.

    Args:
        arch_params (Sequence[Tensor]): α, differentiated.
        weight_params (Sequence[Tensor]): θ, perturbed along ``vector``.
        loss_fn (Callable): ``loss_fn(batch) -> Tensor``.
        batch (Any): Input of ``loss_fn``.
        vector (Sequence[Tensor]): v, one tensor per weight parameter.
        r (float): Step length ``ε‖v‖``. Defaults to 0.01.
        who (str): Prefix of error messages.

    Returns:
        list[Tensor]: One tensor per α (zeros when ``v = 0``).
    """
    if r <= 0:
        raise ValueError(f'{who}: r must be > 0, got {r}')
    norm = flat_norm(vector)
    if norm == 0:
        return [torch.zeros_like(a) for a in arch_params]
    eps = r / norm
    sides = []
    for sign in (1, -1):
        shifted = [
            p.detach() + sign * eps * v for p, v in zip(weight_params, vector)
        ]
        with replaced_values(weight_params, shifted):
            loss = scalar_loss(loss_fn, batch, f'{who}: loss at θ ± εv')
            sides.append(fill_zeros(grads_wrt(loss, arch_params), arch_params))
    return [(gp - gm) / (2 * eps) for gp, gm in zip(*sides)]
