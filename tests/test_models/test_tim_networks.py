"""TIM networks built from the shipped configs: official parameter counts,
genotypes, source orders, semantics and an ImageFusor step."""
import os
import os.path as osp
from dataclasses import asdict

import pytest
import torch
from mmengine import Config

from mmfusenas.models.fusion import (TIM_GENOTYPES, TIM_OFFICIAL_MODELS,
                                     TIMEnhanceNet, TIMFusionNet,
                                     TIMTwoStageFusionNet, tim_cell_cfgs)
from mmfusenas.models.ops import TIM_OP_NAMES
from mmfusenas.registry import DATASETS, MODELS
from mmfusenas.structures import FusionDataSample

CONFIG_DIR = osp.join(
    osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))), 'configs',
    'tim')
MEDICAL = ('mri_ct', 'mri_pet', 'mri_spect')

# the official networks (github.com/LiuZhu-CV/TIMFusion, built with torch):
# params, buffer elements, state-dict entries
STAGE1 = (994917, 5097, 131)
LIGHT = (127358, 388, 49)
STAGE2 = dict(
    ivif=(237308, 776, 91),
    mri_ct=(235059, 1164, 122),
    mri_pet=(244815, 1552, 148),
    mri_spect=(230643, 970, 112))


def load_cfg(name):
    return Config.fromfile(osp.join(CONFIG_DIR, f'fusion_{name}_official.py'))


def sizes(module):
    return (sum(p.numel() for p in module.parameters()),
            sum(b.numel() for b in module.buffers()), len(module.state_dict()))


def small_cells(*ops):
    return [dict(type='SuccessiveCell', ops=list(ops))]


@pytest.mark.parametrize('name', ['ivif', *MEDICAL])
def test_two_stage_configs_reproduce_official_counts(name):
    net = MODELS.build(load_cfg(name).model).fusion_net
    assert isinstance(net, TIMTwoStageFusionNet)
    assert sizes(net.stage1) == STAGE1
    assert sizes(net.stage2) == STAGE2[name]
    assert sizes(net)[0] == STAGE1[0] + STAGE2[name][0]


def test_light_config_and_decomposition_network_counts():
    net = MODELS.build(load_cfg('ivif_light').model).fusion_net
    assert isinstance(net, TIMFusionNet)
    assert sizes(net) == LIGHT
    decom = TIMFusionNet(
        tim_cell_cfgs('fusion_M', ('Cell_Model', 'Cell_Chain2')))
    assert sizes(decom)[0] == 132154
    assert sum(p.numel() for p in decom.cells[0].parameters()) == 49781


@pytest.mark.parametrize('name', ['ivif', 'ivif_light', *MEDICAL])
def test_configs_match_official_genotypes_and_call_orders(name):
    cfg = load_cfg(name)
    official = TIM_OFFICIAL_MODELS[name]
    modalities = tuple(cfg.train_dataloader.dataset.get('data_prefix') or {})
    assert modalities == official['modalities']

    def order(stage):
        return tuple(
            modalities.index(m) for m in official['call_order'][stage])

    net_cfg = cfg.model.fusion_net
    stage1 = net_cfg.stage1 if name != 'ivif_light' else net_cfg
    s1 = official['stage1']
    expected = tim_cell_cfgs(s1['genotype'], s1['cell_names'])
    assert [c.to_dict() for c in stage1.cells] == expected
    assert tuple(stage1.input_order) == order('stage1')
    if name == 'ivif_light':
        return
    s2 = official['stage2']
    stage2 = net_cfg.stage2
    assert stage2['merge'] == s2['merge']  # .merge is a ConfigDict method
    assert tuple(stage2.input_order) == order('stage2')
    for key, genotype in (('first_cells', s2['first_branch']),
                          ('second_cells', s2['second_branch'])):
        expected = tim_cell_cfgs(genotype, ['Cell_Chain2'] * 2)
        assert [c.to_dict() for c in stage2[key]] == expected


def test_genotypes_are_plain_data_of_valid_ops():
    assert len(TIM_GENOTYPES) == 17
    for name, genotype in TIM_GENOTYPES.items():
        for field, ops in asdict(genotype).items():
            assert isinstance(ops, tuple), (name, field)
            assert set(ops) <= set(TIM_OP_NAMES), (name, field)
    assert TIM_GENOTYPES['fusion_M'].chain_fusion == ('Residualblocks_3_1',
                                                      'DilConv_3_2')
    with pytest.raises(KeyError, match="unknown TIM genotype 'nope'"):
        tim_cell_cfgs('nope', ['Cell_Chain2'])
    with pytest.raises(KeyError, match="unknown TIM cell name 'Cell_X'"):
        tim_cell_cfgs('fusion_M', ['Cell_X'])


def test_fusion_net_semantics_and_input_order():
    torch.manual_seed(0)
    cells = small_cells('Residualblocks_3_1', 'SPAattention_3')
    net = TIMFusionNet(cells, channels=8).eval()
    swapped = TIMFusionNet(cells, channels=8, input_order=(1, 0)).eval()
    swapped.load_state_dict(net.state_dict())
    x = torch.rand(2, 2, 12, 12)
    out = net(x)
    assert out.shape == (2, 1, 12, 12)
    assert torch.equal(out, net.head(net.cells[0](net.stem(x))))
    assert torch.equal(swapped(x), net(x.flip(1)))
    # no output activation
    assert [type(m).__name__ for m in net.head] == [
        'ReflectPadConv2d', 'PReLU', 'ReflectPadConv2d', 'ReflectPadConv2d'
    ]
    with pytest.raises(RuntimeError):  # the stem's conv
        net(torch.rand(2, 3, 12, 12))
    # the reordering would drop the extra channel silently: refused
    with pytest.raises(ValueError, match=r'\(N, 2, H, W\) inputs, got'):
        swapped(torch.rand(2, 3, 12, 12))
    with pytest.raises(ValueError, match='permutation of'):
        TIMFusionNet(cells, channels=8, input_order=(0, 0))
    with pytest.raises(ValueError, match='non-empty sequence'):
        TIMFusionNet([], channels=8)


@pytest.mark.parametrize('merge', ['mask', 'concat'])
def test_enhance_net_merges(merge):
    torch.manual_seed(0)
    net = TIMEnhanceNet(
        small_cells('ECAattention_3', 'SPAattention_3') * 2,
        small_cells('SPAattention_3', 'DilConv_3_2') * 2,
        channels=8,
        merge=merge).eval()
    x, f = torch.rand(2, 2, 12, 12), torch.rand(2, 1, 12, 12)
    final, out_a, out_b = net(x, f, return_branches=True)
    assert torch.equal(final, net(x, f))
    feat_a = net.first_stem(torch.cat((x[:, :1], f), 1))
    feat_b = net.second_stem(torch.cat((x[:, 1:], f), 1))
    for cell in net.first_cells:
        feat_a = cell(feat_a)
    for cell in net.second_cells:
        feat_b = cell(feat_b)
    if merge == 'mask':
        mask = net.mask(feat_a)
        expected = net.final_head(mask * feat_a + (1 - mask) * feat_b)
        assert sum(p.numel() for p in net.mask.parameters()) == 3
    else:
        expected = torch.tanh(net.final_head(torch.cat((feat_a, feat_b), 1)))
        assert final.abs().max() < 1
    assert torch.equal(final, expected)
    assert torch.equal(out_a, torch.tanh(net.first_head(feat_a)))
    assert torch.equal(out_b, torch.tanh(net.second_head(feat_b)))
    with pytest.raises(RuntimeError):  # torch.cat of mismatched sizes
        net(x, f[..., :6])


def test_enhance_net_errors():
    cells = small_cells('SPAattention_3')
    with pytest.raises(ValueError, match="merge must be one of .*'sum'"):
        TIMEnhanceNet(cells, cells, channels=8, merge='sum')
    with pytest.raises(ValueError, match='second_cells must be a non-empty'):
        TIMEnhanceNet(cells, [], channels=8)
    with pytest.raises(ValueError, match='channels must be an even'):
        TIMEnhanceNet(cells, cells, channels=7)


def test_two_stage_wrapper_feeds_stage1_output_to_stage2():
    torch.manual_seed(0)
    net = TIMTwoStageFusionNet(
        dict(
            type='TIMFusionNet',
            channels=8,
            cells=small_cells('Denseblocks_3_1')),
        dict(
            type='TIMEnhanceNet',
            channels=8,
            first_cells=small_cells('SPAattention_3'),
            second_cells=small_cells('DilConv_3_2'),
            input_order=(1, 0))).eval()
    x = torch.rand(1, 2, 8, 8)
    outs = net(x, return_all=True)
    assert set(outs) == {'stage1', 'first', 'second', 'final'}
    assert torch.equal(outs['stage1'], net.stage1(x))
    assert torch.equal(outs['final'], net.stage2(x, net.stage1(x)))
    assert torch.equal(net(x), outs['final'])


def test_official_ivif_config_trains_and_predicts_in_image_fusor():
    torch.manual_seed(0)
    model = MODELS.build(load_cfg('ivif').model)
    inputs = torch.rand(2, 2, 32, 32)
    samples = [
        FusionDataSample(metainfo=dict(img_shape=(30, 31), stem=f's{i}'))
        for i in range(2)
    ]
    data = model.data_preprocessor(
        dict(inputs=inputs, data_samples=samples), True)
    losses = model(**data, mode='loss')
    assert set(losses) == {'loss_int', 'loss_grad'}
    fused = model(inputs, mode='tensor')  # BN in train mode: batch stats
    assert fused.shape == (2, 1, 32, 32)
    for loss_fn in model.losses:
        torch.testing.assert_close(losses[loss_fn.loss_name],
                                   loss_fn(fused, inputs))
    sum(losses.values()).backward()
    net = model.fusion_net
    # the two branch heads only feed the branch images, not the final one
    unused = {
        f'stage2.{name}'
        for name, _ in net.stage2.named_parameters()
        if name.startswith(('first_head.', 'second_head.'))
    }
    assert len(unused) == 2 * 7  # 3 convs (weight, bias) + PReLU
    for name, param in net.named_parameters():
        if name in unused:
            assert param.grad is None, name
        else:
            assert param.grad is not None and torch.isfinite(
                param.grad).all(), name
    model.eval()
    with torch.no_grad():
        preds = model(**data, mode='predict')
        expected = model(inputs, mode='tensor').clamp(0, 1)
    for i, sample in enumerate(preds):
        assert sample.pred_fused.shape == (1, 30, 31)
        assert torch.equal(sample.pred_fused, expected[i, :, :30, :31])


@pytest.mark.parametrize('name', MEDICAL)
def test_medical_configs_read_the_medical_layout(name, shared_data):
    cfg = load_cfg(name).train_dataloader.dataset
    folder = osp.basename(cfg.data_root.rstrip('/'))
    cfg.data_root = osp.join(shared_data, 'fusion', folder)
    dataset = DATASETS.build(cfg)
    num_files = len(os.listdir(osp.join(cfg.data_root, 'MRI')))
    assert len(dataset) == num_files
    assert dataset.metainfo['modalities'] == \
        TIM_OFFICIAL_MODELS[name]['modalities']
