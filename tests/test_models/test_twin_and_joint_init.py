"""The two-step twin (configs/tim/fusion_ivif_msrs_c8.py with a checkpoint)
and the task-guided model (configs/tim/retinanet_ivif_msrs_c8.py, whose
``model.fusion_init`` names that checkpoint) start from the same N_F
weights, each loaded strictly."""
import pytest
import torch
from mmengine.config import Config

from mmfusenas.apis import init_model
from mmfusenas.registry import MODELS

FUSION = 'configs/tim/fusion_ivif_msrs_c8.py'
JOINT = 'configs/tim/retinanet_ivif_msrs_c8.py'


@pytest.fixture(scope='module')
def fusion_ckpt(tmp_path_factory):
    """A fusion-only checkpoint of the twin's config (random weights)."""
    torch.manual_seed(0)
    state = init_model(FUSION).state_dict()
    path = str(tmp_path_factory.mktemp('c8') / 'fusion.pth')
    torch.save({'state_dict': state}, path)
    return path, state


def _joint(ckpt):
    cfg = Config.fromfile(JOINT)
    cfg.model.fusion_init = ckpt
    model = MODELS.build(cfg.model)
    model.init_weights()
    return model


def test_twin_and_joint_start_from_the_same_fusion_weights(fusion_ckpt):
    path, state = fusion_ckpt
    assert Config.fromfile(JOINT).model.fusion_init == \
        'checkpoints/tim_c8_msrs_fusion.pth'
    twin = init_model(FUSION, path).fusion_net.state_dict()
    joint = _joint(path).fusion_net.state_dict()
    expected = {k[len('fusion_net.'):]: v for k, v in state.items()
                if k.startswith('fusion_net.')}
    assert set(twin) == set(joint) == set(expected)
    for key, value in expected.items():
        assert torch.equal(twin[key], value) and torch.equal(joint[key], value)
    # the joint config spends no fusion warm-up
    cfg = Config.fromfile(JOINT)
    assert not [h for h in cfg.custom_hooks
                if h['type'] == 'FusionWarmupHook']


def test_a_checkpoint_missing_a_key_is_refused_by_both(fusion_ckpt,
                                                       tmp_path):
    _, state = fusion_ckpt
    dropped = next(k for k in state if k.startswith('fusion_net.'))
    bad = {k: v for k, v in state.items() if k != dropped}
    path = str(tmp_path / 'bad.pth')
    torch.save({'state_dict': bad}, path)
    short = dropped[len('fusion_net.'):]
    with pytest.raises(ValueError, match=f'missing keys: {short}'):
        _joint(path)
    with pytest.raises(Exception, match=f'missing \\({dropped}\\)'):
        init_model(FUSION, path)
