"""TIM stage 2 (N_T) configs: search on top of N_F, joint two-stage training.

* every search / training config builds, with the paper's schedules, the
  branch losses on the outputs they name, and the N_F of the stage-1 / PMI
  configs (so their checkpoints load through ``stage1_init``);
* ``stage1_init`` copies a stage-1 checkpoint into stage 1 exactly;
* end to end on toy data: the N_T search exports a genotype whose network
  the joint two-stage training rebuilds and trains.
"""
import json
import os.path as osp

import pytest
import torch
from mmengine.config import Config

from mmfusenas.utils.checkpoint import read_checkpoint
from mmfusenas.models import ImageFusor, TIMTwoStageFusionNet
from mmfusenas.models.mutables import Genotype
from mmfusenas.registry import MODELS
from mmfusenas.testing.toy_data.ivif import generate_toy_dataset
from helpers import load_tool

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TIM = osp.join(REPO, 'configs', 'tim')
SEARCHES = {
    'search_enhance_ivif': 'ivif',
    'search_enhance_ivif_toy': 'ivif',
    'search_enhance_mri_ct': 'medical',
    'search_enhance_mri_pet': 'medical',
    'search_enhance_mri_spect': 'medical',
}
TRAININGS = {
    'train_two_stage_ivif_tno': 'ivif',
    'train_two_stage_ivif_roadscene': 'ivif',
    'train_two_stage_ivif_m3fd': 'ivif',
    'train_two_stage_ivif_toy': 'ivif',
    'train_two_stage_mri_ct': 'medical',
    'train_two_stage_mri_pet': 'medical',
    'train_two_stage_mri_spect': 'medical',
}
# (loss type, output, source weights) of the branch losses: sources are
# stacked (ir, vi) / (mri, other); target = IR / other, detail = VIS / MRI
BRANCH = dict(
    ivif=[('IntensityLoss', 'target', (1.0, 0.0)),
          ('SSIMLoss', 'detail', (0.0, 1.0))],
    medical=[('IntensityLoss', 'target', (0.0, 1.0)),
             ('SSIMLoss', 'detail', (1.0, 0.0))])


pytestmark = pytest.mark.usefixtures('one_thread')


def cfg_of(name):
    return Config.fromfile(osp.join(TIM, f'{name}.py'))


def branch_losses(losses):
    return [(loss['type'], loss['output'], tuple(loss['source_weights']))
            for loss in losses if loss.get('output') in ('target', 'detail')]


@pytest.mark.parametrize('name', sorted(SEARCHES))
def test_search_configs(name):
    cfg = cfg_of(name)
    arch = cfg.model.architecture
    net = arch.fusion_net
    assert cfg.model.space_path == 'fusion_net.stage2'
    assert net.branch_names == ('detail', 'target')
    assert branch_losses(arch.losses) == BRANCH[SEARCHES[name]]
    # l_T on the final image
    assert [l_['type'] for l_ in arch.losses if 'output' not in l_] == \
        ['SaliencyWeightedLoss']
    merge = 'mask' if SEARCHES[name] == 'ivif' else 'concat'
    assert net.stage2['merge'] == merge
    # Sec. 4.2: SGD 1e-3, cosine annealing, 100 epochs
    weights = cfg.optim_wrapper.weights.optimizer
    assert (weights.type, weights.lr) == ('SGD', 1e-3)
    assert cfg.param_scheduler.weights[0].type == 'CosineAnnealingLR'
    if not name.endswith('_toy'):
        assert cfg.train_cfg.max_epochs == 100
        assert cfg.model.frozen_modules == ['fusion_net.stage1']
        assert cfg.model.arch_update_interval == 20
        assert net.stage1_init.startswith('work_dirs/fusion_')
        # the searched N_F of the stage-1 / PMI configs
        assert net.stage1 == cfg_of('pmi_fusion').model.fusion_net
    algo = MODELS.build(cfg.model)
    # the two cells of a branch share one genotype: 4 architecture keys
    assert sorted(algo.arch_params.keys()) == [
        'nt/first/op0', 'nt/first/op1', 'nt/second/op0', 'nt/second/op1'
    ]


@pytest.mark.parametrize('name', sorted(TRAININGS))
def test_two_stage_training_configs(name):
    cfg = cfg_of(name)
    net = cfg.model.fusion_net
    assert net.type == 'TIMTwoStageFusionNet'
    assert net.stage2.type == 'GenotypeNet'
    assert net.stage2.genotype.startswith('work_dirs/search_enhance_')
    assert branch_losses(cfg.model.losses) == BRANCH[TRAININGS[name]]
    info = [l_ for l_ in cfg.model.losses if l_.type == 'InfoPreservationLoss']
    assert len(info) == 1 and info[0].output == 'stage1'
    toy = name.endswith('_toy')
    # l_F: U2Fusion's weight-free gradient measure by default (the paper's
    # VGG16 measure needs a local weight file: an option)
    assert info[0].measure == 'gradient'
    # Sec. 4.2: Adam 1e-4, 100 epochs
    assert (cfg.optim_wrapper.optimizer.type,
            cfg.optim_wrapper.optimizer.lr) == ('Adam', 1e-4)
    assert cfg.train_cfg.type == 'EpochBasedTrainLoop'
    if not toy:
        assert cfg.train_cfg.max_epochs == 100
        assert net.stage1 == cfg_of('pmi_fusion').model.fusion_net
    if TRAININGS[name] == 'medical':
        assert cfg.train_dataloader.dataset.ann_file == 'splits/train.txt'
        assert cfg.val_dataloader.dataset.ann_file == 'splits/val.txt'


def tiny_two_stage(stage1_init=None):
    cells = [dict(type='SuccessiveCell', ops=['DilConv_3_2'] * 2)]
    return TIMTwoStageFusionNet(
        stage1=dict(
            type='TIMFusionNet', channels=4, in_channels=2, cells=cells),
        stage2=dict(
            type='TIMEnhanceNet',
            channels=4,
            first_cells=cells,
            second_cells=cells),
        stage1_init=stage1_init)


def test_stage1_init_loads_a_stage1_run(tmp_path):
    torch.manual_seed(0)
    stage1_run = ImageFusor(tiny_two_stage().stage1)
    path = str(tmp_path / 'iter_1.pth')
    torch.save(dict(state_dict=stage1_run.state_dict(), meta=dict()), path)
    net = tiny_two_stage(stage1_init=path)
    before = {k: v.clone() for k, v in net.stage2.state_dict().items()}
    model = ImageFusor(net)  # init_weights reaches the fusion net
    model.init_weights()
    for k, v in stage1_run.fusion_net.state_dict().items():
        assert torch.equal(net.stage1.state_dict()[k], v), k
    for k, v in net.stage2.state_dict().items():
        assert torch.equal(v, before[k]), k  # stage 2 untouched
    # a checkpoint of another network is refused, naming the option
    other = ImageFusor(tiny_two_stage().stage2)
    torch.save(dict(state_dict=other.state_dict()), path)
    with pytest.raises(ValueError, match='stage1_init'):
        tiny_two_stage(stage1_init=path).init_weights()
    with pytest.raises(FileNotFoundError, match='stage1_init'):
        tiny_two_stage(stage1_init=str(tmp_path / 'none.pth')).init_weights()


def records(work_dir):
    (path, ) = __import__('glob').glob(
        osp.join(work_dir, '*', 'vis_data', 'scalars.json'))
    with open(path) as f:
        return [json.loads(line) for line in f]


@pytest.mark.slow
def test_toy_search_then_joint_training(tmp_path):
    # about 40 s on 2 shared cores: search_enhance_ivif_toy.py for one epoch
    # on 8 toy pairs, then train_two_stage_ivif_toy.py on its genotype
    root = str(tmp_path / 'toy')
    generate_toy_dataset(root, num=8, seed=3, size=64, val_fraction=0.25)
    train = load_tool('tools/train.py')
    search_dir = str(tmp_path / 'search')
    opts = ['train_cfg.max_epochs=1', 'model.arch_update_interval=1']
    for loader in ('train_dataloader', 'train_cfg.arch_dataloader'):
        opts += [f'{loader}.dataset.data_root={root}']
    train.main([
        osp.join(TIM, 'search_enhance_ivif_toy.py'), '--work-dir', search_dir,
        '--cfg-options'
    ] + opts)
    geno_path = osp.join(search_dir, 'genotypes', 'latest.yaml')
    geno = Genotype.load(geno_path)
    assert sorted(geno.choices) == [
        'nt/first/op0', 'nt/first/op1', 'nt/second/op0', 'nt/second/op1'
    ]
    (rec, ) = [r for r in records(search_dir) if 'loss_int_target' in r]
    assert {'loss_ssim_detail', 'loss_sal', 'hypergrad_norm'} <= set(rec)

    work = str(tmp_path / 'train')
    opts = [
        'train_cfg.max_epochs=1', 'param_scheduler.0.T_max=1',
        f'model.fusion_net.stage2.genotype={geno_path}'
    ]
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        opts += [f'{loader}.dataset.data_root={root}']
    train.main([
        osp.join(TIM, 'train_two_stage_ivif_toy.py'), '--work-dir', work,
        '--cfg-options'
    ] + opts)
    recs = records(work)
    losses = [r for r in recs if 'loss_info' in r]
    assert losses and {'loss_int_target', 'loss_ssim_detail',
                       'loss_sal'} <= set(losses[0])
    assert any('fusion/EN' in r for r in recs)
    # the trained stage 2 is the searched genotype's network
    ckpt = read_checkpoint(osp.join(work, 'epoch_1.pth'))
    rebuilt = MODELS.build(dict(type='GenotypeNet', genotype=geno_path))
    assert {
        k[len('fusion_net.stage2.'):]
        for k in ckpt['state_dict'] if k.startswith('fusion_net.stage2.')
    } == set(rebuilt.state_dict())
