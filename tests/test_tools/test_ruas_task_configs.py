"""The RUAS detection / segmentation configs train, evaluate, search and
retrain (toy siblings), and the real-data configs run on the shared
low-light samples."""
import glob
import json
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope

from mmfusenas.utils.checkpoint import read_checkpoint
from mmfusenas.engine.runner import with_cached_text
from mmfusenas.models.mutables import DiffMixedOp, Genotype
from mmfusenas.registry import DATASETS, MODELS
from mmfusenas.testing.toy_data.lowlight_tasks import (generate_toy_acdc,
                                                       generate_toy_darkface,
                                                       generate_toy_exdark)
from helpers import load_tool

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
SHARED = osp.join(osp.dirname(REPO), 'shared', 'data', 'lowlight')


def config(name: str) -> str:
    return osp.join(REPO, 'configs', 'ruas', f'{name}.py')


pytestmark = pytest.mark.usefixtures('one_thread')


@pytest.fixture(scope='module')
def toy(tmp_path_factory):
    root = tmp_path_factory.mktemp('toy_lowlight_tasks')
    kw = dict(num_train=6, num_val=2, size=64, seed=1)
    paths = dict(
        exdark=str(root / 'exdark'),
        darkface=str(root / 'darkface'),
        acdc=str(root / 'acdc'))
    generate_toy_exdark(paths['exdark'], **kw)
    generate_toy_darkface(paths['darkface'], **kw)
    generate_toy_acdc(paths['acdc'], **kw)
    return paths


def data_options(root, search=False):
    opts = ['train_dataloader.batch_size=2',
            f'train_dataloader.dataset.data_root={root}']
    if search:
        opts += ['train_cfg.arch_dataloader.batch_size=2',
                 f'train_cfg.arch_dataloader.dataset.data_root={root}']
    else:
        opts += [f'{split}_dataloader.dataset.data_root={root}'
                 for split in ('val', 'test')]
    return opts


def run_options(max_iters):
    return [
        f'train_cfg.max_iters={max_iters}',
        f'train_cfg.val_interval={max_iters}',
        f'default_hooks.checkpoint.interval={max_iters}',
        'default_hooks.logger.interval=1', 'log_processor.window_size=1'
    ]


def scalars(work_dir):
    (path, ) = glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json'))
    with open(path) as f:
        return [json.loads(line) for line in f]


def train_records(work_dir):
    return {r['iter']: r for r in scalars(work_dir) if 'loss' in r}


def test_ssd_exdark_toy_trains_evaluates_and_tests(toy, tmp_path):
    train, test = load_tool('tools/train.py'), load_tool('tools/test.py')
    work = str(tmp_path / 'work')
    opts = data_options(toy['exdark']) + run_options(2)
    # end to end (ℓ_t + λ ℓ_s); the default is hierarchical (below)
    train.main([config('ssd_exdark_toy'), '--work-dir', work,
                '--cfg-options'] + opts +
               ['custom_hooks.0.strategy=end_to_end'])
    records = train_records(work)
    assert {'loss_cls', 'loss_bbox', 'scene.loss_scene'} <= set(records[1])
    assert records[1]['scene.lambda'] == pytest.approx(0.1)
    (val, ) = [r for r in scalars(work) if 'pascal_voc/mAP' in r]
    assert 0 <= val['pascal_voc/mAP'] <= 1
    ckpt = osp.join(work, 'iter_2.pth')
    assert osp.isfile(ckpt)
    metrics = test.main(
        [config('ssd_exdark_toy'), ckpt, '--work-dir', work,
         '--cfg-options'] + opts + ['custom_hooks.0.strategy=end_to_end'])
    assert metrics['pascal_voc/mAP'] == pytest.approx(val['pascal_voc/mAP'])


def test_ssd_darkface_toy_hierarchical_strategy(toy, tmp_path):
    # the default of the RUAS task configs (Table 6's best)
    cfg = Config.fromfile(config('ssd_darkface_toy'))
    (hook, ) = cfg.custom_hooks
    assert (hook.strategy, hook.scene_iters, hook.freeze_scene) == \
        ('hierarchical', 50, False)
    for name in ('ssd300_exdark', 'ssd300_darkface', 'deeplabv3plus_r18_acdc',
                 'deeplabv3plus_r18_acdc_toy'):
        (hook, ) = Config.fromfile(config(name)).custom_hooks
        assert hook.strategy == 'hierarchical', name
    train = load_tool('tools/train.py')
    work = str(tmp_path / 'work')
    opts = data_options(toy['darkface']) + run_options(2) + [
        'custom_hooks.0.scene_iters=1'
    ]
    train.main([config('ssd_darkface_toy'), '--work-dir', work,
                '--cfg-options'] + opts)
    records = train_records(work)
    # iteration 1: the scene module alone on l_s; iteration 2: the task
    # (the log keeps the last scene value; the stages themselves are
    # tested in tests/test_models/test_scene_task_models.py)
    assert 'loss_cls' not in records[1] and 'scene.loss_scene' in records[1]
    assert records[1]['scene.lambda'] == 1.0
    assert 'loss_cls' in records[2]
    (val, ) = [r for r in scalars(work) if 'pascal_voc/mAP' in r]
    assert 0 <= val['pascal_voc/mAP'] <= 1


def test_deeplab_acdc_toy_trains_and_evaluates(toy, tmp_path):
    train = load_tool('tools/train.py')
    work = str(tmp_path / 'work')
    train.main([config('deeplabv3plus_r18_acdc_toy'), '--work-dir', work,
                '--cfg-options'] + data_options(toy['acdc']) +
               run_options(2) + ['custom_hooks.0.strategy=end_to_end'])
    records = train_records(work)
    assert {'decode.loss_ce', 'aux.loss_ce',
            'scene.loss_scene'} <= set(records[2])
    (val, ) = [r for r in scalars(work) if 'mIoU' in r]
    assert 0 <= val['mIoU'] <= 100


# the segmentation variant is slow-marked (CI time): the detection one keeps
# the cooperative task search's full pipeline in the fast set
@pytest.mark.parametrize(
    'task', ['det', pytest.param('seg', marks=pytest.mark.slow)])
def test_cooperative_search_exports_a_genotype_that_retrains(
        toy, tmp_path, task):
    train = load_tool('tools/train.py')
    name, root, parts = {
        'det': ('ssd_exdark_toy', toy['exdark'],
                ['scene_net', 'detector.neck', 'detector.bbox_head']),
        'seg': ('deeplabv3plus_r18_acdc_toy', toy['acdc'],
                ['scene_net', 'segmentor.decode_head']),
    }[task]
    search = str(tmp_path / 'search')
    train.main([
        config(f'search_{name}'), '--work-dir', search, '--cfg-options'
    ] + data_options(root, search=True) + run_options(2) +
               ['custom_hooks.1.interval=2'])
    path = osp.join(search, 'genotypes', 'latest.yaml')
    geno = Genotype.load(path)
    scene_keys = [k for k in geno.choices if k.startswith('scene/')]
    task_keys = sorted(set(geno.choices) - set(scene_keys))
    assert len(scene_keys) == 7  # the 7 edges of the shared scene cell
    if task == 'det':  # 2 neck extra layers + cls / reg convs of 5 levels
        assert len(task_keys) == 12
        assert {k.split('/')[0] for k in task_keys} == {'neck', 'det'}
    else:
        assert task_keys == [f'seg/branch{i}' for i in range(4)]
    assert set(geno.meta['task_keys']) == set(task_keys)
    ops = set(geno.choices[k] for k in task_keys)
    assert ops <= {
        '1-C', '3-C', '5-C', '7-C', '3-2-DC', '5-2-DC', '7-2-DC', '3-6-DC',
        '3-12-DC', '3-18-DC'
    }

    retrain = str(tmp_path / 'retrain')
    opts = [f'model.{p}.genotype={path}' for p in parts]
    train.main([
        config(f'retrain_{name}'), '--work-dir', retrain, '--cfg-options'
    ] + opts + data_options(root) + run_options(1))
    state = read_checkpoint(osp.join(retrain, 'iter_1.pth'))['state_dict']
    assert not [k for k in state if 'candidates' in k]  # fixed, no supernet
    metric = 'pascal_voc/mAP' if task == 'det' else 'mIoU'
    assert [r for r in scalars(retrain) if metric in r]


# ----------------------------------------------------------------------
# real-data configs on the shared low-light samples
# ----------------------------------------------------------------------
needs_shared = pytest.mark.skipif(
    not osp.isdir(SHARED), reason=f'shared data not found at {SHARED}')


def build_dataset(cfg, **overrides):
    ds_cfg = dict(cfg, **overrides)
    with DefaultScope.overwrite_default_scope('mmfusenas'):
        return DATASETS.build(ds_cfg)


@needs_shared
def test_real_ssd300_exdark_config_trains_a_step_on_exdark_samples():
    cfg = Config.fromfile(config('ssd300_exdark'))
    data_root = osp.join(SHARED, 'exdark3') + '/'
    train_set = build_dataset(
        cfg.train_dataloader.dataset, data_root=data_root, ann_file='')
    assert len(train_set) == 3
    batch = [train_set[i] for i in range(2)]
    assert batch[0]['inputs'].shape[-2:] == (300, 300)
    with DefaultScope.overwrite_default_scope('mmfusenas'):
        model = MODELS.build(cfg.model)
    model.init_weights()
    data = dict(
        inputs=[b['inputs'] for b in batch],
        data_samples=[b['data_samples'] for b in batch])
    model.train()
    losses = model(**model.data_preprocessor(data, True), mode='loss')
    assert set(losses) == {
        'loss_cls', 'loss_bbox', 'scene.loss_scene', 'scene.lambda'
    }
    total, _ = model.parse_losses(losses)
    assert torch.isfinite(total)

    test_set = build_dataset(
        cfg.test_dataloader.dataset, data_root=data_root, ann_file='')
    sample = test_set[1]
    model.eval()
    with torch.no_grad():
        (out, ) = model.test_step(
            dict(inputs=[sample['inputs']],
                 data_samples=[sample['data_samples']]))
    assert out.pred_img.shape == (3, 300, 300)
    assert out.ori_shape == (359, 478)  # 2015_02446.jpg
    assert out.pred_instances.bboxes.shape[1] == 4


@needs_shared
def test_real_darkface_config_predicts_on_unlabelled_samples():
    cfg = Config.fromfile(config('ssd300_darkface'))
    test_set = build_dataset(
        cfg.test_dataloader.dataset,
        data_root=osp.join(SHARED, 'darkface'),
        data_prefix=dict(img=''),
        ann_file='')
    assert len(test_set) == 5
    with DefaultScope.overwrite_default_scope('mmfusenas'):
        model = MODELS.build(cfg.model).eval()
    model.init_weights()
    sample = test_set[0]
    with torch.no_grad():
        (out, ) = model.test_step(
            dict(inputs=[sample['inputs']],
                 data_samples=[sample['data_samples']]))
    assert out.pred_img.shape == (3, 300, 300)
    assert len(out.gt_instances) == 0
    assert model.detector.bbox_head.num_classes == 1


def test_search_configs_hold_the_paper_spaces():
    """Real search spaces: the 16 official SSD300 task positions and the
    4 ASPP branches, each over Table 1's 10 high-level ops."""
    spaces = (('search_ssd300_exdark', 16, ('neck', 'det')),
              ('search_deeplabv3plus_r18_acdc', 4, ('seg', )))
    for name, n_task, prefix in spaces:
        cfg = Config.fromfile(config(name))
        with DefaultScope.overwrite_default_scope('mmfusenas'):
            algo = MODELS.build(cfg.model)
        assert len(algo.scene_keys) == 7
        assert len(algo.task_keys) == n_task
        assert {k.split('/')[0] for k in algo.task_keys} == set(prefix)
        mixed = [
            m for m in algo.architecture.modules()
            if isinstance(m, DiffMixedOp) and m.key in algo.task_keys
        ]
        assert all(len(m.choice_names) == 10 for m in mixed)


@pytest.mark.parametrize('variant', ['ruas_s', 'ruas', 'ruas_a'])
def test_enhancement_toy_siblings_evaluate(tmp_path, variant):
    """The published variants (ruas_{s,,a}_{lol,mit}.py) evaluate on toy
    scenes (PSNR / SSIM against the references; freshly initialised)."""
    from mmengine.runner import Runner

    from mmfusenas.testing.toy_data.lowlight import generate_toy_lowlight
    root = str(tmp_path / 'toy_lowlight')
    generate_toy_lowlight(root, num_train=1, num_val=2, seed=0, size=64)
    cfg = Config.fromfile(config(f'{variant}_toy'))
    cfg.work_dir = str(tmp_path / 'work')
    cfg.test_dataloader.dataset.data_root = root + '/val/'
    runner = Runner.from_cfg(with_cached_text(cfg))
    metrics = runner.test()
    assert {'enh/PSNR', 'enh/SSIM'} <= set(metrics)
    assert 0 < metrics['enh/SSIM'] <= 1 and metrics['enh/PSNR'] > 0
