"""Protocol of projects/reproductions/bench_tim_two_stage.py: the generated configs of
the two-stage chain build, hold the held-out pairs out of every training
step, chain the steps' outputs (N_F checkpoint -> search -> genotype) and
give the official N_T the official architecture."""
import os
import os.path as osp
import sys

import pytest
import torch
from mmengine.config import Config

from mmfusenas.registry import MODELS
from helpers import load_tool


@pytest.fixture(scope='module')
def bench():
    return load_tool('projects/reproductions/bench_tim_two_stage.py')


def make_pairs(root, folder, prefix, n):
    for sub in prefix.values():
        os.makedirs(osp.join(root, folder, sub))
        for i in range(n):
            open(osp.join(root, folder, sub, f'p{i:02d}.png'), 'w').close()


# mri_ct is slow-marked (CI time); ivif keeps the fast representative
@pytest.mark.parametrize(
    'task', ['ivif', pytest.param('mri_ct', marks=pytest.mark.slow)])
def test_generated_configs(bench, tmp_path, task):
    data = str(tmp_path / 'data')
    spec = bench.TASKS[task]
    make_pairs(data, spec['folder'], spec['prefix'], 11)
    work = str(tmp_path / 'work')
    bench.main([
        '--task', task, '--data', data, '--work-dir', work, '--channels',
        '8', '--val', '3', '--nf-iters', '7', '--joint-iters', '9',
        '--batch', '2', '--crop', '32', '--search-epochs', '2',
        '--arch-interval', '3', '--workers', '3', '--dry-run'
    ])
    read = lambda name: open(osp.join(work, 'splits', name + '.txt')).read(
    ).split()  # noqa: E731
    train, val = read('train'), read('val')
    assert val == ['p08', 'p09', 'p10'] and train == [f'p{i:02d}'
                                                      for i in range(8)]
    assert read('search_weights') + read('search_arch') == train
    cfgs = {
        n: Config.fromfile(osp.join(work, 'configs', n + '.py'))
        for n in ('nf', 'nf_alone', 'search', 'joint_searched',
                  'joint_official')
    }
    root = osp.join(data, spec['folder']) + '/'
    # N_F: nf_iters of a cosine schedule over nf_iters + joint_iters,
    # checkpoint + validation at its end (stage 1 of the chain)
    nf = cfgs['nf']
    assert nf.train_cfg.max_iters == 7 and nf.train_cfg.val_interval == 7
    assert nf.default_hooks.checkpoint.interval == 7
    assert nf.param_scheduler[0].T_max == 16
    # N_F alone: that run resumed from its checkpoint and continued to
    # nf_iters + joint_iters (weights, optimizer, schedule), validated once
    # at the end; otherwise the same config
    alone = cfgs['nf_alone']
    assert alone.resume is True
    assert alone.load_from == osp.join(work, 'nf', 'iter_7.pth')
    assert alone.train_cfg.max_iters == 16
    assert alone.train_cfg.val_interval == 16
    assert alone.param_scheduler == nf.param_scheduler
    assert alone.model == nf.model and alone.optim_wrapper == nf.optim_wrapper
    assert alone.train_dataloader == nf.train_dataloader
    # --workers: loader processes of every training step
    for name in ('nf', 'joint_official', 'joint_searched'):
        assert cfgs[name].train_dataloader.num_workers == 3
        assert cfgs[name].train_dataloader.persistent_workers is True
    assert cfgs['search'].train_dataloader.num_workers == 3
    assert cfgs['search'].train_cfg.arch_dataloader.num_workers == 3
    assert nf.model.fusion_net.channels == 8
    assert nf.optim_wrapper.optimizer.lr == 1e-3
    assert nf.train_dataloader.dataset.ann_file.endswith('train.txt')
    assert nf.val_dataloader.dataset.ann_file.endswith('val.txt')
    assert nf.train_dataloader.dataset.data_root == root
    info = [l for l in nf.model.losses if l.type == 'InfoPreservationLoss']
    assert info and all(l.measure == 'gradient' for l in info)
    # search: on top of the frozen N_F checkpoint, on the two train halves
    s = cfgs['search']
    arch = s.model.architecture.fusion_net
    assert arch.stage1_init == osp.join(work, 'nf', 'iter_7.pth')
    assert arch.stage2.channels == 8 and s.model.arch_update_interval == 3
    assert s.train_dataloader.dataset.ann_file.endswith('search_weights.txt')
    assert s.train_cfg.arch_dataloader.dataset.ann_file.endswith(
        'search_arch.txt')
    # joint: 8 training pairs / batch 2 = 4 iterations an epoch -> 2 epochs
    j = cfgs['joint_searched']
    assert j.train_cfg.max_epochs == 2 and j.train_cfg.val_interval == 2
    assert j.model.fusion_net.stage2 == dict(
        type='GenotypeNet',
        genotype=osp.join(work, 'search', 'genotypes', 'latest.yaml'))
    assert j.model.fusion_net.stage1_init == osp.join(work, 'nf',
                                                      'iter_7.pth')
    o = cfgs['joint_official'].model.fusion_net
    official = Config.fromfile(
        osp.join(bench.CFG, spec['official'])).model.fusion_net.stage2
    assert o.stage2.first_cells == official.first_cells
    assert o.stage2.second_cells == official.second_cells
    # (ConfigDict.merge is a method: index the key)
    assert o.stage2['merge'] == official['merge']
    assert o.stage2['input_order'] == official['input_order']
    assert o.stage2.channels == 8
    # the official two-stage network of the joint config builds and runs
    net = MODELS.build(dict(o, stage1_init=None))
    out = net(torch.rand(1, 2, 16, 16), return_all=True)
    assert set(out) == {'stage1', 'detail', 'target', 'final'}


def test_val_results_reads_every_validation(bench, tmp_path):
    run = tmp_path / 'run' / '20260101_000000' / 'vis_data'
    run.mkdir(parents=True)
    (run / 'scalars.json').write_text(
        '{"lr": 0.001, "loss": 1.0, "iter": 5, "step": 5}\n'
        '{"fusion/EN": 6.5, "fusion/MI": 2.0, "data_time": 0.1, "time": '
        '1.0, "step": 5}\n'
        '{"lr": 0.0005, "loss": 0.5, "iter": 10, "step": 10}\n'
        '{"fusion/EN": 6.9, "fusion/MI": 2.5, "step": 10}\n')
    assert bench.val_results(str(tmp_path / 'run')) == [
        dict(EN=6.5, MI=2.0), dict(EN=6.9, MI=2.5)
    ]
    with pytest.raises(FileNotFoundError, match='scalars.json'):
        bench.val_results(str(tmp_path))


def test_too_few_pairs_is_an_error_naming_the_folder(bench, tmp_path):
    make_pairs(str(tmp_path), 'TNO', dict(ir='ir', vi='vi'), 3)
    with pytest.raises(FileNotFoundError, match='TNO'):
        bench.main(['--data', str(tmp_path), '--work-dir',
                    str(tmp_path / 'w'), '--val', '3', '--dry-run'])


def step(tmp_path, name, code):
    """A step whose command appends '<name> start' / '<name> end' to a
    shared journal around ``code``."""
    journal = str(tmp_path / 'journal.txt')
    script = (f'open({journal!r}, "a").write("{name} start\\n"); {code}; '
              f'open({journal!r}, "a").write("{name} end\\n")')
    return dict(name=name, cmd=[sys.executable, '-c', script],
                log=str(tmp_path / f'{name}.log'))


def journal(tmp_path):
    return (tmp_path / 'journal.txt').read_text().split('\n')[:-1]


def test_run_steps_waits_for_dependencies_and_runs_side_by_side(
        bench, tmp_path):
    steps = [step(tmp_path, 'a', 'import time; time.sleep(0.3)'),
             step(tmp_path, 'b', 'import time; time.sleep(1.0)'),
             step(tmp_path, 'c', 'pass'),
             step(tmp_path, 'd', 'pass')]
    deps = dict(b=['a'], c=['a'], d=['b'])
    seconds = bench.run_steps(steps, deps, jobs=2, poll=0.05)
    assert set(seconds) == {'a', 'b', 'c', 'd'}
    events = journal(tmp_path)
    pos = {e: i for i, e in enumerate(events)}
    # b and c start after a ended and run side by side (c ends while b
    # sleeps); d waits for b
    assert pos['a end'] < pos['b start'] and pos['a end'] < pos['c start']
    assert pos['c end'] < pos['b end'] < pos['d start']


def test_run_steps_one_job_runs_in_order(bench, tmp_path):
    steps = [step(tmp_path, n, 'pass') for n in 'abc']
    bench.run_steps(steps, dict(c=['a']), jobs=1, poll=0.01)
    assert journal(tmp_path) == ['a start', 'a end', 'b start', 'b end',
                                 'c start', 'c end']


def test_run_steps_a_failing_step_stops_the_run(bench, tmp_path):
    # b fails only once a has started (else, on a loaded machine, a could
    # be terminated before its interpreter wrote its first line)
    j = str(tmp_path / 'journal.txt')
    wait_for_a = ('import time; all(time.sleep(0.01) or True for _ in '
                  f'iter(lambda: "a start" in open({j!r}).read(), True)); ')
    steps = [step(tmp_path, 'a', 'import time; time.sleep(30)'),
             step(tmp_path, 'b', wait_for_a + 'raise SystemExit(3)'),
             step(tmp_path, 'c', 'pass')]
    with pytest.raises(RuntimeError, match='step b failed .exit 3.*b.log'):
        bench.run_steps(steps, dict(c=['b']), jobs=2, poll=0.05)
    # the running step was terminated, the dependent one never started
    assert journal(tmp_path) == ['a start', 'b start'] or \
        journal(tmp_path) == ['b start', 'a start']
    with pytest.raises(ValueError, match='--jobs'):
        bench.run_steps(steps, {}, jobs=0)
