import pytest
import torch
import torch.nn as nn

from mmfusenas.models import ImageFusor
from mmfusenas.registry import MODELS
from mmfusenas.structures import FusionDataSample
from helpers.finite_guard import guarded_runner


class TakeSource(nn.Module):
    """'Fuses' by returning source ``index`` (a known answer)."""

    def __init__(self, index=1):
        super().__init__()
        self.index = index
        self.scale = nn.Parameter(torch.ones(()))

    def forward(self, x):
        return self.scale * x[:, self.index:self.index + 1]


def batch(h=6, w=5):
    torch.manual_seed(0)
    vi = torch.randint(0, 256, (3, h, w), dtype=torch.uint8)
    ir = torch.randint(0, 256, (1, h, w), dtype=torch.uint8)
    meta = dict(
        stem='s0',
        img_shape=(h, w),
        modalities=('ir', 'vi'),
        color_modality='vi')
    return dict(
        inputs=dict(ir=[ir], vi=[vi]),
        data_samples=[FusionDataSample(metainfo=meta)]), vi


def test_predict_reattaches_colour_and_crops_padding():
    model = ImageFusor(
        TakeSource(1),
        data_preprocessor=dict(
            type='FusionDataPreprocessor', pad_size_divisor=8))
    data, vi = batch()
    data = model.data_preprocessor(data, False)
    assert data['inputs'].shape[-2:] == (8, 8)
    (out, ) = model(**data, mode='predict')
    assert out.pred_fused.shape == (1, 6, 5)
    # fused Y = VIS Y, so re-attaching VIS chroma gives back the VIS image
    torch.testing.assert_close(
        out.pred_fused_rgb * 255, vi.float(), atol=1e-3, rtol=0)


def test_loss_mode_returns_named_weighted_losses():
    model = MODELS.build(
        dict(
            type='ImageFusor',
            fusion_net=TakeSource(0),
            losses=[
                dict(type='MaxIntensityLoss', loss_weight=1.0),
                dict(type='MaxGradientLoss', loss_weight=2.0)
            ]))
    data, _ = batch()
    data = model.data_preprocessor(data, True)
    losses = model(**data, mode='loss')
    assert set(losses) == {'loss_int', 'loss_grad'}
    x = data['inputs']
    expected = (x.amax(1, keepdim=True) - x[:, :1]).abs().mean()
    torch.testing.assert_close(losses['loss_int'], expected)
    assert model(x, mode='tensor').shape == (1, 1, 6, 5)


def test_nan_loss_stops_the_step_naming_the_sample(tmp_path):
    model = ImageFusor(TakeSource(0), losses=[dict(type='MaxIntensityLoss')])
    data, _ = batch()
    data = model.data_preprocessor(data, True)
    data['inputs'][0, 0, 1, 1] = float('nan')
    runner = guarded_runner(model, [data], tmp_path)
    with pytest.raises(FloatingPointError,
                       match=r'\(fusion_net\.scale\).* batch samples: s0\)'):
        runner.train()
    assert model.fusion_net.scale.item() == 1.0  # the step was not taken


def test_config_errors():
    with pytest.raises(ValueError, match='unique'):
        ImageFusor(
            TakeSource(),
            losses=[dict(type='MaxIntensityLoss'),
                    dict(type='MaxIntensityLoss')])
    with pytest.raises(ValueError, match='mode'):
        ImageFusor(TakeSource())(torch.zeros(1, 2, 2, 2), mode='bogus')
