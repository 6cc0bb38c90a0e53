"""ArchSeparationHook: the separation of softmax(α) by hand, its curve
across a resume, and the search ended once every key has separated."""
import math
from types import SimpleNamespace

import pytest
from mmengine.logging import MessageHub

from mmfusenas.engine.hooks import ArchSeparationHook, separation


def test_separation_by_hand():
    probs = {'a': {'x': 0.6, 'y': 0.3, 'z': 0.1},
             'b': {'x': 0.5, 'y': 0.5},
             'c': {'only': 1.0}}
    m = separation(probs)
    ent_a = -(0.6 * math.log(0.6) + 0.3 * math.log(0.3) +
              0.1 * math.log(0.1)) / math.log(3)
    assert m['keys'] == 2 and set(m['per_key']) == {'a', 'b'}
    assert m['per_key']['a'] == pytest.approx(dict(ratio=2.0, entropy=ent_a))
    assert m['per_key']['b'] == pytest.approx(dict(ratio=1.0, entropy=1.0))
    assert m['min_ratio'] == pytest.approx(1.0)
    assert m['max_entropy'] == pytest.approx(1.0)
    assert m['mean_entropy'] == pytest.approx((ent_a + 1.0) / 2)
    assert separation({'a': {'x': 1.0, 'y': 0.0}})['min_ratio'] == math.inf
    with pytest.raises(ValueError, match='two or more candidates'):
        separation({'c': {'only': 1.0}})


class _Runner:
    """What the hook reads: the model's distribution, the message hub, the
    visualizer, the logger and the loop's stop flag."""

    def __init__(self, hub):
        self.dist = {}
        arch = SimpleNamespace(probabilities=lambda: self.dist)
        self.model = SimpleNamespace(arch_params=arch,
                                     derive_genotype=lambda: None)
        self.message_hub = hub
        self.scalars, self.lines = [], []
        self.visualizer = SimpleNamespace(
            add_scalars=lambda s, step: self.scalars.append((step, s)))
        self.logger = SimpleNamespace(info=self.lines.append)
        self.train_loop = SimpleNamespace(stop_training=False)
        self.epoch = self.iter = 0


def test_hook_stops_once_separated_and_keeps_its_curve_across_a_resume():
    hub = MessageHub.get_instance('test_arch_separation_hook')
    runner = _Runner(hub)
    hook = ArchSeparationHook(ratio=1.5, entropy=0.9)
    runner.dist = {'a': {'x': 0.4, 'y': 0.35, 'z': 0.25}}
    runner.epoch = 0
    hook.after_train_epoch(runner)
    assert not runner.train_loop.stop_training
    # ratio 0.6 / 0.3 = 2 passes, entropy 0.817 passes: separated
    runner.dist = {'a': {'x': 0.6, 'y': 0.3, 'z': 0.1}}
    runner.epoch = 1
    hook.after_train_epoch(runner)
    assert runner.train_loop.stop_training
    curve = hub.get_info('arch_separation')
    assert [p['step'] for p in curve] == [1, 2]
    assert [p['separated'] for p in curve] == [False, True]
    assert curve[0]['min_ratio'] == pytest.approx(0.4 / 0.35)
    assert [s for _, s in runner.scalars][1][
        'arch_separation/min_ratio'] == pytest.approx(2.0)
    hook.after_train(runner)
    assert runner.lines[-1].endswith('reached at epoch 2')
    # a resume from the checkpoint of epoch 1 (the hub's info is restored
    # with it): the curve goes on from there, the later point replaced
    resumed = _Runner(hub)
    resumed.dist = {'a': {'x': 0.34, 'y': 0.33, 'z': 0.33}}
    resumed.epoch = 1
    strict = ArchSeparationHook(ratio=3.0, stop=True)
    strict.after_train_epoch(resumed)
    assert [p['separated'] for p in hub.get_info('arch_separation')] == [
        False, False]
    assert not resumed.train_loop.stop_training
    strict.after_train(resumed)
    assert 'not reached in 2 measurements' in resumed.lines[-1]


def test_iteration_counting_and_no_stop():
    runner = _Runner(MessageHub.get_instance('test_arch_separation_iter'))
    hook = ArchSeparationHook(ratio=1.5, interval=2, by_epoch=False,
                              stop=False)
    runner.dist = {'a': {'x': 0.9, 'y': 0.1}}
    for it in range(4):
        runner.iter = it
        hook.after_train_iter(runner, it)
    points = runner.message_hub.get_info('arch_separation')
    assert [p['step'] for p in points] == [2, 4]
    assert all(p['separated'] for p in points)
    assert not runner.train_loop.stop_training


@pytest.mark.parametrize('kwargs, match', [
    (dict(ratio=None), 'ratio=None, entropy=None'),
    (dict(ratio=0.5), 'ratio >= 1.*ratio=0.5'),
    (dict(entropy=1.5), r'entropy in \[0, 1\].*entropy=1.5'),
    (dict(interval=0), 'interval must be >= 1')])
def test_bad_settings_are_refused(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ArchSeparationHook(**kwargs)
