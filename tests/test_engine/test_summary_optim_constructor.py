"""SummaryOptimWrapperConstructor: default parameter groups, short log."""

import torch.nn as nn
from mmengine.logging import MMLogger
from mmengine.optim import DefaultOptimWrapperConstructor

from mmfusenas.engine.optimizers import SummaryOptimWrapperConstructor
from helpers import LogCapture


class Net(nn.Module):

    def __init__(self):
        super().__init__()
        self.fusion_net = nn.Sequential(nn.Conv2d(2, 4, 3), nn.BatchNorm2d(4))
        self.detector = nn.Sequential(nn.Conv2d(4, 4, 1), nn.Linear(4, 2))


def test_same_groups_and_one_summary(tmp_path):
    logger = MMLogger.get_instance('summary_test', log_level='INFO')
    cap = LogCapture()
    logger.addHandler(cap)
    cfg = dict(
        type='OptimWrapper',
        optimizer=dict(type='AdamW', lr=2e-3, weight_decay=1e-4))
    paramwise = dict(custom_keys={'fusion_net': dict(lr_mult=0.5)})
    net = Net()
    ours = SummaryOptimWrapperConstructor(cfg, paramwise)(net)
    ref = DefaultOptimWrapperConstructor(cfg, paramwise)(net)
    groups = lambda w: [{k: v for k, v in g.items() if k != 'params'} |  # noqa
                        {'ids': [id(p) for p in g['params']]}
                        for g in w.optimizer.param_groups]
    assert groups(ours) == groups(ref)
    ours_msgs = cap.messages[:cap.messages.index(
        next(m for m in cap.messages if m.startswith('paramwise_cfg'))) + 1]
    assert not any(m.startswith('paramwise_options') for m in ours_msgs)
    (summary, ) = [m for m in ours_msgs if m.startswith('paramwise_cfg')]
    # 4 fusion_net params x (lr, weight_decay, lr_mult) = 12 options
    assert summary == (
        'paramwise_cfg: 12 per-parameter options in 3 groups:\n'
        '  lr=0.001: 4 params (fusion_net.0 2, fusion_net.1 2)\n'
        '  weight_decay=0.0001: 4 params (fusion_net.0 2, fusion_net.1 2)\n'
        '  lr_mult=0.5: 4 params (fusion_net.0 2, fusion_net.1 2)')
    # the default constructor logs one line per parameter and option
    assert sum(m.startswith('paramwise_options')
               for m in cap.messages) == 12
    logger.removeHandler(cap)
