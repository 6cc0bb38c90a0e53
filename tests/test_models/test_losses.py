import pytest
import torch

from mmfusenas.models.losses import (MaxGradientLoss, MaxIntensityLoss,
                                     sobel_magnitude)


def test_sobel_of_a_ramp_hand_computed():
    x = torch.arange(6.).repeat(4, 1)[None, None]  # I(y, x) = x
    g = sobel_magnitude(x)[0, 0]
    # interior: (I(x+1) - I(x-1)) * (1 + 2 + 1) = 8; replicate borders: 4
    expected = torch.tensor([4., 8., 8., 8., 8., 4.]).repeat(4, 1)
    torch.testing.assert_close(g, expected)
    assert sobel_magnitude(torch.ones(1, 2, 5, 5)).abs().max() == 0


def test_sobel_with_zero_borders_hand_computed():
    """SeAFusion's padding: a constant image has edges at its border
    (corner: 3 + 3, edge centre: 0 + 4)."""
    g = sobel_magnitude(torch.ones(1, 1, 3, 3), border='zeros')[0, 0]
    torch.testing.assert_close(
        g, torch.tensor([[6., 4., 6.], [4., 0., 4.], [6., 4., 6.]]))
    ones = torch.ones(1, 1, 3, 3)
    loss = MaxGradientLoss(border='zeros')(
        torch.zeros(1, 1, 3, 3), torch.cat([ones, 0 * ones], 1))
    torch.testing.assert_close(loss, g.mean())
    with pytest.raises(ValueError, match='border must be one of'):
        MaxGradientLoss(border='reflect')


def test_max_intensity_loss_value_and_gradient():
    sources = torch.tensor([[[[0.2, 0.9]], [[0.5, 0.1]]]])  # (1, 2, 1, 2)
    fused = torch.tensor([[[[0.3, 0.3]]]], requires_grad=True)
    loss = MaxIntensityLoss(loss_weight=2.0)(fused, sources)
    # max = [0.5, 0.9]; |0.3-0.5| + |0.3-0.9| = 0.8; mean 0.4; * 2
    torch.testing.assert_close(loss, torch.tensor(0.8))
    loss.backward()
    torch.testing.assert_close(fused.grad, torch.full((1, 1, 1, 2), -1.0))


def test_max_gradient_loss_zero_when_fused_keeps_strongest_edges():
    torch.manual_seed(0)
    a = torch.rand(1, 1, 8, 8)
    b = torch.zeros(1, 1, 8, 8)  # flat: every edge comes from a
    loss = MaxGradientLoss()(a, torch.cat([a, b], 1))
    # zero up to float rounding: the grouped Sobel convolution of 1 and of
    # 2 channels may run different CPU kernels (seen: 6.6e-8 with torch
    # 2.13 / oneDNN on one machine, exactly 0 on another)
    assert loss.item() == pytest.approx(0.0, abs=1e-6)
    flat = MaxGradientLoss(loss_weight=0.5)(b, torch.cat([a, b], 1))
    torch.testing.assert_close(flat, 0.5 * sobel_magnitude(a).mean())
