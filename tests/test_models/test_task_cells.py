"""Task-module operators and the feature distillation cell C_FD."""
import pytest
import torch
import torch.nn as nn
from mmengine.registry import DefaultScope

from mmfusenas.models.ops import build_edge

from mmfusenas.models.cells import (FeatureDistillationCell,
                                    num_distillation_edges)
from mmfusenas.models.mutables import (ArchParams, DiffMixedOp,
                                       expand_edge_templates,
                                       bind_arch_params, derive_choices,
                                       fix_space_cfg)
from mmfusenas.models.ops import (TASK_OP_NAMES, SkipConnect, TaskConv,
                                  build_named_op, build_task_op, op_name_cfg,
                                  register_op_names, task_op_cfg)
from mmfusenas.registry import MODELS


def num_params(module):
    return sum(p.numel() for p in module.parameters())


def test_task_op_names_are_the_paper_space():
    assert TASK_OP_NAMES == ('conv_1', 'conv_3', 'conv_5', 'conv_7',
                             'dil_conv_3_2', 'dil_conv_5_2', 'dil_conv_7_2',
                             'res_conv_3', 'res_conv_5', 'res_conv_7', 'skip')
    assert task_op_cfg('dil_conv_5_2') == dict(
        type='TaskConv', kernel_size=5, dilation=2)
    assert task_op_cfg('res_conv_7') == dict(
        type='TaskConv', kernel_size=7, residual=True)
    assert task_op_cfg('skip') == dict(type='SkipConnect')


@pytest.mark.parametrize('name,k', [('conv_1', 1), ('conv_3', 3),
                                    ('conv_5', 5), ('conv_7', 7),
                                    ('dil_conv_3_2', 3), ('dil_conv_5_2', 5),
                                    ('dil_conv_7_2', 7), ('res_conv_3', 3),
                                    ('res_conv_5', 5), ('res_conv_7', 7)])
def test_task_op_parameter_counts_and_shapes(name, k):
    c = 6
    op = build_task_op(name, c)
    # bias-free C x C x k x k conv + BN (weight, bias)
    assert num_params(op) == c * c * k * k + 2 * c
    x = torch.randn(2, c, 9, 11)
    assert op(x).shape == x.shape
    # any op name resolves through the one edge parser
    assert type(build_edge(name, c)) is TaskConv


def test_task_conv_layer_order_and_residual():
    torch.manual_seed(0)
    x = torch.randn(2, 4, 8, 8)
    plain = build_task_op('dil_conv_3_2', 4).eval()
    assert [type(m)
            for m in plain.children()] == [nn.Conv2d, nn.BatchNorm2d, nn.ReLU]
    assert plain.conv.dilation == (2, 2) and plain.conv.padding == (2, 2)
    assert plain.conv.bias is None
    torch.testing.assert_close(plain(x), torch.relu(plain.bn(plain.conv(x))))
    res = build_task_op('res_conv_5', 4).eval()
    torch.testing.assert_close(res(x), x + torch.relu(res.bn(res.conv(x))))
    skip = build_task_op('skip', 4)
    assert isinstance(skip, SkipConnect) and skip(x) is x
    assert num_params(skip) == 0


def test_op_names_of_both_families_resolve_in_one_parser():
    # TIM fusion names still build through the shared lookup
    assert op_name_cfg('Residualblocks_3_1') == dict(
        type='ResidualBlock', kernel_size=3, dilation=1)
    assert op_name_cfg('conv_7') == dict(type='TaskConv', kernel_size=7)
    assert type(build_named_op('zero', 4)).__name__ == 'Zero'
    with pytest.raises(ValueError) as err:
        build_edge('conv_9', 4)
    msg = str(err.value)
    # every family says why: the TIM forms and the task names are listed
    assert "unknown TIM op 'conv_9'" in msg and "unknown task op 'conv_9'" \
        in msg
    assert 'Denseblocks_<k>_<d>' in msg and 'dil_conv_7_2' in msg
    with pytest.raises(ValueError, match="unknown task op 'conv_2'"):
        task_op_cfg('conv_2')
    with pytest.raises(TypeError, match='must be a str'):
        op_name_cfg(3)
    with pytest.raises(ValueError, match='already registered'):
        register_op_names('task', ['x'], lambda n: {})
    with pytest.raises(ValueError, match="'skip' of family 'other'"):
        register_op_names('other', ['skip'], lambda n: dict(type='Zero'))


def test_cell_edge_count_and_order():
    assert [num_distillation_edges(n) for n in (1, 2, 3, 4)] == [1, 3, 6, 10]
    edge = FeatureDistillationCell.edge_index
    assert [
        edge(0, 1),
        edge(0, 2),
        edge(1, 2),
        edge(0, 3),
        edge(2, 3),
        edge(3, 4)
    ] == [0, 1, 2, 3, 5, 9]
    cell = FeatureDistillationCell(8, num_nodes=4, edge_cfg='conv_3')
    assert len(cell.edges) == 10
    # edges + reduce 1x1 (nC -> C, with bias)
    assert num_params(cell) == 10 * (64 * 9 + 16) + 4 * 64 + 8
    with pytest.raises(ValueError, match='earlier node'):
        edge(2, 2)


def path_cell(paths, num_nodes=3, channels=2):
    """A cell whose edges are 'skip' on ``paths`` and 'zero' elsewhere,
    with an identity-block reduce conv (out = sum of the nodes)."""
    ops = ['zero'] * num_distillation_edges(num_nodes)
    for i, j in paths:
        ops[FeatureDistillationCell.edge_index(i, j)] = 'skip'
    cell = FeatureDistillationCell(channels, num_nodes, ops=ops)
    with torch.no_grad():
        eye = torch.eye(channels)[:, :, None, None]
        cell.reduce.weight.copy_(torch.cat([eye] * num_nodes, 1))
        cell.reduce.bias.zero_()
    return cell


def test_cell_node_dependencies_by_hand():
    x = torch.randn(1, 2, 5, 5)
    # s1 = x; s2 = x + s1 = 2x; s3 = s2 = 2x -> out = x + 2x + 2x
    cell = path_cell([(0, 1), (0, 2), (1, 2), (2, 3)])
    torch.testing.assert_close(cell(x), 5 * x)
    # s1 = x; s2 = x; s3 = x + s1 + s2 = 3x -> out = 5x as well, other path
    cell = path_cell([(0, 1), (0, 2), (0, 3), (1, 3), (2, 3)])
    torch.testing.assert_close(cell(x), 5 * x)
    # s1 = 0; s2 = s1 = 0; s3 = s2 = 0: nothing reaches the output
    cell = path_cell([(1, 2), (2, 3)])
    torch.testing.assert_close(cell(x), torch.zeros_like(x))
    # the input is not concatenated: only s1 = x contributes
    cell = path_cell([(0, 1)])
    torch.testing.assert_close(cell(x), x)
    # the distillation reduce sees the nodes in order (s1, s2, s3)
    cell = path_cell([(0, 1), (1, 2), (2, 3)])
    with torch.no_grad():
        cell.reduce.weight[:, 2:4].mul_(10.)
    torch.testing.assert_close(cell(x), 12 * x)


def test_cell_with_a_real_op_on_one_path():
    torch.manual_seed(0)
    ops = ['zero'] * 3
    ops[FeatureDistillationCell.edge_index(0, 2)] = 'conv_3'
    cell = FeatureDistillationCell(4, num_nodes=2, ops=ops).eval()
    x = torch.randn(2, 4, 6, 6)
    s2 = cell.edges[1](x)
    expected = cell.reduce(torch.cat((torch.zeros_like(x), s2), 1))
    torch.testing.assert_close(cell(x), expected)


def test_edge_template_keys_and_explicit_expansion():
    template = dict(
        type='DiffMixedOp', key='fd', candidates=['conv_1', 'skip'])
    cell = FeatureDistillationCell(4, num_nodes=2, edge_cfg=template)
    arch = ArchParams()
    assert bind_arch_params(cell, arch) == ['fd/edge0', 'fd/edge1', 'fd/edge2']
    space = [
        dict(
            type='mmfusenas.FeatureDistillationCell',
            channels=4,
            num_nodes=2,
            edge_cfg=template)
    ]
    explicit = expand_edge_templates(space)
    assert [op['key'] for op in explicit[0]['ops']
            ] == ['fd/edge0', 'fd/edge1', 'fd/edge2']
    assert 'edge_cfg' not in explicit[0] and space[0]['edge_cfg'] == template
    choices = derive_choices(cell)
    # fix_space_cfg expands templates itself: both forms give one network
    fixed = fix_space_cfg(explicit, choices)[0]
    assert fixed['ops'] == [choices[f'fd/edge{e}'] for e in range(3)]
    assert fix_space_cfg(space, choices)[0] == fixed
    assert type(MODELS.build(fixed).edges[0]).__name__ in ('TaskConv',
                                                           'SkipConnect')
    # a non-mixed template is repeated as is
    assert FeatureDistillationCell.expand_edge_cfg(
        dict(
            type='FeatureDistillationCell',
            channels=4,
            num_nodes=1,
            edge_cfg='conv_5'))['ops'] == ['conv_5']


def test_cell_builds_its_edges_inside_other_scopes():
    template = dict(type='DiffMixedOp', key='s', candidates=['conv_3'])
    with DefaultScope.overwrite_default_scope('mmdet'):
        cell = FeatureDistillationCell(4, num_nodes=1, edge_cfg=template)
    assert isinstance(cell.edges[0], DiffMixedOp)


def test_cell_config_errors():
    with pytest.raises(ValueError, match='num_nodes must be an int >= 1'):
        FeatureDistillationCell(4, num_nodes=0, edge_cfg='skip')
    with pytest.raises(ValueError, match='exactly one of `ops`'):
        FeatureDistillationCell(4, num_nodes=1)
    with pytest.raises(ValueError, match='exactly one of `ops`'):
        FeatureDistillationCell(4, num_nodes=1, ops=['skip'], edge_cfg='skip')
    with pytest.raises(ValueError, match='2 nodes has 3 edges'):
        FeatureDistillationCell(4, num_nodes=2, ops=['skip', 'skip'])
    with pytest.raises(ValueError, match="needs a 'key'"):
        FeatureDistillationCell(
            4, num_nodes=1, edge_cfg=dict(type='DiffMixedOp', candidates=[]))
