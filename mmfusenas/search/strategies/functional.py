"""Pure building blocks of the bilevel strategies.

Everything here works on explicit lists of tensors and never touches
``.grad``: gradients are taken with :func:`torch.autograd.grad` with respect
to exactly the tensors asked for (:func:`grads_wrt`), so the architecture
and the weight levels can never mix; the strategies of this package are
thin compositions of these functions. Inside
:func:`mmfusenas.utils.distributed.data_parallel`, :func:`grads_wrt`
returns the gradients averaged over the ranks and :func:`scalar_loss`
checks finiteness collectively, so every strategy built from them computes
the hypergradient of the global batch, the same on every rank.
"""
from contextlib import contextmanager
from typing import Any, Callable, Iterator, List, Optional, Sequence

import torch
from torch import Tensor

from mmfusenas.utils.distributed import average_gradients, check_finite

LossFn = Callable[[Any], Tensor]


def scalar_loss(loss_fn: LossFn, batch: Any, who: str) -> Tensor:
    """Evaluate ``loss_fn(batch)`` and check that it is a finite scalar.

    Args:
        loss_fn (Callable): ``loss_fn(batch) -> Tensor``.
        batch (Any): Whatever ``loss_fn`` consumes.
        who (str): Names the caller and the loss in error messages, e.g.
            ``'IASStrategy: upper loss on the validation batch'``.

    Returns:
        Tensor: The 0-dim (or one-element) loss.

    Raises:
        TypeError: If the result is not a one-element tensor.
        FloatingPointError: If the loss is NaN or infinite.
    """
    loss = loss_fn(batch)
    if not isinstance(loss, Tensor) or loss.numel() != 1:
        shape = tuple(loss.shape) if isinstance(loss, Tensor) else type(loss)
        raise TypeError(f'{who} must be a one-element tensor, got {shape}')
    check_finite(loss, who)
    return loss.reshape(())


def grads_wrt(loss: Tensor,
              inputs: Sequence[Tensor]) -> List[Optional[Tensor]]:
    """``∂ loss / ∂ inputs``, ``None`` for inputs the loss does not use.

    Unlike ``loss.backward()`` this writes no ``.grad`` and differentiates
    only with respect to ``inputs``; the graph is freed afterwards. Inside
    :func:`~mmfusenas.utils.distributed.data_parallel` the gradients are
    averaged over the ranks (the gradient of the global batch when every
    rank's loss is the mean over an equal share of it).
    """
    inputs = list(inputs)
    if not loss.requires_grad:
        grads = [None] * len(inputs)
    else:
        grads = list(torch.autograd.grad(loss, inputs, allow_unused=True))
    return average_gradients(grads, inputs)


def fill_zeros(grads: Sequence[Optional[Tensor]],
               like: Sequence[Tensor]) -> List[Tensor]:
    """Replace the ``None`` entries of ``grads`` by zeros shaped like ``like``.

    A tensor the loss does not use has a zero gradient.
    """
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
    """Temporarily give ``params`` the data ``values``; restore it bit-exactly.

    Inside the block every forward through ``params`` really uses
    ``values`` (the data are copied in place, so modules holding the
    parameters need no patching); on exit, also on an exception, the original
    data are copied back from a saved clone, so they are restored bit for
    bit. Do not keep an autograd graph built before the block and
    back-propagate it after: the in-place copies bump the parameters'
    version counters and autograd will (rightly) refuse.

    Args:
        params (Sequence[Tensor]): Leaf tensors (parameters) to overwrite.
        values (Sequence[Tensor]): New data, one per parameter, same shapes.
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
    """Mixed Hessian–vector product ``∇²_{αθ} L(θ, α) · v`` by central FD.

    .. math::

        \\nabla^2_{\\alpha\\theta} L \\, v \\approx
        \\frac{\\nabla_\\alpha L(\\theta^+, \\alpha)
              - \\nabla_\\alpha L(\\theta^-, \\alpha)}{2\\epsilon},
        \\qquad \\theta^\\pm = \\theta \\pm \\epsilon v,
        \\qquad \\epsilon = r / \\lVert v \\rVert

    (DARTS, Liu et al. 2019, Eq. 8). The error is :math:`O(r^2)`; it is
    exact up to rounding when :math:`\\nabla_\\alpha L` is quadratic in θ.
    θ is restored bit-exactly afterwards and no ``.grad`` is written.

    Args:
        arch_params (Sequence[Tensor]): α, differentiated.
        weight_params (Sequence[Tensor]): θ, perturbed along ``vector``.
        loss_fn (Callable): ``loss_fn(batch) -> Tensor``, L(θ, α).
        batch (Any): Input of ``loss_fn``.
        vector (Sequence[Tensor]): v, one tensor per weight parameter.
        r (float): Step length in θ-space, ``ε·‖v‖``. Defaults to 0.01.
        who (str): Prefix of error messages (the calling strategy).

    Returns:
        list[Tensor]: One tensor per architecture parameter; zeros when
        ``v = 0`` or when L does not depend on that α.
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
