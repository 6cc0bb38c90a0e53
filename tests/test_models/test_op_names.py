"""Op names resolve through ``MODELS`` alone: every family's names are
registered builders (mmfusenas/models/ops/op_names.py)."""
import inspect

import pytest
import torch

from mmfusenas.models.ops import (HBL_OP_NAMES, RUAS_OP_NAMES, TASK_OP_NAMES,
                                  TIM_OP_NAMES, build_edge, build_named_op,
                                  known_op_names, op_name_cfg,
                                  register_op_names)
from mmfusenas.models.ops import edges, op_names, tim_op_names
from mmfusenas.registry import MODELS
from mmfusenas.utils import register_all_modules

register_all_modules(init_default_scope=False)


def test_every_family_name_is_a_registered_builder():
    for name in TIM_OP_NAMES + TASK_OP_NAMES + RUAS_OP_NAMES:
        builder = MODELS.get(name)
        assert builder is not None and builder.op_cfg == op_name_cfg(name)
    for name in HBL_OP_NAMES:
        assert MODELS.get('hbl_' + name).op_family == 'HBL'
    registered = {k for k, v in MODELS.module_dict.items()
                  if hasattr(v, 'op_family')}
    assert len(registered) == 90
    # the genotype vocabulary: registered names and HBL's own names
    known = set(known_op_names())
    assert registered <= known and set(HBL_OP_NAMES) <= known
    assert known - registered == {'denseblocks_1x1', 'denseblocks_3x3'}


def test_build_through_the_registry_equals_the_named_cfg():
    torch.manual_seed(0)
    op = MODELS.build(dict(type='Residualblocks_5_2'),
                      default_args=dict(channels=6))
    assert type(op).__name__ == 'ResidualBlock'
    conv = [m for m in op.modules() if isinstance(m, torch.nn.Conv2d)][0]
    assert conv.kernel_size == (5, 5) and conv.dilation == (2, 2)
    assert conv.in_channels == 6
    # config keys go to the operator: HBL's width-changing positions
    hbl = MODELS.build(dict(type='hbl_conv_3x3', out_channels=8),
                       default_args=dict(channels=3))
    assert hbl.conv.weight.shape == (8, 3, 3, 3) and hbl.conv.bias is None
    # the same official name means RUAS's biased conv without the prefix
    ruas = build_named_op('conv_3x3', 3)
    assert type(ruas).__name__ == 'RUASConv'
    assert any(m.bias is not None for m in ruas.modules()
               if isinstance(m, torch.nn.Conv2d))
    assert type(build_edge('hbl_skip_connect', 4)).__name__ == 'SkipConnect'


def test_unknown_names_and_conflicts_are_refused():
    with pytest.raises(ValueError) as err:
        op_name_cfg('hbl_conv_9x9')
    msg = str(err.value)
    assert "unknown HBL op 'conv_9x9'" in msg
    assert "registered with the prefix 'hbl_'" in msg
    with pytest.raises(ValueError, match='already registered by '
                       r'mmfusenas\.models\.ops\.blocks\.DenseBlock'):
        register_op_names('clash', ['DenseBlock'],
                          lambda n: dict(type='Zero'))
    with pytest.raises(ValueError, match='MMEngine reads as a scope'):
        register_op_names('dotted', ['a.b'], lambda n: dict(type='Zero'))
    with pytest.raises(ValueError, match="'conv_3x3' of family 'HBL2' is "
                       "already registered by family 'RUAS'"):
        register_op_names('HBL2', ['conv_3x3'],
                          lambda n: dict(type='HBLConv', kernel_size=3))
    # a refused family registers nothing
    assert MODELS.get('HBL2') is None and not [
        v for v in MODELS.module_dict.values()
        if getattr(v, 'op_family', None) in ('clash', 'dotted', 'HBL2')]


def test_no_name_table_beside_the_registry():
    for module in (op_names, tim_op_names, edges):
        source = inspect.getsource(module)
        assert '_OP_NAME_FAMILIES' not in source
    assert 'HBL' not in inspect.getsource(edges)
