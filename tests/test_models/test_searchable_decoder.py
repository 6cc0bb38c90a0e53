"""The searchable distillation decode head inside a real mmseg segmentor."""
import pytest
import torch
from mmengine.config import ConfigDict
from mmengine.registry import DefaultScope

from mmfusenas.models.mutables import expand_edge_templates
from mmfusenas.models.decode_heads import SearchableDistillationHead
from mmfusenas.models.mutables import (ArchParams, Genotype, bind_arch_params,
                                       derive_choices)
from mmfusenas.models.ops import TASK_OP_NAMES

R18_LEVELS = [128, 256, 512]


def head_cfg(channels=16, **kwargs):
    cfg = dict(
        type='mmfusenas.SearchableDistillationHead',
        in_channels=R18_LEVELS,
        in_index=[1, 2, 3],
        channels=channels,
        num_classes=5,
        norm_cfg=dict(type='BN'))
    cfg.update(kwargs)
    return cfg


def segmentor_cfg(decode_head):
    return dict(
        type='EncoderDecoder',
        data_preprocessor=dict(
            type='SegDataPreProcessor',
            mean=[0., 0., 0.],
            std=[255., 255., 255.],
            size_divisor=32),
        # non-dilated ResNetV1c-18: C2..C5 at strides 4, 8, 16, 32
        backbone=dict(
            type='ResNetV1c',
            depth=18,
            strides=(1, 2, 2, 2),
            dilations=(1, 1, 1, 1),
            out_indices=(0, 1, 2, 3),
            init_cfg=None),
        decode_head=decode_head,
        train_cfg=dict(),
        test_cfg=ConfigDict(mode='whole'))


def mmseg_build(cfg):
    from mmseg.registry import MODELS as SEG_MODELS
    with DefaultScope.overwrite_default_scope('mmseg'):
        return SEG_MODELS.build(cfg)


def seg_batch(h=64, w=96):
    from mmengine.structures import PixelData
    from mmseg.structures import SegDataSample
    sample = SegDataSample(
        metainfo=dict(img_shape=(h, w), ori_shape=(h, w), pad_shape=(h, w)))
    sample.gt_sem_seg = PixelData(data=torch.randint(0, 5, (1, h, w)))
    return dict(
        inputs=[torch.randint(0, 255, (3, h, w), dtype=torch.uint8)],
        data_samples=[sample])


def level_feats(channels=(8, 16, 32), size=16, batch=2):
    return [
        torch.randn(batch, c, size // 2**i, size // 2**i)
        for i, c in enumerate(channels)
    ]


def test_supernet_head_in_encoder_decoder_loss_and_predict():
    from mmseg.models.segmentors import EncoderDecoder
    torch.manual_seed(0)
    space = head_cfg(
        edge_cfg=dict(
            type='DiffMixedOp', key='dec', candidates=list(TASK_OP_NAMES)))
    seg = mmseg_build(segmentor_cfg(space))
    assert isinstance(seg, EncoderDecoder)
    assert isinstance(seg.decode_head, SearchableDistillationHead)
    arch = ArchParams()
    keys = bind_arch_params(seg.decode_head, arch)
    assert keys == [f'dec/cell{i}/edge{e}' for i in range(2) for e in range(3)]
    data = seg.data_preprocessor(seg_batch(), True)
    losses = seg(**data, mode='loss')
    assert set(losses) == {'decode.loss_ce', 'decode.acc_seg'}
    losses['decode.loss_ce'].backward()
    assert all(arch.alphas[k].grad.abs().sum() > 0 for k in keys)
    # logits at 1/8 before any resize
    feats = seg.extract_feat(data['inputs'])
    assert seg.decode_head(feats).shape == (1, 5, 8, 12)
    seg.eval()
    with torch.no_grad():
        results = seg(
            **seg.data_preprocessor(seg_batch(), False), mode='predict')
    assert results[0].pred_sem_seg.data.shape == (1, 64, 96)
    assert results[0].seg_logits.data.shape == (5, 64, 96)


def test_dataflow_by_hand_with_zero_cells():
    # zero edges and a zero reduce: every cell outputs 0, so f_i = p
    torch.manual_seed(0)
    head = SearchableDistillationHead([8, 16, 32],
                                      4,
                                      edge_cfg='zero',
                                      num_classes=3,
                                      dropout_ratio=0.)
    for cell in head.cells:
        torch.nn.init.zeros_(cell.reduce.bias)
    head.eval()
    feats = level_feats()
    with torch.no_grad():
        lat = [conv(x) for conv, x in zip(head.lateral_convs, feats)]
        f1 = head.fuse_convs[1](
            torch.cat((lat[1], head.up_samples[1](lat[2])), 1))
        f0 = head.fuse_convs[0](torch.cat((lat[0], head.up_samples[0](f1)), 1))
        expected = head.conv_seg(f0)
        torch.testing.assert_close(head(feats), expected)
    # widths double per level and the residual up-sampling halves them
    assert [c.conv.out_channels for c in head.lateral_convs] == [4, 8, 16]
    assert [c.channels for c in head.cells] == [4, 8]


def test_residual_connection_around_the_cells():
    torch.manual_seed(0)
    head = SearchableDistillationHead([8, 16],
                                      4,
                                      num_nodes=1,
                                      ops=[['conv_3']],
                                      num_classes=3,
                                      dropout_ratio=0.).eval()
    feats = level_feats((8, 16))
    with torch.no_grad():
        lat = [conv(x) for conv, x in zip(head.lateral_convs, feats)]
        p = head.fuse_convs[0](
            torch.cat((lat[0], head.up_samples[0](lat[1])), 1))
        expected = head.conv_seg(p + head.cells[0](p))
        torch.testing.assert_close(head(feats), expected)


def test_odd_sizes_are_cropped_and_dilated_levels_rejected():
    head = SearchableDistillationHead([8, 16, 32],
                                      4,
                                      edge_cfg='skip',
                                      num_classes=3)
    feats = [torch.randn(1, c, s, s) for c, s in zip((8, 16, 32), (9, 5, 3))]
    assert head(feats).shape == (1, 3, 9, 9)
    dilated = [torch.randn(1, c, 8, 8) for c in (8, 16, 32)]
    with pytest.raises(ValueError, match='strides 2x apart'):
        head(dilated)
    with pytest.raises(RuntimeError):  # the lateral conv
        head([
            torch.randn(1, c, 8 // 2**i, 8 // 2**i)
            for i, c in enumerate((8, 15, 32))
        ])


def test_one_candidate_space_rebuilds_the_fixed_head(tmp_path):
    torch.manual_seed(0)
    picks = ['res_conv_3', 'conv_1', 'dil_conv_5_2']
    space = expand_edge_templates(
        head_cfg(
            channels=8,
            edge_cfg=dict(type='DiffMixedOp', key='d', candidates=['x'])))
    for i, cell_ops in enumerate(space['ops']):
        for e, op in enumerate(cell_ops):
            op['candidates'] = [picks[(i + e) % 3]]
    supernet = mmseg_build(segmentor_cfg(space))
    bind_arch_params(supernet.decode_head, ArchParams())
    geno = Genotype.from_space(space, derive_choices(supernet.decode_head))
    assert geno.network['ops'] == [picks, picks[1:] + picks[:1]]
    path = str(tmp_path / 'decoder.json')
    geno.dump(path)
    # the genotype file is the decode head of a segmentor config
    fixed = mmseg_build(
        segmentor_cfg(dict(type='mmfusenas.GenotypeNet', genotype=path)))
    assert isinstance(fixed.decode_head, SearchableDistillationHead)
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


def test_head_config_errors():
    with pytest.raises(ValueError, match='in_channels must list >= 2'):
        SearchableDistillationHead([512], 8, edge_cfg='skip', num_classes=3)
    with pytest.raises(ValueError, match='one encoder output index per'):
        SearchableDistillationHead(
            R18_LEVELS, 8, edge_cfg='skip', in_index=[2, 3], num_classes=3)
    with pytest.raises(ValueError, match="must be 'multiple_select'"):
        SearchableDistillationHead(
            R18_LEVELS,
            8,
            edge_cfg='skip',
            num_classes=3,
            input_transform='resize_concat')
    with pytest.raises(ValueError, match='num_nodes must be an int >= 1'):
        SearchableDistillationHead(
            R18_LEVELS, 8, num_nodes=0, edge_cfg='skip', num_classes=3)
    with pytest.raises(ValueError, match='each of the 2 cells'):
        SearchableDistillationHead(
            R18_LEVELS, 8, ops=[['skip'] * 3], num_classes=3)


def test_head_builds_its_mmseg_losses_whatever_the_current_scope():
    from mmengine.registry import DefaultScope
    from mmseg.models.losses import CrossEntropyLoss
    with DefaultScope.overwrite_default_scope('mmfusenas'):
        head = SearchableDistillationHead([8, 16, 32],
                                          4,
                                          edge_cfg='skip',
                                          num_classes=3)
    assert isinstance(head.loss_decode, CrossEntropyLoss)


def test_logits_see_every_encoder_level():
    # the audit of issue 11: unlike the earlier bottom-up neck, the decoder
    # is coarse-to-fine (up-sampling), so its 1/8 output depends on every
    # level it selects
    torch.manual_seed(0)
    with DefaultScope.overwrite_default_scope('mmfusenas'):
        head = SearchableDistillationHead(
            in_channels=[8, 16, 32],
            channels=8,
            num_classes=3,
            num_nodes=2,
            edge_cfg='conv_3',
            norm_cfg=dict(type='BN'))
    feats = [f.requires_grad_(True) for f in level_feats()]
    logits = head(feats)
    grads = torch.autograd.grad(logits.square().sum(), feats)
    assert all(g.abs().sum() > 0 for g in grads)
