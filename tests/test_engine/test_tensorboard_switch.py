"""The TensorBoard switch, on a 2-iteration run of the README demo config
(toy RetinaNet)."""
import glob
import importlib.util
import os.path as osp

import pytest

from mmfusenas.testing.toy_data.ivif import generate_toy_dataset
from helpers import load_tool

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DEMO_CFG = osp.join(REPO, 'configs', 'tim', 'retinanet_ivif_toy.py')
HAS_TB = importlib.util.find_spec('tensorboard') is not None

pytestmark = pytest.mark.usefixtures('one_thread')


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
