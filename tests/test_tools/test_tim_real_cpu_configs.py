"""TIM's real-data CPU training configs (``configs/tim/*_cpu.py``).

Each config builds the official network of its ``*_official.py`` twin
(the paper's parameter count, the same state-dict keys and shapes, so the
official weights and these checkpoints load into either config), trains
with TIM's losses on the outputs they name, reads the committed train
split of its real source (no test stem, no excluded stem) and never reads
the test split while training (no validation, last checkpoint kept).
"""
import os.path as osp

import pytest
from mmengine.config import Config
from mmengine.registry import init_default_scope

from mmfusenas.models.mutables import Genotype
from mmfusenas.registry import DATASETS, MODELS

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TIM = osp.join(REPO, 'configs', 'tim')
SPLITS = osp.join(REPO, 'configs', '_base_', 'datasets', 'splits')

pytestmark = pytest.mark.usefixtures('one_thread')

# config -> (official twin, parameters of the official classes, split dir,
#            training root under ../shared/data/fusion, loss set)
CONFIGS = {
    'tim_ivif_roadscene221_cpu':
    ('fusion_ivif_official', 1_232_225, 'roadscene221', 'RoadScene221',
     'ivif'),
    'tim_light_ivif_roadscene221_cpu':
    ('fusion_ivif_light_official', 127_358, 'roadscene221', 'RoadScene221',
     'nf'),
    'tim_mri_ct_harvard_cpu':
    ('fusion_mri_ct_official', 1_229_976, 'harvard_ct', 'Harvard/CT-MRI',
     'medical'),
    'tim_mri_pet_harvard_cpu':
    ('fusion_mri_pet_official', 1_239_732, 'harvard_pet', 'Harvard/PET-MRI',
     'medical'),
    'tim_mri_spect_harvard_cpu':
    ('fusion_mri_spect_official', 1_225_560, 'harvard_spect',
     'Harvard/SPECT-MRI', 'medical'),
}
# (type, output, source_weights) of every loss; sources are stacked
# (ir, vi) / (mri, other): IVIF target = IR, detail = VIS; medical target =
# CT / PET / SPECT, detail = MRI
LOSSES = dict(
    nf=[('InfoPreservationLoss', None, None),
        ('SaliencyWeightedLoss', None, None)],
    ivif=[('InfoPreservationLoss', 'stage1', None),
          ('IntensityLoss', 'target', (1.0, 0.0)),
          ('SSIMLoss', 'detail', (0.0, 1.0)),
          ('SaliencyWeightedLoss', None, None)],
    medical=[('InfoPreservationLoss', 'stage1', None),
             ('IntensityLoss', 'target', (0.0, 1.0)),
             ('SSIMLoss', 'detail', (1.0, 0.0)),
             ('SaliencyWeightedLoss', None, None)])
# the stage-2 branch that reads the functional / thermal source is the
# target branch: IVIF and PET swap the sources (input_order (1, 0))
BRANCHES = dict(
    tim_ivif_roadscene221_cpu=('detail', 'target'),
    tim_mri_ct_harvard_cpu=('detail', 'target'),
    tim_mri_pet_harvard_cpu=('target', 'detail'),
    tim_mri_spect_harvard_cpu=('detail', 'target'))


def _cfg(name):
    return Config.fromfile(osp.join(TIM, f'{name}.py'))


def _read_list(path):
    with open(path, encoding='utf-8') as f:
        return [ln.split()[0] for ln in f
                if ln.strip() and not ln.startswith('#')]


@pytest.mark.parametrize('name', sorted(CONFIGS))
def test_builds_the_official_network(name):
    init_default_scope('mmfusenas')
    official, params, *_ = CONFIGS[name]
    cfg, ref = _cfg(name), _cfg(official)
    net = MODELS.build(cfg.model).fusion_net
    ref_net = MODELS.build(ref.model).fusion_net
    assert sum(p.numel() for p in net.parameters()) == params
    shapes = {k: tuple(v.shape) for k, v in net.state_dict().items()}
    assert shapes == {
        k: tuple(v.shape)
        for k, v in ref_net.state_dict().items()
    }
    # the same network config; only the branch names of the losses added
    mine = cfg.model.fusion_net.to_dict()
    mine.pop('branch_names', None)
    assert mine == ref.model.fusion_net.to_dict()
    if name in BRANCHES:
        assert net.output_names == ('stage1', *BRANCHES[name], 'final')


@pytest.mark.parametrize('name', sorted(CONFIGS))
def test_losses_and_schedule(name):
    cfg = _cfg(name)
    got = [(loss['type'], loss.get('output'), loss.get('source_weights'))
           for loss in cfg.model.losses]
    assert got == LOSSES[CONFIGS[name][4]]
    assert cfg.model.losses[0]['measure'] == 'gradient'
    steps = cfg.train_cfg.max_iters
    assert cfg.train_cfg.type == 'IterBasedTrainLoop'
    # the test split is never read during training: no validation at all
    assert cfg.train_cfg.val_begin > steps
    # one checkpoint, the last step's
    assert cfg.default_hooks.checkpoint.interval == steps
    assert cfg.param_scheduler[0]['T_max'] == steps
    assert cfg.train_dataloader.dataset.pipeline[1] == dict(
        type='PairedRandomCrop', crop_size=(64, 64))


@pytest.mark.parametrize('name', sorted(CONFIGS))
def test_trains_on_the_split_without_test_pairs(name, shared_data):
    init_default_scope('mmfusenas')
    _, _, split, root, _ = CONFIGS[name]
    cfg = _cfg(name)
    train = DATASETS.build(cfg.train_dataloader.dataset)
    stems = [train.get_data_info(i)['stem'] for i in range(len(train))]
    assert stems == sorted(_read_list(osp.join(SPLITS, split, 'train.txt')))
    assert osp.realpath(train.data_root) == osp.realpath(
        osp.join(shared_data, 'fusion', root))
    test = set(_read_list(osp.join(SPLITS, split, 'test.txt')))
    excluded = set(_read_list(osp.join(SPLITS, split, 'excluded.txt')))
    assert test and not test & set(stems)
    assert not excluded & set(stems)
    val = DATASETS.build(cfg.test_dataloader.dataset)
    assert sorted(val.get_data_info(i)['stem']
                  for i in range(len(val))) == sorted(test)


def test_searched_network_config(shared_data):
    """tim_searched_ivif_roadscene221_cpu.py: the committed genotype of the
    real-data search (seed 0) at the search's width, with N_F's losses and
    the real-data schedule (1600 steps, batch 8, no validation, one
    checkpoint), on the leak-free training split."""
    init_default_scope('mmfusenas')
    cfg = _cfg('tim_searched_ivif_roadscene221_cpu')
    net = MODELS.build(cfg.model).fusion_net
    path = cfg.model.fusion_net.genotype
    assert Genotype.load(path).choices['cell0'] == 'ms'
    # the genotype's network, rebuilt at C = 16
    ref = MODELS.build(dict(type='GenotypeNet', genotype=path, channels=16))
    assert {k: v.shape for k, v in net.state_dict().items()} == {
        k: v.shape for k, v in ref.state_dict().items()}
    # the size the control matched its random genotypes against
    assert sum(p.numel() for p in net.parameters()) == 219_495
    got = [(loss['type'], loss.get('output'), loss.get('source_weights'))
           for loss in cfg.model.losses]
    assert got == LOSSES['nf']
    steps = cfg.train_cfg.max_iters
    assert steps == 1600 and cfg.train_dataloader.batch_size == 8
    assert cfg.train_cfg.val_begin > steps
    assert cfg.default_hooks.checkpoint.interval == steps
    assert cfg.param_scheduler[0]['T_max'] == steps
    train = DATASETS.build(cfg.train_dataloader.dataset)
    assert sorted(train.get_data_info(i)['stem']
                  for i in range(len(train))) == sorted(
                      _read_list(osp.join(SPLITS, 'roadscene221',
                                          'train.txt')))
