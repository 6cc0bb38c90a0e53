"""TIM cells: parameter counts, semantics, shape rules and edge specs."""
import pytest
import torch
import torch.nn as nn

from mmfusenas.models.cells import (DecompositionCell, MultiScaleFusionCell,
                                    SuccessiveCell)
from mmfusenas.models.ops import (build_chain, build_edge, build_tim_op,
                                  guided_filter)
from mmfusenas.registry import MODELS


def num_params(module):
    return sum(p.numel() for p in module.parameters())


class ToyMixedOp(nn.Module):
    """A stand-in search choice point: softmax-weighted candidates."""

    def __init__(self, channels, candidates):
        super().__init__()
        self.candidates = nn.ModuleList(
            build_tim_op(name, channels) for name in candidates)
        self.alpha = nn.Parameter(torch.zeros(len(candidates)))

    def forward(self, x):
        weights = self.alpha.softmax(0)
        return sum(w * op(x) for w, op in zip(weights, self.candidates))


@pytest.fixture
def toy_mixed_op():
    MODELS.register_module(module=ToyMixedOp, force=True)
    yield
    MODELS._module_dict.pop('ToyMixedOp')


def test_successive_cell_counts_and_chain_semantics():
    # fusion_M.normal (stage-1 cell 2) and fusion_light.normal
    cell = SuccessiveCell(48, ['Denseblocks_3_1', 'DilConv_3_2'])
    assert num_params(cell) == 7825
    assert num_params(cell.preprocess) == 2400
    assert num_params(
        SuccessiveCell(48, ['Residualblocks_3_1', 'ECAattention_3'])) \
        == 26405
    small = SuccessiveCell(8, ['Residualblocks_3_1', 'SPAattention_3'])
    x = torch.randn(2, 8, 6, 6)
    # no cell-level residual
    expected = small.ops[1](small.ops[0](small.preprocess(x)))
    assert torch.equal(small(x), expected)
    layers = small.preprocess.layers
    assert isinstance(layers[0], nn.ReLU)
    assert layers[1].kernel_size == (1, 1) and layers[1].bias is None
    assert isinstance(layers[2], nn.BatchNorm2d)


def test_multi_scale_cell_counts_match_official_breakdown():
    cell = MultiScaleFusionCell(48, ['Residualblocks_3_1', 'DilConv_3_2'])
    parts = {
        name: num_params(module)
        for name, module in cell.named_children()
    }
    assert parts == dict(
        preprocess=2400,
        down2=32258,
        down4=161284,
        up2=101378,
        up4=506884,
        skff=1153,
        ops=6097,
        ops_down2=21409,
        ops_down4=79681)
    assert num_params(cell) == 912544
    assert cell.ops_down2[0].layers[0].in_channels == 96
    assert cell.ops_down4[1].layers[2].out_channels == 192


def test_multi_scale_cell_semantics_and_multiple_of_4_rule():
    torch.manual_seed(0)
    cell = MultiScaleFusionCell(8, ['Residualblocks_3_1', 'DilConv_3_2'])
    x = torch.randn(2, 8, 12, 20)
    p = cell.preprocess(x)
    s0 = cell.ops(p)
    s1 = cell.up2(cell.ops_down2(cell.down2(p)))
    s2 = cell.up4(cell.ops_down4(cell.down4(p)))
    out = cell(x)
    assert out.shape == x.shape
    # residual to the pre-processed input, not to x
    assert torch.equal(out, p + cell.skff([s0, s1, s2]))
    assert cell.down4(p).shape == (2, 32, 3, 5)
    for h, w in ((30, 32), (32, 30), (18, 18), (66, 64)):
        with pytest.raises(ValueError, match='SKFF branches must share'):
            cell(torch.randn(1, 8, h, w))


def test_decomposition_cell_counts_and_bands():
    cell = DecompositionCell(48, ['Residualblocks_3_1', 'Residualblocks_3_1'])
    parts = {
        name: num_params(module)
        for name, module in cell.named_children()
    }
    assert parts == dict(
        reduce_low=13824,
        reduce_high=13824,
        ops_low=6530,
        ops_high=6530,
        reduce_concat=4608,
        enhance=4465)
    assert num_params(cell) == 49781

    torch.manual_seed(0)
    small = DecompositionCell(4, ['Residualblocks_3_1'])
    x = torch.randn(2, 4, 20, 20)
    low, high = small.decompose(x)
    assert low.shape == high.shape == (2, 24, 20, 20)
    guide = x.max(1, keepdim=True)[0] - x.min(1, keepdim=True)[0]
    pairs = [(2, 1e-3), (2, 1e-4), (4, 1e-3), (4, 1e-4), (8, 1e-3), (8, 1e-4)]
    for i, (radius, eps) in enumerate(pairs):
        band = slice(4 * i, 4 * i + 4)
        assert torch.equal(low[:, band], guided_filter(guide, x, radius, eps))
        assert torch.equal(high[:, band], x - low[:, band])
    out = small(x)
    expected = small.enhance(
        small.reduce_concat(
            torch.cat((small.ops_low(small.reduce_low(low)),
                       small.ops_high(small.reduce_high(high))), 1)))
    assert torch.equal(out, expected)


def test_edge_specs_string_and_dict_build_the_same_op():
    by_name = build_edge('Denseblocks_5_1', 48)
    by_cfg = build_edge(dict(type='DenseBlock', kernel_size=5), 48)
    assert type(by_name) is type(by_cfg)
    assert num_params(by_name) == num_params(by_cfg) == 7201
    cell = SuccessiveCell(
        48, [dict(type='DenseBlock', kernel_size=3), 'DilConv_3_2'])
    assert num_params(cell) == 7825
    chain = build_chain(['skip', 'zero'], 4)
    assert [type(m).__name__ for m in chain] == ['SkipConnect', 'Zero']


def test_edge_spec_errors():
    with pytest.raises(ValueError, match="must not set 'channels'"):
        build_edge(dict(type='DenseBlock', channels=8), 16)
    with pytest.raises(ValueError, match="needs a 'type' key"):
        build_edge(dict(kernel_size=3), 16)
    with pytest.raises(TypeError, match='got DenseBlock'):
        build_edge(build_tim_op('Denseblocks_3_1', 16), 16)
    with pytest.raises(ValueError, match='non-empty sequence'):
        SuccessiveCell(16, [])
    with pytest.raises(ValueError, match='non-empty sequence'):
        SuccessiveCell(16, 'Denseblocks_3_1')
    with pytest.raises(ValueError, match="unknown TIM op 'Dense_3_1'"):
        MultiScaleFusionCell(16, ['Dense_3_1'])


def test_mixed_op_dict_spec_builds_a_supernet_cell(toy_mixed_op):
    candidates = ['Residualblocks_3_1', 'DilConv_3_2', 'SPAattention_3']
    spec = dict(type='ToyMixedOp', candidates=candidates)
    cell = MultiScaleFusionCell(48, [spec, 'DilConv_3_2'])
    for chain, width in ((cell.ops, 48), (cell.ops_down2, 96), (cell.ops_down4,
                                                                192)):
        mixed = chain[0]
        assert isinstance(mixed, ToyMixedOp)
        expected = sum(num_params(build_tim_op(n, width)) for n in candidates)
        assert num_params(mixed.candidates) == expected
    # the supernet cell = fixed cell - fixed edge + mixed edges (+ alphas)
    fixed = MultiScaleFusionCell(48, ['Residualblocks_3_1', 'DilConv_3_2'])
    extra = sum(
        num_params(build_tim_op(n, w)) for n in candidates[1:]
        for w in (48, 96, 192)) + 3 * 3
    assert num_params(cell) == num_params(fixed) + extra
    x = torch.randn(1, 48, 8, 8)
    assert cell(x).shape == x.shape


def test_cells_pass_gradients_to_every_parameter():
    torch.manual_seed(0)
    cells = [
        MultiScaleFusionCell(8, ['Residualblocks_3_1', 'DilConv_3_2']),
        SuccessiveCell(8, ['Denseblocks_3_1', 'ECAattention_3']),
        DecompositionCell(8, ['Residualblocks_3_1', 'SPAattention_3']),
    ]
    x = torch.randn(2, 8, 20, 20)
    for cell in cells:
        cell(x).square().mean().backward()
        for name, param in cell.named_parameters():
            assert param.grad is not None, name
            assert torch.isfinite(param.grad).all(), name
            assert param.grad.abs().sum() > 0, name
