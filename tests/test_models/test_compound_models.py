"""FusionDetector / FusionSegmentor: real mmdet / mmseg models behind N_F."""
import copy

import pytest
import torch
import torch.nn as nn
from mmdet.structures import DetDataSample
from mmengine.optim import OptimWrapper, OptimWrapperDict
from mmengine.structures import InstanceData, PixelData
from mmseg.structures import SegDataSample

from mmfusenas.models import (ChainDetector, CompatSSDHead, FusionDetector,
                              FusionSegmentor, ImageFusor,
                              SearchableDistillationHead,
                              SearchableDistillationNeck)
from mmfusenas.models.compound import FusionStage, get_pre_task_model
from mmfusenas.models.data_preprocessors import FusionDataPreprocessor
from mmfusenas.models.mutables import Genotype
from mmfusenas.models.ops import TASK_OP_NAMES
from mmfusenas.models.utils.colorspace import rgb_to_ycbcr, ycbcr_to_rgb
from mmfusenas.registry import MODELS
from mmfusenas.search import BilevelSearchAlgorithm
from helpers.task_models import (SIZE, encoder_decoder, retinanet,
                                 seg_backbone, seg_head, ssd)
FUSION_LOSSES = [
    dict(type='MaxIntensityLoss', loss_weight=1.0),
    dict(type='MaxGradientLoss', loss_weight=2.0),
]


pytestmark = pytest.mark.usefixtures('one_thread')


class TakeSource(nn.Module):
    """A 'fusion' that returns source ``index`` (a known answer)."""

    def __init__(self, index: int = 1) -> None:
        super().__init__()
        self.index = index
        self.scale = nn.Parameter(torch.ones(()))

    def forward(self, x):
        return self.scale * x[:, self.index:self.index + 1]


def simple_fusion():
    return dict(
        type='SimpleFusionNet',
        in_channels=2,
        base_channels=4,
        num_dense=1,
        decoder_channels=(4, ))


# ----------------------------------------------------------------------
# task model configs (tiny widths, no pretrained weights)
# ----------------------------------------------------------------------
def distillation_neck(edge_cfg, num_outs=4):
    return dict(
        type='mmfusenas.SearchableDistillationNeck',
        in_channels=[8, 16, 32, 64],
        out_channels=16,
        num_outs=num_outs,
        num_nodes=2,
        edge_cfg=edge_cfg)


def distillation_head(edge_cfg):
    return dict(
        type='mmfusenas.SearchableDistillationHead',
        in_channels=[16, 32, 64],
        in_index=[1, 2, 3],
        channels=16,
        num_classes=5,
        num_nodes=2,
        norm_cfg=dict(type='BN'),
        edge_cfg=edge_cfg)


def fusion_detector(detector, fusion_net=None, **kwargs):
    kwargs.setdefault('fusion_losses', FUSION_LOSSES)
    return MODELS.build(
        dict(
            type='FusionDetector',
            fusion_net=fusion_net or simple_fusion(),
            detector=detector,
            **kwargs))


def fusion_segmentor(segmentor, fusion_net=None, **kwargs):
    kwargs.setdefault('fusion_losses', FUSION_LOSSES)
    return MODELS.build(
        dict(
            type='FusionSegmentor',
            fusion_net=fusion_net or simple_fusion(),
            segmentor=segmentor,
            **kwargs))


# ----------------------------------------------------------------------
# batches as the packers produce them
# ----------------------------------------------------------------------
def meta(i, h, w, ori=None):
    return dict(
        stem=f's{i}',
        img_shape=(h, w),
        ori_shape=ori or (h, w),
        scale_factor=(1.0, 1.0),
        modalities=('ir', 'vi'),
        color_modality='vi')


def det_batch(sizes=((SIZE, SIZE), (SIZE, SIZE)), seed=0):
    g = torch.Generator().manual_seed(seed)
    ir, vi, samples = [], [], []
    for i, (h, w) in enumerate(sizes):
        ir.append(torch.randint(0, 256, (1, h, w), generator=g,
                                dtype=torch.uint8))
        vi.append(torch.randint(0, 256, (3, h, w), generator=g,
                                dtype=torch.uint8))
        s = DetDataSample(metainfo=meta(i, h, w))
        s.gt_instances = InstanceData(
            bboxes=torch.tensor([[4., 6., 30., 40.], [20., 8., 44., 24.]]),
            labels=torch.tensor([1, 3]))
        s.ignored_instances = InstanceData(
            bboxes=torch.zeros(0, 4), labels=torch.zeros(0, dtype=torch.long))
        samples.append(s)
    return dict(inputs=dict(ir=ir, vi=vi), data_samples=samples)


def seg_batch(sizes=((SIZE, SIZE), (SIZE, SIZE)), seed=0):
    g = torch.Generator().manual_seed(seed)
    ir, vi, samples = [], [], []
    for i, (h, w) in enumerate(sizes):
        ir.append(torch.randint(0, 256, (1, h, w), generator=g,
                                dtype=torch.uint8))
        vi.append(torch.randint(0, 256, (3, h, w), generator=g,
                                dtype=torch.uint8))
        s = SegDataSample(metainfo=meta(i, h, w))
        s.gt_sem_seg = PixelData(
            data=torch.randint(0, 5, (1, h, w), generator=g))
        samples.append(s)
    return dict(inputs=dict(ir=ir, vi=vi), data_samples=samples)


def train_step(model, batch):
    """Loss + backward; returns the loss dict."""
    model.train()
    data = model.data_preprocessor(copy.deepcopy(batch), True)
    losses = model(**data, mode='loss')
    loss, _ = model.parse_losses(losses)
    assert torch.isfinite(loss)
    loss.backward()
    return losses


def grad_sum(module):
    return sum(p.grad.abs().sum().item() for p in module.parameters()
               if p.grad is not None)


# ----------------------------------------------------------------------
# every combination builds and trains a step
# ----------------------------------------------------------------------
@pytest.mark.parametrize('backbone', ['r18', 'r50', 'mobilenetv2'])
def test_retinanet_backbones_train_a_step(backbone):
    torch.manual_seed(0)
    model = fusion_detector(retinanet(backbone))
    losses = train_step(model, det_batch())
    assert {'loss_cls', 'loss_bbox', 'fusion.loss_int', 'fusion.loss_grad',
            'fusion.eta'} == set(losses)
    # ℓ_T reaches N_F through the fused image, and the detector learns
    assert grad_sum(model.fusion_net) > 0
    assert grad_sum(model.detector.backbone) > 0


@pytest.mark.parametrize('neck', ['ssd_neck', 'distillation'])
def test_ssd_trains_a_step_and_predicts(neck):
    torch.manual_seed(0)
    model = fusion_detector(
        ssd(None if neck == 'ssd_neck' else distillation_neck('conv_3', 5)))
    model.init_weights()  # as the runner does (mmdet's L2Norm scale)
    assert isinstance(model.detector.bbox_head, CompatSSDHead)
    losses = train_step(model, det_batch())
    assert {'loss_cls', 'loss_bbox'} <= set(losses)
    assert grad_sum(model.fusion_net) > 0
    model.eval()
    with torch.no_grad():
        out = model(**model.data_preprocessor(det_batch(), False),
                    mode='predict')
    # mmdet's own SSDHead fails here (loss_cls is never set)
    assert out[0].pred_instances.bboxes.shape[1] == 4
    assert out[0].pred_fused.shape == (1, SIZE, SIZE)


SEG_COMBOS = {
    # backbone: (decode in_channels, DeepLabV3+ c1_in_channels, aux level)
    18: (64, 8, 32),
    50: (256, 32, 128),
    'mobilenetv2': (80, 8, 24),
}


@pytest.mark.parametrize('kind,backbone', [('fcn', 18), ('deeplabv3', 18),
                                           ('deeplabv3plus', 18),
                                           ('deeplabv3plus', 50),
                                           ('fcn', 'mobilenetv2')])
def test_segmentors_train_a_step(kind, backbone):
    torch.manual_seed(0)
    in_channels, c1, aux = SEG_COMBOS[backbone]
    model = fusion_segmentor(
        encoder_decoder(
            seg_head(kind, in_channels=in_channels, c1=c1),
            seg_backbone(depth=backbone),
            aux_channels=aux))
    losses = train_step(model, seg_batch())
    assert {'decode.loss_ce', 'decode.acc_seg', 'aux.loss_ce',
            'fusion.loss_int'} <= set(losses)
    assert grad_sum(model.fusion_net) > 0
    assert grad_sum(model.segmentor.decode_head) > 0


# ----------------------------------------------------------------------
# the fused image as the task input
# ----------------------------------------------------------------------
def test_rgb_task_input_of_the_vis_luminance_is_the_vis_image():
    model = fusion_detector(
        retinanet(), fusion_net=TakeSource(1), mean=(0., 0., 0.),
        std=(1., 1., 1.), fusion_losses=())
    batch = det_batch(sizes=((SIZE, SIZE), (48, 40)))
    data = model.data_preprocessor(batch, False)
    x = model.task_inputs(model.run_pre(data['inputs']))
    assert x.shape == (2, 3, SIZE, SIZE)  # padded to 32
    vi = batch['inputs']['vi']
    torch.testing.assert_close(x[0], vi[0].float(), atol=1e-3, rtol=0)
    torch.testing.assert_close(
        x[1, :, :48, :40], vi[1].float(), atol=1e-3, rtol=0)


def test_fused_colour_is_the_unclamped_luminance_with_the_batch_chroma():
    """TIM's fused colour: BT.601 inverse of the unclamped luminance with
    the batch's (Cb, Cr), clamped after: Y = 1.1, Cr = 0.2 gives
    R = 1.1 - 2 (1 - 0.299) 0.3 = 0.6794 (0.5794 from a clamped Y)."""
    model = fusion_detector(retinanet(), mean=(0., 0., 0.),
                            std=(1., 1., 1.), fusion_losses=())
    assert model.data_preprocessor.append_chroma
    chroma = torch.tensor([0.5, 0.2]).view(1, 2, 1, 1).expand(1, 2, 2, 2)
    x = model.task_inputs(
        dict(images=dict(fused=torch.full((1, 1, 2, 2), 1.1),
                         chroma=chroma)))
    torch.testing.assert_close(x[0, 0], torch.full((2, 2), 0.6794 * 255))
    assert torch.all(x[0, 1:] == 255)  # G, B above 1: clamped
    with pytest.raises(KeyError, match='pass the run_pre result'):
        model.task_inputs(torch.full((1, 1, 2, 2), 0.5))


def test_fused_color_sets_the_preprocessor_chroma():
    gray = fusion_detector(retinanet(), fused_color='gray')
    assert not gray.data_preprocessor.append_chroma
    assert gray.data_preprocessor(det_batch(), False)['inputs'].shape[1] == 2
    with pytest.raises(ValueError, match='append_chroma=True'):
        fusion_detector(retinanet(), data_preprocessor=dict(
            type='FusionDataPreprocessor', append_chroma=False))
    scoped = fusion_detector(retinanet(), data_preprocessor=dict(
        type='mmfusenas.FusionDataPreprocessor', pad_size_divisor=32))
    assert scoped.data_preprocessor.append_chroma
    by_class = fusion_detector(retinanet(), data_preprocessor=dict(
        type=FusionDataPreprocessor, pad_size_divisor=32))
    assert by_class.data_preprocessor.append_chroma


def test_gray_task_input_and_normalisation():
    mean, std = (10., 20., 30.), (2., 4., 8.)
    model = fusion_detector(
        retinanet(), fusion_net=TakeSource(0), fused_color='gray',
        mean=mean, std=std, fusion_losses=())
    batch = det_batch()
    data = model.data_preprocessor(batch, False)
    x = model.task_inputs(model.run_pre(data['inputs']))
    ir = batch['inputs']['ir'][0].float()[0]
    for c in range(3):
        torch.testing.assert_close(
            x[0, c], (ir - mean[c]) / std[c], atol=1e-4, rtol=0)


def test_rgb_without_colour_source_falls_back_to_gray():
    model = fusion_detector(
        retinanet(), fusion_net=TakeSource(0), mean=(0., 0., 0.),
        std=(1., 1., 1.), fusion_losses=())
    batch = det_batch()
    batch['inputs']['vi'] = [v[:1] for v in batch['inputs']['vi']]
    for s in batch['data_samples']:
        s.set_metainfo(dict(color_modality=None))
    data = model.data_preprocessor(batch, False)
    x = model.task_inputs(model.run_pre(data['inputs']))
    ir = batch['inputs']['ir'][0].float()
    torch.testing.assert_close(x[0], ir.expand(3, -1, -1), atol=1e-3, rtol=0)
    with torch.no_grad():
        out = model.eval()(**data, mode='predict')
    assert 'pred_fused' in out[0] and 'pred_fused_rgb' not in out[0]


# ----------------------------------------------------------------------
# losses, stages, checks
# ----------------------------------------------------------------------
def test_losses_are_eta_weighted_and_separately_named():
    torch.manual_seed(0)
    model = fusion_detector(retinanet(), fusion_loss_weight=0.25)
    data = model.data_preprocessor(det_batch(), True)
    losses = model(**data, mode='loss')
    sources = data['inputs'][:, :2]  # the chroma is the last 2 channels
    fused = model.fusion_net(sources)
    for loss_fn in model.fusion_losses:
        torch.testing.assert_close(
            losses['fusion.' + loss_fn.loss_name],
            0.25 * loss_fn(fused, sources))
    assert losses['fusion.eta'].item() == 0.25
    total, log = model.parse_losses(losses)
    task = sum(log[k] for k in ('loss_cls', 'loss_bbox'))
    fusion = log['fusion.loss_int'] + log['fusion.loss_grad']
    torch.testing.assert_close(total, task + fusion)  # eta not summed
    model.set_loss_weight('fusion', 0)
    assert not any(k.startswith('fusion.') for k in model(**data,
                                                          mode='loss'))
    with pytest.raises(ValueError, match='eta'):
        model.set_loss_weight('fusion', -1)


def test_warmup_stage_skips_the_task_model():
    torch.manual_seed(0)
    model = fusion_detector(retinanet())
    model.task_enabled = False
    losses = train_step(model, det_batch())
    assert set(losses) == {'fusion.loss_int', 'fusion.loss_grad',
                           'fusion.eta'}
    assert grad_sum(model.detector) == 0 and grad_sum(model.fusion_net) > 0
    model.set_loss_weight('fusion', 0)
    with pytest.raises(ValueError, match='no loss'):
        train_step(model, det_batch())


def test_frozen_fusion_gets_no_gradient_and_stays_in_eval():
    torch.manual_seed(0)
    model = fusion_detector(retinanet(), freeze_fusion=True)
    model.train()
    assert model.stages['fusion'].frozen and not model.fusion_net.training
    assert model.detector.training
    losses = train_step(model, det_batch())
    # ℓ_F is still reported (without gradient)
    assert not losses['fusion.loss_int'].requires_grad
    assert all(p.grad is None for p in model.fusion_net.parameters())
    assert grad_sum(model.detector) > 0
    model.task_enabled = False
    with pytest.raises(RuntimeError, match='nothing would train'):
        train_step(model, det_batch())
    model.set_stage_frozen('fusion', False)
    model.train()
    assert model.fusion_net.training
    assert all(p.requires_grad for p in model.fusion_net.parameters())


def test_non_finite_loss_stops_the_step_naming_the_samples(tmp_path):
    from helpers.finite_guard import guarded_runner
    model = fusion_detector(retinanet())
    data = model.data_preprocessor(det_batch(), True)
    data['inputs'][0, 0, 0, 0] = float('nan')
    runner = guarded_runner(model, [data], tmp_path)
    with pytest.raises(FloatingPointError,
                       match=r'FiniteStepGuardHook: .* batch samples: s0, '
                       r's1\)'):
        runner.train()
    # the step was not taken
    assert all(torch.isfinite(p).all() for p in model.parameters())


def test_config_errors():
    with pytest.raises(ValueError, match='data_preprocessor'):
        fusion_detector(
            dict(retinanet(), data_preprocessor=dict(
                type='DetDataPreprocessor')))
    with pytest.raises(ValueError, match='fused_color'):
        fusion_detector(retinanet(), fused_color='ycbcr')
    with pytest.raises(ValueError, match='mean and std'):
        fusion_detector(retinanet(), std=(1., 0., 1.))
    with pytest.raises(ValueError, match='unique'):
        fusion_detector(
            retinanet(), fusion_losses=[FUSION_LOSSES[0], FUSION_LOSSES[0]])
    with pytest.raises(TypeError, match='FusionDetector'):
        get_pre_task_model(nn.Linear(1, 1))
    # the options go by the class's own names; typos and gaps are named
    with pytest.raises(TypeError, match="unexpected keyword.*'fusion_los'"):
        MODELS.build(dict(type='FusionDetector', fusion_net=simple_fusion(),
                          detector=retinanet(), fusion_los=FUSION_LOSSES))
    with pytest.raises(TypeError, match="missing .*'detector'"):
        MODELS.build(dict(type='FusionDetector', fusion_net=simple_fusion()))


def test_a_fusion_model_is_a_one_stage_chain():
    """FusionDetector is a ChainDetector with one stage, 'fusion', on the
    whole batch; its network and losses are the children fusion_net and
    fusion_losses (the single-stage state-dict keys fusion_net.*,
    fusion_losses.*)."""
    model = fusion_detector(retinanet(), fusion_loss_weight=0.25,
                            freeze_fusion=True, rescale=False)
    assert isinstance(model, ChainDetector)
    assert tuple(model.stages) == ('fusion', )
    assert model.sources == dict(sources=None, chroma=2)
    assert isinstance(model.stages['fusion'], FusionStage)
    assert model.stage('fusion') is model.fusion_net
    children = dict(model.named_children())
    assert children['fusion_net'] is model.fusion_net
    assert children['fusion_losses'] is model.fusion_losses
    assert [loss.loss_name for loss in model.fusion_losses] == [
        'loss_int', 'loss_grad']
    assert model.task_model is model.detector
    assert not any(k.startswith('chain_net') for k in model.state_dict())
    assert model.stages['fusion'].loss_weight == 0.25
    assert model.stage_loss_weights() == dict(fusion=0.25)
    model.set_loss_weight('fusion', 0.5)
    assert model.stages['fusion'].loss_weight == 0.5
    assert model.stages['fusion'].frozen and model.pre_frozen
    assert model.rescale is False
    model.set_stage_frozen('fusion', False)
    assert not model.pre_frozen and not model.stages['fusion'].frozen
    assert all(p.requires_grad for p in model.fusion_net.parameters())
    with pytest.raises(ValueError, match=r'loss_weight \(eta\)'):
        model.set_loss_weight('fusion', -1)
    # the same model as a ChainDetector config: the same losses, the same
    # keys
    torch.manual_seed(0)
    alias = fusion_detector(retinanet())
    torch.manual_seed(0)
    chain_model = MODELS.build(dict(
        type='ChainDetector', detector=retinanet(),
        sources=dict(sources=None, chroma=2),
        stages=[dict(name='fusion', kind='fusion', module=simple_fusion(),
                     inputs=['sources'], output='fused',
                     losses=FUSION_LOSSES)],
        color_from='chroma',
        data_preprocessor=dict(type='FusionDataPreprocessor',
                               pad_size_divisor=32, append_chroma=True)))
    assert list(alias.state_dict()) == list(chain_model.state_dict())
    data = alias.data_preprocessor(det_batch(), True)
    ours = alias(**copy.deepcopy(data), mode='loss')
    theirs = chain_model(**copy.deepcopy(data), mode='loss')
    assert ours.keys() == theirs.keys()
    for key in ours:  # RetinaNet's losses are lists (one per level)
        assert all(map(torch.equal, ours[key], theirs[key])) if isinstance(
            ours[key], list) else torch.equal(ours[key], theirs[key]), key


# ----------------------------------------------------------------------
# predict: task predictions and the fused image on the same samples
# ----------------------------------------------------------------------
def test_detector_predict_returns_boxes_and_fused_images():
    torch.manual_seed(0)
    model = fusion_detector(retinanet()).eval()
    batch = det_batch(sizes=((SIZE, SIZE), (48, 40)))
    batch['data_samples'][1].set_metainfo(
        dict(ori_shape=(96, 80), scale_factor=(0.5, 0.5)))
    with torch.no_grad():
        out = model(**model.data_preprocessor(batch, False), mode='predict')
    assert [o.stem for o in out] == ['s0', 's1']
    assert out[1].pred_fused.shape == (1, 48, 40)
    assert out[1].pred_fused_rgb.shape == (3, 48, 40)
    vi = batch['inputs']['vi'][1].float() / 255  # its chroma, the fused Y
    torch.testing.assert_close(out[1].pred_fused_rgb, ycbcr_to_rgb(torch.cat(
        [out[1].pred_fused, rgb_to_ycbcr(vi)[1:]])).clamp(0, 1))
    assert out[1].sources.shape == (2, 48, 40)
    boxes = out[1].pred_instances.bboxes
    assert len(boxes) and boxes[:, 2].max() > 40  # rescaled to ori_shape


def test_segmentor_pads_labels_and_predicts_at_ori_shape():
    torch.manual_seed(0)
    model = fusion_segmentor(encoder_decoder(seg_head('fcn')))
    batch = seg_batch(sizes=((SIZE, SIZE), (56, 40)))
    data = model.data_preprocessor(copy.deepcopy(batch), True)
    model(**data, mode='loss')
    padded = data['data_samples'][1].gt_sem_seg.data
    assert padded.shape == (1, SIZE, SIZE)
    assert (padded[:, 56:] == 255).all() and (padded[:, :, 40:] == 255).all()
    model.eval()
    with torch.no_grad():
        out = model(**model.data_preprocessor(batch, False), mode='predict')
    assert out[1].padding_size == [0, SIZE - 40, 0, SIZE - 56]
    assert out[1].pred_sem_seg.data.shape == (1, 56, 40)
    assert out[1].gt_sem_seg.data.shape == (1, 56, 40)  # left unpadded
    assert out[1].pred_fused.shape == (1, 56, 40)


def test_tensor_mode_returns_fused_and_raw_outputs():
    model = fusion_detector(retinanet()).eval()
    data = model.data_preprocessor(det_batch(), False)
    with torch.no_grad():
        fused, (cls_scores, bbox_preds) = model(**data, mode='tensor')
    assert fused.shape == (2, 1, SIZE, SIZE)
    assert len(cls_scores) == 4


def test_compat_ssd_head_keeps_ssd_state_dict():
    from mmdet.models.dense_heads import SSDHead
    cfg = ssd()['bbox_head']
    cfg.pop('type')
    from mmengine.registry import DefaultScope
    torch.manual_seed(0)
    # ours builds mmdet parts in the mmdet scope even when another scope is
    # current (an earlier runner leaves 'mmfusenas' as the default scope)
    with DefaultScope.overwrite_default_scope('mmfusenas'):
        ours = CompatSSDHead(**copy.deepcopy(cfg))
    with DefaultScope.overwrite_default_scope('mmdet'):
        theirs = SSDHead(**copy.deepcopy(cfg))
    assert ours.state_dict().keys() == theirs.state_dict().keys()
    assert not ours.loss_cls.use_sigmoid


# ----------------------------------------------------------------------
# fusion_init: ImageFusor / PMI / search checkpoints into N_F
# ----------------------------------------------------------------------
def test_fusion_init_loads_fusion_checkpoints(tmp_path):
    torch.manual_seed(1)
    fusor = MODELS.build(
        dict(type='ImageFusor', fusion_net=simple_fusion(),
             losses=FUSION_LOSSES))
    ckpt = str(tmp_path / 'fusor.pth')
    torch.save(dict(meta=dict(), state_dict=fusor.state_dict()), ckpt)
    bare = str(tmp_path / 'bare.pth')
    torch.save(fusor.fusion_net.state_dict(), bare)
    search = str(tmp_path / 'search.pth')
    torch.save(
        dict(state_dict={
            'architecture.' + k: v
            for k, v in fusor.state_dict().items()
        }), search)
    for path in (ckpt, bare, search, dict(checkpoint=ckpt,
                                          prefix='fusion_net.')):
        torch.manual_seed(0)
        model = fusion_detector(retinanet(), fusion_init=path)
        model.init_weights()
        for k, v in fusor.fusion_net.state_dict().items():
            assert torch.equal(model.fusion_net.state_dict()[k], v), k

    wrong = fusion_detector(
        retinanet(), fusion_net=dict(simple_fusion(), base_channels=8),
        fusion_init=ckpt)
    with pytest.raises(ValueError, match='shape mismatches.*another '
                       'fusion_net'):
        wrong.init_weights()
    with pytest.raises(KeyError, match="prefix 'nope.'"):
        fusion_detector(
            retinanet(), fusion_init=dict(checkpoint=ckpt,
                                          prefix='nope.')).init_weights()
    with pytest.raises(FileNotFoundError, match='gone.pth'):
        fusion_detector(
            retinanet(),
            fusion_init=str(tmp_path / 'gone.pth')).init_weights()
    with pytest.raises(ValueError, match='fusion_init must be'):
        fusion_detector(retinanet(), fusion_init=dict(path=ckpt))


# ----------------------------------------------------------------------
# searched neck / decoder: supernet inside a bilevel search, genotype
# ----------------------------------------------------------------------
def optim_wrappers(algo):
    return OptimWrapperDict(
        weights=OptimWrapper(
            torch.optim.SGD(algo.weight_parameters(), lr=1e-3)),
        arch=OptimWrapper(torch.optim.Adam(algo.arch_parameters(), lr=1e-2)))


SEARCH_OPS = ['conv_1', 'conv_3', 'dil_conv_3_2', 'res_conv_3', 'skip']


@pytest.mark.parametrize('strategy,interval', [('DartsFirstOrderStrategy', 1),
                                               ('IASStrategy', 2)])
def test_neck_search_with_fusion_plugged_in_then_retrain(
        strategy, interval, tmp_path):
    torch.manual_seed(0)
    space = distillation_neck(
        dict(type='DiffMixedOp', key='neck', candidates=SEARCH_OPS))
    architecture = dict(
        type='FusionDetector',
        fusion_net=simple_fusion(),
        detector=retinanet(neck=space),
        fusion_losses=FUSION_LOSSES)
    algo = BilevelSearchAlgorithm(
        architecture,
        strategy=dict(type=strategy),
        space_path='detector.neck',
        arch_update_interval=interval)
    assert isinstance(algo.space, SearchableDistillationNeck)
    assert get_pre_task_model(algo) is algo.architecture
    wrappers = optim_wrappers(algo)
    before = {
        k: v.detach().clone()
        for k, v in algo.arch_params.alphas.items()
    }
    for _ in range(interval):
        log = algo.train_step(
            dict(train=det_batch(), val=det_batch(seed=1)), wrappers)
    assert 'fusion.loss_int' in log and 'loss_cls' in log
    assert any(not torch.equal(before[k], v)
               for k, v in algo.arch_params.alphas.items())
    geno = algo.derive_genotype()
    assert len(geno.choices) == 18  # 6 cells (3 top-down, 3 bottom-up) x 3
    path = str(tmp_path / 'neck.yaml')
    geno.dump(path)
    retrain = fusion_detector(
        retinanet(neck=dict(type='mmfusenas.GenotypeNet', genotype=path)))
    assert isinstance(retrain.detector.neck, SearchableDistillationNeck)
    assert not any('candidates' in k for k in retrain.state_dict())
    train_step(retrain, det_batch())


def test_decoder_search_with_fusion_plugged_in_then_retrain(tmp_path):
    torch.manual_seed(0)
    space = distillation_head(
        dict(type='DiffMixedOp', key='dec', candidates=SEARCH_OPS))
    architecture = dict(
        type='FusionSegmentor',
        fusion_net=simple_fusion(),
        segmentor=encoder_decoder(space, seg_backbone(dilated=False)),
        fusion_losses=FUSION_LOSSES)
    algo = BilevelSearchAlgorithm(
        architecture,
        strategy=dict(type='DartsFirstOrderStrategy'),
        space_path='segmentor.decode_head')
    assert isinstance(algo.space, SearchableDistillationHead)
    log = algo.train_step(
        dict(train=seg_batch(), val=seg_batch(seed=1)), optim_wrappers(algo))
    assert 'decode.loss_ce' in log and 'hypergrad_norm' in log
    path = str(tmp_path / 'dec.json')
    algo.derive_genotype().dump(path)
    assert set(Genotype.load(path).choices) == {
        f'dec/cell{i}/edge{e}'
        for i in range(2) for e in range(3)
    }
    retrain = fusion_segmentor(
        encoder_decoder(
            dict(type='mmfusenas.GenotypeNet', genotype=path),
            seg_backbone(dilated=False)))
    assert isinstance(retrain.segmentor.decode_head,
                      SearchableDistillationHead)
    train_step(retrain, seg_batch())


def test_fusion_search_guided_by_the_detector():
    # the other way round: N_F is the space, the task loss guides it
    torch.manual_seed(0)
    space = dict(
        type='TIMFusionNet',
        channels=4,
        in_channels=2,
        cells=[
            dict(
                type='SuccessiveCell',
                ops=[
                    dict(
                        type='DiffMixedOp',
                        key=f'op{e}',
                        candidates=['DilConv_3_2', 'Residualblocks_3_1'])
                    for e in range(2)
                ])
        ])
    algo = BilevelSearchAlgorithm(
        dict(
            type='FusionDetector',
            fusion_net=space,
            detector=retinanet(),
            fusion_losses=FUSION_LOSSES),
        strategy=dict(type='DartsFirstOrderStrategy'),
        space_path='fusion_net')
    log = algo.train_step(
        dict(train=det_batch(), val=det_batch(seed=1)), optim_wrappers(algo))
    assert log['hypergrad_norm'] > 0


def test_all_task_ops_supernet_neck_builds_in_a_fusion_detector():
    model = fusion_detector(
        retinanet(neck=distillation_neck(
            dict(type='DiffMixedOp', key='n',
                 candidates=list(TASK_OP_NAMES)))))
    assert sum(
        type(m).__name__ == 'DiffMixedOp' for m in model.modules()) == 18


def test_image_fusor_and_compound_share_fusion_keys():
    # what makes fusion / PMI checkpoints load without a prefix argument
    fusor = ImageFusor(MODELS.build(simple_fusion()))
    model = fusion_detector(retinanet())
    fusor_keys = {k for k in fusor.state_dict() if k.startswith('fusion_net')}
    assert fusor_keys == {
        k for k in model.state_dict() if k.startswith('fusion_net.')
    }
    assert isinstance(model, FusionDetector)
    assert isinstance(fusion_segmentor(encoder_decoder(seg_head('fcn'))),
                      FusionSegmentor)
