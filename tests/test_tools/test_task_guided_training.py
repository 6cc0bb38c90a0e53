"""End to end: task-guided fusion configs through tools/train.py / test.py.

Tiny settings on a generated 64x64 toy set: every run is a few iterations
of the real configs (models as configured; sizes, iterations and data roots
overridden on the command line).
"""
import glob
import json
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.runner import Runner

from mmfusenas.engine.runner import with_cached_text
from mmfusenas.models.mutables import Genotype
from mmfusenas.registry import MODELS
from helpers import load_tool

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TIM = osp.join(REPO, 'configs', 'tim')
SIZE = 64


def config(name: str) -> str:
    return osp.join(TIM, f'{name}.py')


pytestmark = pytest.mark.usefixtures('one_thread')


def data_options(toy_root, task='det'):
    """Point every loader / metric at the tiny toy set, at 64x64."""
    # index of PairedResize in the train / test pipelines of the toy bases
    train_resize, test_resize = (2, 1)
    opts = [
        'train_dataloader.batch_size=2',
        f'train_dataloader.dataset.data_root={toy_root}',
        f'train_dataloader.dataset.pipeline.{train_resize}.scale='
        f'[{SIZE},{SIZE}]',
    ]
    for split in ('val', 'test'):
        opts += [
            f'{split}_dataloader.dataset.data_root={toy_root}',
            f'{split}_dataloader.dataset.pipeline.{test_resize}.scale='
            f'[{SIZE},{SIZE}]',
        ]
        if task == 'det':
            opts.append(f'{split}_evaluator.0.ann_file={toy_root}/'
                        'annotations/instances_val.json')
    return opts


def run_options(max_iters, ckpt_interval, val_interval):
    return [
        f'train_cfg.max_iters={max_iters}',
        f'train_cfg.val_interval={val_interval}',
        f'default_hooks.checkpoint.interval={ckpt_interval}',
        'default_hooks.logger.interval=1', 'log_processor.window_size=1'
    ]


def scalars(work_dir):
    (path, ) = glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json'))
    with open(path) as f:
        return [json.loads(line) for line in f]


def train_records(work_dir):
    return {r['iter']: r for r in scalars(work_dir) if 'loss' in r}


# retinanet_ivif_toy: warm-up 1 iteration, every box scored (so that the
# COCO metric has predictions after 4 iterations)
DET_MODEL_OPTS = [
    'custom_hooks.0.warmup=1', 'model.detector.test_cfg.score_thr=0.0'
]


def test_retinanet_toy_trains_validates_resumes_bit_exactly_and_tests(
        toy_root, tmp_path):
    train, test = load_tool('tools/train.py'), load_tool('tools/test.py')
    full, resumed = str(tmp_path / 'full'), str(tmp_path / 'resumed')
    opts = data_options(toy_root) + DET_MODEL_OPTS + run_options(4, 2, 4)
    train.main([config('retinanet_ivif_toy'), '--work-dir', full,
                '--cfg-options'] + opts)
    for it in (2, 4):
        assert osp.isfile(osp.join(full, f'iter_{it}.pth'))
    records = train_records(full)
    # iteration 1 is the fusion warm-up: l_F only; then l_T + eta * l_F
    assert 'loss_cls' not in records[1] and 'fusion.loss_info' in records[1]
    assert {'loss_cls', 'loss_bbox', 'fusion.loss_info', 'fusion.loss_sal',
            'fusion.eta'} <= set(records[2])
    # one validation: COCO mAP and fusion metrics together, fused PNGs
    (val, ) = [r for r in scalars(full) if 'coco/bbox_mAP' in r]
    assert {'fusion/EN', 'fusion/SSIM', 'coco/bbox_mAP_50'} <= set(val)
    with open(osp.join(toy_root, 'splits', 'val.txt')) as f:
        stems = sorted(line.strip() for line in f if line.strip())
    fused = glob.glob(osp.join(full, '*', 'fused_val', 'iter_4', '*.png'))
    assert sorted(osp.basename(p)[:-4] for p in fused) == stems

    train.main([
        config('retinanet_ivif_toy'), '--work-dir', resumed, '--resume',
        osp.join(full, 'iter_2.pth'), '--cfg-options'
    ] + opts)
    again = train_records(resumed)
    assert sorted(again) == [3, 4]
    for it in (3, 4):
        for key in ('loss', 'loss_cls', 'loss_bbox', 'fusion.loss_info'):
            assert again[it][key] == records[it][key], (it, key)  # bit-exact
    state_a = torch.load(osp.join(full, 'iter_4.pth'))['state_dict']
    state_b = torch.load(osp.join(resumed, 'iter_4.pth'))['state_dict']
    assert all(torch.equal(state_a[k], state_b[k]) for k in state_a)

    args = test.parse_args([
        config('retinanet_ivif_toy'),
        osp.join(full, 'iter_4.pth'), '--work-dir', full, '--out-dir',
        str(tmp_path / 'fused'), '--cfg-options'
    ] + opts)
    metrics = Runner.from_cfg(with_cached_text(test.build_config(args))).test()
    assert 'coco/bbox_mAP' in metrics and 'fusion/Qabf' in metrics
    assert len(glob.glob(str(tmp_path / 'fused' / '*.png'))) == len(stems)


def test_direct_fusion_baseline_freezes_the_warmed_up_fusion(
        toy_root, tmp_path):
    train = load_tool('tools/train.py')
    work = str(tmp_path / 'direct')
    train.main([
        config('retinanet_ivif_direct_toy'), '--work-dir', work,
        '--cfg-options', 'custom_hooks.0.warmup=1', 'custom_hooks.1.begin=1'
    ] + data_options(toy_root) + run_options(3, 1, 100))
    states = [
        torch.load(osp.join(work, f'iter_{it}.pth'))['state_dict']
        for it in (1, 3)
    ]
    fusion = [k for k in states[0] if k.startswith('fusion_net.')]
    detector = [
        k for k in states[0] if k.startswith('detector.') and 'conv' in k
    ]
    assert fusion and all(torch.equal(states[0][k], states[1][k])
                          for k in fusion)
    assert any(not torch.equal(states[0][k], states[1][k]) for k in detector)
    records = train_records(work)
    assert 'loss_cls' in records[3] and 'fusion.loss_info' in records[3]


#: StagingHook phases of the resume test: a warm-up on l_F, eta ramped from 1
#: to 0.2 while both train, then N_F frozen
STAGING_CONFIG = f"""_base_ = {config('retinanet_ivif_toy')!r}
custom_hooks = [dict(type='StagingHook', phases=[
    dict(begin=0, task=False, train=['fusion'], loss_weights=dict(fusion=1.)),
    dict(begin=2, task=True, loss_weights=dict(fusion=1.),
         interpolation='linear'),
    dict(begin=4, train=[], loss_weights=dict(fusion=0.2)),
])]
"""


def test_staging_hook_resumed_at_a_phase_boundary_is_bit_exact(
        toy_root, tmp_path):
    train = load_tool('tools/train.py')
    cfg = tmp_path / 'staged.py'
    cfg.write_text(STAGING_CONFIG)
    full, resumed = str(tmp_path / 'full'), str(tmp_path / 'resumed')
    opts = data_options(toy_root) + run_options(5, 2, 100)
    train.main([str(cfg), '--work-dir', full, '--cfg-options'] + opts)
    records = train_records(full)
    assert 'loss_cls' not in records[2] and 'loss_cls' in records[3]
    assert [records[it]['fusion.eta'] for it in (2, 3, 4, 5)] == \
        pytest.approx([1.0, 1.0, 0.6, 0.2])
    states = {it: torch.load(osp.join(full, f'iter_{it}.pth'))['state_dict']
              for it in (4, 5)}
    fusion = [k for k in states[4] if k.startswith('fusion_net.')]
    assert fusion and all(torch.equal(states[4][k], states[5][k])
                          for k in fusion)  # frozen in the last phase
    # resumed from iteration 2, where the joint phase begins
    train.main([str(cfg), '--work-dir', resumed, '--resume',
                osp.join(full, 'iter_2.pth'), '--cfg-options'] + opts)
    again = train_records(resumed)
    assert sorted(again) == [3, 4, 5]
    for it in (3, 4, 5):
        for key in ('loss', 'loss_cls', 'fusion.loss_info', 'fusion.eta'):
            assert again[it][key] == records[it][key], (it, key)  # bit-exact
    state = torch.load(osp.join(resumed, 'iter_5.pth'))['state_dict']
    assert all(torch.equal(states[5][k], state[k]) for k in state)


# the toy neck / decoder searches warm the supernet up for 20 iterations
# (ArchScheduleHook stage with keys=[]); a 1-iteration warm-up here
SHORT_WARMUP = [
    'custom_hooks.0.stages.0.end=1', 'custom_hooks.0.stages.1.begin=1'
]


@pytest.mark.parametrize('search,retrain,task,path', [
    ('search_retinanet_ivif_toy', 'retrain_retinanet_ivif_toy', 'det',
     'model.detector.neck.genotype'),
    # slow-marked (CI time): the decoder search config also runs in
    # test_search_configs_run_with_user_options; the neck keeps this pipeline
    pytest.param('search_deeplabv3plus_r18_msrs_toy',
                 'retrain_deeplabv3plus_r18_msrs_toy', 'seg',
                 'model.segmentor.decode_head.genotype',
                 marks=pytest.mark.slow),
])
def test_search_exports_a_genotype_that_retrains(toy_root, tmp_path, search,
                                                 retrain, task, path):
    train = load_tool('tools/train.py')
    work = str(tmp_path / 'search')
    train.main([
        config(search), '--work-dir', work, '--cfg-options',
        'train_cfg.max_iters=3', 'model.arch_update_interval=2',
        'train_cfg.arch_dataloader.batch_size=2',
        f'train_cfg.arch_dataloader.dataset.data_root={toy_root}',
        'train_cfg.arch_dataloader.dataset.pipeline.2.scale='
        f'[{SIZE},{SIZE}]', 'default_hooks.logger.interval=1'
    ] + data_options(toy_root, task)[:3] + SHORT_WARMUP)
    records = train_records(work)
    # iteration 1: the weights-only warm-up; the alpha step of iteration 2
    assert 'hypergrad_norm' not in records[1]
    assert 'hypergrad_norm' in records[2]
    genotype = osp.join(work, 'genotypes', 'latest.yaml')
    assert Genotype.load(genotype).choices

    retrained = str(tmp_path / 'retrain')
    opts = data_options(toy_root, task) + run_options(2, 2, 2) + [
        f'{path}={genotype}', 'custom_hooks.0.warmup=0'
    ]
    if task == 'det':
        opts.append('model.detector.test_cfg.score_thr=0.0')
    train.main([config(retrain), '--work-dir', retrained, '--cfg-options'] +
               opts)
    (val, ) = [r for r in scalars(retrained) if 'fusion/EN' in r]
    assert ('coco/bbox_mAP' if task == 'det' else 'mIoU') in val


# the SSD case is slow-marked (CI time): TIM fusion + a detector trains,
# validates and tests in test_retinanet_toy_trains_validates_resumes_...,
# SSD's head trains under test_ruas_task_configs, and the config builds in
# test_every_task_guided_config_builds
@pytest.mark.parametrize('name,task,metric', [
    pytest.param('ssd_ivif_toy', 'det', 'coco/bbox_mAP',
                 marks=pytest.mark.slow),
    ('fcn_r18_mfnet_toy', 'seg', 'mIoU'),
])
def test_other_toy_configs_train_and_validate(toy_root, tmp_path, name, task,
                                              metric):
    train = load_tool('tools/train.py')
    work = str(tmp_path / name)
    opts = data_options(toy_root, task) + run_options(2, 2, 2) + [
        'custom_hooks.0.warmup=1'
    ]
    if task == 'det':
        opts.append('model.detector.test_cfg.score_thr=0.0')
    train.main([config(name), '--work-dir', work, '--cfg-options'] + opts)
    (val, ) = [r for r in scalars(work) if 'fusion/EN' in r]
    assert metric in val


@pytest.mark.parametrize('search,task,opts', [
    # as a new user would: mmdet's default frozen_stages=1 with the backbone
    # searched too (frozen parameters left out of the weight level), and the
    # documented switch to DARTS first order
    ('search_retinanet_ivif_toy', 'det', [
        'model.architecture.detector.backbone.frozen_stages=1',
        'model.frozen_modules=[]',
        'model.strategy.type=DartsFirstOrderStrategy',
        'model.arch_update_interval=1'
    ]),
    # the documented switch back to TIM's IAS (T = 5 here 2) with the
    # backbone fixed, as with pre-trained weights
    ('search_retinanet_ivif_toy', 'det', [
        'model.strategy.type=IASStrategy', 'model.arch_update_interval=2',
        'model.frozen_modules=[detector.backbone]'
    ]),
    # a top-level data_preprocessor (what mmseg / mmdet base configs define
    # and the runner hands to the outer model) no longer replaces the
    # FusionSegmentor's own (before: mmseg's SegDataPreProcessor got the
    # paired inputs and failed, KeyError: 0 / AttributeError)
    ('search_deeplabv3plus_r18_msrs_toy', 'seg', [
        'data_preprocessor.type=mmseg.SegDataPreProcessor',
        'data_preprocessor.size=[64,64]', 'model.arch_update_interval=2'
    ]),
])
def test_search_configs_run_with_user_options(toy_root, tmp_path, search,
                                              task, opts):
    train = load_tool('tools/train.py')
    work = str(tmp_path / 'search')
    train.main([
        config(search), '--work-dir', work, '--cfg-options',
        'train_cfg.max_iters=2', 'train_cfg.arch_dataloader.batch_size=2',
        f'train_cfg.arch_dataloader.dataset.data_root={toy_root}',
        'train_cfg.arch_dataloader.dataset.pipeline.2.scale='
        f'[{SIZE},{SIZE}]', 'default_hooks.logger.interval=1'
    ] + data_options(toy_root, task)[:3] + SHORT_WARMUP + opts)
    records = train_records(work)
    assert 'hypergrad_norm' not in records[1]  # the warm-up iteration
    assert 'hypergrad_norm' in records[2]
    meta = Genotype.load(osp.join(work, 'genotypes', 'latest.yaml')).meta
    strategy = [o.split('=')[1] for o in opts if 'strategy.type' in o]
    # the toy configs' default: DARTS first order
    assert meta['strategy'] == (strategy or ['DartsFirstOrderStrategy'])[0]


def test_headline_scale_neck_search_differs_from_the_proxy_only_in_scale():
    """search_retinanet_ivif_headline_toy.py: the proxy neck search at the
    headline detector's 128 px with its own anchors and twice the steps;
    everything else (space, strategy, cap, splits) as the proxy's."""
    proxy = Config.fromfile(config('search_retinanet_ivif_toy'))
    head = Config.fromfile(config('search_retinanet_ivif_headline_toy'))
    detector = Config.fromfile(config('retinanet_ivif_toy')).model.detector
    for cfg, size in ((proxy, 64), (head, 128)):
        for loader in (cfg.train_dataloader, cfg.train_cfg.arch_dataloader):
            (resize, ) = [t for t in loader.dataset.pipeline
                          if t['type'] == 'PairedResize']
            assert tuple(resize['scale']) == (size, size)
    anchors = head.model.architecture.detector.bbox_head.anchor_generator
    assert anchors == detector.bbox_head.anchor_generator
    assert proxy.model.architecture.detector.bbox_head.anchor_generator[
        'octave_base_scale'] == 0.4
    assert head.train_cfg.max_iters == 200
    assert head.param_scheduler.weights[0]['T_max'] == 200
    assert head.custom_hooks[0]['stages'] == [
        dict(begin=0, end=40, keys=[]), dict(begin=40)]
    for key in ('strategy', 'regularizer', 'space_path', 'frozen_modules'):
        assert head.model[key] == proxy.model[key], key
    assert head.model.architecture.detector.neck == \
        proxy.model.architecture.detector.neck
    assert head.optim_wrapper == proxy.optim_wrapper
    assert (head.train_cfg.arch_dataloader.dataset.ann_file,
            head.train_dataloader.dataset.ann_file) == (
                proxy.train_cfg.arch_dataloader.dataset.ann_file,
                proxy.train_dataloader.dataset.ann_file)


def test_task_search_configs_fix_the_backbone():
    # TIM fixes its pre-trained backbone during the high-level search. No
    # weights ship: by default the backbone trains (a frozen random one
    # gives the neck no task signal; every config: test_scratch_backbones.py)
    # and frozen_modules, set with ImageNet weights, fixes it
    for name in ('search_retinanet_ivif_toy',
                 'search_deeplabv3plus_r18_msrs_toy'):
        assert Config.fromfile(config(name)).model.frozen_modules == [], name
    for name, path in [('search_retinanet_ivif', 'detector.backbone'),
                       ('search_deeplabv3plus_r18_msrs', 'segmentor.backbone')
                       ]:
        cfg = Config.fromfile(config(name))
        assert cfg.model.frozen_modules == [], name
        for frozen in (False, True):
            cfg.model.frozen_modules = [path] if frozen else []
            algo = MODELS.build(cfg.model)
            algo.train()
            backbone = algo.architecture.get_submodule(path)
            params = list(backbone.parameters())
            ids = {id(p) for p in algo.weight_parameters()}
            assert backbone.training is not frozen, name
            assert all(p.requires_grad is not frozen for p in params), name
            assert all((id(p) in ids) is not frozen for p in params), name


def test_mask_rcnn_toy_config_trains_and_reports_segm_map(toy_root, tmp_path):
    train = load_tool('tools/train.py')
    work = str(tmp_path / 'work')
    opts = data_options(toy_root) + run_options(2, 2, 2) + [
        'custom_hooks.0.warmup=0', 'model.detector.test_cfg.rcnn.score_thr=0.0'
    ]
    train.main([config('mask_rcnn_ivif_toy'), '--work-dir', work,
                '--cfg-options'] + opts)
    records = train_records(work)
    assert {'loss_mask', 'loss_rpn_cls', 'loss_cls'} <= set(records[2])
    (val, ) = [r for r in scalars(work) if 'fusion/EN' in r]
    assert 0 <= val['coco/segm_mAP'] <= 1 and 'coco/bbox_mAP' in val


GENOTYPES = osp.join(REPO, 'configs', 'tim', 'genotypes')


def build_detector(name: str, width: int = None, genotype: str = None):
    """The mmdet detector of config ``name`` (its neck and the head's input
    rebuilt at ``width``, its neck's genotype file replaced, if given)."""
    from mmdet.registry import MODELS as DET_MODELS
    from mmengine.registry import DefaultScope
    cfg = Config.fromfile(config(name)).model.detector
    if width:
        cfg.neck.out_channels = cfg.bbox_head.in_channels = width
    if genotype:
        cfg.neck.genotype = genotype
    with DefaultScope.overwrite_default_scope('mmdet'):
        return DET_MODELS.build(cfg)


def split_neck(headline: str, alternative: str):
    """Assert that config ``headline`` is config ``alternative`` but for the
    detector's neck, the head's input width and the headline's
    ``neck_channels``; return (neck, alternative's neck, head input width,
    alternative's head input width)."""
    head = Config.fromfile(config(headline)).to_dict()
    alt = Config.fromfile(config(alternative)).to_dict()
    out = (head['model']['detector'].pop('neck'),
           alt['model']['detector'].pop('neck'),
           head['model']['detector']['bbox_head'].pop('in_channels'),
           alt['model']['detector']['bbox_head'].pop('in_channels'))
    assert head.pop('neck_channels') == out[2]
    assert head == alt
    return out


def space_genotype(path: str, search: str, num_keys: int, cap: int):
    """The genotype file ``path``, checked to be a genotype of the neck space
    of search config ``search`` with ``num_keys`` keys and at most ``cap``
    parameter-free / 1x1 edges (the derivation cap)."""
    from mmfusenas.models.mutables import (expand_edge_templates,
                                           validate_genotype)
    geno = Genotype.load(path)
    space = Config.fromfile(config(search)).neck_space
    derived = validate_genotype(
        expand_edge_templates(space.to_dict()), geno.choices, geno.network,
        path)
    assert derived == geno.network and len(geno.choices) == num_keys
    assert geno.meta['budget'] == float(cap)
    assert sum(v in ('skip', 'conv_1')
               for v in geno.choices.values()) <= cap
    return geno


def test_headline_searched_neck_costs_no_more_than_the_fpn_alternative():
    from mmfusenas.search.estimators import count_flops
    x = torch.randn(1, 3, 128, 128)
    flops = {}
    for name in ('retinanet_ivif_fpn_toy', 'retinanet_ivif_toy'):
        det = build_detector(name)
        flops[name] = count_flops(det, x).flops
        outs = det.extract_feat(x)
        # both necks emit strides 4-32 for the head's anchors
        assert [o.shape[-1] for o in outs] == [32, 16, 8, 4], name
    assert type(det.neck).__name__ == 'SearchableDistillationNeck'
    assert det.neck.out_channels == 24 and len(det.neck.cells) == 6
    assert flops['retinanet_ivif_toy'] <= flops['retinanet_ivif_fpn_toy']


def test_headline_differs_from_the_fpn_alternative_only_in_the_neck():
    """The toy headline is the FPN config with the searched neck (width 24)
    in place of the FPN: every other key (N_F, backbone, head, data,
    schedule, hooks) is the FPN alternative's, so the two are compared at
    equal budget (docs/methods/tim_task_necks.md)."""
    neck, fpn_neck, head_in, fpn_in = split_neck('retinanet_ivif_toy',
                                                 'retinanet_ivif_fpn_toy')
    assert fpn_neck['type'] == 'FPN' and fpn_neck['out_channels'] == 64
    assert neck['type'] == 'mmfusenas.GenotypeNet'
    assert neck['out_channels'] == 24
    assert neck['genotype'] == osp.join(
        GENOTYPES, 'retinanet_ivif_toy_neck_darts1_s4.yaml')
    assert (head_in, fpn_in) == (24, 64)


def test_searched_neck_genotype_is_of_the_search_space_and_round_trips(
        tmp_path):
    """The committed neck genotype (search seed 4 of the toy neck search)
    is a genotype of search_retinanet_ivif_toy.py's space, its width 24 is
    the largest within the FPN's FLOPs, and dump -> load -> rebuild gives a
    neck with identical outputs."""
    from mmfusenas.search.estimators import count_flops
    geno = space_genotype(
        osp.join(GENOTYPES, 'retinanet_ivif_toy_neck_darts1_s4.yaml'),
        'search_retinanet_ivif_toy', num_keys=18, cap=2)
    assert geno.meta['seed'] == 4

    x = torch.randn(1, 3, 128, 128)
    fpn = count_flops(build_detector('retinanet_ivif_fpn_toy'), x).flops
    name = 'retinanet_ivif_toy'
    assert count_flops(build_detector(name, 32), x).flops > fpn
    torch.manual_seed(0)
    det = build_detector(name)
    copy_path = str(tmp_path / 'g.yaml')
    geno.dump(copy_path)
    again = build_detector(name, genotype=copy_path)
    again.load_state_dict(det.state_dict())
    det.eval()
    again.eval()
    with torch.no_grad():
        feats = det.backbone(x)
        for a, b in zip(det.neck(feats), again.neck(feats)):
            assert torch.equal(a, b)


def test_real_headline_neck_is_a_genotype_of_the_real_search_space():
    """retinanet_ivif.py (M3FD) holds a genotype of search_retinanet_ivif.py's
    space (40 edges, at most 4 skip / conv_1 after the cap), rebuilt at width
    64: only the neck and the head's input width differ from the FPN
    alternative, the outputs have the head's strides 8-128, and the detector
    costs no more FLOPs than the FPN one."""
    from mmfusenas.search.estimators import count_flops
    path = osp.join(GENOTYPES, 'retinanet_ivif_neck_toydata_s0.yaml')
    space_genotype(path, 'search_retinanet_ivif', num_keys=40, cap=4)
    # the config that searched it searches the same space
    assert Config.fromfile(config('search_retinanet_ivif')).neck_space == \
        Config.fromfile(config('search_retinanet_ivif_real_space_toy')
                        ).model.architecture.detector.neck

    neck, fpn_neck, head_in, fpn_in = split_neck('retinanet_ivif',
                                                 'retinanet_ivif_fpn')
    assert fpn_neck['type'] == 'FPN'
    assert neck == dict(type='mmfusenas.GenotypeNet', genotype=path,
                        out_channels=64)
    assert (head_in, fpn_in) == (64, 256)

    x = torch.randn(1, 3, 256, 320)
    searched = build_detector('retinanet_ivif')
    plain = build_detector('retinanet_ivif_fpn')
    outs = searched.extract_feat(x)
    assert [tuple(o.shape[-2:]) for o in outs] == [
        tuple(o.shape[-2:]) for o in plain.extract_feat(x)]
    assert [256 // o.shape[-2] for o in outs] == [8, 16, 32, 64, 128]
    assert count_flops(searched, x).flops <= count_flops(plain, x).flops


CONFIGS = [
    'retinanet_ivif', 'retinanet_ivif_toy', 'retinanet_ivif_direct',
    'retinanet_ivif_direct_toy', 'ssd_ivif', 'ssd_ivif_toy',
    'deeplabv3plus_r18_msrs', 'deeplabv3plus_r18_msrs_toy', 'fcn_r18_mfnet',
    'fcn_r18_mfnet_toy', 'mask_rcnn_ivif_toy',
    'retinanet_ivif_fpn_toy', 'retinanet_ivif_fpn', 'search_retinanet_ivif',
    'search_retinanet_ivif_real_space_toy',
    'search_retinanet_ivif_toy',
    'search_deeplabv3plus_r18_msrs', 'search_deeplabv3plus_r18_msrs_toy'
]


def test_every_task_guided_config_builds():
    # (weights are not initialised: the real configs name ImageNet
    # checkpoints, which would be downloaded)
    for name in CONFIGS:
        cfg = Config.fromfile(config(name))
        model = MODELS.build(cfg.model)
        assert type(model).__name__ in ('FusionDetector', 'FusionSegmentor',
                                        'BilevelSearchAlgorithm'), name


def test_real_configs_say_where_the_data_goes():
    for name, where in [('retinanet_ivif', 'data/M3FD/'),
                        ('deeplabv3plus_r18_msrs', 'data/MSRS/'),
                        ('fcn_r18_mfnet', 'data/MFNet/')]:
        cfg = Config.fromfile(config(name))
        assert cfg.train_dataloader.dataset.data_root.startswith(where)


@pytest.mark.slow
def test_real_neck_search_config_runs_on_shared_llvip_samples(
        shared_data, tmp_path):
    # search_retinanet_ivif.py (IAS) set as for ImageNet weights (mmdet's
    # frozen_stages=1, norm_eval=True, backbone in frozen_modules; the
    # defaults train it) on the LLVIP pairs in the M3FD layout, at 128 px:
    # what failed with "weight_params[...] must be a leaf tensor" before
    # frozen parameters left the weight level
    import os
    src = osp.join(shared_data, 'detection', 'llvip6')
    root = tmp_path / 'llvip'
    root.mkdir()
    for d in ('ir', 'vi', 'Annotations'):
        os.symlink(osp.join(src, d), root / d)
    stems = sorted(osp.splitext(f)[0] for f in os.listdir(osp.join(src, 'ir')))
    (root / 'splits').mkdir()
    (root / 'splits' / 'train.txt').write_text('\n'.join(stems[:4]) + '\n')
    (root / 'splits' / 'val.txt').write_text('\n'.join(stems[4:]) + '\n')
    # the search's two halves of train (split hygiene: never val)
    (root / 'splits' / 'search_weights.txt').write_text(
        '\n'.join(stems[:4:2]) + '\n')
    (root / 'splits' / 'search_arch.txt').write_text(
        '\n'.join(stems[1:4:2]) + '\n')
    # the COCO jsons the configs read, in the temporary root
    load_tool('tools/dataset_converters/paired_to_coco.py').main([
        'voc', str(root), str(root / 'annotations' / '{split}.json'),
        '--classes', 'person', '--split'] + [
            str(root / 'splits' / f'{k}.txt')
            for k in ('train', 'val', 'search_weights', 'search_arch')])
    train = load_tool('tools/train.py')
    work = str(tmp_path / 'search')
    opts = ['train_cfg.max_iters=2', 'model.arch_update_interval=2',
            'model.architecture.detector.backbone.frozen_stages=1',
            'model.architecture.detector.backbone.norm_eval=True',
            'model.frozen_modules=[detector.backbone]',
            'default_hooks.logger.interval=1',
            # weight-free l_F: no local VGG16 file on the test machine
            'model.architecture.fusion_losses.0.measure=gradient',
            'model.architecture.fusion_losses.0.feature_weights=None']
    for loader in ('train_dataloader', 'train_cfg.arch_dataloader'):
        opts += [
            f'{loader}.batch_size=1', f'{loader}.num_workers=0',
            f'{loader}.persistent_workers=False',
            f'{loader}.dataset.data_root={root}',
            f'{loader}.dataset.metainfo.classes=[person]',
            f'{loader}.dataset.pipeline.2.scale=[128,128]'
        ]
    train.main([config('search_retinanet_ivif'), '--work-dir', work,
                '--cfg-options'] + opts)
    records = train_records(work)
    assert 'hypergrad_norm' in records[2]
    assert Genotype.load(osp.join(work, 'genotypes', 'latest.yaml')).choices
