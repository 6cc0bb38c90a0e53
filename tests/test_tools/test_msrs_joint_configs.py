"""The task-guided joint training configs on MSRS_det
(configs/tim/retinanet_ivif_msrs*.py): the detector, its budget and its
initial weights are those of the task-driven protocol's config
(configs/tim/retinanet_r18_msrs_det_protocol.py), the loaders read the
protocol's block split, and ``task_init`` loads the protocol's saved
initial weights exactly or refuses a file that does not fit."""
import os
import os.path as osp
import shutil

import pytest
import torch
from mmengine.config import Config
from mmengine.hooks import Hook
from mmengine.registry import init_default_scope
from mmengine.runner import Runner, set_random_seed

from mmfusenas.registry import MODELS
from helpers import load_tool

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
PROTOCOL = osp.join(REPO, 'configs', 'tim',
                    'retinanet_r18_msrs_det_protocol.py')
JOINT = osp.join(REPO, 'configs', 'tim', 'retinanet_ivif_msrs.py')
SEARCHED = osp.join(REPO, 'configs', 'tim',
                    'retinanet_ivif_msrs_searched_neck.py')


def _shapes(module):
    return {k: tuple(v.shape) for k, v in module.state_dict().items()}


@pytest.fixture(scope='module')
def protocol_detector():
    init_default_scope('mmfusenas')
    set_random_seed(3)
    det = MODELS.build(Config.fromfile(PROTOCOL).model)
    det.init_weights()
    return det


def _joint(path, **model):
    init_default_scope('mmfusenas')
    cfg = Config.fromfile(path)
    cfg.model.update(model)
    return cfg, MODELS.build(cfg.model)


def test_joint_detector_is_the_protocols(protocol_detector):
    _, joint = _joint(JOINT)
    assert type(joint.detector) is type(protocol_detector)
    assert _shapes(joint.detector) == _shapes(protocol_detector)


def test_task_init_loads_the_protocols_initial_weights(protocol_detector,
                                                       tmp_path):
    path = str(tmp_path / 'seed_3.pth')
    torch.save(protocol_detector.state_dict(), path)
    set_random_seed(0)  # another seed: only the file can make them equal
    _, joint = _joint(JOINT, task_init=path)
    joint.init_weights()
    got, want = joint.detector.state_dict(), protocol_detector.state_dict()
    assert all(torch.equal(got[k], want[k]) for k in want)
    # the fusion network is not touched by task_init (its own init)
    assert joint.fusion_net.state_dict().keys()


def test_task_init_refuses_another_network(tmp_path):
    path = str(tmp_path / 'other.pth')
    torch.save({'backbone.conv1.weight': torch.zeros(1)}, path)
    _, joint = _joint(JOINT, task_init=path)
    with pytest.raises(ValueError, match='task_init'):
        joint.init_weights()
    _, joint = _joint(JOINT, task_init=str(tmp_path / 'missing.pth'))
    with pytest.raises(FileNotFoundError, match='missing.pth'):
        joint.init_weights()


def test_task_init_excluding_the_searched_neck(protocol_detector, tmp_path):
    """The searched-neck variant takes the seed file's backbone and head;
    its neck keeps its own initialisation; without ``exclude`` the file is
    refused, and an ``exclude`` matching nothing is named."""
    path = str(tmp_path / 'seed_3.pth')
    torch.save(protocol_detector.state_dict(), path)
    set_random_seed(0)
    _, own = _joint(SEARCHED)
    own.init_weights()
    set_random_seed(0)
    _, joint = _joint(SEARCHED, task_init=dict(checkpoint=path,
                                               exclude=['neck.']))
    joint.init_weights()
    got, want = joint.detector.state_dict(), protocol_detector.state_dict()
    mine = own.detector.state_dict()
    assert [k for k in want if not k.startswith('neck.')]
    assert all(torch.equal(got[k], want[k]) for k in want
               if not k.startswith('neck.'))
    necks = [k for k in got if k.startswith('neck.')]
    assert necks and all(torch.equal(got[k], mine[k]) for k in necks)
    _, joint = _joint(SEARCHED, task_init=path)
    with pytest.raises(ValueError, match='missing keys: neck.'):
        joint.init_weights()
    _, joint = _joint(SEARCHED, task_init=dict(checkpoint=path,
                                               exclude=['nek.']))
    with pytest.raises(KeyError, match=r"exclude \['nek.'\] matches no key"):
        joint.init_weights()
    with pytest.raises(ValueError, match='exclude='):
        _joint(SEARCHED, task_init=dict(checkpoint=path, exclude='neck.'))


def test_budget_and_split_equal_the_protocols():
    protocol = Config.fromfile(PROTOCOL)
    cfg = Config.fromfile(JOINT)
    # the detector gets the protocol's iterations after the fusion warm-up
    warmup = cfg.custom_hooks[0]['warmup']
    assert cfg.custom_hooks[0]['type'] == 'FusionWarmupHook' and warmup > 0
    assert cfg.train_cfg.max_iters - warmup == protocol.train_cfg.max_iters
    assert cfg.train_dataloader.batch_size == \
        protocol.train_dataloader.batch_size
    assert cfg.optim_wrapper.optimizer == protocol.optim_wrapper.optimizer
    assert cfg.optim_wrapper.clip_grad == protocol.optim_wrapper.clip_grad
    # the schedule is the protocol's, shifted by the warm-up
    for ours, theirs in zip(cfg.param_scheduler, protocol.param_scheduler):
        assert ours['type'] == theirs['type']
        assert ours['begin'] - warmup == theirs['begin']
        assert ours['end'] - warmup == theirs['end']
    assert cfg.img_scale == protocol.img_scale
    # the block split of MSRS_det (its `fusion` labels, converted); the test
    # split is read only by the test loader (the one validation is on val)
    ann_dir = osp.join(REPO, 'data', 'MSRS_det', 'annotations')
    for split in ('train', 'val', 'test'):
        assert osp.realpath(cfg[f'{split}_dataloader'].dataset.ann_file) == \
            osp.join(ann_dir, f'fusion_{split}.json')


def test_searched_neck_variant_differs_in_the_neck_alone():
    _, fpn = _joint(JOINT)
    cfg, searched = _joint(SEARCHED)
    assert type(searched.detector.neck).__name__ == \
        'SearchableDistillationNeck'
    a, b = _shapes(fpn.detector), _shapes(searched.detector)
    assert {k: v for k, v in a.items() if not k.startswith('neck.')} == \
        {k: v for k, v in b.items() if not k.startswith('neck.')}
    assert _shapes(fpn.fusion_net) == _shapes(searched.fusion_net)
    # the neck reads the half-width backbone's C3-C5
    feats = searched.detector.backbone(torch.zeros(1, 3, 64, 64))
    outs = searched.detector.neck(feats)
    assert len(outs) == 5 and all(o.shape[1] == 128 for o in outs)
    assert cfg.train_cfg == Config.fromfile(JOINT).train_cfg


#: 2 training and 2 test pairs of MSRS_det, all with boxes
TRAIN, TEST = ('00004N', '00008N'), ('00626D', '01238N')


def _msrs4(src: str, root: str) -> str:
    """The 4 pairs in the MSRS_det layout and the COCO jsons of a split of
    them (``{train,val,test}.json``, as the config's comment writes them)."""
    for sub, ext in (('ir', '.jpg'), ('vi', '.jpg'),
                     ('labels/fusion', '.txt')):
        os.makedirs(osp.join(root, sub), exist_ok=True)
        for stem in TRAIN + TEST:
            shutil.copy(osp.join(src, sub, stem + ext),
                        osp.join(root, sub, stem + ext))
    shutil.copy(osp.join(src, 'classes.txt'), osp.join(root, 'classes.txt'))
    for name, stems in (('train', TRAIN), ('val', TEST), ('test', TEST)):
        with open(osp.join(root, f'{name}.txt'), 'w') as f:
            f.write('\n'.join(stems) + '\n')
    load_tool('tools/dataset_converters/paired_to_coco.py').main([
        'yolo', root, osp.join(root, '{split}.json'), '--labels',
        'labels/fusion', '--split'
    ] + [osp.join(root, f'{k}.txt') for k in ('train', 'val', 'test')])
    return root


class _Snapshots(Hook):
    """State dicts of the detector and the fusion network after every
    training iteration."""

    def __init__(self):
        self.states = {}

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None):
        model = runner.model
        self.states[runner.iter + 1] = {
            part: {k: v.clone()
                   for k, v in getattr(model, part).state_dict().items()}
            for part in ('detector', 'fusion_net')
        }


def _changed(a, b):
    return any(not torch.equal(a[k], b[k]) for k in a
               if a[k].is_floating_point())


@pytest.mark.slow
@pytest.mark.usefixtures('one_thread')
def test_joint_training_end_to_end_on_real_pairs(
        shared_data, tmp_path, protocol_detector):
    """The joint config trains on 4 real pairs (2 fusion warm-up and 2
    joint iterations at 64 x 64) from the protocol's initial detector
    weights, then tests with the COCO metric: during the warm-up only N_F
    learns, after it both do."""
    data = _msrs4(osp.join(shared_data, 'detection', 'MSRS_det'),
                  str(tmp_path / 'data'))
    init = str(tmp_path / 'seed_0.pth')
    torch.save(protocol_detector.state_dict(), init)
    cfg = Config.fromfile(JOINT)
    cfg.model.task_init = init
    # an untrained detector scores below the default threshold of 0.05
    cfg.model.detector.test_cfg.score_thr = 0.0
    cfg.work_dir = str(tmp_path / 'work')
    warmup, iters = 2, 4
    cfg.custom_hooks[0].warmup = warmup
    cfg.train_cfg.update(max_iters=iters, val_interval=iters)
    cfg.param_scheduler = [
        dict(type='LinearLR', start_factor=0.5, by_epoch=False,
             begin=warmup, end=iters)
    ]
    for split in ('train', 'val', 'test'):
        loader = cfg[f'{split}_dataloader']
        loader.update(num_workers=0, persistent_workers=False)
        loader.dataset.update(data_root=data,
                              ann_file=osp.join(data, f'{split}.json'))
        for step in loader.dataset.pipeline:
            if step['type'] == 'PairedResize':
                step['scale'] = (64, 64)
    cfg.train_dataloader.batch_size = 2
    cfg.custom_hooks = [h for h in cfg.custom_hooks
                        if h['type'] != 'FusedImageSaveHook']
    runner = Runner.from_cfg(cfg)
    snaps = _Snapshots()
    runner.register_hook(snaps)
    runner.train()
    start = protocol_detector.state_dict()
    # warm-up: the detector keeps the protocol's initial weights exactly
    assert not _changed(start, snaps.states[warmup]['detector'])
    assert _changed(snaps.states[1]['fusion_net'],
                    snaps.states[warmup]['fusion_net'])
    # joint steps: l_T + eta * l_F moves both networks
    assert _changed(snaps.states[warmup]['detector'],
                    snaps.states[iters]['detector'])
    assert _changed(snaps.states[warmup]['fusion_net'],
                    snaps.states[iters]['fusion_net'])
    assert osp.isfile(osp.join(cfg.work_dir, f'iter_{iters}.pth'))
    metrics = runner.test()
    assert 0.0 <= metrics['coco/bbox_mAP'] <= 1.0
    assert 0.0 <= metrics['coco/bbox_mAP_50'] <= 1.0
