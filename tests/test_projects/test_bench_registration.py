"""Training controls of projects/reproductions/bench_registration.py: the lr schedule
(warm-up + cosine), gradient-norm clipping, skipped non-finite steps, the
validation split carved from the training pairs and checkpoint selection
on it (exact on tiny cases)."""
import math

import numpy as np
import pytest
import torch
import torch.nn as nn

from mmfusenas.models import FlowEPELoss
from helpers import load_tool

pytestmark = pytest.mark.usefixtures('one_thread')


@pytest.fixture(scope='module')
def bench():
    return load_tool('projects/reproductions/bench_registration.py')


class ConstantFlow(nn.Module):
    """A 'registration network' whose field is one learnable vector."""

    def __init__(self, vec):
        super().__init__()
        self.vec = nn.Parameter(torch.tensor(vec, dtype=torch.float32))

    def forward(self, fixed, moving):
        n, _, h, w = fixed.shape
        return self.vec.view(1, 2, 1, 1).expand(n, 2, h, w)


def test_lr_factor_warmup_then_cosine(bench):
    # no warm-up: the factors of CosineAnnealingLR(T_max=iters, eta_min=1 %)
    opt = torch.optim.SGD([nn.Parameter(torch.zeros(1))], lr=1.0)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, 10, 0.01)
    for it in range(11):
        assert bench.lr_factor(it, 10) == pytest.approx(
            opt.param_groups[0]['lr'], abs=1e-12)
        opt.step()
        sched.step()
    # warm-up over 4 of 12 steps: linear from 1 % to the peak, then cosine
    # over the remaining 8 steps
    f = [bench.lr_factor(it, 12, warmup=4) for it in range(13)]
    assert f[:5] == pytest.approx([0.01, 0.2575, 0.505, 0.7525, 1.0])
    assert f[8] == pytest.approx(0.505)  # half-way through the cosine
    assert f[12] == pytest.approx(0.01)


def test_carve_val_takes_evenly_spaced_pairs_out_of_training(bench):
    pairs = [(f'p{i}', None, None) for i in range(10)]
    train, val = bench.carve_val(pairs, 3)
    assert [p[0] for p in val] == ['p0', 'p4', 'p9']
    assert [p[0] for p in train] == ['p1', 'p2', 'p3', 'p5', 'p6', 'p7',
                                     'p8']
    assert bench.carve_val(pairs, 0) == (pairs, [])
    with pytest.raises(ValueError, match='--reg-val 10'):
        bench.carve_val(pairs, 10)


def test_best_state_keeps_the_lowest_finite_score(bench):
    net = nn.Linear(2, 1)
    best = bench.BestState()
    states = {}
    for it, score in enumerate([3.0, 2.0, math.nan, 2.5, 1.5, 1.7]):
        with torch.no_grad():
            net.weight.fill_(float(it))
        states[it] = net.weight.clone()
        best.update(net, score, it)
    assert best.iter == 4 and best.score == 1.5
    best.restore(net)
    assert torch.equal(net.weight, states[4])
    with pytest.raises(RuntimeError, match='no finite score'):
        bench.BestState().restore(net)


def images(n=2, size=16):
    return torch.rand(n, 1, size, size), torch.rand(n, 1, size, size)


@pytest.mark.parametrize('clip, expected', [(0.0, [-3.0, -4.0]),
                                            (1.0, [2.4, 3.2]),
                                            (20.0, [-3.0, -4.0])])
def test_registration_step_clips_the_gradient_norm(bench, clip, expected):
    # flow = (3, 4) everywhere, gt = 0: EPE = 5, its gradient is the unit
    # vector (0.6, 0.8); with loss weight 10 its norm is 10. SGD lr 1:
    # unclipped -> (3, 4) - 10 (0.6, 0.8) = (-3, -4); clipped to 1 ->
    # (3, 4) - (0.6, 0.8) = (2.4, 3.2); a threshold above the norm changes
    # nothing.
    net = ConstantFlow([3.0, 4.0])
    opt = torch.optim.SGD(net.parameters(), lr=1.0)
    ir, vi = images()
    gt = torch.zeros(2, 2, 16, 16)
    out = bench.registration_step(net, opt, [FlowEPELoss(loss_weight=10)],
                                  ir, vi, gt, clip)
    assert out['grad_norm'] == pytest.approx(10.0, rel=1e-5)
    assert out['loss'] == pytest.approx(50.0, rel=1e-5)
    assert out['flow_mean'] == pytest.approx(5.0) and not out['skipped']
    assert out['epe'] == pytest.approx(5.0) and out['epe_none'] == 0
    assert net.vec.tolist() == pytest.approx(expected, abs=1e-5)


def test_registration_step_skips_a_non_finite_step(bench):
    net = ConstantFlow([1.0, 0.0])
    opt = torch.optim.SGD(net.parameters(), lr=1.0)
    ir, vi = images()
    gt = torch.full((2, 2, 16, 16), math.nan)
    out = bench.registration_step(net, opt, [FlowEPELoss()], ir, vi, gt, 1.0)
    assert out['skipped'] and net.vec.tolist() == [1.0, 0.0]


def smooth_pairs(n, size, seed):
    """``(stem, ir, vi)`` pairs of smooth random structure, IR = 1 - VIS
    (inverted contrast, as across modalities)."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        noise = torch.from_numpy(rng.random((1, 1, size // 8, size // 8)))
        vi = torch.nn.functional.interpolate(
            noise.float(), size=(size, size), mode='bicubic',
            align_corners=False)[0, 0].clamp(0, 1).numpy()
        out.append((f's{i}', (1 - vi).astype(np.float32),
                    vi.astype(np.float32)))
    return out


def test_train_registration_keeps_the_best_validation_state(bench):
    args = bench.parse_args([
        '--reg-iters', '6', '--log-interval', '1', '--crop', '32',
        '--batch', '2', '--bank', '1', '--reg-losses', 'epe', '--reg-lr',
        '3e-2', '--reg-channels', '4', '--reg-clip', '5', '--reg-warmup',
        '2', '--reg-inputs', 'orientation'
    ])
    pairs = smooth_pairs(6, 64, seed=0)
    train, val = bench.carve_val(pairs, 2)
    net, info = bench.train_registration(train, args, val=val,
                                         compare=dict(v=val))
    curve = [r['val_epe'] for r in info['log']]
    assert len(curve) == 6 and info['skipped'] == 0
    best = int(np.argmin(curve))
    assert info['selected_iter'] == info['log'][best]['iter']
    assert info['val_epe'] == min(curve)
    # the returned network is that state: its validation EPE, measured
    # again, is the kept one (and the last state's is reported apart)
    assert bench.heldout_epe(net, val, args.seed,
                             bench.VAL_STREAM) == pytest.approx(
                                 min(curve), abs=1e-6)
    # the same training without a validation split ends in the last state,
    # whose held-out EPE is the reported EPE_last
    last, info_last = bench.train_registration(train, args)
    assert info_last['selected_iter'] is None
    assert info['EPE_last']['v'] == pytest.approx(
        bench.heldout_epe(last, val, args.seed), abs=1e-6)
    # the lr followed warm-up + cosine; every step's gradient norm is logged
    assert [r['lr'] for r in info['log']] == pytest.approx(
        [3e-2 * bench.lr_factor(i, 6, 2) for i in range(6)])
    assert all(math.isfinite(r['grad_norm']) for r in info['log'])
