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


def test_joint_losses_and_gradients_stay_finite_in_float16(toy_root):
    """The mixed-precision row (retinanet_ivif_msrs_c8_amp.py: float16, as
    tools/train.py --amp) runs the headline joint model under autocast:
    on the CPU's float16 autocast its losses stay finite and within 1e-3
    of float32 on a toy batch, and so do its gradients (with SSIM in
    float16 every fusion-network gradient was NaN and the CUDA run skipped
    every step; AmpOptimWrapper itself needs CUDA)."""
    import torch
    from mmengine.config import Config
    from mmengine.registry import DefaultScope
    from mmengine.runner import Runner

    from mmfusenas.registry import MODELS
    amp = Config.fromfile('configs/tim/retinanet_ivif_msrs_c8_amp.py')
    assert amp.optim_wrapper.type == 'AmpOptimWrapper'
    loader = Config.fromfile('configs/tim/retinanet_ivif_toy.py')
    loader = dict(loader.train_dataloader.to_dict(), batch_size=2,
                  num_workers=0, persistent_workers=False)
    loader['dataset']['data_root'] = toy_root
    with DefaultScope.overwrite_default_scope('mmfusenas'):
        batch = next(iter(Runner.build_dataloader(loader, seed=0)))
    torch.manual_seed(0)
    model = MODELS.build(amp.model)
    model.init_weights()
    losses, grads = {}, {}
    for dtype in (torch.float32, torch.float16):
        model.zero_grad()
        data = model.data_preprocessor(batch, True)
        with torch.autocast('cpu', dtype=dtype,
                            enabled=dtype is torch.float16):
            losses[dtype] = model(**data, mode='loss')
        model.parse_losses(losses[dtype])[0].backward()
        grads[dtype] = torch.cat([p.grad.flatten()
                                  for p in model.parameters()])
    assert torch.isfinite(grads[torch.float16]).all()
    scale = grads[torch.float32].abs().max().item()
    torch.testing.assert_close(grads[torch.float16], grads[torch.float32],
                               rtol=0, atol=0.05 * scale)
    for key, value in losses[torch.float32].items():
        half = losses[torch.float16][key]
        value, half = (torch.stack(list(v)) if isinstance(v, list) else v
                       for v in (value, half))
        assert torch.isfinite(half.float()).all(), key
        torch.testing.assert_close(half.float(), value.float(), rtol=0,
                                   atol=1e-3, msg=key)
