"""Loss-weight search: hypergradient vs finite differences, train steps,
hand-off files to the next stage."""
import copy
import logging
import re

import pytest
import torch
from mmengine.logging import MMLogger
from mmengine.structures import BaseDataElement

from mmfusenas.engine import BilevelOptimWrapperConstructor
from mmfusenas.models import ImageEnhancer
from mmfusenas.registry import MODELS
from mmfusenas.search import BilevelProblem, LossWeightSearchAlgorithm
from helpers import LogCapture

LOSSES = [
    dict(type='PixelL1Loss'),
    dict(type='PixelMSELoss'),
    dict(type='TotalVariationLoss'),
    dict(type='SSIMDistanceLoss', loss_weight=10, padding='reflect'),
]


def _enhancer(losses=LOSSES, network=None):
    return dict(
        type='ImageEnhancer',
        network=network or dict(type='HBLConv', channels=3, kernel_size=3),
        losses=copy.deepcopy(losses))


def _batch(seed, n=2, size=12, dtype=torch.float64):
    g = torch.Generator().manual_seed(seed)
    low = torch.rand(n, 3, size, size, generator=g, dtype=dtype)
    gt = (low * 1.5 + 0.1).clamp(0, 1)
    return dict(
        inputs=low,
        data_samples=[BaseDataElement(gt_img=gt[i]) for i in range(n)])


def test_hypergradient_matches_finite_differences_of_unrolled_objective():
    torch.manual_seed(0)
    algo = LossWeightSearchAlgorithm(
        architecture=_enhancer(),
        objective=dict(type='FullReferenceQualityObjective', metric='psnr'),
        strategy=dict(type='DartsSecondOrderStrategy', xi=0.05, r=1e-5),
        init_weight=dict(loss_l1=0.7, loss_l2=1.3, loss_tv=0.4,
                         loss_ssim=0.9)).double()
    train, val = _batch(1), _batch(2)
    problem = BilevelProblem(
        algo.arch_parameters(),
        algo.weight_parameters(),
        train_batch=train,
        val_batch=val,
        train_loss=algo.weighted_loss,
        val_loss=algo.quality_loss)
    grads = algo.strategy.hypergradient(problem).grads
    theta = [p.detach().clone() for p in algo.weight_parameters()]

    def unrolled(beta):
        # F(θ - ξ ∇θ f(θ, β)) evaluated exactly
        with torch.no_grad():
            for p, b in zip(algo.arch_parameters(), beta):
                p.copy_(b)
        f = algo.weighted_loss(train)
        g = torch.autograd.grad(f, algo.weight_parameters())
        with torch.no_grad():
            for p, t, gi in zip(algo.weight_parameters(), theta, g):
                p.copy_(t - 0.05 * gi)
            value = algo.quality_loss(val).item()
            for p, t in zip(algo.weight_parameters(), theta):
                p.copy_(t)
        return value

    beta0 = [p.detach().clone() for p in algo.arch_parameters()]
    eps = 1e-4
    fd = []
    for k in range(len(beta0)):
        plus = [b.clone() for b in beta0]
        minus = [b.clone() for b in beta0]
        plus[k] += eps
        minus[k] -= eps
        fd.append((unrolled(plus) - unrolled(minus)) / (2 * eps))
    fd = torch.tensor(fd, dtype=torch.float64)
    ours = torch.stack([g.reshape(()) for g in grads])
    assert torch.allclose(ours, fd, rtol=1e-4, atol=1e-7), (ours, fd)
    assert fd.abs().max() > 1e-3  # a non-trivial hypergradient


def _optim(algo, lr=0.01, hyper_lr=0.05):
    return BilevelOptimWrapperConstructor(dict(
        weights=dict(
            type='OptimWrapper',
            optimizer=dict(type='SGD', lr=lr, momentum=0.9,
                           weight_decay=3e-4),
            clip_grad=dict(max_norm=5.0)),
        arch=dict(
            type='OptimWrapper',
            optimizer=dict(
                type='Adam', lr=hyper_lr, betas=(0.5, 0.999),
                weight_decay=1e-4))))(algo)


def _packed(seed, n=2, size=16):
    g = torch.Generator().manual_seed(seed)
    low = (torch.rand(n, 3, size, size, generator=g) * 80).to(torch.uint8)
    gt = (low.float() * 2.5).clamp(0, 255).to(torch.uint8)
    return dict(
        inputs=list(low),
        data_samples=[BaseDataElement(gt_img=gt[i]) for i in range(n)])


def test_train_steps_project_beta_and_keep_alpha_frozen():
    torch.manual_seed(0)
    space = dict(
        type='DiffMixedOp',
        key='op',
        candidates=dict(
            a=dict(type='HBLConv', kernel_size=3),
            b=dict(type='HBLConv', kernel_size=1)))
    algo = LossWeightSearchAlgorithm(
        architecture=_enhancer(
            network=dict(
                type='HadamardUnit', channels=3,
                ops=[space] + ['skip_connect'] * 7)),
        objective=dict(type='NoReferenceQualityObjective'),
        strategy=dict(
            type='DartsSecondOrderStrategy', use_optimizer_state=True))
    # the official loss search: α frozen at its random init
    assert algo.frozen_arch is not None
    alpha = [p.detach().clone() for p in algo.frozen_arch.parameters()]
    assert not any(p.requires_grad for p in algo.frozen_arch.parameters())
    ow = _optim(algo, hyper_lr=0.5)
    theta0 = [p.detach().clone() for p in algo.weight_parameters()]
    beta0 = [p.detach().clone() for p in algo.arch_parameters()]
    for step in range(3):
        log = algo.train_step(dict(train=_packed(step), val=_packed(10 + step)),
                              ow)
    assert 'upper_loss' in log and 'beta/loss_l1' in log
    assert all(float(p) >= 0 for p in algo.arch_parameters())
    assert any(not torch.equal(a, b)
               for a, b in zip(beta0, algo.arch_parameters()))
    assert any(not torch.equal(a, b)
               for a, b in zip(theta0, algo.weight_parameters()))
    assert all(
        torch.equal(a, b) for a, b in zip(alpha, algo.frozen_arch.parameters()))
    with pytest.raises(ValueError, match="needs data\\['val'\\]"):
        algo.train_step(dict(train=_packed(0)), ow)


def test_projection_clamps_a_negative_step():
    algo = LossWeightSearchAlgorithm(
        architecture=_enhancer(LOSSES[:2]),
        objective=dict(type='FullReferenceQualityObjective'),
        strategy=dict(type='DartsSecondOrderStrategy'),
        init_weight=1e-3)
    ow = _optim(algo, hyper_lr=10.0)
    for step in range(3):
        algo.train_step(dict(train=_packed(step), val=_packed(5 + step)), ow)
    values = [float(p) for p in algo.arch_parameters()]
    assert min(values) >= 0.0
    with pytest.raises(ValueError, match='not losses of the architecture'):
        LossWeightSearchAlgorithm(
            architecture=_enhancer(LOSSES[:2]),
            objective=dict(type='FullReferenceQualityObjective'),
            searched_losses=['loss_vgg'])


def test_searched_weights_hand_off_to_the_next_stage(tmp_path):
    algo = LossWeightSearchAlgorithm(
        architecture=_enhancer(LOSSES + [
            dict(type='VGGLayerMixtureLoss', random_init=True,
                 widths=(2, 2, 2, 2),
                 groups=((0, 1, 2, 3), (5, 6, 7, 8)))
        ]),
        objective=dict(type='NoReferenceQualityObjective'),
        init_weight=dict(loss_l1=1.38, loss_l2=1.28, loss_tv=0.0))
    with torch.no_grad():
        algo.hyper.logits['loss_vgg/g2'].copy_(torch.tensor([0., 3., 0., 0.]))
    path = str(tmp_path / 'loss_weights' / 'latest.yaml')
    algo.export_loss_weights(path)
    stage2 = MODELS.build(
        dict(
            _enhancer(LOSSES + [
                dict(type='VGGLayerMixtureLoss', random_init=True,
                     widths=(2, 2, 2, 2),
                     groups=((0, 1, 2, 3), (5, 6, 7, 8)))
            ]),
            loss_weights=path))
    assert isinstance(stage2, ImageEnhancer)
    assert stage2.loss_weights['loss_l1'] == pytest.approx(1.38)
    assert stage2.loss_weights['loss_tv'] == 0.0
    vgg = stage2.losses[-1]
    assert vgg.layer_weights[1][1] == pytest.approx(
        torch.softmax(torch.tensor([0., 3., 0., 0.]), 0)[1].item())
    # the losses are scaled by the file's weights
    plain = MODELS.build(_enhancer(LOSSES))
    plain.network.load_state_dict(stage2.network.state_dict())
    batch = _batch(3, dtype=torch.float32)
    a = stage2.loss(batch['inputs'], batch['data_samples'])
    b = plain.loss(batch['inputs'], batch['data_samples'])
    assert torch.allclose(a['loss_l2'], 1.28 * b['loss_l2'])
    assert a['loss_tv'] == 0
    with pytest.raises(ValueError, match='does not have'):
        MODELS.build(dict(_enhancer(LOSSES[:1]), loss_weights=path))


def _vgg_enhancer_with_file(tmp_path, logits):
    """An enhancer with 2 VGG groups of 4 taps and a file of ``logits``."""
    path = tmp_path / 'lw.yaml'
    path.write_text('format: mmfusenas-loss-weights/1\n'
                    f'weights: {{loss_l1: 1.0}}\nlogits: {logits}\n')
    model = _enhancer(LOSSES[:1] + [
        dict(type='VGGLayerMixtureLoss', random_init=True,
             widths=(2, 2, 2, 2), groups=((0, 1, 2, 3), (5, 6, 7, 8)))
    ])
    return path, dict(model, loss_weights=str(path))


@pytest.mark.parametrize('logits,message', [
    ('{loss_vgg/g1: [0, 0, 0, 0], loss_vgg/g2: [0, 0, 0]}',
     r"logits 'loss_vgg/g2' have 3 entries, expected 4 \(the model's group"),
    ('{loss_ssim/g1: [0, 0]}', r"logits of losses \['loss_ssim'\] that the "
     'model does not have'),
])
def test_file_logits_not_matching_the_groups_are_refused(tmp_path, logits,
                                                         message):
    path, cfg = _vgg_enhancer_with_file(tmp_path, logits)
    with pytest.raises(ValueError, match=f'{re.escape(str(path))}: {message}'):
        MODELS.build(cfg)


@pytest.mark.parametrize('logits', [
    '{loss_vgg/g1: [0, 0, 0, 0], loss_vgg/g2: [0, 3, 0, 0], '
    'loss_vgg/g3: [1, 2]}', '{loss_vgg/g1: [0, 3, 0, 0]}'])
def test_file_logits_of_other_groups_are_logged(tmp_path, logits):
    """HBL's loss search has 4 VGG groups, its later stages one group of
    4 fixed taps: searched logits apply only to the same groups, else the
    loss keeps its own layer weights (a warning)."""
    path, cfg = _vgg_enhancer_with_file(tmp_path, logits)
    own = MODELS.build(dict(cfg, loss_weights=None)).losses[-1].layer_weights
    logger, warnings = MMLogger.get_current_instance(), LogCapture()
    warnings.setLevel(logging.WARNING)
    logger.addHandler(warnings)
    try:
        model = MODELS.build(cfg)
    finally:
        logger.removeHandler(warnings)
    assert model.losses[-1].layer_weights == own
    given = sorted(k for k in ('loss_vgg/g1', 'loss_vgg/g2', 'loss_vgg/g3')
                   if k in logits)
    assert warnings.messages == [
        f"{path}: logits {given} are not the logit groups of the model's "
        "loss_vgg (['loss_vgg/g1', 'loss_vgg/g2']); it keeps its own layer "
        'weights']
