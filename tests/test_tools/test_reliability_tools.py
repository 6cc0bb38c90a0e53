"""tools/train.py and tools/test.py refuse what would be silently wrong:
checkpoints of another architecture, missing / extra keys, unusable
checkpoint files, a second run on a locked work dir, config typos; outputs
respect the umask."""
import glob
import os
import os.path as osp
import stat
import subprocess
import sys

import pytest
import torch
from mmengine.config import Config
from mmengine.hooks import Hook

from mmfusenas.engine.runner import build_runner
from mmfusenas.registry import HOOKS
from mmfusenas.testing.toy_data.ivif import generate_toy_dataset
from mmfusenas.utils.workdir_lock import WorkDirLock, WorkDirLockedError
from helpers import load_tool

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG = osp.join(REPO, 'configs', 'baselines', 'fusion_toy.py')


@pytest.fixture(scope='module')
def toy_root(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('toy') / 'toy')
    old = os.umask(0o022)
    try:
        generate_toy_dataset(root, num=4, seed=1, size=64, val_fraction=0.5)
    finally:
        os.umask(old)
    return root


def overrides(toy_root, max_iters=2):
    opts = [
        f'train_cfg.max_iters={max_iters}', 'train_cfg.val_interval=100',
        'default_hooks.checkpoint.interval=2', 'train_dataloader.batch_size=1',
        'train_dataloader.dataset.pipeline.1.crop_size=[32,32]'
    ]
    for split in ('train', 'val', 'test'):
        opts.append(f'{split}_dataloader.dataset.data_root={toy_root}')
    return ['--cfg-options'] + opts


@pytest.fixture(scope='module')
def trained(toy_root, tmp_path_factory):
    work = str(tmp_path_factory.mktemp('trained') / 'w')
    old = os.umask(0o022)
    try:
        load_tool('tools/train.py').main([CONFIG, '--work-dir', work] +
                                         overrides(toy_root))
    finally:
        os.umask(old)
    return work


def test_outputs_respect_the_umask(trained, toy_root):
    """Checkpoints and the toy-data folder were 0600 / 0700 under umask
    022."""
    mode = stat.S_IMODE(os.stat(osp.join(trained, 'iter_2.pth')).st_mode)
    assert mode == 0o644
    mode = stat.S_IMODE(os.stat(osp.join(trained, 'last_checkpoint')).st_mode)
    assert mode == 0o644
    assert stat.S_IMODE(os.stat(toy_root).st_mode) == 0o755


def test_test_tool_refuses_a_checkpoint_of_another_architecture(
        trained, toy_root, tmp_path):
    test = load_tool('tools/test.py')
    other = str(tmp_path / 'other.pth')
    torch.save(
        dict(
            meta=dict(),
            state_dict={
                'backbone.conv1.weight': torch.zeros(8, 3, 3, 3),
                'head.fc.bias': torch.zeros(2)
            }), other)
    with pytest.raises(RuntimeError) as info:
        test.main([CONFIG, other, '--work-dir', str(tmp_path / 't')] +
                  overrides(toy_root))
    msg = str(info.value)
    assert msg.startswith(f'checkpoint {other} does not fit the model '
                          'ImageFusor of this config: ')
    assert '2 unexpected key(s) (backbone.conv1.weight, head.fc.bias)' in msg
    assert "keys missing (fusion_net." in msg
    assert 'checked_load.strict=False' in msg and len(msg) < 900


def test_test_tool_refuses_missing_keys_and_has_an_opt_out(
        trained, toy_root, tmp_path):
    test = load_tool('tools/test.py')
    ckpt = torch.load(osp.join(trained, 'iter_2.pth'), weights_only=True)
    dropped = sorted(ckpt['state_dict'])[0]
    del ckpt['state_dict'][dropped]
    partial = str(tmp_path / 'partial.pth')
    torch.save(ckpt, partial)
    args = [CONFIG, partial, '--work-dir', str(tmp_path / 't')]
    with pytest.raises(RuntimeError,
                       match=f"1 of the model's .* keys missing "
                       f'\\({dropped}\\)'):
        test.main(args + overrides(toy_root))
    metrics = test.main(args + overrides(toy_root) + [
        'default_hooks.checked_load.strict=False'])
    assert metrics and all(isinstance(v, float) for v in metrics.values())
    # the untouched checkpoint evaluates strictly
    assert test.main([CONFIG, osp.join(trained, 'iter_2.pth'), '--work-dir',
                      str(tmp_path / 't')] + overrides(toy_root))


def test_test_tool_runs_while_the_work_dir_is_locked(trained, toy_root):
    """Evaluating a checkpoint while its training runs is allowed."""
    test = load_tool('tools/test.py')
    with WorkDirLock(trained):
        assert test.main([CONFIG, osp.join(trained, 'iter_2.pth'),
                          '--work-dir', trained] + overrides(toy_root))


def test_train_tool_refuses_a_locked_work_dir(trained, toy_root):
    train = load_tool('tools/train.py')
    before = sorted(os.listdir(trained))
    with WorkDirLock(trained):
        with pytest.raises(WorkDirLockedError, match='another --work-dir'):
            train.main([CONFIG, '--work-dir', trained, '--resume'] +
                       overrides(toy_root, 4))
    assert sorted(os.listdir(trained)) == before


HOLD = ('import time; from mmfusenas.utils.workdir_lock import WorkDirLock; '
        'lock = WorkDirLock({wd!r}).acquire(); print("locked", flush=True); '
        'time.sleep(60)')


def test_a_killed_runs_lock_is_taken_over_and_said_so(toy_root, tmp_path):
    train, work = load_tool('tools/train.py'), str(tmp_path / 'w')
    holder = subprocess.Popen([sys.executable, '-c', HOLD.format(wd=work)],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == 'locked'
        with pytest.raises(WorkDirLockedError,
                           match=rf'in use by another run \(pid '
                           rf'{holder.pid} '):
            train.main([CONFIG, '--work-dir', work] + overrides(toy_root))
        # nothing was written by the refused run
        assert sorted(os.listdir(work)) == ['.mmfusenas.lock']
    finally:
        holder.kill()  # SIGKILL: the lock file stays, the flock goes
        holder.wait()
    train.main([CONFIG, '--work-dir', work] + overrides(toy_root))
    log = ''.join(open(p).read() for p in glob.glob(f'{work}/*/*.log'))
    assert f'pid {holder.pid}' in log and 'ended abnormally' in log


def test_the_lock_is_released_after_a_failed_and_a_finished_run(
        toy_root, tmp_path):
    train, work = load_tool('tools/train.py'), str(tmp_path / 'w')
    args = [CONFIG, '--work-dir', work] + overrides(toy_root)
    with pytest.raises(ValueError, match='learning rate'):
        train.main(args + ['optim_wrapper.optimizer.lr=-1'])
    with WorkDirLock(work) as lock:
        assert lock.locked
        # opting out (tools/test.py does) does not take the lock
        train.main(args + ['work_dir_lock=False'])
    train.main(args[:3] + ['--resume'] + overrides(toy_root, 4))
    with WorkDirLock(work) as lock:
        assert lock.locked
    assert osp.isfile(osp.join(work, 'iter_4.pth'))


@pytest.mark.parametrize('case', ['empty', 'truncated', 'loop', 'dangling',
                                  'folder'])
def test_bad_checkpoint_files_are_named(trained, tmp_path, case):
    train, test = load_tool('tools/train.py'), load_tool('tools/test.py')
    path = str(tmp_path / 'ckpt.pth')
    if case == 'empty':
        open(path, 'wb').close()
        expected = r'is empty \(0 bytes\)'
    elif case == 'truncated':
        with open(osp.join(trained, 'iter_2.pth'), 'rb') as f:
            data = f.read()
        with open(path, 'wb') as f:
            f.write(data[:len(data) // 2])
        expected = r'\(\d+ bytes\) cannot be read by torch\.load.*truncated'
    elif case == 'loop':
        os.symlink(path, path)
        expected = 'is a symlink loop'
    elif case == 'dangling':
        os.symlink(str(tmp_path / 'gone.pth'), path)
        expected = "is a dangling symlink to '.*gone.pth'"
    else:
        os.makedirs(path)
        expected = 'is a folder'
    with pytest.raises((OSError, ValueError),
                       match=f'--resume checkpoint {path} {expected}'):
        train.main([CONFIG, '--resume', path])
    with pytest.raises((OSError, ValueError),
                       match=f'checkpoint {path} {expected}'):
        test.main([CONFIG, path])


def test_cfg_option_typos_are_caught_at_start_up(toy_root, tmp_path):
    train = load_tool('tools/train.py')
    work = str(tmp_path / 'w')
    with pytest.raises(KeyError, match=r"nothing reads a top-level "
                       r"'max_iters' \(tools/misc/check_config\.py names "
                       r'close keys\)'):
        train.main([CONFIG, '--work-dir', work, '--cfg-options',
                    'max_iters=1'])
    assert not osp.exists(work)  # refused before anything was written
    # an unknown checkpoint-hook key fails when the hook is built, not at
    # the first save
    with pytest.raises(TypeError, match=r"unknown argument\(s\) "
                       r"\['max_keep_ckpt'\]"):
        train.main([CONFIG, '--work-dir', work] + overrides(toy_root) +
                   ['default_hooks.checkpoint.max_keep_ckpt=1'])
    assert not glob.glob(osp.join(work, '*.pth'))
    # the opt-in checker reports new nested keys with the closest existing
    # ones, and a top-level key with the setting it resembles
    check = load_tool('tools/misc/check_config.py')
    warnings = check.check_cfg_options(
        Config.fromfile(CONFIG), {
            'default_hooks.checkpoint.max_keep_ckpt': 1,
            'train_cfg.max_iters': 3,
            'train_dataloader.dataset.pipeline.1.crop_size': [8, 8]
        })
    assert warnings == [
        '--cfg-options default_hooks.checkpoint.max_keep_ckpt: not in the '
        'config (it is added; check the spelling); did you mean '
        'default_hooks.checkpoint.max_keep_ckpts?'
    ]
    with pytest.raises(KeyError, match=r"top-level 'max_iters'; did you mean "
                       r'train_cfg\.max_iters\?'):
        check.check_cfg_options(Config.fromfile(CONFIG), {'max_iters': 1})


@HOOKS.register_module(force=True)
class _NaNGradientInjector(Hook):
    """Test helper: from iteration ``at`` (0-based) on, the gradient of the
    first fusion-net parameter becomes NaN (its loss stays finite)."""

    def __init__(self, at):
        self.at = at

    def before_train(self, runner):
        param = next(runner.model.fusion_net.parameters())
        param.register_hook(lambda g: g * float('nan')
                            if runner.iter >= self.at else g)


def test_default_config_stops_a_nan_gradient_before_the_step(
        toy_root, tmp_path):
    """The reported run: NaN gradients from a finite loss used to be
    stepped and saved (14 of 14 tensors NaN in iter_15.pth)."""
    train = load_tool('tools/train.py')
    work = str(tmp_path / 'w')
    args = train.parse_args([CONFIG, '--work-dir', work] +
                            overrides(toy_root, 6))
    cfg = train.build_config(args)
    cfg.custom_hooks = [dict(type='_NaNGradientInjector', at=3)]
    runner = build_runner(cfg)
    with pytest.raises(FloatingPointError) as info:
        runner.train()
    name = next(runner.model.fusion_net.named_parameters())[0]
    assert f'(fusion_net.{name})' in str(info.value)
    assert 'iteration 3' in str(info.value)
    with open(osp.join(work, 'last_checkpoint')) as f:
        assert f.read() == osp.join(work, 'iter_2.pth')
    state = torch.load(osp.join(work, 'iter_2.pth'), weights_only=True)
    assert all(torch.isfinite(v).all() for v in state['state_dict'].values())
    # the weights in memory were not stepped with the NaN gradient either
    assert all(torch.isfinite(p).all() for p in runner.model.parameters())
