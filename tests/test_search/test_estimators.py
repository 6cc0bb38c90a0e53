"""Resource estimators: parameters, FLOPs, latency, latency tables, budget
checks and the cost regularisers."""
import json
import math
import os.path as osp

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.analysis import FlopAnalyzer
from mmengine.config import Config

from helpers.tools import REPO_ROOT as REPO
from helpers.tools import load_tool
from mmfusenas.models.mutables import ArchParams, DiffMixedOp, bind_arch_params
from mmfusenas.models.ops import build_tim_op
from mmfusenas.registry import MODELS, TASK_UTILS
from mmfusenas.search.estimators import (
    LatencyStats, LatencyTable, ResourceConstraintError, build_latency_table,
    check_resource_constraints, check_space_budget, count_buffers, count_flops,
    count_params, measure_latency)
from mmfusenas.search.estimators import latency_table as latency_module

OPS = ['Residualblocks_3_1', 'DilConv_3_2', 'SPAattention_3']


def op(key, candidates=OPS):
    return dict(type='DiffMixedOp', key=key, candidates=candidates)


def bound(cfg):
    torch.manual_seed(0)
    net = MODELS.build(cfg)
    arch = ArchParams()
    bind_arch_params(net, arch)
    return net, arch


def chain_space(channels=4, ops=OPS):
    """TIMFusionNet with one successive cell of two choice points."""
    return dict(
        type='TIMFusionNet',
        channels=channels,
        cells=[
            dict(type='SuccessiveCell', ops=[op('e0', ops),
                                             op('e1', ops)])
        ])


def two_level_space(channels=4):
    return dict(
        type='TIMFusionNet',
        channels=channels,
        cells=[
            dict(
                type='DiffMixedOp',
                key='cell',
                candidates=dict(
                    ms=dict(
                        type='MultiScaleFusionCell',
                        ops=[op('ms0'), op('ms1')]),
                    sc=dict(type='SuccessiveCell', ops=[op('sc0')]))),
            dict(type='SuccessiveCell', ops=[op('top')]),
        ])


def numel(inputs):
    return sum(
        t.numel()
        for t in inputs) if isinstance(inputs,
                                       (tuple, list)) else inputs.numel()


class FakeTimer:
    """Deterministic stand-in for ``measure_latency``: "latency" = params +
    1e-3 * input elements; counts its calls."""

    def __init__(self):
        self.calls = 0

    def __call__(self, module, inputs, repeats=20, warmup=5, **kwargs):
        self.calls += 1
        value = count_params(module) + 1e-3 * numel(inputs)
        return LatencyStats.from_samples([value])


@pytest.fixture
def fake_timer(monkeypatch):
    timer = FakeTimer()
    monkeypatch.setattr(latency_module, 'measure_latency', timer)
    return timer


# ------------------------------------------------------------------ params
def test_params_and_buffers_of_known_modules():
    conv = nn.Conv2d(3, 8, 3)
    assert count_params(conv) == 8 * 3 * 9 + 8 == 224
    bn = nn.BatchNorm2d(8)
    assert count_params(bn) == 16
    # running mean, running var, num_batches_tracked
    assert count_buffers(bn) == 8 + 8 + 1
    shared = nn.Linear(4, 4)
    net = nn.Sequential(conv, bn, shared, shared)
    assert count_params(net) == 224 + 16 + 20  # a shared layer counts once
    conv.weight.requires_grad_(False)
    assert count_params(net, trainable_only=True) == 8 + 16 + 20
    # the whole official light model, every submodule
    light = MODELS.build(
        Config.fromfile(
            osp.join(REPO, 'configs/tim/fusion_ivif_light_official.py')).model)
    assert count_params(light.fusion_net) == 127358
    assert count_buffers(light.fusion_net) == 388


# ------------------------------------------------------------------- FLOPs
def test_flops_of_convolutions_by_hand():
    # 2 * N * C_out * H * W * C_in * k * k / groups, bias not counted
    x = torch.rand(2, 3, 10, 12)
    conv = nn.Conv2d(3, 8, 3, padding=1)
    count = count_flops(conv, x)
    out = 2 * 8 * 10 * 12
    assert count.macs == out * 3 * 9 == 51840
    assert count.flops == 2 * 51840 == 103680
    assert count.by_operator == {'convolution': 103680}
    # depthwise, dilated, no bias: (1, 4, 8, 8) out, 1 input channel each
    dw = nn.Conv2d(4, 4, 3, padding=2, dilation=2, groups=4, bias=False)
    count = count_flops(dw, torch.rand(1, 4, 8, 8))
    assert (count.macs, count.flops) == (256 * 9, 2 * 256 * 9)
    # transposed: every input element meets C_out / g * k * k weights
    up = nn.ConvTranspose2d(
        4, 6, 3, stride=2, padding=1, output_padding=1, bias=False)
    count = count_flops(up, torch.rand(1, 4, 5, 5))
    assert (count.macs, count.flops) == (4 * 25 * 6 * 9, 10800)


def test_flops_of_linear_by_hand():
    linear = nn.Linear(5, 7)
    count = count_flops(linear, torch.rand(3, 5))
    assert (count.macs, count.flops) == (105, 210)  # bias not counted
    count = count_flops(linear, torch.rand(2, 3, 5))
    assert (count.macs, count.flops) == (210, 420)


def test_only_convolutions_and_matrix_products_count():
    """torch's counter gives normalisation, activations, pooling,
    interpolation, softmax and arithmetic 0 FLOPs."""

    class Mixed(nn.Module):

        def __init__(self):
            super().__init__()
            self.bn = nn.BatchNorm2d(2)
            self.conv = nn.Conv2d(2, 3, 1)

        def forward(self, x):  # x: (1, 2, 4, 4)
            y = F.relu(self.bn(x))
            p = F.avg_pool2d(y, 2)
            u = F.interpolate(p, scale_factor=2, mode='bilinear')
            return self.conv(torch.softmax(u, dim=1) + x)

    count = count_flops(Mixed(), torch.rand(1, 2, 4, 4))
    # the 1x1 conv: 2 * C_in * C_out * H * W = 2 * 2 * 3 * 16
    assert (count.macs, count.flops) == (96, 192)
    assert count.by_operator == {'convolution': 192}
    assert count.by_module == {'': 192, 'conv': 192}


class TwoInputs(nn.Module):

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(2, 3, 1, bias=False)

    def forward(self, x, y, scale=1.0):
        return self.conv(x) * y + scale


def test_flops_of_a_two_input_module_tuple_and_dict():
    x, y = torch.rand(1, 2, 4, 5), torch.rand(1, 3, 4, 5)
    out = 3 * 20
    for inputs in ((x, y), dict(x=x, y=y), (x, y, 2.0)):
        count = count_flops(TwoInputs(), inputs)
        assert count.macs == out * 2
        # 2 per MAC; the product with y and the scalar addition are free
        assert count.flops == 2 * out * 2 == 240
        assert count.by_module == {'': 240, 'conv': 240}


def test_flops_of_tim_networks_see_every_conv():
    """Stage 2 takes (inputs, fused): the count equals a per-module count
    over its conv layers; the two-stage net splits exactly into its
    stages."""
    net = MODELS.build(
        dict(
            type='TIMEnhanceNet',
            channels=8,
            first_cells=[dict(type='SuccessiveCell', ops=OPS[:2])],
            second_cells=[dict(type='SuccessiveCell', ops=OPS[1:])]))
    inputs, fused = torch.rand(1, 2, 12, 12), torch.rand(1, 1, 12, 12)
    convs = []

    def hook(module, args, output):
        convs.append(output.numel() * math.prod(module.weight.shape[1:]))

    handles = [
        m.register_forward_hook(hook) for m in net.modules()
        if isinstance(m, nn.modules.conv._ConvNd)
    ]
    count = count_flops(net, (inputs, fused))
    for handle in handles:
        handle.remove()
    assert count.macs == sum(convs) > 0

    cfg = Config.fromfile(
        osp.join(REPO, 'configs/tim/fusion_ivif_official.py')).model
    cfg.fusion_net.stage1.channels = cfg.fusion_net.stage2.channels = 8
    two_stage = MODELS.build(cfg.fusion_net)
    count = count_flops(two_stage, torch.rand(1, 2, 16, 16))
    stages = count.by_module['stage1'] + count.by_module['stage2']
    assert count.flops == stages and count.by_module['stage1'] > 0


def test_macs_agree_with_mmengine_flop_analyzer():
    # FlopAnalyzer (jit trace) counts conv / linear as MACs, bias excluded
    net = nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(),
        nn.Conv2d(8, 8, 3, groups=8, dilation=2), nn.Flatten(),
        nn.Linear(8 * 6 * 6, 10))
    x = torch.rand(2, 3, 10, 10)
    analyzer = FlopAnalyzer(net, (x, ))
    analyzer.unsupported_ops_warnings(False)
    assert count_flops(net, x).macs == analyzer.total() == 54144


# ----------------------------------------------------------------- latency
def test_measure_latency_is_a_positive_median_without_side_effects():
    net = nn.Sequential(nn.Conv2d(2, 4, 3, padding=1), nn.BatchNorm2d(4))
    before = net[1].running_mean.clone()
    stats = measure_latency(net, torch.rand(1, 2, 16, 16), repeats=5, warmup=1)
    assert len(stats.samples_ms) == 5
    assert 0 < stats.min_ms <= stats.median_ms <= stats.max_ms
    assert sorted(stats.samples_ms)[2] == stats.median_ms
    # measured in eval mode, the module's mode and statistics are kept
    assert net.training and net[1].training
    assert torch.equal(net[1].running_mean, before)
    assert measure_latency(
        TwoInputs(),
        dict(x=torch.rand(1, 2, 4, 4), y=torch.rand(1, 3, 4, 4)),
        repeats=2,
        warmup=0).median_ms > 0
    with pytest.raises(ValueError, match='repeats must be an int >= 1'):
        measure_latency(net, torch.rand(1, 2, 4, 4), repeats=0)
    assert LatencyStats.from_samples([4., 1., 3., 2.]).median_ms == 2.5


# ---------------------------------------------------------- latency tables
def test_latency_table_keys_order_and_shapes_real_timing():
    net, arch = bound(chain_space())
    table = build_latency_table(
        net, arch, torch.rand(1, 2, 8, 8), repeats=2, warmup=1)
    assert isinstance(table, LatencyTable)
    assert list(table) == list(arch.keys()) == ['e0', 'e1']
    for key, value in table.items():
        assert value.shape == (len(arch.choices(key)), )
        assert value.dtype == torch.float64 and (value > 0).all()
        assert table.choices[key] == arch.choices(key)
    assert table.fixed_ms > 0 and table.nested_keys == frozenset()
    assert 'no cache file' in table.origin


def test_shared_key_sums_over_every_width(fake_timer):
    # the multi-scale cell builds each choice point at C, 2C and 4C
    net, arch = bound(
        dict(
            type='MultiScaleFusionCell', channels=4, ops=[op('s0'),
                                                          op('s1')]))
    table = build_latency_table(net, arch, torch.rand(1, 4, 16, 16))
    widths = {4: 4 * 16 * 16, 8: 8 * 8 * 8, 16: 16 * 4 * 4}
    for key in ('s0', 's1'):
        expected = [
            sum(
                count_params(build_tim_op(name, c)) + 1e-3 * n
                for c, n in widths.items()) for name in OPS
        ]
        assert table[key].tolist() == pytest.approx(expected, rel=1e-12)
    # the fixed part is the cell with its six choice points stood in for
    mixed = sum(
        count_params(m) for m in net.modules() if isinstance(m, DiffMixedOp))
    assert table.fixed_ms == pytest.approx(
        count_params(net) - mixed + 1e-3 * 4 * 16 * 16, rel=1e-12)


def test_two_level_space_tabulates_own_costs(fake_timer):
    net, arch = bound(two_level_space())
    x = torch.rand(1, 2, 8, 8)
    table = build_latency_table(net, arch, x)
    assert list(table) == list(arch.keys())
    assert table.nested_keys == {'ms0', 'ms1', 'sc0'}
    outer = net.cells[0]
    n_in = 4 * 8 * 8  # the stem maps (1, 2, 8, 8) to (1, 4, 8, 8)
    for i, name in enumerate(('ms', 'sc')):
        candidate = outer.candidates[i]
        nested = sum(
            count_params(m) for m in candidate.modules()
            if isinstance(m, DiffMixedOp))
        # a candidate's own cost excludes its nested choice points
        assert table['cell'][i].item() == pytest.approx(
            count_params(candidate) - nested + 1e-3 * n_in, rel=1e-12)
    low, high = table.check_budget(1e9)
    # nested choice points are optional in the lower bound
    assert low == pytest.approx(table.fixed_ms + table['cell'].min().item() +
                                table['top'].min().item())
    assert high == pytest.approx(table.fixed_ms + sum(v.max().item()
                                                      for v in table.values()))


def test_cache_round_trip_rebuild_and_stale(fake_timer, tmp_path):
    cache = str(tmp_path / 'lat.json')
    net, arch = bound(chain_space())
    x = torch.rand(1, 2, 8, 8)
    first = build_latency_table(net, arch, x, cache_file=cache)
    measured = fake_timer.calls
    assert measured > 0 and 'no cache at' in first.origin
    data = json.load(open(cache))
    assert data['format'] == 'mmfusenas-latency-table/1'
    assert data['context']['inputs'] == [[1, 2, 8, 8]]
    assert data['context']['choices'] == {'e0': OPS, 'e1': OPS}
    assert list(data['latency_ms']) == ['e0', 'e1']

    second = build_latency_table(net, arch, x, cache_file=cache)
    assert fake_timer.calls == measured  # loaded without timing anything
    assert second.origin == f'loaded from {cache}'
    for key in first:
        assert torch.equal(first[key], second[key])
    assert second.fixed_ms == first.fixed_ms

    build_latency_table(net, arch, x, cache_file=cache, rebuild=True)
    assert fake_timer.calls == 2 * measured

    stale = build_latency_table(
        net, arch, torch.rand(1, 2, 12, 8), cache_file=cache)
    assert fake_timer.calls == 3 * measured
    assert 'stale' in stale.origin and 'inputs: cached [[1, 2, 8, 8]]' \
        in stale.origin
    # the new shape is now cached
    build_latency_table(net, arch, torch.rand(1, 2, 12, 8), cache_file=cache)
    assert fake_timer.calls == 3 * measured

    other, other_arch = bound(chain_space(ops=OPS[:2]))
    changed = build_latency_table(
        other, other_arch, torch.rand(1, 2, 12, 8), cache_file=cache)
    assert 'choices differ' in changed.origin
    assert changed['e0'].shape == (2, )


def test_unreadable_cache_is_a_clear_error(fake_timer, tmp_path):
    cache = tmp_path / 'lat.json'
    cache.write_text('{"not": "a table"}')
    net, arch = bound(chain_space())
    with pytest.raises(ValueError, match='is not a latency table'):
        build_latency_table(
            net, arch, torch.rand(1, 2, 8, 8), cache_file=str(cache))
    build_latency_table(
        net, arch, torch.rand(1, 2, 8, 8), cache_file=str(cache), rebuild=True)
    assert json.loads(cache.read_text())['format'].startswith('mmfusenas')


def test_flops_cache_is_shared_across_machines_latency_cache_is_not(
        fake_timer, tmp_path, monkeypatch):
    """A FLOPs table does not depend on the device (CPU model, threads):
    its cache holds none and is loaded on another machine; a latency
    table's cache is stale there, naming the device."""
    net, arch = bound(chain_space())
    x = torch.rand(1, 2, 8, 8)
    flops, latency = str(tmp_path / 'flops.json'), str(tmp_path / 'lat.json')
    first = build_latency_table(net, arch, x, cache_file=flops,
                                metric='flops')
    build_latency_table(net, arch, x, cache_file=latency)
    assert 'device' not in json.load(open(flops))['context']
    assert 'device' in json.load(open(latency))['context']
    timed = fake_timer.calls
    monkeypatch.setattr(latency_module, 'device_name',
                        lambda device: 'Other CPU (7 threads)')
    again = build_latency_table(net, arch, x, cache_file=flops,
                                metric='flops')
    assert again.origin == f'loaded from {flops}'
    for key in first:
        assert torch.equal(first[key], again[key])
    stale = build_latency_table(net, arch, x, cache_file=latency)
    assert "device: cached" in stale.origin and \
        "now 'Other CPU (7 threads)'" in stale.origin
    assert fake_timer.calls > timed


def test_path_cost_cache_without_latency_is_shared_across_machines(
        tmp_path, monkeypatch):
    """``path_costs.json`` of params / FLOPs alone (``measure_latency=
    False``) is loaded on another CPU or thread count, and so is one
    written with the device before; with latency the device stays in the
    key."""
    from mmfusenas.search.estimators import PathCostTable
    from mmfusenas.search.estimators import path_cost_table as module
    model = dict(type='DCNASCostModel', num_features=4, num_blocks=1,
                 input_size=(16, 16))
    cache = str(tmp_path / 'path_costs.json')
    first = PathCostTable(model, cache_file=cache, measure_latency=False)
    cheapest = first.cost(first.cost_model.cheapest_choices())
    data = json.load(open(cache))
    assert 'device' not in data['context']
    monkeypatch.setattr(module, 'device_name',
                        lambda device: 'Other CPU (7 threads)')
    again = PathCostTable(model, cache_file=cache, measure_latency=False)
    assert again.origin == f'loaded from {cache}'
    assert json.dumps(again.entries) == json.dumps(first.entries)  # nan
    # a cache written with the device (before) is loaded as well
    data['context']['device'] = 'Old CPU (1 thread)'
    with open(cache, 'w') as f:
        json.dump(data, f)
    old = PathCostTable(model, cache_file=cache, measure_latency=False)
    assert old.origin == f'loaded from {cache}'
    costs = old.cost(old.cost_model.cheapest_choices())
    assert (costs['params'], costs['flops']) == (cheapest['params'],
                                                 cheapest['flops'])
    # timed: the device is part of the key
    timed = PathCostTable(model, cache_file=cache, measure_latency=True)
    assert timed.context['device'] == 'Other CPU (7 threads)'
    assert 'stale' in timed.origin and 'device: cached' in timed.origin


# ------------------------------------------------------------- constraints
def test_impossible_budget_fails_fast_with_a_clear_error():
    costs = dict(a=torch.tensor([1., 2.]), b=[3., 5.], c=[0.5, 9.])
    names = dict(a=('x', 'y'), b=('p', 'q'), c=('u', 'v'))
    assert check_space_budget(
        costs, 6, fixed_cost=1, optional_keys=['c']) == (5.0, 17.0)
    with pytest.raises(
            ResourceConstraintError,
            match=r"impossible latency \(ms\) budget 4: the cheapest "
            r"architecture of the space costs 5.5 = fixed part 1 .*"
            r"'b' -> 'p' 3, 'a' -> 'x' 1, 'c' -> 'u' 0.5"):
        check_space_budget(
            costs, 4, fixed_cost=1, choices=names, name='latency (ms)')
    # a single choice point whose cheapest candidate exceeds the budget
    with pytest.raises(ResourceConstraintError, match='#0'):
        check_space_budget(dict(a=[7., 8.]), 6)
    with pytest.raises(KeyError, match='have no costs'):
        check_space_budget(costs, 6, optional_keys=['z'])

    table = LatencyTable(
        dict(a=torch.tensor([2., 3.])), 1.0, (), dict(a=('x', 'y')), {},
        'test')
    assert table.check_budget(3.5) == (3.0, 4.0)
    with pytest.raises(ResourceConstraintError, match="'a' -> 'x' 2"):
        table.check_budget(2.5)


def test_resource_estimator_and_constraint_check():
    estimator = TASK_UTILS.build(
        dict(
            type='ResourceEstimator',
            input_shape=[(1, 2, 4, 5), (1, 3, 4, 5)],
            repeats=2,
            warmup=0))
    results = estimator.estimate(TwoInputs())
    assert results['params'] == results['trainable_params'] == 6
    assert results['buffers'] == 0
    assert (results['macs'], results['flops']) == (120, 240)
    assert results['latency_ms'] > 0
    check_resource_constraints(results, dict(params=6, macs=120))
    with pytest.raises(
            ResourceConstraintError,
            match=r'exceeded: params = 6 > 5; flops = 240 > 100'):
        estimator.check(TwoInputs(), dict(params=5, flops=100, macs=1000))
    with pytest.raises(KeyError, match='not measured'):
        check_resource_constraints(results, dict(energy=1))


# ------------------------------------------------------------ regularisers
def softmax_expectation(alpha, cost):
    p = torch.softmax(alpha.detach().double(), 0)
    value = (p * cost).sum()
    return value, p * (cost - value)


def set_alphas(arch):
    with torch.no_grad():
        for i, key in enumerate(arch.keys()):
            n = len(arch.choices(key))
            arch.alphas[key].copy_(torch.linspace(-1.0, 0.5 * (i + 1), n))


def test_latency_regularizer_value_and_gradient(fake_timer, tmp_path):
    net, arch = bound(chain_space())
    set_alphas(arch)
    x = torch.rand(1, 2, 8, 8)
    reg = TASK_UTILS.build(
        dict(
            type='LatencyRegularizer',
            loss_weight=0.5,
            cache_file=str(tmp_path / 'lat.json')))
    with pytest.raises(RuntimeError, match='call prepare'):
        reg(arch)
    reg.prepare(net, arch, x)
    value = reg(arch)
    value.backward()
    expected = 0.0
    for key in arch.keys():
        e, grad = softmax_expectation(arch.alphas[key], reg.table[key])
        expected += 0.5 * e.item()
        torch.testing.assert_close(
            arch.alphas[key].grad.double(), 0.5 * grad, rtol=1e-5, atol=1e-6)
    assert value.item() == pytest.approx(expected, rel=1e-6)

    norm = TASK_UTILS.build(
        dict(type='LatencyRegularizer', loss_weight=2.0, normalize=True))
    norm.prepare(net, arch, x)
    scale = sum(v.max().item() for v in norm.table.values())
    assert norm(arch).item() == pytest.approx(
        2.0 * expected / 0.5 / scale, rel=1e-6)

    # an α whose choice point never ran would go unregularised
    arch.register('orphan', ['a', 'b'])
    with pytest.raises(ValueError, match=r"keys \['orphan'\] ran"):
        reg.prepare(net, arch, x)


def test_skip_count_regularizer_value_and_gradient():
    # 's' is used at three widths (3 skip connections when chosen);
    # 't' names its identity 'id', recognised by its class SkipConnect
    net, arch = bound(
        dict(
            type='TIMFusionNet',
            channels=4,
            cells=[
                dict(
                    type='MultiScaleFusionCell',
                    ops=[op('s', ['DilConv_3_2', 'skip'])]),
                dict(
                    type='SuccessiveCell',
                    ops=[
                        op('t',
                           dict(id=dict(type='SkipConnect'),
                                dc='DilConv_3_2')),
                        op('u', ['DilConv_3_2', 'SPAattention_3'])
                    ])
            ]))
    set_alphas(arch)
    reg = TASK_UTILS.build(dict(type='SkipCountRegularizer', loss_weight=-2))
    reg.prepare(net, arch, None)
    assert set(reg.costs) == {'s', 't'}
    assert reg.costs['s'].tolist() == [0., 3.]
    assert reg.costs['t'].tolist() == [1., 0.]
    value = reg(arch)
    value.backward()
    p_s = torch.softmax(arch.alphas['s'].detach(), 0)
    p_t = torch.softmax(arch.alphas['t'].detach(), 0)
    assert value.item() == pytest.approx(
        -2 * (3 * p_s[1] + p_t[0]).item(), rel=1e-6)
    # d/dα_j of p_k = p_k (δ_jk - p_j)
    torch.testing.assert_close(
        arch.alphas['s'].grad,
        -2 * 3 * p_s[1] * (torch.tensor([0., 1.]) - p_s))
    assert arch.alphas['u'].grad is None
    with pytest.raises(ValueError, match='no candidate of any choice point'):
        TASK_UTILS.build(
            dict(type='SkipCountRegularizer',
                 skip_names=['identity'])).prepare(net, arch, None)


# --------------------------------------------------------------------- tool
def test_get_flops_tool_reports_the_whole_model(tmp_path):
    tool = load_tool('tools/analysis_tools/get_flops.py')
    out = str(tmp_path / 'res.json')
    # 30 x 30 is padded to 32 x 32 (the preprocessor's pad_size_divisor 4)
    tool.main([
        osp.join(REPO, 'configs/tim/fusion_ivif_official.py'), '--shape', '30',
        '30', '--out-json', out, '--repeats', '1', '--warmup', '0',
        '--cfg-options', 'model.fusion_net.stage1.channels=8',
        'model.fusion_net.stage2.channels=8'
    ])
    res = json.load(open(out))
    cfg = Config.fromfile(
        osp.join(REPO, 'configs/tim/fusion_ivif_official.py'))
    cfg.model.fusion_net.stage1.channels = 8
    cfg.model.fusion_net.stage2.channels = 8
    net = MODELS.build(cfg.model).fusion_net
    count = count_flops(net, torch.rand(1, 2, 32, 32))
    assert res['inputs'] == [[1, 2, 32, 32]]
    assert res['params'] == count_params(net)
    assert (res['macs'], res['flops']) == (count.macs, count.flops)
    assert res['latency_ms'] > 0
    assert set(res['modules']) == {'stage1', 'stage2'}


def test_get_flops_tool_refuses_non_positive_counts(capsys):
    """``--num-sources 0`` was silently replaced by the network's default."""
    tool = load_tool('tools/analysis_tools/get_flops.py')
    cfg = osp.join(REPO, 'configs/tim/fusion_ivif_official.py')
    for opt, value, msg in (('--num-sources', '0', 'must be >= 1, got 0'),
                            ('--batch-size', '-1', 'must be >= 1, got -1'),
                            ('--repeats', 'x', "expected an integer, got 'x'"),
                            ('--warmup', '-1', 'must be >= 0, got -1')):
        with pytest.raises(SystemExit) as info:
            tool.parse_args([cfg, '--shape', '8', '8', opt, value])
        assert info.value.code == 2
        err = capsys.readouterr().err
        assert f'argument {opt}' in err and msg in err
    assert tool.parse_args([cfg, '--shape', '8', '8', '--num-sources',
                            '3']).num_sources == 3


@pytest.mark.parametrize('config', ['tim/retinanet_ivif_fpn_toy.py',
                                    'compose/chain_retinanet_night_toy.py'])
def test_get_flops_tool_feeds_a_compound_model_its_stacked_sources(
        config, tmp_path):
    """A compound model reads its ``sources`` stacked: a FusionDetector
    fusing in Y with RGB colour the two sources and two chroma planes, a
    ChainDetector IR (1) and VIS (3); a batch of the first network's
    in_channels alone was refused."""
    tool = load_tool('tools/analysis_tools/get_flops.py')
    out = str(tmp_path / 'res.json')
    tool.main([osp.join(REPO, 'configs', config), '--shape', '64', '64',
               '--no-latency', '--depth', '0', '--out-json', out])
    res = json.load(open(out))
    assert res['inputs'] == [[1, 4, 64, 64]]
    assert res['macs'] > 0
