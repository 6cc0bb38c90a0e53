"""The published networks' real-data training configs
(``configs/baselines/*_roadscene221_cpu.py``) and the grid's loss sets.

Each training config builds the network of its inference config (same
network config but for the training-only switches, the same state-dict
keys and shapes), so a trained checkpoint loads strictly into the inference
config and fuses there exactly as in the trained model's eval mode; its
losses are the `content` set; it trains on the RoadScene221 training split
(no test stem) and never reads the test split; bad training folders are
refused when the loader is built, naming the file.
"""
import os.path as osp

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

from mmfusenas.models.losses import (MaxGradientLoss, MaxIntensityLoss,
                                     SSIMLoss)
from mmfusenas.registry import DATASETS, MODELS
from mmfusenas.utils.config import load_loss_set

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
BASELINES = osp.join(REPO, 'configs', 'baselines')
SPLITS = osp.join(REPO, 'configs', '_base_', 'datasets', 'splits',
                  'roadscene221')

pytestmark = pytest.mark.usefixtures('one_thread')

# training config -> (inference config, parameters, training-only switches
# of fusion_net)
CONFIGS = {
    'seafusion_ivif_roadscene221_cpu': ('seafusion_ivif', 166_883, {}),
    'ifcnn_max_ivif_roadscene221_cpu':
    ('ifcnn_max_ivif', 83_587, dict(frozen_stem=False)),
    'tardal_ivif_roadscene221_cpu':
    ('tardal_ivif', 296_577, dict(bn_mode='standard')),
}


def _cfg(name):
    return Config.fromfile(osp.join(BASELINES, f'{name}.py'))


def _read_list(path):
    with open(path, encoding='utf-8') as f:
        return [ln.split()[0] for ln in f
                if ln.strip() and not ln.startswith('#')]


@pytest.mark.parametrize('name', sorted(CONFIGS))
def test_network_is_the_inference_configs(name):
    init_default_scope('mmfusenas')
    inference, params, switches = CONFIGS[name]
    cfg, ref = _cfg(name), _cfg(inference)
    model = cfg.model.to_dict()
    ref_model = ref.model.to_dict()
    net_cfg = model.pop('fusion_net')
    ref_net_cfg = ref_model.pop('fusion_net')
    assert model.pop('losses') and 'losses' not in ref_model
    # input / output conventions unchanged
    assert model == ref_model
    assert net_cfg == dict(ref_net_cfg, **switches)
    net = MODELS.build(cfg.model).fusion_net
    ref_net = MODELS.build(ref.model).fusion_net
    assert sum(p.numel() for p in net.parameters()) == params
    assert {k: v.shape for k, v in net.state_dict().items()} == {
        k: v.shape for k, v in ref_net.state_dict().items()}


@pytest.mark.parametrize('name', sorted(CONFIGS))
def test_trained_weights_fuse_alike_in_the_inference_config(name):
    """A few training steps, then the checkpoint loads strictly into the
    inference config, whose output equals the trained model's in eval
    mode (TarDAL's standard BatchNorm = its running statistics)."""
    init_default_scope('mmfusenas')
    torch.manual_seed(0)
    model = MODELS.build(_cfg(name).model)
    opt = torch.optim.Adam(
        [p for p in model.parameters() if p.requires_grad], 1e-2)
    x = torch.rand(4, 2, 24, 24)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    for _ in range(3):
        loss = sum(model(x, None, mode='loss').values())
        opt.zero_grad()
        loss.backward()
        opt.step()
    after = model.state_dict()
    changed = [k for k in after if not torch.equal(after[k], before[k])]
    assert changed
    if name.startswith('ifcnn'):
        # conv1 trains (frozen in the released model)
        assert 'fusion_net.conv1.weight' in changed
    if name.startswith('tardal'):
        # the running statistics were updated for eval mode
        assert any(k.endswith('running_mean') for k in changed)
    ref = MODELS.build(_cfg(CONFIGS[name][0]).model)
    ref.load_state_dict(after, strict=True)
    model.eval()
    ref.eval()
    y = torch.rand(1, 2, 20, 28)
    with torch.no_grad():
        torch.testing.assert_close(model(y), ref(y), rtol=0, atol=0)


def test_ifcnn_losses_read_the_grey_fused_image():
    """IFCNN's three normalised output channels are de-normalised and
    reduced to grey before the losses: the loss equals the loss of
    ``mode='tensor'``'s image."""
    init_default_scope('mmfusenas')
    torch.manual_seed(0)
    model = MODELS.build(_cfg('ifcnn_max_ivif_roadscene221_cpu').model)
    x = torch.rand(2, 2, 16, 16)
    losses = model(x, None, mode='loss')
    fused = model(x, None, mode='tensor')
    assert fused.shape == (2, 1, 16, 16)
    torch.testing.assert_close(losses['loss_int'],
                               MaxIntensityLoss()(fused, x))
    torch.testing.assert_close(losses['loss_grad'],
                               MaxGradientLoss(loss_weight=10.0)(fused, x))


@pytest.mark.parametrize('name', sorted(CONFIGS))
def test_losses_and_schedule(name):
    cfg = _cfg(name)
    assert [(lo['type'], lo['loss_weight']) for lo in cfg.model.losses] == \
        [('MaxIntensityLoss', 1.0), ('MaxGradientLoss', 10.0)]
    steps = cfg.train_cfg.max_iters
    assert steps == 1600 and cfg.train_dataloader.batch_size == 8
    # the test split is never read during training
    assert cfg.train_cfg.val_begin > steps
    assert cfg.default_hooks.checkpoint.interval == steps
    assert cfg.param_scheduler[0]['T_max'] == steps
    assert cfg.optim_wrapper.optimizer == dict(type='Adam', lr=1e-3)
    assert cfg.train_dataloader.dataset.pipeline[1] == dict(
        type='PairedRandomCrop', crop_size=(64, 64))


def test_loss_sets_build():
    init_default_scope('mmfusenas')
    content = [MODELS.build(c) for c in load_loss_set('content')]
    assert [type(m) for m in content] == [MaxIntensityLoss, MaxGradientLoss]
    assert [m.loss_weight for m in content] == [1.0, 10.0]
    ssim = [MODELS.build(c) for c in load_loss_set('content_ssim')]
    assert [type(m) for m in ssim] == [MaxIntensityLoss, MaxGradientLoss,
                                       SSIMLoss]
    # hand case: a fused image equal to the brighter source everywhere,
    # sources with no gradient -> both content terms are 0
    a = torch.full((1, 1, 8, 8), 0.2)
    b = torch.full((1, 1, 8, 8), 0.7)
    x = torch.cat([a, b], 1)
    assert float(content[0](b, x)) == 0.0
    assert float(content[1](b, x)) == pytest.approx(0.0, abs=1e-5)
    assert float(content[0](a, x)) == pytest.approx(0.5)


@pytest.mark.parametrize('name', sorted(CONFIGS))
def test_trains_on_the_split_without_test_pairs(name, shared_data):
    init_default_scope('mmfusenas')
    cfg = _cfg(name)
    train = DATASETS.build(cfg.train_dataloader.dataset)
    stems = [train.get_data_info(i)['stem'] for i in range(len(train))]
    assert stems == sorted(_read_list(osp.join(SPLITS, 'train.txt')))
    test = set(_read_list(osp.join(SPLITS, 'test.txt')))
    assert test and not test & set(stems)
    assert not set(_read_list(osp.join(SPLITS, 'excluded.txt'))) & set(stems)


def _folder(tmp_path, defect):
    root = tmp_path / defect
    rng = np.random.default_rng(0)
    for mod in ('ir', 'vi'):
        (root / mod).mkdir(parents=True)
        for stem in ('a', 'b'):
            cv2.imwrite(str(root / mod / f'{stem}.png'),
                        rng.integers(0, 255, (20, 24), dtype=np.uint8))
    bad = {
        'unpaired': (root / 'vi' / 'c.png', None),
        'corrupt': (root / 'ir' / 'b.png', b'not an image'),
        'sizes': (root / 'vi' / 'a.png', (30, 24)),
    }[defect]
    path, content = bad
    if content is None:
        cv2.imwrite(str(path), np.zeros((20, 24), np.uint8))
    elif isinstance(content, bytes):
        path.write_bytes(content)
    else:
        cv2.imwrite(str(path), np.zeros(content, np.uint8))
    return root, path


@pytest.mark.parametrize('defect', ['unpaired', 'corrupt', 'sizes'])
def test_bad_training_folder_is_refused_naming_the_file(tmp_path, defect):
    """The training loader's dataset (check_sizes=True) refuses the folder
    when it is built, before any step, naming the file or stem."""
    init_default_scope('mmfusenas')
    cfg = _cfg('seafusion_ivif_roadscene221_cpu')
    root, path = _folder(tmp_path, defect)
    ds = cfg.train_dataloader.dataset
    ds.data_root = str(root)
    ds.ann_file = ''
    with pytest.raises(Exception) as err:
        DATASETS.build(ds)
    msg = str(err.value)
    assert (path.name in msg) or ("'c'" in msg and defect == 'unpaired')
    if defect == 'sizes':
        assert '30x24' in msg and '20x24' in msg
