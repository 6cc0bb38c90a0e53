"""PMI's meta-gradient core (``search.strategies.meta_learning``) against
hand computation, finite differences and ``torch.optim.Adam``."""
import math

import pytest
import torch

from mmfusenas.search.strategies import (inner_update, meta_gradient,
                                         meta_parameters)
from helpers.scalar_meta import QUERY, SUPPORT, ScalarModel, grad

pytestmark = pytest.mark.usefixtures('one_thread')


# ------------------------------------------------------------------ SGD
def test_two_sgd_steps_first_and_second_order_hand_computed():
    a, w0 = 0.1, 0.3
    w1 = w0 - a * grad(w0, 1.0, 2.0)  # 0.3 - 0.1 * (-3.4) = 0.64
    w2 = w1 - a * grad(w1, 2.0, 1.0)  # 0.64 - 0.1 * 1.12 = 0.528
    fq = grad(w2, 1.5, 0.5)  # 2 * 1.5 * (0.792 - 0.5) = 0.876
    assert (w1, w2, fq) == pytest.approx((0.64, 0.528, 0.876))
    # d w2 / d w0 = (1 - a * 2 x1^2)(1 - a * 2 x0^2) = 0.2 * 0.8
    model = ScalarModel(w0)
    g1, inner, meta = meta_gradient(model, SUPPORT, QUERY, 'first', 'sgd', a)
    g2, _, _ = meta_gradient(model, SUPPORT, QUERY, 'second', 'sgd', a)
    assert [n for n, _ in meta_parameters(model)] == ['w', 'unused']
    assert g1[0].item() == pytest.approx(0.876, abs=1e-12)
    assert g2[0].item() == pytest.approx(0.876 * 0.2 * 0.8, abs=1e-12)
    for g in (g1, g2):  # the unused parameter has a zero meta-gradient
        assert torch.equal(g[1], torch.zeros(2, dtype=torch.float64))
    assert inner == pytest.approx([(0.3 - 2)**2, (0.64 * 2 - 1)**2])
    assert meta == pytest.approx((0.528 * 1.5 - 0.5)**2)
    assert model.w.item() == 0.3 and model.w.grad is None  # untouched


# ----------------------------------------------------------------- Adam
def adam_chain(w0, lr, b1, b2, eps):
    """Two Adam steps on SUPPORT, then f on QUERY, in plain Python."""
    m = v = 0.0
    w = w0
    for t, (x, y) in enumerate([(1.0, 2.0), (2.0, 1.0)], start=1):
        g = grad(w, x, y)
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        w = w - lr * (m / (1 - b1**t)) / (math.sqrt(v / (1 - b2**t)) + eps)
    return w, (w * 1.5 - 0.5)**2


@pytest.mark.parametrize('eps', [1e-8, 0.5])
def test_two_adam_steps_first_and_second_order(eps):
    lr, b1, b2, w0 = 0.05, 0.9, 0.999, 0.3
    w2, f = adam_chain(w0, lr, b1, b2, eps)
    model = ScalarModel(w0)
    kw = dict(
        inner_optimizer='adam',
        inner_lr=lr,
        inner_betas=(b1, b2),
        inner_eps=eps)
    g1, _, meta = meta_gradient(model, SUPPORT, QUERY, 'first', **kw)
    g2, _, _ = meta_gradient(model, SUPPORT, QUERY, 'second', **kw)
    assert meta == pytest.approx(f, abs=1e-14)
    # first order: df/dw at the adapted weight
    assert g1[0].item() == pytest.approx(grad(w2, 1.5, 0.5), abs=1e-12)
    # second order: the derivative of the whole chain w0 -> f
    h = 1e-6
    fd = (adam_chain(w0 + h, lr, b1, b2, eps)[1] -
          adam_chain(w0 - h, lr, b1, b2, eps)[1]) / (2 * h)
    assert g2[0].item() == pytest.approx(fd, abs=1e-8)
    if eps == 0.5:  # a visible second-order correction
        assert abs(g2[0].item() - g1[0].item()) > 1e-2


def test_inner_adam_equals_torch_adam():
    torch.manual_seed(0)
    p0 = torch.randn(5, dtype=torch.float64)
    grads = [torch.randn(5, dtype=torch.float64) for _ in range(4)]
    grads[2][1] = 0.0  # zero gradient entries are handled
    ref = p0.clone().requires_grad_(True)
    opt = torch.optim.Adam([ref], lr=0.01, betas=(0.8, 0.99), eps=1e-6)
    params = [p0.clone()]
    state = dict(
        m=[torch.zeros(5, dtype=torch.float64)],
        v=[torch.zeros(5, dtype=torch.float64)])
    for t, g in enumerate(grads, start=1):
        ref.grad = g.clone()
        opt.step()
        params = inner_update(params, [g], state, t, 'adam', 0.01, (0.8, 0.99),
                              1e-6)
    torch.testing.assert_close(params[0], ref.detach(), rtol=0, atol=1e-15)
    with pytest.raises(ValueError, match='inner optimizer'):
        inner_update(params, [grads[0]], state, 1, 'rmsprop')


def test_second_order_through_a_zero_gradient_is_finite():
    model = ScalarModel(2.0)  # w x = y on the first batch: g = 0
    g, _, _ = meta_gradient(model, SUPPORT[:1], QUERY, 'second', 'adam')
    # g = 0 leaves w1 = w0 = 2; sqrt(v) has derivative 0 at v = 0, so
    # dw1/dw0 = 1 - lr * (dg/dw0) / eps = 1 - 1e-3 * 2 x^2 / 1e-8 (x = 1);
    # the query gradient at w1: 2 * 1.5 * (1.5 * 2 - 0.5) = 7.5
    assert g[0].item() == pytest.approx(7.5 * (1 - 2e5), rel=1e-9)
