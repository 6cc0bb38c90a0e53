"""PMILoop: the outer step against hand computation, the init checkpoint,
bad task configs, and the PMI configs through tools/train.py."""
import glob
import json
import math
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.runner import Runner
from torch.utils.data import DataLoader

from mmfusenas.engine.runner import PMILoop, with_cached_text
from mmfusenas.registry import MODELS
from mmfusenas.testing.toy_data.ivif import generate_toy_dataset
from helpers import load_tool
from helpers.scalar_meta import QUERY, SUPPORT, ScalarModel, batch, grad

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
PMI_CONFIG = osp.join(REPO, 'configs', 'tim', 'pmi_fusion_toy.py')
TRAIN_CONFIG = osp.join(REPO, 'configs', 'tim', 'fusion_ivif_toy.py')


pytestmark = pytest.mark.usefixtures('one_thread')


# --------------------------------------------------- the loop (runner)
def first(items):
    return items[0]


def loader(batches):
    """Yields the given batches in order."""
    return DataLoader(batches, batch_size=1, collate_fn=first)


def test_pmi_loop_outer_step_logs_and_init_checkpoint(tmp_path):
    task_b = [batch(1.0, 1.0), batch(0.5, 2.0), batch(2.0, 0.0)]
    runner = Runner(
        model=ScalarModel(0.3),
        work_dir=str(tmp_path),
        train_dataloader=loader(SUPPORT + [QUERY]),
        train_cfg=dict(
            type='PMILoop',
            tasks=[dict(name='a'),
                   dict(name='b', dataloader=loader(task_b))],
            max_iters=1,
            inner_steps=2,
            inner_optimizer='sgd',
            inner_lr=0.1,
            order='second'),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.5)),
        default_hooks=dict(checkpoint=None),
        default_scope='mmfusenas',
        experiment_name=tmp_path.name)
    assert isinstance(runner.train_loop, PMILoop)
    runner.train()
    # task a: 0.876 * 0.16; task b by hand
    ga = 0.876 * 0.2 * 0.8
    w1 = 0.3 - 0.1 * grad(0.3, 1.0, 1.0)
    w2 = w1 - 0.1 * grad(w1, 0.5, 2.0)
    gb = grad(w2, 2.0, 0.0) * (1 - 0.1 * 2 * 0.25) * (1 - 0.1 * 2 * 1.0)
    expected = 0.3 - 0.5 * (ga + gb)
    assert runner.model.w.item() == pytest.approx(expected, abs=1e-12)
    assert runner.iter == 1

    ckpt = torch.load(osp.join(str(tmp_path), 'pmi_init.pth'))
    # written through a temporary file and a rename: nothing left over
    assert not glob.glob(osp.join(str(tmp_path), '.*.tmp'))
    assert ckpt['meta']['pmi']['tasks'] == ['a', 'b']
    assert ckpt['meta']['pmi']['order'] == 'second'
    assert ckpt['state_dict']['w'].item() == pytest.approx(expected)
    hub = runner.message_hub
    assert hub.get_scalar('train/loss_meta_b').current() == pytest.approx(
        (w2 * 2.0)**2)
    assert hub.get_scalar('train/loss').current() == pytest.approx(
        (0.528 * 1.5 - 0.5)**2 + (w2 * 2.0)**2)
    assert hub.get_scalar('train/loss_inner_a').current() == pytest.approx(
        ((0.3 - 2)**2 + (0.64 * 2 - 1)**2) / 2)


@pytest.mark.parametrize('tasks, match', [
    ([], 'non-empty list'),
    ([dict(name='a'), dict(name='b')], "only one task may use"),
    ([dict(name='a'), dict(name='a', dataloader=None)], 'unique'),
    ([dict(name='a-b')], 'Python identifier'),
    ([dict(name='a', loader=None)], "unknown keys \\['loader'\\]"),
    ((dict(name='a'), 'ranks'), "parallel must be one of"),
])
def test_pmi_loop_rejects_bad_tasks(tmp_path, tasks, match):
    parallel = 'episodes'
    if isinstance(tasks, tuple):  # (task, parallel)
        tasks, parallel = [tasks[0]], tasks[1]
    runner = Runner(
        model=ScalarModel(),
        work_dir=str(tmp_path),
        train_dataloader=loader(SUPPORT),
        train_cfg=dict(
            type='PMILoop', tasks=tasks, max_iters=1, parallel=parallel),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.5)),
        default_scope='mmfusenas',
        experiment_name=tmp_path.name)
    with pytest.raises(ValueError, match=match):
        runner.train_loop  # noqa: B018 - builds the loop


def test_pmi_loop_refuses_gradient_accumulation(tmp_path):
    """The loop steps the optimizer itself once per outer iteration: a
    config asking the wrapper to accumulate gradients is refused."""
    optim_wrapper = dict(optimizer=dict(type='SGD', lr=0.5),
                         accumulative_counts=2)
    runner = Runner(
        model=ScalarModel(0.3),
        work_dir=str(tmp_path),
        train_dataloader=loader(SUPPORT + [QUERY]),
        train_cfg=dict(type='PMILoop', tasks=[dict(name='a')], max_iters=1),
        optim_wrapper=optim_wrapper,
        default_hooks=dict(checkpoint=None),
        default_scope='mmfusenas',
        experiment_name=tmp_path.name,
        cfg=dict(optim_wrapper=optim_wrapper))  # as Runner.from_cfg keeps
    with pytest.raises(TypeError, match='accumulative_counts=1'):
        runner.train()
    assert runner.model.w.item() == pytest.approx(0.3)


# ------------------------------------- from a config via tools/train.py


@pytest.fixture(scope='module')
def toy_root(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('toy') / 'toy')
    generate_toy_dataset(root, num=6, seed=3, size=64, val_fraction=0.34)
    return root


def tiny(toy_root, max_iters=2):
    """Overrides: a 4-channel network, 32x32 crops, K = 1."""
    opts = [
        f'train_cfg.max_iters={max_iters}', 'train_cfg.inner_steps=1',
        'model.fusion_net.channels=4', 'default_hooks.checkpoint.interval=1',
        'default_hooks.logger.interval=1', 'log_processor.window_size=1'
    ]
    for key in ('train_dataloader', 'train_cfg.tasks.1.dataloader'):
        opts += [
            f'{key}.dataset.data_root={toy_root}', f'{key}.batch_size=2',
            f'{key}.dataset.pipeline.1.crop_size=[32,32]'
        ]
    return ['--cfg-options'] + opts


def test_pmi_config_trains_resumes_and_initialises_training(
        toy_root, tmp_path):
    train = load_tool('tools/train.py')
    full, resumed = str(tmp_path / 'full'), str(tmp_path / 'resumed')
    train.main([PMI_CONFIG, '--work-dir', full] + tiny(toy_root))
    init = osp.join(full, 'pmi_init.pth')
    ckpt = torch.load(init)
    assert ckpt['meta']['pmi']['tasks'] == ['ivif', 'viir']
    assert ckpt['meta']['iter'] == 2
    (scalars, ) = glob.glob(osp.join(full, '*', 'vis_data', 'scalars.json'))
    with open(scalars) as f:
        records = [json.loads(line) for line in f]
    logged = [r for r in records if 'loss' in r]
    assert [r['iter'] for r in logged] == [1, 2]
    for key in ('loss_inner_ivif', 'loss_meta_ivif', 'loss_inner_viir',
                'loss_meta_viir'):
        assert all(math.isfinite(r[key]) for r in logged)

    # resuming from iteration 1 ends with the same initialisation
    train.main([
        PMI_CONFIG, '--work-dir', resumed, '--resume',
        osp.join(full, 'iter_1.pth')
    ] + tiny(toy_root))
    again = torch.load(osp.join(resumed, 'pmi_init.pth'))['state_dict']
    assert all(torch.equal(again[k], v) for k, v in ckpt['state_dict'].items())

    # a training config starts from it with load_from
    cfg = Config.fromfile(TRAIN_CONFIG)
    cfg.merge_from_dict({
        'model.fusion_net.channels': 4,
        'load_from': init,
        'work_dir': str(tmp_path / 'finetune'),
        'train_dataloader.dataset.data_root': toy_root,
        'val_dataloader.dataset.data_root': toy_root,
        'test_dataloader.dataset.data_root': toy_root,
    })
    runner = Runner.from_cfg(with_cached_text(cfg))
    runner.load_or_resume()
    state = runner.model.state_dict()
    assert set(state) == set(ckpt['state_dict'])
    assert all(torch.equal(state[k], v) for k, v in ckpt['state_dict'].items())


@pytest.mark.parametrize('name', [
    'pmi_fusion', 'fusion_ivif_tno', 'fusion_ivif_roadscene',
    'fusion_ivif_m3fd', 'fusion_ivif_toy', 'fusion_mri_ct', 'fusion_mri_pet',
    'fusion_mri_spect'
])
def test_configs_share_the_network_of_the_pmi_init(name):
    """pmi_init.pth of pmi_fusion(_toy) loads into every training config."""
    ref = Config.fromfile(PMI_CONFIG).model
    cfg = Config.fromfile(osp.join(REPO, 'configs', 'tim', f'{name}.py'))
    assert cfg.model.fusion_net == ref.fusion_net
    assert cfg.model.data_preprocessor == ref.data_preprocessor
    model = MODELS.build(cfg.model)
    assert sum(p.numel() for p in model.parameters()) == 994917
