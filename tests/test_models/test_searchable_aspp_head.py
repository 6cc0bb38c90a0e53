"""Searchable ASPP head (RUAS segmentation task module) alone and inside a
real mmseg DeepLabV3+ segmentor."""
import copy

import pytest
import torch
from mmengine.config import ConfigDict
from mmengine.registry import DefaultScope

from mmfusenas.models.decode_heads import SearchableASPPHead
from mmfusenas.models.mutables import (ArchParams, Genotype, bind_arch_params,
                                       derive_choices, fix_space_cfg,
                                       task_op_template)
from mmfusenas.models.ops import RUAS_TASK_OPS, RUASConv


def head_kwargs(**kwargs):
    cfg = dict(
        in_channels=64,
        in_index=3,
        channels=8,
        c1_in_channels=8,
        c1_channels=4,
        dropout_ratio=0.1,
        num_classes=5,
        norm_cfg=dict(type='BN'),
        align_corners=False)
    cfg.update(kwargs)
    return cfg


def head_cfg(**kwargs):
    return dict(type='mmfusenas.SearchableASPPHead', **head_kwargs(**kwargs))


def segmentor_cfg(decode_head):
    return dict(
        type='EncoderDecoder',
        data_preprocessor=dict(
            type='SegDataPreProcessor',
            mean=[0., 0., 0.],
            std=[255., 255., 255.],
            size_divisor=8),
        # DeepLabV3+'s dilated ResNetV1c (output stride 8), depth 18, 8 ch
        backbone=dict(
            type='ResNetV1c',
            depth=18,
            stem_channels=8,
            base_channels=8,
            num_stages=4,
            out_indices=(0, 1, 2, 3),
            dilations=(1, 1, 2, 4),
            strides=(1, 2, 1, 1),
            norm_cfg=dict(type='BN'),
            init_cfg=None),
        decode_head=decode_head,
        train_cfg=dict(),
        test_cfg=ConfigDict(mode='whole'))


def mmseg_build(cfg):
    from mmseg.registry import MODELS as SEG_MODELS
    with DefaultScope.overwrite_default_scope('mmseg'):
        return SEG_MODELS.build(copy.deepcopy(cfg))


def seg_batch(h=64, w=64, batch=2):
    from mmengine.structures import PixelData
    from mmseg.structures import SegDataSample
    samples = []
    for _ in range(batch):
        sample = SegDataSample(
            metainfo=dict(
                img_shape=(h, w), ori_shape=(h, w), pad_shape=(h, w)))
        sample.gt_sem_seg = PixelData(data=torch.randint(0, 5, (1, h, w)))
        samples.append(sample)
    return dict(
        inputs=[
            torch.randint(0, 255, (3, h, w), dtype=torch.uint8)
            for _ in samples
        ],
        data_samples=samples)


def encoder_feats(batch=2):
    # ResNetV1c-18 (8 ch) at output stride 8 on 64 x 64
    return [
        torch.randn(batch, 8, 16, 16),
        torch.randn(batch, 16, 8, 8),
        torch.randn(batch, 32, 8, 8),
        torch.randn(batch, 64, 8, 8)
    ]


def test_shapes_equal_mmseg_deeplabv3plus_head():
    torch.manual_seed(0)
    ref = mmseg_build(
        dict(type='DepthwiseSeparableASPPHead', **head_kwargs()))
    head = mmseg_build(head_cfg(op_cfg=task_op_template('seg')))
    assert isinstance(head, SearchableASPPHead)
    assert bind_arch_params(head, ArchParams()) == [
        f'seg/branch{i}' for i in range(4)
    ]
    feats = encoder_feats()
    assert head(feats).shape == ref(feats).shape == (2, 5, 16, 16)
    # every searched branch: in_channels -> channels at the input size
    with torch.no_grad():
        assert [b(feats[3]).shape for b in head.aspp_modules] == \
            [(2, 8, 8, 8)] * 4
    # everything but the ASPP branches is mmseg's
    ours = {
        k: v.shape
        for k, v in head.state_dict().items()
        if not k.startswith('aspp_modules')
    }
    theirs = {
        k: v.shape
        for k, v in ref.state_dict().items()
        if not k.startswith('aspp_modules')
    }
    assert ours == theirs
    # with RUAS_TASK_OPS the space holds ASPP's own rates 6, 12, 18
    dilations = [
        c.conv.dilation[0] for c in head.aspp_modules[0].op.candidates
    ]
    assert dilations == [1, 1, 1, 1, 2, 2, 2, 6, 12, 18]


def test_one_by_one_branches_compute_mmseg_head():
    # mmseg's 1x1 ASPP branch = ConvModule(conv without bias, BN, ReLU);
    # '1-C' with a zero bias and the same weights is the same branch
    torch.manual_seed(0)
    ref = mmseg_build(
        dict(
            type='DepthwiseSeparableASPPHead',
            dilations=(1, 1),
            **head_kwargs(dropout_ratio=0.)))
    head = mmseg_build(head_cfg(ops=['1-C', '1-C'], num_branches=2,
                                dropout_ratio=0.))
    state = {}
    for k, v in ref.state_dict().items():
        state[k.replace('.conv.weight', '.op.conv.weight') if k.startswith(
            'aspp_modules') else k] = v
    for i in range(2):
        state[f'aspp_modules.{i}.op.conv.bias'] = torch.zeros(8)
    head.load_state_dict(state)
    ref.eval(), head.eval()
    feats = encoder_feats()
    with torch.no_grad():
        torch.testing.assert_close(head(feats), ref(feats))


def test_supernet_in_encoder_decoder_loss_and_predict():
    from mmseg.models.segmentors import EncoderDecoder
    torch.manual_seed(0)
    seg = mmseg_build(segmentor_cfg(head_cfg(op_cfg=task_op_template('seg'))))
    assert isinstance(seg, EncoderDecoder)
    assert isinstance(seg.decode_head, SearchableASPPHead)
    arch = ArchParams()
    keys = bind_arch_params(seg, arch)
    assert keys == [f'seg/branch{i}' for i in range(4)]
    data = seg.data_preprocessor(seg_batch(), True)
    losses = seg(**data, mode='loss')
    assert set(losses) == {'decode.loss_ce', 'decode.acc_seg'}
    assert torch.isfinite(losses['decode.loss_ce'])
    losses['decode.loss_ce'].backward()
    for key in keys:
        assert arch.alphas[key].grad.abs().sum() > 0, key
    seg.eval()
    with torch.no_grad():
        results = seg(
            **seg.data_preprocessor(seg_batch(batch=1), False),
            mode='predict')
    assert results[0].pred_sem_seg.data.shape == (1, 64, 64)
    assert results[0].seg_logits.data.shape == (5, 64, 64)


def test_expand_op_cfg():
    cfg = head_cfg(op_cfg=dict(
        type='DiffMixedOp', key='seg', candidates=['1-C', '3-12-DC']),
                   num_branches=3)
    explicit = SearchableASPPHead.expand_op_cfg(cfg)
    assert 'op_cfg' not in explicit and len(explicit['ops']) == 3
    assert explicit['ops'][2]['key'] == 'seg/branch2'
    assert explicit['ops'][2]['candidates']['3-12-DC'] == dict(
        type='RUASConv', kernel_size=3, dilation=12, out_channels=8,
        stride=1)
    assert fix_space_cfg(explicit, {
        'seg/branch0': '1-C',
        'seg/branch1': '3-12-DC',
        'seg/branch2': '1-C'
    })['ops'][1]['dilation'] == 12


def test_one_candidate_space_rebuilds_the_fixed_head(tmp_path):
    torch.manual_seed(0)
    space = SearchableASPPHead.expand_op_cfg(
        head_cfg(op_cfg=task_op_template('seg')))
    picks = ['3-6-DC', '1-C', '5-2-DC', '3-18-DC']
    for spec, name in zip(space['ops'], picks):
        spec['candidates'] = {name: spec['candidates'][name]}
    supernet = mmseg_build(segmentor_cfg(space))
    bind_arch_params(supernet, ArchParams())
    choices = derive_choices(supernet)
    assert choices == {f'seg/branch{i}': n for i, n in enumerate(picks)}
    geno = Genotype.from_space(space, choices)
    assert [op['kernel_size'] for op in geno.network['ops']] == [3, 1, 5, 3]
    path = str(tmp_path / 'aspp.json')
    geno.dump(path)
    # the genotype file is the decode head of a segmentor config
    fixed = mmseg_build(
        segmentor_cfg(dict(type='mmfusenas.GenotypeNet', genotype=path)))
    assert isinstance(fixed.decode_head, SearchableASPPHead)
    assert all(
        isinstance(b.op, RUASConv) for b in fixed.decode_head.aspp_modules)
    fixed.load_state_dict({
        k.replace('.candidates.0', ''): v
        for k, v in supernet.state_dict().items()
    })
    supernet.eval(), fixed.eval()
    x = torch.rand(1, 3, 64, 64)
    metas = [dict(img_shape=(64, 64), pad_shape=(64, 64))]
    with torch.no_grad():
        torch.testing.assert_close(
            supernet.encode_decode(x, metas), fixed.encode_decode(x, metas))


def test_head_errors():
    with pytest.raises(ValueError, match='exactly one of `ops`'):
        SearchableASPPHead(**head_kwargs())
    with pytest.raises(ValueError, match='not dilations'):
        SearchableASPPHead(
            op_cfg='1-C', dilations=(1, 6, 12, 18), **head_kwargs())
    with pytest.raises(ValueError, match=r'one spec per position \(4'):
        SearchableASPPHead(ops=['1-C'] * 3, **head_kwargs())
    with pytest.raises(ValueError, match='unknown op name'):
        SearchableASPPHead(op_cfg='3-24-DC', **head_kwargs())
    with pytest.raises(ValueError, match='residual RUASConv'):
        SearchableASPPHead(op_cfg='3-RC', **head_kwargs())
    with pytest.raises(ValueError, match='num_branches must be an int >= 1'):
        SearchableASPPHead(op_cfg='1-C', num_branches=0, **head_kwargs())
    assert len(RUAS_TASK_OPS) == 10
