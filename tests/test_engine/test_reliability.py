"""Reliability of training runs: finite-step guard, non-finite checkpoints,
crash-safe rotation, auto-resume fallbacks, strict loading, the work-dir
lock's ranks (the lock of tools/train.py: tests/test_tools/
test_reliability_tools.py).

Each test first builds the situation that failed before (a NaN gradient
from a finite loss, a kill during a save with ``max_keep_ckpts=1``, two runs
on one work dir, ...) on a tiny model that trains in milliseconds.
"""
import glob
import json
import logging
import os
import os.path as osp
import time
from types import SimpleNamespace

import pytest
import torch
from mmengine.evaluator import BaseMetric
from mmengine.hooks import Hook
from mmengine.logging import MessageHub, MMLogger
from mmengine.model import BaseModel
from mmengine.optim import OptimWrapper, OptimWrapperDict
from mmengine.runner import Runner
from mmengine.structures import BaseDataElement
from torch import nn
from torch.utils.data import DataLoader

from mmfusenas.engine import AtomicLocalBackend
from mmfusenas.engine.hooks import FiniteStepGuardHook, SafeCheckpointHook
from mmfusenas.engine.runner import build_runner
from mmfusenas.models.mutables import ArchParams
from mmfusenas.utils.workdir_lock import lock_work_dir
from helpers.numerics import assert_equal_states

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


class TinyModel(BaseModel):
    """``y = w·x + b`` with an L2 loss; on the forward calls listed in
    ``nan_grad_calls`` a term with value 0 and a NaN gradient is added
    (``sqrt(0·w)``: finite loss, ``inf · 0`` gradient)."""

    def __init__(self, nan_grad_calls=()):
        super().__init__()
        self.linear = nn.Linear(2, 1)
        self.nan_grad_calls = set(nan_grad_calls)
        self.calls = 0

    def forward(self, inputs, data_samples=None, mode='tensor'):
        out = self.linear(inputs)
        if mode != 'loss':
            return out
        self.calls += 1
        loss = out.pow(2).mean()
        if self.calls in self.nan_grad_calls:
            loss = loss + torch.sqrt(self.linear.weight[0, 0] * 0)
        return dict(loss=loss)


def batches(num=12):
    items = [
        dict(
            inputs=torch.tensor([float(i), 1.0]),
            data_samples=BaseDataElement(metainfo=dict(stem=f'img{i:02d}')))
        for i in range(num)
    ]
    return DataLoader(
        items, batch_size=2, shuffle=False, collate_fn=lambda b: dict(
            inputs=torch.stack([x['inputs'] for x in b]),
            data_samples=[x['data_samples'] for x in b]))


DEFAULT_GUARD = dict(type='FiniteStepGuardHook')


def make_runner(work_dir, model=None, max_iters=6, interval=2, keep=1,
                guard=DEFAULT_GUARD, resume=False, load_from=None,
                checkpoint_type='SafeCheckpointHook', checkpoint_cfg=None,
                val_interval=1000, strict=True, **kwargs):
    checkpoint = dict(
        type=checkpoint_type,
        interval=interval,
        by_epoch=False,
        max_keep_ckpts=keep,
        backend_args=dict(backend='atomic_local'),
        **(checkpoint_cfg or {}))
    hooks = dict(checkpoint=checkpoint,
                 logger=dict(type='LoggerHook', interval=1),
                 checked_load=dict(type='CheckedLoadHook', strict=strict))
    if guard is not None:
        hooks.update(finite_guard=guard)
    return Runner(
        model=model or TinyModel(),
        work_dir=str(work_dir),
        train_dataloader=batches(),
        optim_wrapper=dict(
            optimizer=dict(type='SGD', lr=0.01, momentum=0.9)),
        train_cfg=dict(
            by_epoch=False, max_iters=max_iters, val_interval=val_interval),
        default_hooks=hooks,
        resume=resume,
        load_from=load_from,
        default_scope='mmfusenas',
        experiment_name=f'exp{time.time_ns()}',
        # CheckedLoadHook reads them from the config, as built by from_cfg
        cfg=dict(resume=resume, load_from=load_from),
        **kwargs)


def read_last(work_dir):
    with open(osp.join(work_dir, 'last_checkpoint')) as f:
        return f.read().strip()


def read_logs(work_dir):
    return ''.join(
        open(p).read()
        for p in sorted(glob.glob(osp.join(work_dir, '*', '*.log'))))


def all_finite(path):
    state = torch.load(path, weights_only=True)['state_dict']
    return all(torch.isfinite(v).all() for v in state.values())


# ----------------------------------------------------------------------
# 1. NaN / Inf gradients from a finite loss
# ----------------------------------------------------------------------
def test_nan_gradient_stops_before_the_step_and_keeps_good_checkpoint(
        tmp_path):
    work_dir = str(tmp_path / 'run')
    # forward call 5 = iteration index 4 (0-based); checkpoints at 2 and 4
    runner = make_runner(work_dir, TinyModel(nan_grad_calls={5}), keep=1)
    with pytest.raises(FloatingPointError) as info:
        runner.train()
    msg = str(info.value)
    # names the parameter, the optimizer, the iteration and the samples
    assert 'linear.weight' in msg and "optimizer 'optimizer'" in msg
    assert 'iteration 4' in msg and 'img08, img09' in msg
    assert 'linear.bias' not in msg  # its gradient was finite
    # no step was taken: the weights are finite, and so are all checkpoints
    assert all(torch.isfinite(p).all() for p in runner.model.parameters())
    assert read_last(work_dir) == osp.join(work_dir, 'iter_4.pth')
    assert sorted(os.listdir(work_dir)).count('iter_4.pth') == 1
    assert all_finite(osp.join(work_dir, 'iter_4.pth'))
    # and the run resumes from it (no NaN this time) and finishes
    again = make_runner(work_dir, TinyModel(), resume=True)
    again.train()
    assert again.iter == 6 and all_finite(osp.join(work_dir, 'iter_6.pth'))


def test_without_the_guard_the_nan_step_is_taken(tmp_path):
    """The failure the guard prevents: the step writes NaN weights."""
    runner = make_runner(
        str(tmp_path / 'run'),
        TinyModel(nan_grad_calls={5}),
        max_iters=5,
        interval=100,
        guard=dict(type='FiniteStepGuardHook', action='skip',
                   max_consecutive_skips=1))
    with pytest.raises(FloatingPointError, match='1 steps in a row'):
        runner.train()
    runner = make_runner(
        str(tmp_path / 'run2'),
        TinyModel(nan_grad_calls={5}),
        max_iters=5,
        interval=100)
    runner._hooks = [
        h for h in runner._hooks if not isinstance(h, FiniteStepGuardHook)
    ]
    # the NaN step is taken; the checkpoint hook then refuses to save it
    with pytest.raises(FloatingPointError,
                       match=r'refusing to save the checkpoint of '
                       r'iteration 5'):
        runner.train()
    assert not torch.isfinite(runner.model.linear.weight).all()
    assert not osp.exists(str(tmp_path / 'run2' / 'iter_5.pth'))


def test_finite_guard_none_turns_the_guard_off(tmp_path):
    """``default_hooks.finite_guard=None`` (``--cfg-options``) disables the
    guard: MMEngine accepts None only for its own default hooks (a bare
    ``AssertionError``); ``build_runner`` drops it."""
    from mmengine.config import Config, DictAction
    cfg = Config(dict(
        model=TinyModel(nan_grad_calls={3}),
        work_dir=str(tmp_path / 'run'),
        train_dataloader=batches(),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.01,
                                          momentum=0.9)),
        train_cfg=dict(by_epoch=False, max_iters=3),
        default_hooks=dict(checkpoint=dict(
            type='SafeCheckpointHook', interval=100, save_last=False),
            finite_guard=dict(type='FiniteStepGuardHook')),
        default_scope='mmfusenas',
        experiment_name=f'exp{time.time_ns()}'), format_python_code=False)
    # what tools/train.py's --cfg-options parser makes of the option
    cfg.merge_from_dict(
        {'default_hooks.finite_guard': DictAction._parse_iterable('None')})
    assert cfg.default_hooks.finite_guard is None
    with pytest.raises(AssertionError):
        Runner.from_cfg(cfg)
    runner = build_runner(cfg)
    assert not any(isinstance(h, FiniteStepGuardHook) for h in runner.hooks)
    # MMEngine's own defaults are still registered
    assert any(type(h).__name__ == 'IterTimerHook' for h in runner.hooks)
    runner.train()  # the NaN step of iteration 2 is taken: nothing guards it
    assert runner.iter == 3
    assert not torch.isfinite(runner.model.linear.weight).all()
    with open(osp.join(REPO, 'docs', 'user_guides', 'reliability.md')) as f:
        assert 'default_hooks.finite_guard=None' in f.read()


def test_skip_action_drops_the_step_and_continues(tmp_path):
    work_dir = str(tmp_path / 'run')
    ref = make_runner(str(tmp_path / 'ref'), TinyModel(), max_iters=4,
                      interval=100)
    ref.train()
    runner = make_runner(
        work_dir,
        TinyModel(nan_grad_calls={5}),
        guard=dict(type='FiniteStepGuardHook', action='skip'))
    logger = MMLogger.get_current_instance()
    records = []
    handler = logging.Handler()
    handler.emit = records.append
    logger.addHandler(handler)
    try:
        runner.train()
    finally:
        logger.removeHandler(handler)
    guard = [h for h in runner.hooks
             if isinstance(h, FiniteStepGuardHook)][0]
    assert guard.num_skipped == 1
    assert any('step skipped' in r.getMessage() and 'img08' in r.getMessage()
               for r in records)
    assert all_finite(osp.join(work_dir, 'iter_6.pth'))


def test_skip_leaves_weights_and_momentum_untouched():
    model = TinyModel()
    optim = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    hook = FiniteStepGuardHook(action='skip')
    runner = SimpleNamespace(
        model=model, optim_wrapper=OptimWrapper(optim), iter=7,
        logger=MMLogger.get_current_instance())
    hook.before_train(runner)
    # one good step creates momentum buffers
    model(torch.ones(1, 2), mode='loss')['loss'].backward()
    optim.step()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    momentum = [optim.state[p]['momentum_buffer'].clone()
                for p in model.parameters()]
    optim.zero_grad()
    model.linear.weight.grad = torch.tensor([[float('nan'), 1.0]])
    model.linear.bias.grad = torch.tensor([1.0])  # finite, dropped too
    optim.step()
    for k, v in model.state_dict().items():
        assert torch.equal(v, before[k])
    for p, m in zip(model.parameters(), momentum):
        assert torch.equal(optim.state[p]['momentum_buffer'], m)
    hook.remove()


def test_finite_gradients_whose_norm_overflows_are_stepped():
    """The guard decides a step by the gradients' total norm; finite
    gradients whose norm overflows float32 (inf) are not refused, an Inf
    gradient is, named."""
    model = TinyModel()
    optim = torch.optim.SGD(model.parameters(), lr=1e-40)
    hook = FiniteStepGuardHook(action='skip')
    runner = SimpleNamespace(
        model=model, optim_wrapper=OptimWrapper(optim), iter=3,
        logger=MMLogger.get_current_instance())
    hook.before_train(runner)
    model.linear.weight.grad = torch.tensor([[3e38, 3e38]])
    model.linear.bias.grad = torch.tensor([3e38])
    assert torch.isinf(torch.nn.utils.get_total_norm(
        [p.grad for p in model.parameters()]))
    before = model.linear.weight.detach().clone()
    optim.step()
    assert hook.num_skipped == 0
    assert not torch.equal(model.linear.weight, before)  # stepped
    model.linear.bias.grad = torch.tensor([float('inf')])
    assert hook.nonfinite_grads(optim) == ['linear.bias']
    optim.step()
    assert hook.num_skipped == 1
    hook.remove()


def test_guard_reads_the_norm_gradient_clipping_logged(monkeypatch):
    """With ``clip_grad`` by norm the guard decides a step by the norm
    MMEngine's clipping logged for these gradients (no second norm);
    a NaN gradient is still refused before the step, the weights kept."""
    model = TinyModel()
    wrapper = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.1),
                           clip_grad=dict(max_norm=10.0))
    hook = FiniteStepGuardHook()
    hook.before_train(SimpleNamespace(model=model, optim_wrapper=wrapper,
                                      iter=5, logger=None))

    def no_second_norm(*args, **kwargs):
        raise AssertionError('the guard computed a second norm')

    monkeypatch.setattr(torch.nn.utils, 'get_total_norm', no_second_norm)
    model.linear.weight.grad = torch.tensor([[3.0, 4.0]])
    model.linear.bias.grad = torch.tensor([0.0])
    before = model.linear.weight.detach().clone()
    wrapper.step()
    assert wrapper.message_hub.get_scalar('train/grad_norm').current() == 5.0
    assert not torch.equal(model.linear.weight, before)  # stepped
    model.linear.weight.grad = torch.tensor([[float('nan'), 1.0]])
    before = {k: v.clone() for k, v in model.state_dict().items()}
    # clipping multiplied the NaN norm into every gradient: said, not named
    with pytest.raises(FloatingPointError, match=r'non-finite gradient norm, '
                       r'which clip_grad multiplied into all 2 gradients '
                       r'\(optim_wrapper.clip_grad=None names the parameters'
                       r"\) for optimizer 'optimizer' at iteration 5"):
        wrapper.step()
    for k, v in model.state_dict().items():
        assert torch.equal(v, before[k])
    # an Inf gradient stays its own (the others are scaled by 10 / inf = 0)
    model.linear.weight.grad = torch.tensor([[float('inf'), 1.0]])
    model.linear.bias.grad = torch.tensor([1.0])
    with pytest.raises(FloatingPointError, match=r'non-finite gradient of 1 '
                       r'parameter\(s\) \(linear.weight\)'):
        wrapper.step()
    hook.remove()


def test_guard_covers_the_architecture_optimizer():
    """α (and any other optimizer of an OptimWrapperDict) is guarded."""

    class Searchable(nn.Module):

        def __init__(self):
            super().__init__()
            self.net = nn.Linear(2, 1)
            self.arch_params = ArchParams()
            self.arch_params.register('cell_edge0', ['conv', 'skip', 'zero'])

    model = Searchable()
    wrappers = OptimWrapperDict(
        weights=OptimWrapper(torch.optim.SGD(model.net.parameters(), lr=1)),
        arch=OptimWrapper(
            torch.optim.Adam(model.arch_params.parameters(), lr=1)))
    hook = FiniteStepGuardHook()
    hook.before_train(SimpleNamespace(model=model, optim_wrapper=wrappers,
                                      iter=3, logger=None))
    hook.before_train_iter(None, 0, dict(
        train=dict(data_samples=[BaseDataElement(metainfo=dict(stem='a'))]),
        val=dict(data_samples=[BaseDataElement(metainfo=dict(stem='b'))])))
    alpha = model.arch_params.alphas['cell_edge0']
    with torch.no_grad():
        alpha.zero_()
    alpha.grad = torch.tensor([0.0, float('inf'), 0.0])
    with pytest.raises(FloatingPointError) as info:
        wrappers['arch'].step()
    msg = str(info.value)
    assert "arch_params.alphas.cell_edge0" in msg and "optimizer 'arch'" in msg
    assert 'train:a, val:b' in msg
    assert torch.equal(alpha, torch.zeros(3))
    # finite gradients step normally
    alpha.grad = torch.ones(3)
    wrappers['arch'].step()
    assert not torch.equal(alpha, torch.zeros(3))
    hook.remove()


def test_guard_checks_parameters_after_the_step_on_request():
    model = TinyModel()
    optim = torch.optim.SGD(model.parameters(), lr=1e38)
    hook = FiniteStepGuardHook(check_params=True)
    hook.before_train(SimpleNamespace(model=model,
                                      optim_wrapper=OptimWrapper(optim),
                                      iter=0, logger=None))
    model.linear.weight.grad = torch.full((1, 2), 1e38)
    model.linear.bias.grad = torch.zeros(1)
    with pytest.raises(FloatingPointError,
                       match=r'linear\.weight.*became non-finite'):
        optim.step()
    hook.remove()


def _amp_runner(iteration):
    """A runner stand-in: its iteration and a message hub."""
    return SimpleNamespace(iter=iteration, logger=None,
                           message_hub=MessageHub(f'amp{time.time_ns()}'))


def _after_iter(hook, iteration, loss):
    """MMEngine's RuntimeInfoHook logging the loss, then the guard."""
    outputs = dict(loss=loss)
    hook._runner.message_hub.update_scalar('train/loss', loss)
    hook.after_train_iter(hook._runner, iteration, outputs=outputs)


def test_under_amp_a_non_finite_loss_is_refused_after_the_iteration():
    """AMP's loss scaler skips a step with non-finite gradients before the
    optimizer's step pre-hook runs; the guard then refuses the iteration's
    non-finite loss (end to end on CUDA: tests/test_cuda)."""
    from torch.amp import GradScaler
    amp = [(GradScaler('cpu'), 1.0)]  # an AmpOptimWrapper's scaler
    hook = FiniteStepGuardHook()
    hook._runner, hook._scalers = _amp_runner(4), amp
    hook.before_train_iter(hook._runner, 4, dict(data_samples=[
        BaseDataElement(metainfo=dict(stem='img08'))]))
    _after_iter(hook, 4, torch.tensor(1.5))
    with pytest.raises(FloatingPointError, match=r'non-finite loss for '
                       r"optimizer 'optimizer' at iteration 4 .*img08.*AMP"):
        _after_iter(hook, 4, torch.tensor(float('nan')))
    skip = FiniteStepGuardHook(action='skip', max_consecutive_skips=2)
    skip._runner, skip._scalers = hook._runner, amp
    nan = torch.tensor(float('inf'))
    _after_iter(skip, 4, nan)
    assert skip.num_skipped == 1
    with pytest.raises(FloatingPointError, match='2 steps in a row'):
        _after_iter(skip, 5, nan)
    # without AMP the step pre-hook guards: the loss is not read
    plain = FiniteStepGuardHook()
    plain._runner = hook._runner
    _after_iter(plain, 4, nan)


def test_under_amp_a_loss_scale_below_the_minimum_stops_the_run():
    """A scaler that skipped step after step (NaN gradients at every scale:
    the loss stays finite, no pre-hook runs) halves its scale below
    ``min_loss_scale``: the guard stops the run, with either action."""
    from torch.amp import GradScaler
    for action in ('raise', 'skip'):
        hook = FiniteStepGuardHook(action=action, min_loss_scale=1.0)
        scaler = GradScaler('cpu', init_scale=2.0)
        scaler.scale(torch.tensor(1.0))  # the scale tensor is made lazily
        hook._runner = _amp_runner(7)
        hook._scalers = [(scaler, 1.0)]
        finite = torch.tensor(0.5)
        _after_iter(hook, 7, finite)  # scale 2
        scaler.update(1.0)
        _after_iter(hook, 7, finite)  # scale 1
        scaler.update(0.5)
        with pytest.raises(FloatingPointError, match=r'AMP loss scale fell '
                           r'to 0\.5 \(min_loss_scale=1\) at iteration 7'):
            _after_iter(hook, 7, finite)
    # a run starting at a smaller scale (a static loss_scale=0.5) stops
    # only below it
    hook._scalers = [(scaler, 0.5)]
    _after_iter(hook, 7, finite)


def test_under_amp_the_loss_scale_is_read_on_the_loggers_iterations():
    """Reading the scale waits for the device: the guard reads it on the
    iterations the LoggerHook logs (its interval, found in before_train)."""
    from mmengine.hooks import LoggerHook
    reads = []

    class Scaler:
        def get_scale(self):
            reads.append(hook._runner.iter)
            return 0.25

    hook = FiniteStepGuardHook()
    runner = SimpleNamespace(
        model=TinyModel(), hooks=[LoggerHook(interval=5)], logger=None,
        optim_wrapper=OptimWrapper(torch.optim.SGD(
            TinyModel().parameters(), lr=0.1)), iter=0)
    hook.before_train(runner)
    hook.remove()
    assert hook._scale_interval == 5
    hook._runner = _amp_runner(0)
    hook._scalers = [(Scaler(), 1.0)]
    for i in range(4):
        hook._runner.iter = i
        _after_iter(hook, i, torch.tensor(0.5))
    assert reads == []
    hook._runner.iter = 4  # the fifth iteration: logged
    with pytest.raises(FloatingPointError, match='AMP loss scale fell to '
                       r'0\.25 .* at iteration 4'):
        _after_iter(hook, 4, torch.tensor(0.5))
    assert reads == [4]


def test_guard_rejects_bad_options():
    with pytest.raises(ValueError, match="'raise', 'skip'"):
        FiniteStepGuardHook(action='ignore')
    with pytest.raises(ValueError, match='max_consecutive_skips'):
        FiniteStepGuardHook(max_consecutive_skips=0)
    with pytest.raises(ValueError, match='min_loss_scale'):
        FiniteStepGuardHook(min_loss_scale=0)


# ----------------------------------------------------------------------
# non-finite state is never saved
# ----------------------------------------------------------------------
def test_checkpoint_hook_refuses_non_finite_state(tmp_path):
    work_dir = str(tmp_path / 'run')
    runner = make_runner(work_dir, max_iters=2, interval=2)
    runner.train()
    assert read_last(work_dir).endswith('iter_2.pth')
    hook = [h for h in runner.hooks if isinstance(h, SafeCheckpointHook)][0]
    with torch.no_grad():
        runner.model.linear.bias.fill_(float('nan'))
    assert hook.check_finite
    with pytest.raises(FloatingPointError,
                       match=r'iteration 2: .*state_dict\.linear\.bias'):
        runner.save_checkpoint(work_dir, 'iter_4.pth')
    assert not osp.exists(osp.join(work_dir, 'iter_4.pth'))
    assert read_last(work_dir).endswith('iter_2.pth')
    assert all_finite(osp.join(work_dir, 'iter_2.pth'))


def test_checkpoint_hook_rejects_unknown_options_when_built():
    with pytest.raises(TypeError, match=r"\['max_keep_ckpt'\].*max_keep_"):
        SafeCheckpointHook(interval=1, max_keep_ckpt=1)


# ----------------------------------------------------------------------
# 3. a kill while saving, with max_keep_ckpts=1
# ----------------------------------------------------------------------
class Killed(BaseException):
    """Stands in for SIGKILL: nothing after it runs, no cleanup."""


def kill_during_write(monkeypatch, name):
    """Make the atomic backend die half-way through writing ``name``,
    leaving its temporary file behind as a real kill would."""
    original = AtomicLocalBackend.put

    def put(self, obj, filepath):
        if osp.basename(str(filepath)) == name:
            tmp = osp.join(osp.dirname(str(filepath)),
                           f'.{name}.abcd1234.tmp')
            with open(tmp, 'wb') as f:
                f.write(obj[:len(obj) // 2])
            raise Killed()
        return original(self, obj, filepath)

    monkeypatch.setattr(AtomicLocalBackend, 'put', put)


def test_plain_checkpoint_hook_loses_everything_when_killed(
        tmp_path, monkeypatch):
    """The reported failure, with MMEngine's own CheckpointHook."""
    work_dir = str(tmp_path / 'run')
    kill_during_write(monkeypatch, 'iter_4.pth')
    runner = make_runner(work_dir, checkpoint_type='CheckpointHook')
    with pytest.raises(Killed):
        runner.train()
    assert glob.glob(osp.join(work_dir, 'iter_*.pth')) == []


def test_kill_during_rotation_keeps_the_last_checkpoint(tmp_path,
                                                        monkeypatch):
    work_dir = str(tmp_path / 'run')
    kill_during_write(monkeypatch, 'iter_4.pth')
    runner = make_runner(work_dir, keep=1)
    with pytest.raises(Killed):
        runner.train()
    assert [osp.basename(p) for p in glob.glob(
        osp.join(work_dir, 'iter_*.pth'))] == ['iter_2.pth']
    assert read_last(work_dir) == osp.join(work_dir, 'iter_2.pth')
    tmp = osp.join(work_dir, '.iter_4.pth.abcd1234.tmp')
    assert osp.isfile(tmp)
    monkeypatch.undo()
    # the next start removes the leftover and resumes from iter_2
    again = make_runner(work_dir, keep=1, resume=True)
    again.train()
    assert not osp.exists(tmp)
    hook = [h for h in again.hooks if isinstance(h, SafeCheckpointHook)][0]
    assert hook.removed_tmp == [tmp]
    assert [osp.basename(p) for p in glob.glob(
        osp.join(work_dir, '*.pth'))] == ['iter_6.pth']
    assert read_last(work_dir) == osp.join(work_dir, 'iter_6.pth')


def test_read_only_disk_during_a_save_keeps_the_last_checkpoint(
        tmp_path, monkeypatch):
    """The work dir turns read-only before iter_4.pth is saved: training
    stops naming the file, iter_2.pth and ``last_checkpoint`` stay usable,
    and once the disk is writable again the run resumes from iter_2."""
    import errno
    work_dir = str(tmp_path / 'run')
    real_open = os.open

    def read_only(file, flags, *args, **kwargs):
        if osp.basename(str(file)).startswith('.iter_4.pth.'):
            raise OSError(errno.EROFS, 'Read-only file system', file)
        return real_open(file, flags, *args, **kwargs)

    monkeypatch.setattr(os, 'open', read_only)
    runner = make_runner(work_dir, keep=1)
    with pytest.raises(OSError, match='while writing .*iter_4.pth: .* is '
                       'not writable'):
        runner.train()
    monkeypatch.undo()
    assert [osp.basename(p) for p in glob.glob(
        osp.join(work_dir, '*.pth'))] == ['iter_2.pth']
    assert read_last(work_dir) == osp.join(work_dir, 'iter_2.pth')
    assert glob.glob(osp.join(work_dir, '.*.tmp')) == []
    again = make_runner(work_dir, keep=1, resume=True)
    again.train()
    assert again.iter == 6
    assert read_last(work_dir) == osp.join(work_dir, 'iter_6.pth')


def test_rotation_keeps_max_keep_ckpts_newest(tmp_path):
    work_dir = str(tmp_path / 'run')
    make_runner(work_dir, max_iters=10, interval=2, keep=2).train()
    assert sorted(osp.basename(p) for p in glob.glob(
        osp.join(work_dir, 'iter_*.pth'))) == ['iter_10.pth', 'iter_8.pth']
    assert glob.glob(osp.join(work_dir, '.*.tmp')) == []


# ----------------------------------------------------------------------
# auto-resume: last_checkpoint problems, nothing to resume
# ----------------------------------------------------------------------
def test_empty_last_checkpoint_falls_back_to_newest_valid(tmp_path):
    work_dir = str(tmp_path / 'run')
    make_runner(work_dir, max_iters=6, keep=3).train()
    with open(osp.join(work_dir, 'last_checkpoint'), 'w'):
        pass  # empty
    # the newest file is damaged: the newest *valid* one is used
    with open(osp.join(work_dir, 'iter_6.pth'), 'r+b') as f:
        f.truncate(100)
    runner = make_runner(work_dir, max_iters=8, keep=3, resume=True)
    runner.train()
    log = read_logs(work_dir)
    assert 'last_checkpoint is empty' in log
    assert 'skipped' in log and 'iter_6.pth' in log
    assert f'falling back to the newest valid checkpoint ' \
        f'{osp.join(work_dir, "iter_4.pth")}' in log
    assert runner.iter == 8


def _overwrite_tensor_data(path, fill=b'\xff'):
    """Overwrite the bytes of every tensor of a zip checkpoint (0xFF
    float32 is NaN): the archive and torch.load stay happy."""
    import zipfile
    with zipfile.ZipFile(path) as archive:
        entries = [i for i in archive.infolist()
                   if '/data/' in i.filename and i.file_size > 0]
    with open(path, 'r+b') as f:
        for info in entries:
            f.seek(info.header_offset + 26)
            name_len, extra_len = (int.from_bytes(f.read(2), 'little')
                                   for _ in range(2))
            f.seek(info.header_offset + 30 + name_len + extra_len)
            f.write(fill * info.file_size)
    return len(entries)


def test_resume_refuses_overwritten_checkpoint_before_first_step(tmp_path):
    """A block of 0xFF in the middle of a checkpoint (in its tensor data)
    passed the file check; --resume loaded NaN weights and momentum and
    the run stopped only later. The CRC-32 check names the file first."""
    work_dir = str(tmp_path / 'run')
    make_runner(work_dir, max_iters=4, interval=2, keep=2).train()
    path = osp.join(work_dir, 'iter_4.pth')
    assert _overwrite_tensor_data(path) >= 3  # weight, bias, momentum
    state = torch.load(path, weights_only=True)  # torch does not notice
    assert not torch.isfinite(state['state_dict']['linear.weight']).any()
    model = TinyModel()
    runner = make_runner(work_dir, model, max_iters=6, resume=True,
                         load_from=path)
    with pytest.raises(ValueError) as info:
        runner.train()
    msg = str(info.value)
    assert msg.startswith(f'checkpoint {path} (')
    assert 'is corrupt' in msg and 'fails its CRC-32 check' in msg
    assert model.calls == 0  # no step was taken
    # auto-resume skips it and falls back to the previous checkpoint
    runner = make_runner(work_dir, TinyModel(), max_iters=6, keep=2,
                         resume=True)
    runner.train()
    log = read_logs(work_dir)
    assert f'skipped {path}' in log and 'CRC-32' in log
    assert 'falling back to the newest valid checkpoint ' \
        f'{osp.join(work_dir, "iter_2.pth")}' in log
    assert runner.iter == 6


def test_resume_refuses_non_finite_state_before_first_step(tmp_path):
    """A whole (CRC-valid) checkpoint with NaN optimizer state, e.g. saved
    by another tool: refused after loading, before the first step."""
    work_dir = str(tmp_path / 'run')
    make_runner(work_dir, max_iters=2, interval=2).train()
    path = osp.join(work_dir, 'iter_2.pth')
    ckpt = torch.load(path, weights_only=True)
    ckpt['optimizer']['state'][0]['momentum_buffer'][0, 1] = float('nan')
    torch.save(ckpt, path)
    model = TinyModel()
    runner = make_runner(work_dir, model, max_iters=4, resume=True,
                         load_from=path)
    with pytest.raises(FloatingPointError) as info:
        runner.train()
    assert str(info.value) == (
        f'--resume checkpoint {path}: 1 loaded tensor(s) hold NaN/Inf '
        '(optimizer.state.0.momentum_buffer); stopping before the first '
        'step. Resume from an earlier checkpoint of the work dir '
        '(docs/user_guides/reliability.md)')
    assert model.calls == 0


def test_resume_with_nothing_to_resume_says_so(tmp_path):
    work_dir = str(tmp_path / 'run')
    runner = make_runner(work_dir, max_iters=2, resume=True)
    runner.train()
    log = read_logs(work_dir)
    assert 'no checkpoint found' in log and 'starting from scratch' in log
    assert 'None' not in log.split('no checkpoint found')[1].split('\n')[0]


def test_auto_resume_refuses_when_every_checkpoint_is_corrupt(tmp_path):
    """Every checkpoint of the work dir damaged: auto-resume used to say
    "no checkpoint found", train from iteration 0 and repoint
    last_checkpoint. It refuses, naming every file it tried."""
    work_dir = str(tmp_path / 'run')
    make_runner(work_dir, max_iters=4, interval=2, keep=2).train()
    paths = [osp.join(work_dir, f'iter_{i}.pth') for i in (2, 4)]
    for path in paths:
        assert _overwrite_tensor_data(path) >= 3
    pointer = read_last(work_dir)
    model = TinyModel()
    runner = make_runner(work_dir, model, max_iters=6, keep=2, resume=True)
    with pytest.raises(ValueError) as info:
        runner.train()
    msg = str(info.value)
    assert msg.startswith(f'--resume: no usable checkpoint in {work_dir}; '
                          '3 tried and refused:')
    for path in paths:
        assert f'skipped {path}: ' in msg
    assert 'names an unusable checkpoint' in msg
    assert 'run without --resume to start a new run from scratch' in msg
    assert model.calls == 0
    assert read_last(work_dir) == pointer  # not repointed


# ----------------------------------------------------------------------
# 2. strict loading
# ----------------------------------------------------------------------
def test_load_from_and_resume_are_strict(tmp_path):
    work_dir = str(tmp_path / 'run')
    make_runner(work_dir, max_iters=2).train()
    good = osp.join(work_dir, 'iter_2.pth')
    ckpt = torch.load(good, weights_only=True)
    del ckpt['state_dict']['linear.bias']
    ckpt['state_dict']['other.weight'] = torch.zeros(1)
    partial = str(tmp_path / 'partial.pth')
    torch.save(ckpt, partial)
    for resume in (False, True):
        runner = make_runner(str(tmp_path / f'r{resume}'), load_from=partial,
                             resume=resume)
        with pytest.raises(RuntimeError) as info:
            runner.train()
        msg = str(info.value)
        assert partial in msg and 'checked_load.strict=False' in msg
        assert "1 of the model's 2 keys missing (linear.bias)" in msg
        assert '1 unexpected key(s) (other.weight)' in msg
    # the documented opt-out loads the matching part
    runner = make_runner(str(tmp_path / 'opt'), load_from=partial,
                         strict=False)
    runner.train()


# ----------------------------------------------------------------------
# 4. the work-dir lock
# ----------------------------------------------------------------------
@pytest.mark.parametrize('launcher,var', [('pytorch', 'RANK'),
                                          ('slurm', 'SLURM_PROCID'),
                                          ('mpi', 'OMPI_COMM_WORLD_RANK')])
def test_only_rank_0_of_a_launcher_takes_the_lock(tmp_path, monkeypatch,
                                                  launcher, var):
    """The rank is the launcher's, read before the process group exists."""
    work_dir = str(tmp_path / 'run')
    monkeypatch.setenv(var, '1')
    assert lock_work_dir(work_dir, launcher) is None
    assert not osp.exists(work_dir)
    monkeypatch.setenv(var, '0')
    lock = lock_work_dir(work_dir, launcher)
    try:
        assert lock.locked
    finally:
        lock.release()
    # another launcher's variable is no rank of this run
    monkeypatch.setenv('SLURM_PROCID' if var == 'RANK' else 'RANK', '1')
    with lock_work_dir(work_dir, launcher) as lock:
        assert lock.locked
    assert lock_work_dir(None, launcher) is None


class _Improving(BaseMetric):
    """A metric that improves at every evaluation."""

    calls = 0

    def process(self, data_batch, data_samples):
        self.results.append(0)

    def compute_metrics(self, results):
        type(self).calls += 1
        return dict(score=float(type(self).calls))


@pytest.mark.parametrize('hook', ['CheckpointHook', 'SafeCheckpointHook'])
def test_kill_while_saving_a_new_best_keeps_the_previous_best(
        tmp_path, monkeypatch, hook):
    """MMEngine removed the previous best checkpoint before writing the
    new one."""
    work_dir = str(tmp_path / 'run')

    def run():
        return make_runner(
            work_dir, max_iters=4, interval=2, keep=1,
            checkpoint_type=hook,
            val_dataloader=batches(2), val_evaluator=dict(type=_Improving),
            val_cfg=dict(), val_interval=2,
            checkpoint_cfg=dict(save_best='score', rule='greater'))

    runner = run()
    kill_during_write(monkeypatch, 'best_score_iter_4.pth')
    with pytest.raises(Killed):
        runner.train()
    kept = osp.isfile(osp.join(work_dir, 'best_score_iter_2.pth'))
    assert kept == (hook == 'SafeCheckpointHook')  # MMEngine's lost it
    if not kept:
        return
    monkeypatch.undo()
    runner = run()
    runner.train()  # no kill: the new best replaces the old one
    assert sorted(osp.basename(p) for p in glob.glob(
        osp.join(work_dir, 'best_*.pth'))) == ['best_score_iter_4.pth']


# ----------------------------------------------------------------------
# a kill during a validation: the resumed run validates that step again
# ----------------------------------------------------------------------
class _WeightedSum(BaseMetric):
    """The sum of the predictions: a score that follows the weights."""

    def process(self, data_batch, data_samples):
        self.results.extend(float(p.sum()) for p in data_samples)

    def compute_metrics(self, results):
        return dict(score=sum(results))


class _KillAt(Hook):
    """Raises :class:`Killed` inside the ``validation``-th validation
    (after its first batch; ``start``: before it) or before the
    ``step``-th training step."""

    def __init__(self, validation=None, step=None, start=False):
        self.validation, self.step, self.start = validation, step, start
        self.validations = 0

    def before_val(self, runner):
        self.validations += 1
        if self.start and self.validations == self.validation:
            raise Killed()

    def after_val_iter(self, runner, *args, **kwargs):
        if self.validations == self.validation:
            raise Killed()

    def before_train_iter(self, runner, *args, **kwargs):
        if runner.iter + 1 == self.step:
            raise Killed()


def validating_runner(work_dir, by_epoch, resume=False, kill=None,
                      load_from=None, **checkpoint_cfg):
    """Three validations (iterations 2, 4, 6 or epochs 1, 2, 3), a
    checkpoint at each, one kept."""
    torch.manual_seed(0)  # the same initial weights in every run
    return Runner(
        model=TinyModel(),
        work_dir=str(work_dir),
        train_dataloader=batches(),
        val_dataloader=batches(4),
        val_evaluator=dict(type=_WeightedSum),
        val_cfg=dict(),
        optim_wrapper=dict(
            optimizer=dict(type='SGD', lr=0.01, momentum=0.9)),
        train_cfg=dict(by_epoch=True, max_epochs=3, val_interval=1)
        if by_epoch else dict(by_epoch=False, max_iters=6, val_interval=2),
        default_hooks=dict(
            checkpoint=dict(
                type='SafeCheckpointHook', interval=1 if by_epoch else 2,
                by_epoch=by_epoch, max_keep_ckpts=1,
                backend_args=dict(backend='atomic_local'), **checkpoint_cfg),
            logger=dict(type='LoggerHook', interval=1,
                        log_metric_by_epoch=by_epoch),
            checked_load=dict(type='CheckedLoadHook'),
            finite_guard=DEFAULT_GUARD),
        custom_hooks=[kill] if kill else [],
        log_processor=dict(by_epoch=by_epoch),
        resume=resume,
        load_from=load_from,
        default_scope='mmfusenas',
        experiment_name=f'exp{time.time_ns()}',
        cfg=dict(resume=resume, load_from=load_from))


def val_rows(work_dir):
    """``[(step, score)]`` of every validation in the work dir's runs."""
    rows = []
    for path in glob.glob(osp.join(work_dir, '*', 'vis_data',
                                   'scalars.json')):
        with open(path) as f:
            rows += [json.loads(line) for line in f if line.strip()]
    return sorted((r['step'], r['score']) for r in rows if 'score' in r)


def final_checkpoint(work_dir):
    ckpt = torch.load(read_last(work_dir), weights_only=True)
    return ckpt['state_dict'], ckpt['optimizer']


@pytest.mark.parametrize('by_epoch', [False, True], ids=['iter', 'epoch'])
@pytest.mark.parametrize('kill', [
    dict(validation=2),  # the intermediate validation (iteration 4)
    dict(validation=3),  # the final one: the resumed loop trains no step
    dict(validation=2, start=True),  # checkpoint 4 written, not validated
    dict(step=5),  # after validation 2 finished: nothing to redo
], ids=['val2', 'final', 'val2_start', 'step5'])
def test_validation_a_kill_interrupted_runs_again_on_resume(
        tmp_path, by_epoch, kill):
    """The checkpoint of a step is written before its validation: a resumed
    run used to continue after it, losing the validation for good (the
    final one: no validation at all)."""
    if by_epoch and 'step' in kill:
        kill = dict(step=14)  # in epoch 3, after validation 2
    full = str(tmp_path / 'full')
    validating_runner(full, by_epoch).train()
    work_dir = str(tmp_path / 'killed')
    runner = validating_runner(work_dir, by_epoch, kill=_KillAt(**kill))
    with pytest.raises(Killed):
        runner.train()
    lost = kill.get('validation')
    assert val_rows(work_dir) == val_rows(full)[:(lost or 3) - 1]

    again = validating_runner(work_dir, by_epoch, resume=True)
    again.train()
    assert val_rows(work_dir) == val_rows(full)  # each step once, same score
    hook = [h for h in again.hooks if isinstance(h, SafeCheckpointHook)][0]
    unit, step = ('epoch', 1) if by_epoch else ('iteration', 2)
    assert hook.revalidated == (lost and (unit, step * lost))
    said = 'was interrupted before its results were written'
    assert (said in read_logs(work_dir)) == bool(lost)
    assert len(val_rows(full)) == 3
    state, optim = final_checkpoint(work_dir)
    expected = final_checkpoint(full)
    assert_equal_states(state, expected[0])
    assert_equal_states(optim, expected[1])


def test_revalidate_false_keeps_the_lost_validation_lost(tmp_path):
    work_dir = str(tmp_path / 'run')
    runner = validating_runner(work_dir, False, kill=_KillAt(validation=3),
                               revalidate=False)
    with pytest.raises(Killed):
        runner.train()
    validating_runner(work_dir, False, resume=True, revalidate=False).train()
    assert [step for step, _ in val_rows(work_dir)] == [2, 4]
    assert not osp.exists(osp.join(work_dir, 'last_validation.json'))


def test_a_new_run_forgets_the_last_validation_of_the_work_dir(tmp_path):
    """A run started afresh in a used work dir, killed inside its first
    validation, validates again on resume (an earlier run's record of a
    later validation does not count)."""
    work_dir = str(tmp_path / 'run')
    validating_runner(work_dir, False).train()
    with open(osp.join(work_dir, 'last_validation.json')) as f:
        assert json.load(f) == dict(iteration=6, epoch=0)
    runner = validating_runner(work_dir, False, kill=_KillAt(validation=1))
    with pytest.raises(Killed):
        runner.train()
    with open(osp.join(work_dir, 'last_validation.json')) as f:
        assert json.load(f) == dict(iteration=0, epoch=0)
    again = validating_runner(work_dir, False, resume=True)
    again.train()
    hook = [h for h in again.hooks if isinstance(h, SafeCheckpointHook)][0]
    assert hook.revalidated == ('iteration', 2)


def test_a_checkpoint_of_another_work_dir_resumes_as_in_mmengine(tmp_path):
    """Resuming another run's checkpoint (a branch of an experiment) does
    not validate its step again: the work dir has no record of that run."""
    work_dir = str(tmp_path / 'run')
    runner = validating_runner(work_dir, False, kill=_KillAt(validation=3))
    with pytest.raises(Killed):
        runner.train()
    branch = str(tmp_path / 'branch')
    again = validating_runner(branch, False, resume=True,
                              load_from=osp.join(work_dir, 'iter_6.pth'))
    again.train()
    hook = [h for h in again.hooks if isinstance(h, SafeCheckpointHook)][0]
    assert again.iter == 6 and hook.revalidated is None
    assert val_rows(branch) == []
