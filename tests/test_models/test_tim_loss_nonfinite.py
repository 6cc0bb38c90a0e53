"""NaN in the sources under TIM's losses: the default finite-step guard
stops the step naming the samples (as for the content loss), instead of
torch.bincount's "only supports 1-d non-negative integral inputs"."""
import pytest
import torch
import torch.nn as nn

from mmfusenas.models import ImageFusor
from mmfusenas.models.losses import grey_entropy, grey_histogram
from mmfusenas.structures import FusionDataSample
from helpers.finite_guard import guarded_runner


class Mean(nn.Module):

    def __init__(self):
        super().__init__()
        self.scale = nn.Parameter(torch.ones(()))

    def forward(self, x):
        return self.scale * x.mean(1, keepdim=True)


def nan_batch():
    x = torch.rand(2, 2, 16, 16)
    x[1, 0, 3, 4] = float('nan')
    samples = [FusionDataSample(metainfo=dict(stem=s)) for s in ('a', 'b')]
    return x, samples


@pytest.mark.parametrize('losses', [
    'tim',  # InfoPreservationLoss (gradient) + SaliencyWeightedLoss
    [dict(type='InfoPreservationLoss', measure='entropy')],
    'content',  # MaxIntensityLoss + MaxGradientLoss: the reference
])
def test_nan_input_stops_the_step_naming_the_samples(losses, tmp_path):
    from mmfusenas.utils.config import load_loss_set
    if isinstance(losses, str):
        losses = load_loss_set(losses)
    model = ImageFusor(Mean(), losses=losses)
    x, samples = nan_batch()
    runner = guarded_runner(model, [dict(inputs=x, data_samples=samples)],
                            tmp_path)
    with pytest.raises(FloatingPointError,
                       match=r'FiniteStepGuardHook: .*\(fusion_net\.scale\)'
                       r'.* batch samples: a, b\)'):
        runner.train()
    assert torch.isfinite(model.fusion_net.scale)  # the step was not taken


def test_histograms_of_non_finite_channels_are_nan():
    x = torch.rand(2, 2, 4, 4)
    x[0, 1, 0, 0] = float('inf')
    hist = grey_histogram(x)
    assert hist[0, 1].isnan().all()
    finite = torch.ones(2, 2, dtype=torch.bool)
    finite[0, 1] = False
    torch.testing.assert_close(hist[finite].sum(-1), torch.ones(3))
    assert grey_entropy(x).isnan().tolist() == [[False, True],
                                                [False, False]]
