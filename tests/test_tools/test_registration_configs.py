"""Registration configs: N_R trains / validates from its toy config, the
real-data configs build on the shared TNO / RoadScene pairs, and the
registration + fusion + RetinaNet chain trains in stages from its config."""
import glob
import json
import os
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

from mmfusenas.registry import DATASETS, MODELS
from helpers import load_tool

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
SIZE = 64

pytestmark = pytest.mark.usefixtures('one_thread')


def scalars(work_dir):
    (path, ) = glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json'))
    with open(path) as f:
        return [json.loads(line) for line in f]


def test_registration_toy_config_trains_and_validates(toy_root, tmp_path):
    config = osp.join(REPO, 'configs', 'tim', 'registration_ivif_toy.py')
    work = str(tmp_path / 'work')
    opts = [
        'train_dataloader.batch_size=2',
        f'train_dataloader.dataset.data_root={toy_root}',
        f'train_dataloader.dataset.pipeline.1.crop_size=[{SIZE},{SIZE}]',
        f'val_dataloader.dataset.data_root={toy_root}',
        f'test_dataloader.dataset.data_root={toy_root}',
        'train_cfg.max_iters=2', 'train_cfg.val_interval=2',
        # a tiny step: N_R stays near the identity it starts as (at the
        # config's lr 3e-3 two Adam steps already move it by pixels)
        'optim_wrapper.optimizer.lr=1e-6',
        'default_hooks.checkpoint.interval=2',
        'default_hooks.logger.interval=1', 'log_processor.window_size=1',
    ]
    load_tool('tools/train.py').main(
        [config, '--work-dir', work, '--cfg-options'] + opts)
    records = scalars(work)
    train = [r for r in records if 'loss' in r]
    assert {'loss_ngf', 'loss_smooth', 'loss_epe'} <= set(train[-1])
    (val, ) = [r for r in records if 'registration/EPE' in r]
    # N_R starts as the identity: after 2 steps its error is still close to
    # the misalignment itself, and both are a few pixels at 64 px
    assert 0.3 < val['registration/EPE_none'] < 5
    assert abs(val['registration/EPE'] - val['registration/EPE_none']) < 0.5
    assert osp.isfile(osp.join(work, 'iter_2.pth'))
    # the gradient is clipped (the optimizer wrapper logs its norm) and the
    # checkpoint of the best validation EPE is kept
    assert 'grad_norm' in train[-1]
    assert glob.glob(osp.join(work, 'best_registration_EPE_iter_2.pth'))


@pytest.mark.parametrize('name', ['tno', 'roadscene'])
def test_real_registration_configs_build_on_shared_pairs(
        name, shared_data, tmp_path):
    cfg = Config.fromfile(
        osp.join(REPO, 'configs', 'tim', f'registration_ivif_{name}.py'))
    init_default_scope('mmfusenas')
    folder = dict(tno='TNO', roadscene='RoadScene')[name]
    root = osp.join(shared_data, 'fusion', folder)
    stems = sorted(osp.splitext(f)[0] for f in os.listdir(osp.join(root,
                                                                  'ir')))
    # three disjoint split files: train, val (selection), test (held out)
    parts = dict(train=stems[:-6], val=stems[-6:-3], test=stems[-3:])
    for split in ('train', 'val', 'test'):
        ds_cfg = cfg[f'{split}_dataloader'].dataset
        assert ds_cfg.ann_file == f'splits/{split}.txt'
        ann = tmp_path / f'{split}.txt'
        ann.write_text('\n'.join(parts[split]) + '\n')
        ds_cfg.data_root = root
        ds_cfg.ann_file = str(ann)
        dataset = DATASETS.build(ds_cfg)
        assert len(dataset) == len(parts[split])
        sample = dataset[0]
        flow = sample['data_samples'].gt_flow
        h, w = sample['inputs']['ir'].shape[-2:]
        assert flow.shape == (2, h, w) and flow.abs().max() > 0.5
        if split == 'train':
            assert (h, w) == (128, 128)
    # stability and selection: clipped gradients, warm-up then cosine, the
    # checkpoint of the lowest validation EPE kept
    assert cfg.optim_wrapper.clip_grad == dict(max_norm=10.0, norm_type=2)
    assert cfg.model.registration_net.flow_bound == 64.0
    warm, cos = cfg.param_scheduler
    assert warm.type == 'LinearLR' and warm.end == cos.begin == 500
    assert cos.type == 'CosineAnnealingLR' and cos.end == 10000
    assert cfg.default_hooks.checkpoint.save_best == 'registration/EPE'
    assert cfg.default_hooks.checkpoint.rule == 'less'
    model = MODELS.build(cfg.model)
    batch = dict(inputs=dict(ir=[sample['inputs']['ir']],
                             vi=[sample['inputs']['vi']]),
                 data_samples=[sample['data_samples']])
    data = model.data_preprocessor(batch, False)
    losses = model(**data, mode='loss')
    assert set(losses) == {'loss_ngf', 'loss_smooth', 'loss_epe'}
    assert type(model.registration_net).__name__ == 'PyramidCorrRegNet'
    assert all(torch.isfinite(v) for v in losses.values())


def test_a_trained_registrator_initialises_the_chain_stage(tmp_path):
    """The checkpoint of registration_ivif_toy.py loads strictly into the
    registration stage of the chain (docs/methods/registration.md)."""
    init_default_scope('mmfusenas')
    reg_cfg = Config.fromfile(
        osp.join(REPO, 'configs', 'tim', 'registration_ivif_toy.py'))
    torch.manual_seed(1)
    registrator = MODELS.build(reg_cfg.model)
    path = str(tmp_path / 'iter_300.pth')
    torch.save(dict(state_dict=registrator.state_dict()), path)
    chain_cfg = Config.fromfile(osp.join(
        REPO, 'configs', 'compose',
        'chain_registration_fusion_retinanet_toy.py'))
    chain_cfg.model.stages[0].init = path
    torch.manual_seed(2)
    chain = MODELS.build(chain_cfg.model)
    chain.init_weights()
    got = chain.stage('registration').state_dict()
    want = registrator.registration_net.state_dict()
    assert got.keys() == want.keys()
    assert all(torch.equal(got[k], want[k]) for k in want)


def test_registration_fusion_detection_chain_trains_in_stages(
        toy_root, tmp_path):
    config = osp.join(REPO, 'configs', 'compose',
                      'chain_registration_fusion_retinanet_toy.py')
    work = str(tmp_path / 'work')
    opts = [
        'train_dataloader.batch_size=2',
        f'train_dataloader.dataset.data_root={toy_root}',
        f'train_dataloader.dataset.pipeline.2.scale=[{SIZE},{SIZE}]',
        'train_cfg.max_iters=3', 'train_cfg.val_interval=3',
        'default_hooks.checkpoint.interval=3',
        'default_hooks.logger.interval=1', 'log_processor.window_size=1',
        'custom_hooks.0.phases.1.begin=1', 'custom_hooks.0.phases.2.begin=2',
        'model.detector.test_cfg.score_thr=0.0'
    ]
    for split in ('val', 'test'):
        opts += [
            f'{split}_dataloader.dataset.data_root={toy_root}',
            f'{split}_dataloader.dataset.pipeline.1.scale=[{SIZE},{SIZE}]',
            f'{split}_evaluator.0.ann_file={toy_root}/annotations/'
            'instances_val.json'
        ]
    load_tool('tools/train.py').main(
        [config, '--work-dir', work, '--cfg-options'] + opts)
    records = {r['iter']: r for r in scalars(work) if 'loss' in r}

    def stages(it):
        return {k.split('.')[0] for k in records[it] if '.loss' in k}

    # N_R alone first, then N_F, then the detector joins
    assert stages(1) == {'registration'} and 'loss_cls' not in records[1]
    assert stages(2) == {'registration', 'fusion'}
    assert 'loss_cls' not in records[2]
    assert {'loss_cls', 'loss_bbox', 'registration.loss_ngf',
            'registration.rho', 'fusion.eta'} <= set(records[3])
    (val, ) = [r for r in scalars(work) if 'coco/bbox_mAP' in r]
    assert 'fusion/SSIM' in val
    # the registered IR images are written next to the fused ones
    assert glob.glob(osp.join(work, '*', '**', 'ir_reg', '*.png'),
                     recursive=True)
