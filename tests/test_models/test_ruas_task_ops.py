"""RUAS high-level task op set (paper Table 1) and C_in -> C_out position
specs."""
import pytest
import torch
import torch.nn.functional as F

from mmfusenas.models.ops import build_edge
from mmfusenas.models.mutables import (ArchParams, DiffMixedOp,
                                       bind_arch_params, derive_choices,
                                       fix_space_cfg, task_op_template,
                                       task_position_spec)
from mmfusenas.models.ops import (RUAS_OP_NAMES, RUAS_PAPER_ONLY_OP_NAMES,
                                  RUAS_PAPER_OP_NAMES, RUAS_TASK_OPS,
                                  RUASConv, build_named_op, op_name_cfg,
                                  ruas_op_cfg)
from mmfusenas.registry import MODELS


def num_params(module):
    return sum(p.numel() for p in module.parameters())


# (paper name, kernel, dilation) of Table 1's high-level space
TABLE1 = [('1-C', 1, 1), ('3-C', 3, 1), ('5-C', 5, 1), ('7-C', 7, 1),
          ('3-2-DC', 3, 2), ('5-2-DC', 5, 2), ('7-2-DC', 7, 2),
          ('3-6-DC', 3, 6), ('3-12-DC', 3, 12), ('3-18-DC', 3, 18)]


def test_task_ops_and_alias_table():
    assert RUAS_TASK_OPS == tuple(name for name, _, _ in TABLE1)
    assert RUAS_PAPER_ONLY_OP_NAMES == ('dilconv6_3x3', 'dilconv12_3x3',
                                        'dilconv18_3x3')
    # the paper-only ops are not official names
    assert not set(RUAS_PAPER_ONLY_OP_NAMES) & set(RUAS_OP_NAMES)
    for k in (6, 12, 18):
        assert RUAS_PAPER_OP_NAMES[f'3-{k}-DC'] == f'dilconv{k}_3x3'
    for name, k, d in TABLE1:
        cfg = op_name_cfg(name)
        assert cfg == ruas_op_cfg(RUAS_PAPER_OP_NAMES[name])
        assert cfg['type'] == 'RUASConv' and cfg['kernel_size'] == k
        assert cfg.get('dilation', 1) == d and not cfg.get('residual')


@pytest.mark.parametrize('name,k,d', TABLE1)
def test_task_op_dilation_padding_and_params(name, k, d):
    op = build_named_op(name, 4)
    assert isinstance(op, RUASConv)
    assert op.conv.kernel_size == (k, k) and op.conv.dilation == (d, d)
    assert op.conv.padding == (d * (k - 1) // 2, ) * 2
    assert num_params(op) == 16 * k * k + 4
    x = torch.randn(1, 4, 9, 11)
    torch.testing.assert_close(
        op(x),
        F.conv2d(
            x, op.conv.weight, op.conv.bias, padding=d * (k - 1) // 2,
            dilation=d))


@pytest.mark.parametrize('k,d,stride,size,out_size', [
    (3, 1, 1, (9, 11), (9, 11)),
    (3, 1, 2, (9, 11), (5, 6)),
    (7, 1, 2, (10, 7), (5, 4)),
    (1, 1, 2, (5, 5), (3, 3)),
    (5, 2, 2, (19, 19), (10, 10)),
    (3, 18, 2, (8, 8), (4, 4)),
    (3, 6, 1, (8, 8), (8, 8)),
])
def test_ruasconv_out_channels_and_stride(k, d, stride, size, out_size):
    op = RUASConv(
        6, kernel_size=k, dilation=d, out_channels=10, stride=stride)
    # C_in C_out k^2 + C_out, by hand
    assert num_params(op) == 6 * 10 * k * k + 10
    out = op(torch.randn(2, 6, *size))
    # ceil(H / stride)
    assert out.shape == (2, 10) + out_size


def test_ruasconv_defaults_unchanged():
    op = RUASConv(5, kernel_size=3)
    assert op.conv.in_channels == op.conv.out_channels == 5
    assert op.conv.stride == (1, 1) and num_params(op) == 25 * 9 + 5
    res = RUASConv(5, 3, residual=True, out_channels=5)
    x = torch.randn(1, 5, 6, 6)
    torch.testing.assert_close(res(x), x + res.conv(x))


@pytest.mark.parametrize('kwargs', [
    dict(residual=True, out_channels=8),
    dict(residual=True, stride=2),
])
def test_residual_needs_same_channels_and_stride_one(kwargs):
    with pytest.raises(ValueError, match='residual RUASConv'):
        RUASConv(4, **kwargs)


def test_bad_stride():
    with pytest.raises(ValueError, match='stride must be an int >= 1'):
        RUASConv(4, stride=0)


def test_position_spec_of_names_and_configs():
    assert task_position_spec('3-6-DC', 12) == dict(
        type='RUASConv', kernel_size=3, dilation=6, out_channels=12, stride=1)
    assert task_position_spec('conv_5x5', 7, stride=2) == dict(
        type='RUASConv', kernel_size=5, out_channels=7, stride=2)
    cfg = dict(type='RUASConv', kernel_size=7)
    spec = task_position_spec(cfg, 9, 2)
    assert spec == dict(
        type='RUASConv', kernel_size=7, out_channels=9, stride=2)
    assert cfg == dict(type='RUASConv', kernel_size=7)  # not modified
    # idempotent: an explicit spec of the same position is unchanged
    assert task_position_spec(spec, 9, 2) == spec
    op = build_edge(spec, 3)
    assert op(torch.randn(1, 3, 8, 8)).shape == (1, 9, 4, 4)


def test_position_spec_of_mixed_op_template():
    template = task_op_template('det')
    assert template == dict(
        type='DiffMixedOp', key='det', candidates=list(RUAS_TASK_OPS))
    spec = task_position_spec(template, 6, 2, key_suffix='extra1')
    assert spec['key'] == 'det/extra1'
    assert list(spec['candidates']) == list(RUAS_TASK_OPS)
    assert spec['candidates']['3-12-DC'] == dict(
        type='RUASConv', kernel_size=3, dilation=12, out_channels=6, stride=2)
    assert template['key'] == 'det'  # template unchanged
    assert task_position_spec(spec, 6, 2) == spec
    mixed = build_edge(spec, 4)
    assert isinstance(mixed, DiffMixedOp)
    arch = ArchParams()
    assert bind_arch_params(mixed, arch) == ['det/extra1']
    assert mixed(torch.randn(1, 4, 9, 9)).shape == (1, 6, 5, 5)
    # the fixed position is the chosen candidate's config
    with torch.no_grad():
        arch.alphas['det/extra1'].zero_()
        arch.alphas['det/extra1'][RUAS_TASK_OPS.index('5-2-DC')] = 1.
    choices = derive_choices(mixed)
    assert choices == {'det/extra1': '5-2-DC'}
    assert fix_space_cfg(spec, choices) == dict(
        type='RUASConv', kernel_size=5, dilation=2, out_channels=6, stride=2)
    # mapping candidates with config specs
    spec = task_position_spec(
        dict(
            type='DiffMixedOp',
            key='k',
            candidates=dict(a='1-C', b=dict(type='RUASConv',
                                            kernel_size=5))), 3)
    assert spec['candidates'] == dict(
        a=dict(type='RUASConv', kernel_size=1, out_channels=3, stride=1),
        b=dict(type='RUASConv', kernel_size=5, out_channels=3, stride=1))


def test_position_spec_errors():
    with pytest.raises(ValueError, match='unknown op name'):
        task_position_spec('4-C', 3)
    with pytest.raises(ValueError, match="takes no 'out_channels'"):
        task_position_spec('skip_connect', 3)
    with pytest.raises(ValueError, match="takes no 'out_channels'"):
        task_position_spec(
            dict(type='DiffMixedOp', key='k', candidates=['3-C', 'SC']), 3)
    with pytest.raises(ValueError, match='needs out_channels=3'):
        task_position_spec(
            dict(type='RUASConv', kernel_size=3, out_channels=4), 3)
    with pytest.raises(ValueError, match="must not set 'channels'"):
        task_position_spec(dict(type='RUASConv', channels=4), 3)
    with pytest.raises(ValueError, match="needs a 'key'"):
        task_position_spec(dict(type='DiffMixedOp', candidates=['1-C']), 3)
    with pytest.raises(TypeError, match='op name'):
        task_position_spec(3, 3)
    with pytest.raises(ValueError, match='positive int'):
        task_position_spec('3-C', 0)
    # a residual op fits no channel-changing position: the build says so
    with pytest.raises(ValueError, match='residual RUASConv'):
        MODELS.build(
            task_position_spec('3-RC', 8), default_args=dict(channels=4))
