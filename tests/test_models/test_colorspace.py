import cv2
import numpy as np
import pytest
import torch

from mmfusenas.models.utils.colorspace import (luminance, rgb_to_ycbcr,
                                               ycbcr_to_rgb)


def test_primaries_hand_computed():
    rgb = torch.tensor([[1., 1., 1.], [1., 0., 0.], [0., 0., 1.],
                        [0., 0., 0.]]).t().reshape(3, 1, 4)
    ycc = rgb_to_ycbcr(rgb)[:, 0]
    # white: Y=1, neutral chroma; red: Y=0.299, Cr=0.5+0.701/1.402=1.0;
    # blue: Y=0.114, Cb=0.5+0.886/1.772=1.0; black: Y=0
    torch.testing.assert_close(ycc[0], torch.tensor([1., 0.299, 0.114, 0.]))
    torch.testing.assert_close(ycc[1, [0, 2, 3]], torch.tensor([0.5, 1., .5]))
    torch.testing.assert_close(ycc[2, [0, 1, 3]], torch.tensor([0.5, 1., .5]))


def test_mixed_pixels_hand_computed():
    """(0.2, 0.4, 0.6): Y = 0.299 * 0.2 + 0.587 * 0.4 + 0.114 * 0.6 = 0.363,
    Cb = 0.5 + (0.6 - Y) / 1.772, Cr = 0.5 + (0.2 - Y) / 1.402; grey 0.5
    stays (0.5, 0.5, 0.5)."""
    rgb = torch.tensor([[0.2, 0.4, 0.6], [0.5, 0.5, 0.5]], dtype=torch.float64)
    expected = torch.tensor([[0.363, 0.5 + 0.237 / 1.772, 0.5 - 0.163 / 1.402],
                             [0.5, 0.5, 0.5]], dtype=torch.float64)
    ycc = rgb_to_ycbcr(rgb, dim=-1)
    torch.testing.assert_close(ycc, expected, rtol=0, atol=1e-15)
    torch.testing.assert_close(ycbcr_to_rgb(ycc, dim=-1), rgb, rtol=0,
                               atol=1e-15)
    torch.testing.assert_close(
        luminance(rgb.t()[None, :, None]), expected.t()[None, :1, None],
        rtol=0, atol=1e-15)


def test_round_trip_is_exact_and_uint8_lossless():
    torch.manual_seed(0)
    x = torch.rand(2, 3, 17, 9, dtype=torch.float64)
    torch.testing.assert_close(ycbcr_to_rgb(rgb_to_ycbcr(x)), x)
    u8 = torch.randint(0, 256, (3, 32, 32)).double()
    back = ycbcr_to_rgb(rgb_to_ycbcr(u8 / 255)) * 255
    assert torch.equal(torch.round(back), u8)


def test_channel_last_and_opencv_agreement():
    rng = np.random.default_rng(0)
    img = rng.integers(0, 256, (20, 30, 3), dtype=np.uint8)
    ours = rgb_to_ycbcr(torch.from_numpy(img).double() / 255, dim=-1) * 255
    ocv = cv2.cvtColor(img, cv2.COLOR_RGB2YCrCb).astype(np.float64)
    # OpenCV orders Y, Cr, Cb and works in 8-bit fixed point
    diff = np.abs(ours.numpy()[..., [0, 2, 1]] - ocv)
    assert diff.max() <= 1.5
    chw = torch.from_numpy(img).double().permute(2, 0, 1)
    gray = luminance(chw[None])[0, 0]
    ocv_gray = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY).astype(np.float64)
    # OpenCV rounds its fixed-point luma: within half a level + fixed point
    assert np.abs(gray.numpy() - ocv_gray).max() <= 0.51


def test_wrong_channel_count_is_an_error():
    with pytest.raises(ValueError, match='3 channels'):
        rgb_to_ycbcr(torch.rand(1, 4, 4))
