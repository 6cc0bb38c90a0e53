"""The fusion metrics' long filters (banded matrix products) and VIF's pixel
rules, against the plain forms they replace."""
import numpy as np
import pytest
import torch

from mmfusenas.evaluation.functional import fusion as FF


def _slices(x, kx, ky, step):
    return FF._taps(FF._taps(x, kx, 2, step), ky, 1, step)


@pytest.mark.parametrize('n, step', [(9, 1), (9, 2), (11, 1), (17, 1),
                                     (17, 2), (31, 1)])
def test_banded_filter_equals_the_slices(n, step):
    """Batches, sides that leave a partial block, views (an offset and
    strides), two kernels."""
    g = torch.Generator().manual_seed(n + step)
    kx = FF._gauss1d(n, n / 5.0)
    ky = np.linspace(0.5, 1.5, n + 2)
    for shape in [(1, 64, 80), (3, 53, 71), (2, 40, 97)]:
        x = torch.rand(shape, generator=g, dtype=torch.float64) * 255
        views = [x, x[:, 3:, 5:-2], x.transpose(1, 2)]
        for v in views:
            for k2 in (kx, ky):
                want = _slices(v, kx, k2, step)
                got = FF._sep(v, kx, k2, step)
                assert got.shape == want.shape and got.is_contiguous()
                torch.testing.assert_close(got, want, rtol=1e-14,
                                           atol=1e-12)


def _vif_plain(ref, dist, sigma_nsq=2.0):
    """VIF's pixel rules as masks (the form they replace)."""
    eps, num, den = 1e-10, 0.0, 0.0
    for (filt, x, mu1, s1), (_, y, mu2, s2) in zip(ref, dist):
        s12 = filt(x * y) - mu1 * mu2
        g = s12 / (s1 + eps)
        sv = torch.clamp(s2 - g * s12, min=eps)
        t = torch.log1p(g * g * s1 / (sv + sigma_nsq))
        keep = (s1 >= eps) & (s2 >= eps) & (s12 >= 0)
        num = num + torch.where(keep, t, 0.0).sum()
        den = den + torch.log1p(torch.where(s1 >= eps, s1, 0.0) /
                                sigma_nsq).sum()
    return num / den


def test_vif_pixel_rules_at_their_bounds():
    """Variances at, just below and above 1e-10, and negative, zero and
    positive covariances (the filter is the identity here)."""
    eps = 1e-10
    levels = torch.tensor([0.0, np.nextafter(eps, 0), eps,
                           np.nextafter(eps, 1), 1e-3, 2.0, 50.0],
                          dtype=torch.float64)
    s1, s2 = torch.meshgrid(levels, levels, indexing='ij')
    s1, s2 = s1.reshape(1, -1, 1), s2.reshape(1, -1, 1)
    s1, s2 = s1.expand(-1, -1, 5).clone(), s2.expand(-1, -1, 5).clone()
    cov = torch.tensor([-3.0, -1e-12, 0.0, 1e-12, 4.0],
                       dtype=torch.float64).expand_as(s1)
    x = torch.ones_like(s1)
    mu = torch.zeros_like(s1)

    def ident(z):
        return z

    ref = [(ident, x, mu, s1)]
    dist = [(ident, cov.clone(), mu, s2)]
    want = _vif_plain(ref, dist)
    got = FF._vif_from([(ident, x, mu, s1.clone())],
                       [(ident, cov.clone(), mu, s2.clone())])
    assert got.item() == pytest.approx(want.item(), rel=1e-15)
