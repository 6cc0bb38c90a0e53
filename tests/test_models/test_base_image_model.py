"""BaseImageModel: the one home of the image models' sub-module building,
loss building and ``forward(mode)`` dispatch."""
import pytest
import torch
import torch.nn as nn
from mmengine.model import BaseDataPreprocessor

from mmfusenas.models import (BaseImageModel, ChainDetector,
                              EnhanceDataPreprocessor,
                              FusionDataPreprocessor, GuidedDepthSR,
                              HQSRestorer, ImageEnhancer, ImageFusor,
                              ImageRegistrator)
from mmfusenas.models.base_image_model import build_losses


class _Echo(BaseImageModel):
    """Records which method ``forward`` called with which arguments."""

    def loss(self, inputs, data_samples=None, **kwargs):
        return ('loss', inputs, data_samples, kwargs)

    def predict(self, inputs, data_samples=None, **kwargs):
        return ('predict', inputs, data_samples, kwargs)

    def tensor(self, inputs, data_samples=None, **kwargs):
        return ('tensor', inputs, data_samples, kwargs)


def test_forward_dispatches_each_mode_with_its_arguments():
    model = _Echo()
    assert model(1) == ('tensor', 1, None, {})
    assert model(1, 2, mode='loss', k=3) == ('loss', 1, 2, {'k': 3})
    assert model(1, [2], 'predict') == ('predict', 1, [2], {})
    with pytest.raises(ValueError, match=r"_Echo: mode must be 'loss', "
                       r"'predict' or 'tensor', got 'train'"):
        model(1, mode='train')


def test_default_preprocessor_and_build():
    # no class default: MMEngine's BaseDataPreprocessor
    assert type(_Echo().data_preprocessor) is BaseDataPreprocessor
    conv = nn.Conv2d(1, 1, 1)
    assert _Echo._build(conv) is conv
    built = _Echo._build(dict(type='FusionDataPreprocessor'))
    assert isinstance(built, FusionDataPreprocessor)


@pytest.mark.parametrize('cls,default', [
    (ImageFusor, FusionDataPreprocessor),
    (ImageRegistrator, FusionDataPreprocessor),
    (ImageEnhancer, EnhanceDataPreprocessor),
])
def test_the_image_models_share_the_base(cls, default):
    assert issubclass(cls, BaseImageModel)
    assert cls.default_preprocessor == dict(type=default.__name__)
    assert cls.forward is BaseImageModel.forward


def test_restorer_and_depth_sr_share_the_base():
    for cls in (HQSRestorer, GuidedDepthSR):
        assert issubclass(cls, BaseImageModel)
        assert cls.forward is BaseImageModel.forward


def test_fusor_tensor_mode_is_the_fused_batch():
    torch.manual_seed(0)
    model = ImageFusor(fusion_net=dict(type='SeAFusionNet'))
    assert isinstance(model.data_preprocessor, FusionDataPreprocessor)
    x = torch.rand(1, 2, 8, 8)
    torch.testing.assert_close(model(x), model.fusion_net(x))


class _Named(nn.Module):
    """A stand-in loss: only its ``loss_name`` matters here."""

    def __init__(self, name):
        super().__init__()
        self.loss_name = name


def test_build_losses_keeps_order_and_refuses_a_repeated_name():
    a, b = _Named('loss_a'), _Named('loss_b')
    losses = build_losses([a, b], 'M')
    assert isinstance(losses, nn.ModuleList) and list(losses) == [a, b]
    with pytest.raises(ValueError, match=r"^M: loss names must be unique, "
                       r"got \['loss_a', 'loss_b', 'loss_a'\]$"):
        build_losses([a, b, _Named('loss_a')], 'M')


@pytest.mark.parametrize('make,owner', [
    (lambda losses: ImageFusor(nn.Identity(), losses), 'ImageFusor'),
    (lambda losses: ImageEnhancer(nn.Identity(), losses), 'ImageEnhancer'),
    (lambda losses: ImageRegistrator(nn.Identity(), losses),
     'ImageRegistrator'),
    (lambda losses: ChainDetector(stages=[dict(
        name='fusion', kind='fusion', module=nn.Identity(),
        inputs=['ir', 'vi'], output='fused', losses=losses)],
        detector=nn.Identity()), "stage 'fusion'"),
])
def test_every_model_with_losses_refuses_a_repeated_name(make, owner):
    with pytest.raises(ValueError, match=f'^{owner}: loss names must be '
                       r"unique, got \['loss_x', 'loss_x'\]$"):
        make([_Named('loss_x'), _Named('loss_x')])
