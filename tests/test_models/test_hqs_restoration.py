"""Unrolled HQS with hyper-guidance: data step, proxy, denoiser, network."""
import math

import pytest
import torch
from mmengine.structures import BaseDataElement

from mmfusenas.models import (DilatedDenoiser, HQSDeconv, HQSRestorer,
                              NoiseLevelProxy, UnrolledHQSNet,
                              center_pad_kernels, circular_conv2d,
                              dpir_rho_schedule, dpir_sigma_schedule,
                              gradient_wiener, hqs_deconv, psf2otf)


def _count(m):
    return sum(p.numel() for p in m.parameters())


def _spatial_circular(x, k):
    """Σ_{a,b} k[a,b] x[i-a+⌊kh/2⌋, j-b+⌊kw/2⌋] (mod H, W), by rolls."""
    ch, cw = k.shape[0] // 2, k.shape[1] // 2
    out = torch.zeros_like(x)
    for a in range(k.shape[0]):
        for b in range(k.shape[1]):
            out += k[a, b] * torch.roll(x, (a - ch, b - cw), dims=(-2, -1))
    return out


@pytest.mark.parametrize('ksize', [(3, 3), (4, 6), (5, 4), (2, 2), (1, 1)])
def test_psf2otf_matches_spatial_circular_convolution(ksize):
    g = torch.Generator().manual_seed(sum(ksize))
    x = torch.rand(1, 1, 7, 9, generator=g, dtype=torch.float64)
    k = torch.rand(*ksize, generator=g, dtype=torch.float64)
    got = circular_conv2d(x, k[None])
    torch.testing.assert_close(got, _spatial_circular(x, k), rtol=0,
                               atol=1e-12)


def test_psf2otf_hand_cases():
    # delta at the centre -> all-ones OTF
    delta = torch.zeros(5, 5)
    delta[2, 2] = 1
    torch.testing.assert_close(psf2otf(delta, (8, 8)).real,
                               torch.ones(1, 8, 8))
    # [[1, 2]], centre column 1: padded [1, 2, 0, 0] rolled by -1 ->
    # [2, 0, 0, 1], FFT X[m] = 2 + exp(-2πi·3m/4)
    otf = psf2otf(torch.tensor([[1.0, 2.0]], dtype=torch.float64), (1, 4))
    m = torch.arange(4, dtype=torch.float64)
    want = 2 + torch.exp(-2j * math.pi * 3 * m / 4)
    torch.testing.assert_close(otf[0, 0], want)
    assert psf2otf(torch.rand(3, 3), (4, 4)).dtype == torch.complex64
    with pytest.raises(ValueError, match='larger than the image'):
        psf2otf(torch.rand(5, 5), (4, 8))


def _conv_matrix(k, h, w):
    basis = torch.eye(h * w, dtype=torch.float64).reshape(h * w, 1, h, w)
    cols = _spatial_circular(basis, k).reshape(h * w, h * w)
    return cols.T  # column j = A e_j


@pytest.mark.parametrize('ksize', [(3, 3), (4, 2)])
def test_data_step_equals_direct_solve(ksize):
    h, w, rho = 6, 5, 0.03
    g = torch.Generator().manual_seed(3)
    ks = torch.rand(2, *ksize, generator=g, dtype=torch.float64)
    ks = ks / ks.sum((1, 2), keepdim=True)
    y = torch.rand(2, 1, h, w, generator=g, dtype=torch.float64)
    xt = torch.rand(2, 1, h, w, generator=g, dtype=torch.float64)
    got = hqs_deconv(y, ks, xt, rho)
    for i in range(2):
        a = _conv_matrix(ks[i], h, w)
        lhs = a.T @ a + rho * torch.eye(h * w, dtype=torch.float64)
        rhs = a.T @ y[i].flatten() + rho * xt[i].flatten()
        want = torch.linalg.solve(lhs, rhs).reshape(1, h, w)
        torch.testing.assert_close(got[i], want, rtol=0, atol=1e-10)
    # float32 runs in complex64 and agrees to float precision
    got32 = hqs_deconv(y.float(), ks.float(), xt.float(), rho)
    assert got32.dtype == torch.float32
    torch.testing.assert_close(got32.double(), got, rtol=0, atol=1e-4)


def test_data_step_gradient_matches_finite_differences():
    g = torch.Generator().manual_seed(0)
    k = torch.rand(1, 3, 3, generator=g, dtype=torch.float64)
    y = torch.rand(1, 1, 5, 5, generator=g, dtype=torch.float64)
    x = torch.rand(1, 1, 5, 5, generator=g, dtype=torch.float64,
                   requires_grad=True)
    assert torch.autograd.gradcheck(lambda x: hqs_deconv(y, k, x, 0.1), (x, ))


@pytest.mark.parametrize('ksize', [(3, 3), (4, 2)])
def test_gradient_wiener_equals_direct_solve(ksize):
    """argmin ‖k∗x − y‖² + w(‖D_h x‖² + ‖D_v x‖²) by the normal equations
    of the circular convolution matrices."""
    h, w, weight = 6, 5, 0.02
    g = torch.Generator().manual_seed(5)
    ks = torch.rand(2, *ksize, generator=g, dtype=torch.float64)
    ks = ks / ks.sum((1, 2), keepdim=True)
    y = torch.rand(2, 1, h, w, generator=g, dtype=torch.float64)
    got = gradient_wiener(y, ks, weight)
    dh = _conv_matrix(torch.tensor([[0., 1., -1.]], dtype=torch.float64),
                      h, w)
    dv = _conv_matrix(torch.tensor([[0.], [1.], [-1.]], dtype=torch.float64),
                      h, w)
    for i in range(2):
        a = _conv_matrix(ks[i], h, w)
        lhs = a.T @ a + weight * (dh.T @ dh + dv.T @ dv)
        want = torch.linalg.solve(lhs, a.T @ y[i].flatten()).reshape(1, h, w)
        torch.testing.assert_close(got[i], want, rtol=0, atol=1e-10)
    # a delta kernel and a vanishing weight return the observation; the
    # mean is kept for any weight (the gradient term does not see it)
    delta = torch.zeros(1, 3, 3, dtype=torch.float64)
    delta[0, 1, 1] = 1
    torch.testing.assert_close(gradient_wiener(y[:1], delta, 1e-12), y[:1],
                               rtol=0, atol=1e-9)
    smooth = gradient_wiener(y[:1], delta, 100.0)
    torch.testing.assert_close(smooth.mean(), y[:1].mean(), rtol=0,
                               atol=1e-12)
    assert smooth.std() < 0.05 * y[:1].std()
    with pytest.raises(ValueError, match='weight must be > 0'):
        gradient_wiener(y, ks, 0.0)
    with pytest.raises(ValueError, match='2 kernels for 1 images'):
        gradient_wiener(y[:1], ks, 0.1)


def test_rho_schedule_values_and_buffers():
    sig = dpir_sigma_schedule(5)
    assert sig[0] == pytest.approx(49) and sig[-1] == pytest.approx(13)
    assert sig[1:4] == pytest.approx([35.17, 25.24, 18.11], abs=5e-3)
    rho = dpir_rho_schedule(0.01, 5)
    assert rho == pytest.approx(
        [9.03e-4, 1.753e-3, 3.403e-3, 6.606e-3, 1.2825e-2], rel=1e-3)
    # hand value of the first: (1e-4 / 3) * 255^2 / 49^2
    assert rho[0] == pytest.approx(1e-4 / 3 * 255**2 / 49**2, rel=1e-12)
    net = UnrolledHQSNet(num_stages=5, denoiser=dict(
        type='DilatedDenoiser', width=4), proxy=dict(
            type='NoiseLevelProxy', width=4))
    assert [float(s.rho) for s in net.data_steps] == pytest.approx(rho)
    assert 'data_steps.0.rho' in net.state_dict()
    assert not any('data_steps' in n for n, _ in net.named_parameters())
    net2 = UnrolledHQSNet(num_stages=2, rho=[0.5, 0.25])
    assert [float(s.rho) for s in net2.data_steps] == [0.5, 0.25]
    with pytest.raises(ValueError, match='2 stages'):
        UnrolledHQSNet(num_stages=2, rho=[0.5])


def test_parameter_counts_equal_official():
    assert _count(NoiseLevelProxy()) == 75073
    assert _count(DilatedDenoiser()) == 260289
    assert _count(UnrolledHQSNet(num_stages=1)) == 335362
    assert _count(UnrolledHQSNet(num_stages=5)) == 1676810
    # IRCNN denoise_model and the meta_man small_ffd denoiser
    assert _count(DilatedDenoiser(guidance_channels=0,
                                  dilations='ircnn')) == 185857
    assert _count(DilatedDenoiser(dilations='small_ffd')) == 149505
    # no-guidance variant: no proxies, 1-channel denoisers
    nohyper = UnrolledHQSNet(guidance='none', denoiser=dict(
        type='DilatedDenoiser', dilations='small_ffd'))
    assert len(nohyper.proxies) == 0
    assert _count(nohyper) == 5 * (149505 - 64 * 9)


def test_proxy_is_nonnegative_and_denoiser_residual():
    torch.manual_seed(0)
    proxy = NoiseLevelProxy(width=8)
    out = proxy(torch.randn(2, 1, 9, 9))
    assert out.shape == (2, 1, 9, 9) and (out >= 0).all()
    den = DilatedDenoiser(width=8, residual=False)
    res = DilatedDenoiser(width=8)
    res.load_state_dict(den.state_dict())
    x, s = torch.rand(1, 1, 12, 12), torch.rand(1, 1, 12, 12)
    torch.testing.assert_close(res(x, s), x - den(x, s))
    with pytest.raises(ValueError, match='guidance'):
        res(x)


def _tiny_net(**kw):
    cfg = dict(
        num_stages=3,
        proxy=dict(type='NoiseLevelProxy', width=4),
        denoiser=dict(type='DilatedDenoiser', width=4, dilations=(1, 2, 1)))
    cfg.update(kw)
    return UnrolledHQSNet(**cfg)


def test_network_stage_structure_and_guidance_modes():
    torch.manual_seed(0)
    y = torch.rand(2, 1, 16, 16)
    k = torch.rand(2, 5, 5)
    k = k / k.sum((1, 2), keepdim=True)
    net = _tiny_net()
    out = net(y, kernel=k, return_all=True)
    assert len(out.x_tilde) == len(out.guidance) == len(out.x) == 3
    torch.testing.assert_close(out.pred, out.x[-1])
    # stage 1: the data step starts at x0 = y
    torch.testing.assert_close(out.x_tilde[0],
                               hqs_deconv(y, k, y, net.rhos[0]))
    torch.testing.assert_close(out.guidance[0], net.proxies['0'](
        out.x_tilde[0]))
    torch.testing.assert_close(
        out.x[1], net.denoisers[1](out.x_tilde[1], out.guidance[1]))
    # the guidance loss of stage 1 reaches only the stage-1 proxy
    out.guidance[0].sum().backward()
    touched = {n.split('.')[0] + '.' + n.split('.')[1]
               for n, p in net.named_parameters() if p.grad is not None}
    assert touched == {'proxies.0'}
    # manual guidance: stage 1 reads the given map, others their proxies
    man = _tiny_net(guidance='manual')
    assert sorted(man.proxies.keys()) == ['1', '2']
    s1 = man(y, kernel=k, guidance=torch.full((2, 1, 1, 1), 0.01),
             return_all=True)
    s2 = man(y, kernel=k, guidance=torch.full((2, 1, 1, 1), 0.05))
    assert (s1.guidance[0] == 0.01).all()
    assert not torch.allclose(s1.pred, s2)
    with pytest.raises(ValueError, match='needs the guidance map'):
        man(y, kernel=k)
    none = _tiny_net(guidance='none')
    assert none(y, kernel=k, return_all=True).guidance == [None] * 3
    with pytest.raises(ValueError, match='kernel'):
        net(y)


def test_center_pad_keeps_otf():
    ks = [torch.rand(3, 3), torch.rand(4, 4), torch.rand(6, 5)]
    padded = center_pad_kernels(ks)
    assert padded.shape == (3, 6, 5)
    for k, p in zip(ks, padded):
        torch.testing.assert_close(psf2otf(p, (12, 12)), psf2otf(k, (12, 12)))


def _samples(n, c, h, w, sigma=0.02):
    g = torch.Generator().manual_seed(1)
    out = []
    for i in range(n):
        s = BaseDataElement()
        s.gt_img = torch.rand(c, h, w, generator=g)
        k = torch.rand(5, 5, generator=g)
        s.kernel = k / k.sum()
        s.noise_sigma = sigma * (i + 1)
        out.append(s)
    return out


def test_restorer_losses_by_hand_and_colour_folding():
    torch.manual_seed(0)
    model = HQSRestorer(network=_tiny_net(), guidance_weight=100.0)
    samples = _samples(2, 1, 12, 12)
    data = model.data_preprocessor(
        dict(inputs=[torch.rand(1, 12, 12) for _ in samples],
             data_samples=samples))
    assert data['guidance_gt'].shape == (2, 1, 1, 1)
    assert data['degradation']['kernel'].shape == (2, 5, 5)
    losses = model(**data, mode='loss')
    out = model.network(data['inputs'], return_all=True,
                        **data['degradation'])
    gt = torch.stack([s.gt_img for s in samples])
    torch.testing.assert_close(losses['loss_rec'],
                               ((out.pred - gt)**2).mean())
    want = 100 * ((out.guidance[0] - torch.tensor([0.02, 0.04]).view(
        2, 1, 1, 1))**2).mean()
    torch.testing.assert_close(losses['loss_guide'], want)
    only = model.loss(data['inputs'], samples, data['degradation'],
                      data['guidance_gt'], terms=('guide', ))
    assert list(only) == ['loss_guide']
    # colour: each channel restored alone with the image's kernel
    samples3 = _samples(1, 3, 12, 12)
    y3 = torch.rand(1, 3, 12, 12)
    data3 = model.data_preprocessor(dict(inputs=[y3[0]],
                                         data_samples=samples3))
    pred = model(**data3, mode='predict')[0].pred_img
    for c in range(3):
        one = model.network(y3[:, c:c + 1], kernel=data3['degradation'][
            'kernel']).clamp(0, 1)
        torch.testing.assert_close(pred[c], one[0, 0])
    naive = HQSRestorer(network=_tiny_net(), guidance_weight=0)
    assert list(naive(**data, mode='loss')) == ['loss_rec']
    nog = HQSRestorer(network=_tiny_net(guidance='none'))
    with pytest.raises(ValueError, match='no proxy'):
        nog(**data, mode='loss')


def test_restorer_manual_guidance_value():
    torch.manual_seed(0)
    model = HQSRestorer(network=_tiny_net(guidance='manual'),
                        guidance_weight=0, manual_guidance=0.05)
    samples = _samples(1, 1, 12, 12, sigma=0.01)
    data = model.data_preprocessor(dict(inputs=[torch.rand(1, 12, 12)],
                                        data_samples=samples))
    out = model(**data)
    assert (out.guidance[0] == 0.05).all()
    model.manual_guidance = 'true'
    assert (model(**data).guidance[0] == 0.01).all()


def test_hqs_deconv_layer_config():
    layer = HQSDeconv(0.2)
    y = torch.rand(1, 1, 8, 8)
    k = torch.ones(1, 3, 3) / 9
    torch.testing.assert_close(layer(y, kernel=k), hqs_deconv(y, k, y, 0.2))
    with pytest.raises(ValueError, match='rho must be > 0'):
        HQSDeconv(0.0)


def test_additive_and_haze_data_steps_solve_their_quadratics():
    from mmfusenas.models import AdditiveDataStep, HazeDataStep
    g = torch.Generator().manual_seed(5)
    y = torch.rand(2, 3, 6, 7, generator=g, dtype=torch.float64)
    xt = torch.rand(2, 3, 6, 7, generator=g, dtype=torch.float64)
    add = AdditiveDataStep(0.3).double()
    x = add(y, x=xt).requires_grad_(True)
    rho = add.rho  # the float32 buffer's value
    obj = ((x - y)**2).sum() + rho * ((x - xt)**2).sum()
    (grad, ) = torch.autograd.grad(obj, x)
    assert grad.abs().max() < 1e-12  # stationary point of the quadratic
    haze = HazeDataStep(0.3).double()
    t = 0.2 + 0.8 * torch.rand(2, 1, 6, 7, generator=g, dtype=torch.float64)
    a = torch.full((2, 1, 1, 1), 0.8, dtype=torch.float64)
    guide = torch.cat([t, a.expand(2, 1, 6, 7)], 1)
    x = haze(y, x=xt, guidance=guide).requires_grad_(True)
    rho = haze.rho
    obj = ((t * x + a * (1 - t) - y)**2).sum() + rho * ((x - xt)**2).sum()
    (grad, ) = torch.autograd.grad(obj, x)
    assert grad.abs().max() < 1e-12
    # noise-free haze, true guidance, rho -> 0: the clean image comes back
    clean = torch.rand(2, 3, 6, 7, generator=g, dtype=torch.float64)
    hazy = t * clean + a * (1 - t)
    back = HazeDataStep(1e-12).double()(hazy, guidance=guide)
    torch.testing.assert_close(back, clean, rtol=0, atol=1e-8)
    with pytest.raises(ValueError, match='guidance'):
        haze(y)


def test_proxy_reads_observation_when_proxy_input_y():
    torch.manual_seed(0)
    net = UnrolledHQSNet(
        num_stages=2, rho=[0.1, 0.2],
        data_step=dict(type='HazeDataStep'),
        proxy=dict(type='NoiseLevelProxy', in_channels=3, out_channels=2,
                   out_act='sigmoid', width=4),
        denoiser=dict(type='DilatedDenoiser', in_channels=3,
                      guidance_channels=2, width=4, dilations=(1, 1)),
        proxy_input='y')
    y = torch.rand(1, 3, 10, 10)
    out = net(y, return_all=True)
    g0 = net.proxies['0'](y)
    torch.testing.assert_close(out.guidance[0], g0)
    torch.testing.assert_close(out.x_tilde[0],
                               net.data_steps[0](y, x=y, guidance=g0))
    torch.testing.assert_close(out.guidance[1], net.proxies['1'](y))
    assert ((out.guidance[0] > 0) & (out.guidance[0] < 1)).all()


def _np_conv(x, w, b, d):
    """Keras 'same' dilated 3x3 conv in numpy/scipy: x (Ci, H, W)."""
    from scipy.signal import correlate2d
    import numpy as np
    k = w.shape[-1]
    kd = (k - 1) * d + 1
    wd = np.zeros(w.shape[:2] + (kd, kd))
    wd[:, :, ::d, ::d] = w
    xp = np.pad(x, ((0, 0), (d, d), (d, d)))
    return np.stack([
        sum(correlate2d(xp[i], wd[o, i], mode='valid')
            for i in range(x.shape[0])) + b[o] for o in range(w.shape[0])
    ])


def test_network_matches_independent_numpy_reference():
    """The whole unrolled network against a numpy/scipy re-implementation
    of the reference description (FFT data step with psf2otf, Keras 'same'
    dilated convs, ReLUs, residual denoiser), from the same weights."""
    import numpy as np
    torch.manual_seed(3)
    net = UnrolledHQSNet(
        num_stages=2, rho=dict(noise_sigma=0.03),
        proxy=dict(type='NoiseLevelProxy', width=3),
        denoiser=dict(type='DilatedDenoiser', width=3,
                      dilations=(1, 2, 3, 1))).double()
    for p in net.parameters():  # non-zero biases too
        torch.nn.init.normal_(p, std=0.3)
    g = torch.Generator().manual_seed(0)
    y = torch.rand(1, 1, 13, 11, generator=g, dtype=torch.float64)
    k = torch.rand(1, 4, 5, generator=g, dtype=torch.float64)
    k = k / k.sum()
    with torch.no_grad():
        got = net(y, kernel=k, return_all=True)

    sd = {n: v.detach().numpy() for n, v in net.state_dict().items()}
    yn, kn = y[0].numpy(), k[0].numpy()
    h, w = yn.shape[1:]
    pad = np.zeros((h, w))
    pad[:4, :5] = kn
    otf = np.fft.fft2(np.roll(pad, (-2, -2), axis=(0, 1)))
    x = yn
    for t in range(2):
        rho = sd[f'data_steps.{t}.rho']
        xt = np.real(np.fft.ifft2(
            (np.conj(otf) * np.fft.fft2(yn[0]) + rho * np.fft.fft2(x[0])) /
            (np.abs(otf)**2 + rho)))[None]
        s = xt
        for i in range(4):
            s = np.maximum(_np_conv(s, sd[f'proxies.{t}.body.{2 * i}.weight'],
                                    sd[f'proxies.{t}.body.{2 * i}.bias'], 1),
                           0)
        z = np.concatenate([xt, s])
        for i, d in enumerate((1, 2, 3, 1)):
            z = _np_conv(z, sd[f'denoisers.{t}.body.{2 * i}.weight'],
                         sd[f'denoisers.{t}.body.{2 * i}.bias'], d)
            if i < 3:
                z = np.maximum(z, 0)
        x = xt - z
        np.testing.assert_allclose(got.x_tilde[t][0].numpy(), xt, atol=1e-10)
        np.testing.assert_allclose(got.guidance[t][0].numpy(), s, atol=1e-10)
        np.testing.assert_allclose(got.x[t][0].numpy(), x, atol=1e-10)


def test_softplus_proxy_cannot_die():
    """A proxy whose every pre-activation is negative: the official last
    ReLU outputs sigma = 0 with a zero gradient (it stays dead), the
    softplus proxy outputs softplus(z) > 0 with a gradient to every
    parameter; the CPU kernel transform keeps its output."""
    from cpu_kernels import apply_cpu_kernels
    from mmfusenas.models.restoration.proxy_nets import NoiseLevelProxy
    x = torch.rand(1, 1, 12, 12)
    outs = {}
    for act in ('relu', 'softplus'):
        torch.manual_seed(0)
        proxy = NoiseLevelProxy(width=4, out_act=act)
        last = proxy.body[-2]
        with torch.no_grad():
            last.bias.fill_(-50.0)  # every output pre-activation < 0
        sigma = proxy(x)
        sigma.sum().backward()
        outs[act] = (sigma.detach(), last.weight.grad.abs().sum().item())
        if act == 'softplus':
            z = last(proxy.body[:-2](x))
            torch.testing.assert_close(sigma, torch.nn.functional.softplus(z))
            plain = proxy(x).detach()
            apply_cpu_kernels(proxy.eval())
            with torch.no_grad():
                torch.testing.assert_close(proxy(x), plain, atol=1e-6,
                                           rtol=1e-5)
    assert torch.all(outs['relu'][0] == 0) and outs['relu'][1] == 0
    assert torch.all(outs['softplus'][0] > 0) and outs['softplus'][1] > 0
    with pytest.raises(ValueError, match='softplus'):
        NoiseLevelProxy(out_act='gelu')
