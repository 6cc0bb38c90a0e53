"""SceneDetector / SceneSegmentor: the RUAS scene module behind real mmdet /
mmseg models (RUAS TPAMI 2022 Sec. 5)."""
import copy
import os.path as osp

import numpy as np
import pytest
import torch
from mmdet.structures import DetDataSample
from mmengine.config import Config
from mmengine.optim import OptimWrapper
from mmengine.structures import InstanceData, PixelData
from mmseg.structures import SegDataSample

from mmfusenas.engine.hooks import RUASTrainingStrategyHook
from mmfusenas.models import ImageEnhancer
from mmfusenas.models.compound import SceneStage, get_pre_task_model
from mmfusenas.models.losses import RUASSceneLoss
from mmfusenas.registry import MODELS
from helpers.task_models import (SIZE, encoder_decoder,
                                 seg_backbone, seg_head, ssd)

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
GENOTYPES = Config.fromfile(
    osp.join(REPO, 'configs', '_base_', 'models', 'ruas_genotypes.py'))


pytestmark = pytest.mark.usefixtures('one_thread')


def ruas_s(denoiser=False):
    """RUAS_s: the official 3-stage scene module (1,161 parameters)."""
    cfg = dict(
        type='RUASNet',
        scene=dict(
            type='RUASIlluminationNet',
            num_stages=3,
            channels=3,
            cell=dict(
                type='RUASDistillationCell',
                ops=list(GENOTYPES.ruas_iem_genotype))))
    if denoiser:
        cfg['denoiser'] = dict(
            type='RUASDenoiseNet',
            channels=6,
            cell=dict(
                type='RUASDistillationCell',
                ops=list(GENOTYPES.ruas_nrm_genotype)))
    return cfg


SCENE_LOSS = dict(type='RUASSceneLoss')


def initialised(model):
    """As the runner does (mmdet's L2Norm scale is uninitialised memory
    until ``init_weights``)."""
    model.init_weights()
    return model


def scene_detector(**kwargs):
    kwargs.setdefault('scene_losses', [SCENE_LOSS])
    kwargs.setdefault('scene_net', ruas_s())
    return initialised(
        MODELS.build(dict(type='SceneDetector', detector=ssd(), **kwargs)))


def scene_segmentor(**kwargs):
    kwargs.setdefault('scene_losses', [SCENE_LOSS])
    kwargs.setdefault('scene_net', ruas_s())
    head = seg_head('deeplabv3plus')
    return initialised(
        MODELS.build(
            dict(
                type='SceneSegmentor',
                segmentor=encoder_decoder(head, seg_backbone()),
                **kwargs)))


def raw_images(sizes, seed=0):
    g = torch.Generator().manual_seed(seed)
    # dark BGR images, as mmdet / mmseg LoadImageFromFile packs them
    return [
        torch.randint(0, 60, (3, h, w), generator=g, dtype=torch.uint8)
        for h, w in sizes
    ]


def det_data(sizes=((SIZE, SIZE), (48, 40)), seed=0):
    samples = []
    for i, (h, w) in enumerate(sizes):
        s = DetDataSample(
            metainfo=dict(
                img_path=f'img{i}.png',
                img_id=str(i),
                img_shape=(h, w),
                ori_shape=(h, w),
                scale_factor=(1.0, 1.0)))
        s.gt_instances = InstanceData(
            bboxes=torch.tensor([[4., 6., 30., 40.], [10., 8., 36., 24.]]),
            labels=torch.tensor([1, 3]))
        s.ignored_instances = InstanceData(
            bboxes=torch.zeros(0, 4), labels=torch.zeros(0, dtype=torch.long))
        samples.append(s)
    return dict(inputs=raw_images(sizes, seed), data_samples=samples)


def seg_data(sizes=((SIZE, SIZE), (SIZE, SIZE)), seed=0):
    g = torch.Generator().manual_seed(seed + 1)
    samples = []
    for i, (h, w) in enumerate(sizes):
        s = SegDataSample(
            metainfo=dict(
                img_path=f'img{i}.png',
                img_shape=(h, w),
                ori_shape=(h, w)))
        s.gt_sem_seg = PixelData(
            data=torch.randint(0, 5, (1, h, w), generator=g))
        samples.append(s)
    return dict(inputs=raw_images(sizes, seed), data_samples=samples)


def preprocess(model, data, training=True):
    return model.data_preprocessor(data, training)


def grad_norm(module):
    return sum(p.grad.abs().sum().item() for p in module.parameters()
               if p.grad is not None)


# ----------------------------------------------------------------------
# detection
# ----------------------------------------------------------------------
def test_default_preprocessor_gives_rgb_in_unit_range_padded():
    model = scene_detector()
    data = det_data()
    batch = preprocess(model, data)
    x = batch['inputs']
    assert x.shape == (2, 3, SIZE, SIZE)  # 48 x 40 padded to 64 (÷32)
    expected = data['inputs'][1].flip(0).float() / 255  # BGR -> RGB
    assert torch.allclose(x[1, :, :48, :40], expected)
    assert x[1, :, 48:].abs().max() == 0
    assert batch['data_samples'][1].batch_input_shape == (SIZE, SIZE)


def test_task_input_is_the_normalised_enhanced_image():
    mean, std = (123., 117., 104.), (1., 2., 4.)
    model = scene_detector(mean=mean, std=std).eval()
    batch = preprocess(model, det_data(), False)
    x = batch['inputs']
    with torch.no_grad():
        u = model.scene_net(x).clamp(0, 1)
        task_in = model.task_inputs(model.run_pre(x))
    want = (u * 255 - torch.tensor(mean).view(1, 3, 1, 1)) / torch.tensor(
        std).view(1, 3, 1, 1)
    assert torch.allclose(task_in, want, atol=1e-5)
    # enhance runs with autograd (ATen convolutions), u without (the direct
    # few-channel convolutions): equal within float rounding
    torch.testing.assert_close(
        model.run_pre(x)['images']['img'].clamp(0, 1), u, rtol=0, atol=1e-5)


def test_losses_are_lambda_weighted_and_gradients_reach_both_modules():
    model = scene_detector(scene_loss_weight=0.25).train()
    batch = preprocess(model, det_data())
    losses = model(**batch, mode='loss')
    assert {'loss_cls', 'loss_bbox', 'scene.loss_scene',
            'scene.lambda'} == set(losses)
    assert losses['scene.lambda'].item() == 0.25
    with torch.no_grad():
        out = model.scene_net(batch['inputs'], return_all=True)
        want = RUASSceneLoss()(out.t_list[-1], batch['inputs'])
    assert torch.allclose(losses['scene.loss_scene'], 0.25 * want)
    total, _ = model.parse_losses(losses)
    total.backward()
    assert grad_norm(model.scene_net) > 0
    assert grad_norm(model.detector.bbox_head) > 0


def test_task_loss_alone_still_trains_the_scene_module():
    """λ = 0 ("loss ℓ_t" row of Table 6): the detector's loss flows back
    through the scene module."""
    model = scene_detector(scene_loss_weight=0.0).train()
    losses = model(**preprocess(model, det_data()), mode='loss')
    assert not [k for k in losses if k.startswith('scene.')]
    model.parse_losses(losses)[0].backward()
    assert grad_norm(model.scene_net) > 0


def test_predict_attaches_boxes_and_the_enhanced_image():
    model = scene_detector().eval()
    batch = preprocess(model, det_data(), False)
    with torch.no_grad():
        out = model(**batch, mode='predict')
        u = model.scene_net(batch['inputs']).clamp(0, 1)
    assert out[1].pred_img.shape == (3, 48, 40)
    assert torch.equal(out[1].pred_img, u[1, :, :48, :40])
    boxes = out[0].pred_instances.bboxes
    assert boxes.shape[1] == 4 and len(boxes) <= 10


def test_non_rgb_input_is_refused():
    model = scene_detector()
    with pytest.raises(ValueError, match=r'must be \(N, 3, H, W\)'):
        model.run_pre(torch.rand(1, 1, 32, 32))


def test_scene_loss_reading_ground_truth_is_refused():
    """Detection / segmentation data has no ground-truth image."""
    bad = RUASSceneLoss()
    bad.inputs = ('pred', 'gt')
    with pytest.raises(ValueError, match="unknown fields \\['gt'\\]"):
        scene_detector(scene_losses=[bad])


def test_frozen_scene_gets_no_gradient():
    model = scene_detector(freeze_scene=True).train()
    assert model.stages['scene'].frozen and not model.scene_net.training
    losses = model(**preprocess(model, det_data()), mode='loss')
    model.parse_losses(losses)[0].backward()
    assert grad_norm(model.scene_net) == 0
    assert grad_norm(model.detector) > 0


def test_scene_init_from_an_enhancer_checkpoint(tmp_path):
    enhancer = ImageEnhancer(network=ruas_s())
    for p in enhancer.parameters():
        torch.nn.init.normal_(p)
    path = str(tmp_path / 'enhancer.pth')
    torch.save(dict(state_dict=enhancer.state_dict()), path)
    model = scene_detector(scene_init=path)
    for k, v in enhancer.network.state_dict().items():
        assert torch.equal(model.scene_net.state_dict()[k], v), k
    # a checkpoint of a larger network (with the denoiser) is refused
    full = ImageEnhancer(network=ruas_s(denoiser=True))
    path = str(tmp_path / 'full.pth')
    torch.save(dict(state_dict=full.state_dict()), path)
    with pytest.raises(ValueError, match='unexpected keys: denoiser'):
        scene_detector(scene_init=path).init_weights()


def test_get_pre_task_model_finds_scene_models():
    model = scene_detector()
    assert get_pre_task_model(model) is model
    # one stage keeping the single-stage keys (scene_net.*)
    assert tuple(model.stages) == ('scene', )
    assert isinstance(model.stages['scene'], SceneStage)
    assert model.stage('scene') is model.scene_net
    assert any(k.startswith('scene_net.') for k in model.state_dict())
    assert not any(k.startswith('chain_net') for k in model.state_dict())


# ----------------------------------------------------------------------
# segmentation
# ----------------------------------------------------------------------
def test_segmentor_trains_a_step_and_predicts_at_ori_shape():
    model = scene_segmentor().train()
    batch = preprocess(model, seg_data())
    losses = model(**batch, mode='loss')
    assert {'decode.loss_ce', 'aux.loss_ce', 'scene.loss_scene'} <= set(
        losses)
    optim = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.01))
    before = [p.detach().clone() for p in model.scene_net.parameters()]
    model.train_step(seg_data(), optim)
    after = list(model.scene_net.parameters())
    assert any(not torch.equal(a, b) for a, b in zip(before, after))

    model.eval()
    data = seg_data(sizes=((40, 56), ))
    with torch.no_grad():
        out = model.test_step(data)
    assert out[0].pred_sem_seg.shape == (40, 56)
    assert out[0].pred_img.shape == (3, 40, 56)
    assert out[0].padding_size == [0, 64 - 56, 0, 64 - 40]


# ----------------------------------------------------------------------
# RUAS training strategies on a scene + task model
# ----------------------------------------------------------------------
class _Runner:

    def __init__(self, model):
        self.model = model
        self.iter = 0

        class _Log:

            def info(self, msg):
                pass

        self.logger = _Log()


def test_end_to_end_strategy_sets_lambda():
    model = scene_detector(scene_loss_weight=1.0)
    runner = _Runner(model)
    hook = RUASTrainingStrategyHook(strategy='end_to_end', scene_weight=0.3)
    hook.before_train(runner)
    assert model.stages['scene'].loss_weight == 0.3 and model.task_enabled
    losses = model(**preprocess(model, det_data()), mode='loss')
    assert losses['scene.lambda'].item() == pytest.approx(0.3)
    hook.after_train(runner)
    assert model.stages['scene'].loss_weight == 1.0


def test_hierarchical_strategy_pretrains_the_scene_then_the_task():
    model = scene_detector(scene_loss_weight=0.5)
    runner = _Runner(model)
    hook = RUASTrainingStrategyHook(strategy='hierarchical', scene_iters=2)
    hook.before_train(runner)
    hook.before_train_iter(runner, 0)
    losses = model(**preprocess(model, det_data()), mode='loss')
    assert set(losses) == {'scene.loss_scene', 'scene.lambda'}
    assert not model.stages['scene'].frozen
    runner.iter = 2
    hook.before_train_iter(runner, 2)
    assert model.stages['scene'].frozen and model.task_enabled
    losses = model(**preprocess(model, det_data()), mode='loss')
    assert set(losses) == {'loss_cls', 'loss_bbox'}
    hook.after_train(runner)
    scene = model.stages['scene']
    assert not scene.frozen and scene.loss_weight == 0.5


def test_mask_rcnn_behind_the_scene_module_trains_and_predicts_masks():
    # instance masks (gt_instances.masks, as PackFusionDetInputs /
    # mmdet's PackDetInputs pack them) reach a mask head behind RUAS
    from mmdet.structures.mask import BitmapMasks

    from helpers.task_models import mask_rcnn
    torch.manual_seed(0)
    model = initialised(
        MODELS.build(
            dict(
                type='SceneDetector',
                detector=mask_rcnn(),
                scene_net=ruas_s(),
                scene_losses=[SCENE_LOSS])))
    data = det_data(sizes=((SIZE, SIZE), (SIZE, SIZE)))
    for s in data['data_samples']:
        masks = np.zeros((2, SIZE, SIZE), bool)
        masks[0, 6:40, 4:30] = True
        masks[1, 8:24, 10:36] = True
        s.gt_instances.masks = BitmapMasks(masks, SIZE, SIZE)
    model.train()
    losses = model(**preprocess(model, copy.deepcopy(data)), mode='loss')
    assert {'loss_mask', 'loss_rpn_cls', 'scene.loss_scene'} <= set(losses)
    loss, _ = model.parse_losses(losses)
    loss.backward()
    assert model.detector.roi_head.mask_head.conv_logits.weight.grad.abs(
    ).sum() > 0
    model.eval()
    with torch.no_grad():
        preds = model.val_step(copy.deepcopy(data))
    assert preds[0].pred_instances.masks.shape[-2:] == (SIZE, SIZE)
