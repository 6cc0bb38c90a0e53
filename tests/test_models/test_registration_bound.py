"""One ``max_displacement`` for every registration network: the check
(:func:`check_flow_bound`, for any bound option) and the soft bound (:func:`bound_flow`)."""
import math

import pytest
import torch

from mmfusenas.models.registration import (DeformableRegNet,
                                           PyramidCorrRegNet, bound_flow,
                                           check_flow_bound)


def test_bound_flow_hand_values_and_gradient():
    x = torch.tensor([0.0, 1.0, -1.0, 10.0], dtype=torch.float64,
                     requires_grad=True)
    y = bound_flow(x, 2.0)
    t = math.tanh(0.5)
    torch.testing.assert_close(
        y.detach(), torch.tensor([0.0, 2 * t, -2 * t, 2 * math.tanh(5)],
                                 dtype=torch.float64))
    assert y[3].item() < 2.0
    y.sum().backward()  # d/dx b tanh(x / b) = 1 - tanh(x / b)^2
    torch.testing.assert_close(
        x.grad, torch.tensor([1.0, 1 - t * t, 1 - t * t,
                              1 - math.tanh(5)**2], dtype=torch.float64))
    assert bound_flow(x, None) is x  # unbounded: the field itself


@pytest.mark.parametrize('bad', [0, -1.0, float('nan')])
def test_check_flow_bound_names_the_owner(bad):
    with pytest.raises(ValueError, match=r'^MyNet: max_displacement must be '
                       r'> 0 or None, got'):
        check_flow_bound(bad, 'MyNet')
    assert check_flow_bound(None, 'MyNet') is None
    assert check_flow_bound(3.5, 'MyNet') == 3.5
    with pytest.raises(ValueError, match=r'^MyNet: flow_bound must be > 0'):
        check_flow_bound(bad, 'MyNet', 'flow_bound')  # any option's name


@pytest.mark.parametrize('cls, kw', [
    (DeformableRegNet, dict(channels=4, num_levels=2)),
    (PyramidCorrRegNet, dict(channels=4, num_levels=2, decoder_channels=8,
                             radius=1)),
])
def test_networks_bound_their_field_with_bound_flow(cls, kw):
    torch.manual_seed(0)
    free = cls(**kw)
    for p in free.parameters():  # a large field
        torch.nn.init.normal_(p, std=0.5)
    bounded = cls(max_displacement=1.5, **kw)
    bounded.load_state_dict(free.state_dict())
    fixed, moving = torch.rand(1, 1, 32, 32), torch.rand(1, 1, 32, 32)
    with torch.no_grad():
        raw, flow = free(fixed, moving), bounded(fixed, moving)
    assert raw.abs().max() > 1.5
    torch.testing.assert_close(flow, bound_flow(raw, 1.5))
    assert flow.abs().max() <= 1.5
    with pytest.raises(ValueError, match=f'{cls.__name__}: max_displacement'):
        cls(max_displacement=-2.0, **kw)
