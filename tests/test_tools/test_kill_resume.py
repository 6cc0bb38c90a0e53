"""``kill -9`` at seven moments of ``tools/train.py``, then ``--resume``: the
run ends with the weights and optimizer state of an uninterrupted run, bit
for bit, and the killed and the resumed run together validated each step
once, with the uninterrupted run's scores (a validation the kill
interrupted is run again)."""
import glob
import json
import os
import os.path as osp
import subprocess
import sys

import pytest
import torch

from helpers import load_tool
from helpers.numerics import assert_equal_states

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG = osp.join(REPO, 'configs', 'baselines', 'fusion_toy.py')
KILL_AT = osp.join(REPO, 'tests', 'helpers', 'kill_at.py')

#: every run on one intra-op thread: the runs in this process (the fixture)
#: and the killed run's process (``OMP_NUM_THREADS``, :func:`run`) compute
#: the same bits whatever thread count the caller left
pytestmark = pytest.mark.usefixtures('one_thread')

#: (moment, the how-manieth time it is reached): every kill lands after a
#: checkpoint exists (iterations 2 and 4 save, one checkpoint is kept)
MOMENTS = [
    ('checkpoint', 2),  # iter_4.pth written, not renamed: resume from 2
    pytest.param('step', 5, marks=pytest.mark.slow),  # before update 5
    pytest.param('last_checkpoint', 2, marks=pytest.mark.slow),
    pytest.param('rotation', 1, marks=pytest.mark.slow),  # iter_2.pth
    pytest.param('val', 2, marks=pytest.mark.slow),  # validation of iter 4
    pytest.param('val', 3, marks=pytest.mark.slow),  # the final one (iter 6)
    pytest.param('image', 3, marks=pytest.mark.slow),
]


def train_args(toy_root, work_dir):
    opts = [
        'train_cfg.max_iters=6', 'train_cfg.val_interval=2',
        'default_hooks.checkpoint.interval=2',
        'default_hooks.checkpoint.max_keep_ckpts=1',
        'train_dataloader.batch_size=2',
        'train_dataloader.dataset.pipeline.1.crop_size=[32,32]'
    ] + [
        f'{split}_dataloader.dataset.data_root={toy_root}'
        for split in ('train', 'val', 'test')
    ]
    return [CONFIG, '--work-dir', work_dir, '--cfg-options'] + opts


def run(args):
    env = dict(os.environ, OMP_NUM_THREADS='1', MKL_NUM_THREADS='1')
    return subprocess.run([sys.executable] + args, cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=600)


def train_here(args):
    """``tools/train.py`` in this process: the runs no one kills (a process
    per run imported torch, mmdet and the package again, most of this
    test's time); only the killed run needs a process of its own. A
    failing run raises."""
    load_tool('tools/train.py').main(args)


def final_state(work_dir):
    ckpt = torch.load(osp.join(work_dir, 'iter_6.pth'), weights_only=True)
    return ckpt['state_dict'], ckpt['optimizer']


def validations(work_dir):
    """The fusion scores of every validation of the work dir's runs, in
    the order of the runs (their timestamp folders)."""
    rows = []
    for path in sorted(glob.glob(osp.join(work_dir, '*', 'vis_data',
                                          'scalars.json'))):
        with open(path) as f:
            rows += [json.loads(line) for line in f if line.strip()]
    return [{k: v for k, v in row.items() if k.startswith('fusion/')}
            for row in rows if 'fusion/EN' in row]


@pytest.fixture(scope='module')
def uninterrupted(toy_root, tmp_path_factory):
    work = str(tmp_path_factory.mktemp('full'))
    train_here(train_args(toy_root, work))
    return final_state(work) + (validations(work),)


@pytest.mark.parametrize('moment, count', MOMENTS)
def test_killed_run_resumes_bit_identically(moment, count, toy_root,
                                            uninterrupted, tmp_path, capfd):
    work = str(tmp_path / 'w')
    killed = run([KILL_AT, moment, str(count), '--'] +
                 train_args(toy_root, work))
    assert killed.returncode == -9, killed.stderr[-3000:]
    final = (moment, count) == ('val', 3)  # killed after the last step
    assert osp.exists(osp.join(work, 'iter_6.pth')) == final
    assert any(name.endswith('.pth') for name in os.listdir(work))

    capfd.readouterr()
    train_here(train_args(toy_root, work) + ['--resume'])
    resumed = capfd.readouterr()
    assert 'resumed' in (resumed.out + resumed.err).lower()
    state, optim = final_state(work)
    assert_equal_states(state, uninterrupted[0])
    assert_equal_states(optim, uninterrupted[1])
    assert len(uninterrupted[2]) == 3  # iterations 2, 4 and 6
    assert validations(work) == uninterrupted[2]
    again = 'was interrupted before its results were written'
    # killed after iter_4.pth was written and before its validation ended
    assert (again in resumed.out + resumed.err) == (
        moment in ('val', 'image', 'rotation'))
    leftovers = [n for n in os.listdir(work) if n.endswith('.tmp')]
    assert not leftovers or moment in ('checkpoint', 'image')
