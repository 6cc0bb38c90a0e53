"""Readable logs (init-weights summary) and the TensorBoard switch, on a
2-iteration run of the README demo config (toy RetinaNet)."""
import glob
import importlib.util
import os.path as osp

import pytest
import torch.nn as nn
from mmengine.logging import MMLogger
from mmengine.model import BaseModule

from mmfusenas.engine.runner import summarised_init_dump
from mmfusenas.engine.runner.init_summary import _label as init_label
from helpers import LogCapture, load_tool
from toy_data.ivif import generate_toy_dataset

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DEMO_CFG = osp.join(REPO, 'configs', 'tim', 'retinanet_ivif_toy.py')
HAS_TB = importlib.util.find_spec('tensorboard') is not None

pytestmark = pytest.mark.usefixtures('one_thread')


class Net(BaseModule):

    def __init__(self):
        super().__init__(init_cfg=[
            dict(type='Kaiming', layer='Conv2d'),
            dict(type='Constant', layer='BatchNorm2d', val=0.5, bias=0.25)
        ])
        self.fusion_net = nn.Sequential(nn.Conv2d(2, 4, 3), nn.BatchNorm2d(4))
        self.head = nn.Linear(4, 2)  # no initialiser: unchanged


def test_init_labels():
    assert init_label('The value is the same before and after calling '
                      '`init_weights` of Net ') == 'unchanged'
    assert init_label('KaimingInit: a=0, mode=fan_out, bias=0') == \
        'KaimingInit'
    assert init_label('Initialized by user-defined `init_weights` in '
                      'ConvModule  ') == 'ConvModule.init_weights'


def test_summary_replaces_the_per_parameter_dump(tmp_path):
    logger = MMLogger.get_instance('init_summary_test', log_level='INFO')
    cap = LogCapture()
    logger.addHandler(cap)
    net = Net()
    side = str(tmp_path / 'init_weights.txt')
    with summarised_init_dump(net, logger, side):
        net.init_weights()
    assert '_dump_init_info' not in net.__dict__  # restored afterwards
    # one line per top-level module, exact counts: conv weight + bias
    # (Kaiming), BN weight + bias (Constant), linear weight + bias
    ours = [m for m in cap.messages if m.startswith('init_weights: ')]
    assert ours[:2] == [
        'init_weights: fusion_net: 4 tensors (84 params): 2 KaimingInit, '
        '2 ConstantInit',
        'init_weights: head: 2 tensors (10 params): 2 unchanged',
    ]
    assert len(ours) == 3 and ours[2].endswith(side)
    text = open(side).read()
    for name in ('fusion_net.0.weight', 'fusion_net.1.bias', 'head.weight'):
        assert f'\n{name} - ' in text
    assert 'KaimingInit: a=0' in text


@pytest.fixture(scope='module')
def demo_run(tmp_path_factory):
    """tools/train.py on the README demo config: 2 iterations, TensorBoard
    on when installed."""
    root = tmp_path_factory.mktemp('demo')
    data = str(root / 'toy')
    generate_toy_dataset(data, num=8, seed=0, size=64, val_fraction=0.25)
    work = str(root / 'work')
    args = [
        DEMO_CFG, '--work-dir', work, '--data-root', data, '--cfg-options',
        'train_cfg.max_iters=2', 'train_cfg.val_interval=2',
        'default_hooks.logger.interval=1', 'train_dataloader.batch_size=2'
    ]
    if HAS_TB:
        args.insert(1, '--tensorboard')
    load_tool('tools/train.py').main(args)
    (log, ) = glob.glob(osp.join(work, '*', '*.log'))
    return work, log


@pytest.mark.skipif(not HAS_TB, reason='tensorboard is not installed '
                    '(pip install tensorboard; requirements/optional.txt)')
def test_tensorboard_switch_writes_event_files(demo_run):
    from tensorboard.backend.event_processing.event_accumulator import \
        EventAccumulator
    work, _ = demo_run
    (events, ) = glob.glob(osp.join(work, '*', 'vis_data', 'events.out.*'))
    acc = EventAccumulator(events)
    acc.Reload()
    tags = set(acc.Tags()['scalars'])
    assert {'loss', 'lr', 'fusion.loss_info', 'fusion.loss_sal',
            'fusion/EN', 'fusion/SSIM'} <= tags, sorted(tags)
    assert [e.step for e in acc.Scalars('loss')] == [1, 2]
