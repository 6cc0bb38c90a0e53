"""configs/compose: the chain (RUAS scene -> TIM fusion -> RetinaNet) trains,
validates and tests from its configs, on night-time toy data and on the
shared LLVIP pairs."""
import glob
import json
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.runner import Runner

from mmfusenas.engine.runner import with_cached_text
from mmfusenas.testing.toy_data.ivif import generate_toy_dataset
from helpers import load_tool

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
COMPOSE = osp.join(REPO, 'configs', 'compose')
SIZE = 64


pytestmark = pytest.mark.usefixtures('one_thread')


def scalars(work_dir):
    (path, ) = glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json'))
    with open(path) as f:
        return [json.loads(line) for line in f]


def test_night_toy_chain_trains_in_stages_validates_and_tests(tmp_path):
    root = str(tmp_path / 'toy_night')
    generate_toy_dataset(root, num=8, seed=3, size=SIZE, val_fraction=0.25,
                         night_fraction=1.0, night_darkness=4.0)
    config = osp.join(COMPOSE, 'chain_retinanet_night_toy.py')
    work = str(tmp_path / 'work')
    opts = [
        'train_dataloader.batch_size=2',
        f'train_dataloader.dataset.data_root={root}',
        f'train_dataloader.dataset.pipeline.2.scale=[{SIZE},{SIZE}]',
        'train_cfg.max_iters=3', 'train_cfg.val_interval=3',
        'default_hooks.checkpoint.interval=3',
        'default_hooks.logger.interval=1', 'log_processor.window_size=1',
        'custom_hooks.0.phases.1.begin=1', 'custom_hooks.0.phases.2.begin=2',
        'model.detector.test_cfg.score_thr=0.0'
    ]
    for split in ('val', 'test'):
        opts += [
            f'{split}_dataloader.dataset.data_root={root}',
            f'{split}_dataloader.dataset.pipeline.1.scale=[{SIZE},{SIZE}]',
            f'{split}_evaluator.0.ann_file={root}/annotations/'
            'instances_val.json'
        ]
    load_tool('tools/train.py').main(
        [config, '--work-dir', work, '--cfg-options'] + opts)
    records = {r['iter']: r for r in scalars(work) if 'loss' in r}

    def stages(it):
        return {k.split('.')[0] for k in records[it] if '.loss' in k}

    # MMEngine logs every scalar it has seen (a stale value when not
    # updated), so each phase shows as the keys it adds: the scene module
    # alone on its loss first, then N_F's loss, then the detector's
    assert stages(1) == {'scene'} and 'loss_cls' not in records[1]
    assert stages(2) == {'scene', 'fusion'} and 'loss_cls' not in records[2]
    assert {'loss_cls', 'loss_bbox'} <= set(records[3])
    (val, ) = [r for r in scalars(work) if 'coco/bbox_mAP' in r]
    assert 'fusion/SSIM' in val
    fused = glob.glob(osp.join(work, '*', 'fused_val', 'iter_3', '*.png'))
    assert len(fused) == 2
    enhanced = glob.glob(
        osp.join(work, '*', 'fused_val', 'iter_3', 'vi_enh', '*.png'))
    assert sorted(map(osp.basename, enhanced)) == sorted(
        map(osp.basename, fused))
    state = torch.load(osp.join(work, 'iter_3.pth'))['state_dict']
    assert any(k.startswith('scene_net.') for k in state)
    assert not any(k.startswith('chain_net.') for k in state)

    test = load_tool('tools/test.py')
    args = test.parse_args([config, osp.join(work, 'iter_3.pth'),
                            '--work-dir', work, '--cfg-options'] + opts)
    metrics = Runner.from_cfg(with_cached_text(test.build_config(args))).test()
    assert 'coco/bbox_mAP' in metrics and 'fusion/Qabf' in metrics


@pytest.mark.slow  # the chain's stages: test_night_toy_chain_trains_in_stages
def test_llvip_chain_config_runs_on_the_shared_night_pairs(
        shared_data, tmp_path):
    root = osp.join(shared_data, 'detection', 'llvip6')
    config = osp.join(COMPOSE, 'chain_retinanet_llvip.py')
    cfg = Config.fromfile(config)
    assert cfg.model.detector.bbox_head.num_classes == 1
    # the 6 pairs as one COCO json, as docs/methods/compose.md writes it
    ann = str(tmp_path / 'llvip6.json')
    load_tool('tools/dataset_converters/paired_to_coco.py').main(
        ['voc', root, ann, '--classes', 'person'])
    opts = []
    for split, resize in (('train', 2), ('val', 1)):
        opts += [
            f'{split}_dataloader.dataset.data_root={root}',
            f'{split}_dataloader.dataset.ann_file={ann}',
            f'{split}_dataloader.dataset.pipeline.{resize}.scale=[160,128]',
            f'{split}_dataloader.num_workers=0',
            f'{split}_dataloader.persistent_workers=False',
        ]
    opts += [
        'train_dataloader.batch_size=2', 'train_cfg.max_iters=1',
        'train_cfg.val_interval=1', 'default_hooks.checkpoint.interval=1',
        'custom_hooks.0.phases.1.begin=1', 'custom_hooks.0.phases.2.begin=2',
        'model.detector.test_cfg.score_thr=0.0'
    ]
    work = str(tmp_path / 'llvip')
    load_tool('tools/train.py').main(
        [config, '--work-dir', work, '--cfg-options'] + opts)
    (val, ) = [r for r in scalars(work) if 'coco/bbox_mAP' in r]
    assert 0.0 <= val['coco/bbox_mAP'] <= 1.0 and 'fusion/EN' in val
    fused = glob.glob(osp.join(work, '*', 'fused_val', 'iter_1', '*.png'))
    assert sorted(osp.basename(p)[:-4] for p in fused) == [
        '010005', '190001', '190002', '190003', '190004', '190005'
    ]


def test_night_toy_chain_search_then_retrain_from_its_genotype(tmp_path):
    """Cooperative search of scene cell, N_F ops and RetinaNet neck → one
    genotype → every part rebuilt in its place → trains and validates."""
    from mmfusenas.models.mutables import Genotype, build_genotype_net
    root = str(tmp_path / 'toy_night')
    generate_toy_dataset(root, num=8, seed=3, size=SIZE, val_fraction=0.25,
                         night_fraction=1.0, night_darkness=4.0)
    work = str(tmp_path / 'search')
    load_tool('tools/train.py').main([
        osp.join(COMPOSE, 'search_chain_retinanet_night_toy.py'),
        '--work-dir', work, '--data-root', root, '--cfg-options',
        'train_dataloader.batch_size=2',
        'train_cfg.arch_dataloader.batch_size=2',
        f'train_dataloader.dataset.pipeline.2.scale=[{SIZE},{SIZE}]',
        f'train_cfg.arch_dataloader.dataset.pipeline.2.scale=[{SIZE},{SIZE}]',
        'train_cfg.max_iters=2', 'default_hooks.logger.interval=1',
        'log_processor.window_size=1', 'custom_hooks.1.interval=2',
        'default_hooks.checkpoint.interval=2'
    ])
    logs = [r for r in scalars(work) if 'loss' in r]
    # every part took an α step with its coupling to the later parts
    for part in ('scene', 'fusion'):
        assert f'{part}/coupled_upper_loss' in logs[-1]
    assert 'task/upper_loss' in logs[-1]
    latest = osp.join(work, 'genotypes', 'latest.yaml')
    geno = Genotype.load(latest)
    keys = geno.meta['part_keys']
    assert set(keys) == {'scene', 'fusion', 'task'}
    assert set(geno.choices) == {k for ks in keys.values() for k in ks}
    # α moved off its (near-uniform) initialisation
    probs = geno.probabilities['fusion/cell0/op0']
    assert max(probs.values()) - min(probs.values()) > 1e-4

    retrain = str(tmp_path / 'retrain')
    opts = [
        'train_dataloader.batch_size=2',
        f'train_dataloader.dataset.pipeline.2.scale=[{SIZE},{SIZE}]',
        f'val_dataloader.dataset.pipeline.1.scale=[{SIZE},{SIZE}]',
        'train_cfg.max_iters=1', 'train_cfg.val_interval=1',
        'default_hooks.checkpoint.interval=1',
        'model.detector.test_cfg.score_thr=0.0',
        f'model.stages.0.module.genotype={latest}',
        f'model.stages.1.module.genotype={latest}',
        f'model.detector.neck.genotype={latest}'
    ]
    load_tool('tools/train.py').main([
        osp.join(COMPOSE, 'retrain_chain_retinanet_night_toy.py'),
        '--work-dir', retrain, '--data-root', root, '--cfg-options'
    ] + opts)
    (val, ) = [r for r in scalars(retrain) if 'coco/bbox_mAP' in r]
    assert 'fusion/SSIM' in val
    # round trip: the retrained parts are the genotype's fixed networks
    state = torch.load(osp.join(retrain, 'iter_1.pth'))['state_dict']
    for prefix, part in (('fusion_net.', 'stages.1.module'),
                         ('detector.neck.', 'detector.neck')):
        net = build_genotype_net(latest, part=part)
        assert sorted(k[len(prefix):] for k in state
                      if k.startswith(prefix)) == sorted(net.state_dict())


@pytest.mark.slow
def test_llvip_chain_search_runs_on_the_shared_night_pairs(
        shared_data, tmp_path):
    import os
    from mmfusenas.datasets.search_splits import search_halves
    src = osp.join(shared_data, 'detection', 'llvip6')
    root = tmp_path / 'llvip'
    root.mkdir()
    for sub in ('ir', 'vi', 'Annotations'):
        os.symlink(osp.join(src, sub), root / sub)
    stems = sorted(
        osp.splitext(f)[0] for f in os.listdir(osp.join(src, 'Annotations')))
    (root / 'splits').mkdir()
    for name, half in zip(('search_weights', 'search_arch'),
                          search_halves(stems)):
        (root / 'splits' / f'{name}.txt').write_text('\n'.join(half) + '\n')
    # annotations/search_{weights,arch}.json in the temporary root
    load_tool('tools/dataset_converters/paired_to_coco.py').main([
        'voc', str(root), str(root / 'annotations' / '{split}.json'),
        '--classes', 'person', '--split',
        str(root / 'splits' / 'search_weights.txt'),
        str(root / 'splits' / 'search_arch.txt')])
    work = str(tmp_path / 'search')
    opts = ['train_cfg.max_iters=1', 'custom_hooks.1.interval=1']
    for loader in ('train_dataloader', 'train_cfg.arch_dataloader'):
        opts += [
            f'{loader}.dataset.data_root={root}',
            f'{loader}.dataset.pipeline.2.scale=[160,128]',
            f'{loader}.num_workers=0', f'{loader}.persistent_workers=False',
            f'{loader}.batch_size=1'
        ]
    load_tool('tools/train.py').main([
        osp.join(COMPOSE, 'search_chain_retinanet_llvip.py'), '--work-dir',
        work, '--cfg-options'
    ] + opts)
    from mmfusenas.models.mutables import Genotype
    geno = Genotype.load(osp.join(work, 'genotypes', 'latest.yaml'))
    assert set(geno.meta['part_keys']) == {'scene', 'fusion', 'task'}
