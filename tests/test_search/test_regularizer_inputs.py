"""Cost regularisers on searched parts that are not the model's input layer
(detection neck, segmentation decode head): the regulariser is prepared with
the inputs the searched part receives, captured by a forward pre-hook."""
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.runner import Runner

from mmfusenas.engine.runner import with_cached_text

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
SIZE = 64


pytestmark = pytest.mark.usefixtures('one_thread')


class Recorder:
    """Wraps a regulariser and records what ``prepare`` was given."""

    def __init__(self, inner):
        self.inner = inner
        self.inputs = None

    def prepare(self, supernet, arch_params, example_inputs):
        self.inputs = example_inputs
        self.inner.prepare(supernet, arch_params, example_inputs)

    def __call__(self, arch_params):
        return self.inner(arch_params)


@pytest.mark.parametrize('name,space,n_inputs', [
    ('search_retinanet_ivif_toy', 'detector.neck', 4),
    ('search_deeplabv3plus_r18_msrs_toy', 'segmentor.decode_head', 4),
])
def test_flops_regulariser_on_a_neck_and_a_decode_head(
        toy_root, tmp_path, name, space, n_inputs):
    from mmfusenas.registry import TASK_UTILS
    cfg = Config.fromfile(osp.join(REPO, 'configs', 'tim', f'{name}.py'))
    cfg.work_dir = str(tmp_path)
    cfg.train_dataloader.batch_size = 2
    cfg.train_dataloader.dataset.data_root = toy_root
    cfg.train_dataloader.dataset.pipeline[2].scale = (SIZE, SIZE)
    cfg.train_cfg.arch_dataloader.dataset.data_root = toy_root
    cfg.train_cfg.arch_dataloader.batch_size = 2
    cfg.model.arch_update_interval = 1
    cfg.default_hooks.logger.interval = 1
    runner = Runner.from_cfg(with_cached_text(cfg))
    algo = runner.model
    assert algo.space_path == space
    reg = Recorder(
        TASK_UTILS.build(
            dict(type='FlopsRegularizer', loss_weight=0.5, normalize=True)))
    object.__setattr__(algo, 'regularizer', reg)
    optim = runner.build_optim_wrapper(runner.cfg.optim_wrapper)
    batch = next(iter(runner.train_dataloader))
    buffers = [b.clone() for b in algo.architecture.buffers()]
    algo.train()
    log = algo.train_step(dict(train=batch, val=batch), optim)

    # prepare saw the searched part's own inputs: 4 feature maps
    feats = reg.inputs
    assert isinstance(feats, (tuple, list)) and len(feats) == 1
    feats = feats[0] if len(feats) == 1 else feats
    assert len(feats) == n_inputs and all(
        isinstance(f, torch.Tensor) and f.dim() == 4 for f in feats)
    sizes = [f.shape[-1] for f in feats]
    assert sizes == sorted(sizes, reverse=True) and sizes[0] < SIZE
    # the expected normalised FLOPs lie in (0, 1], times λ
    assert 0 < log['arch_reg'] <= 0.5 + 1e-9
    assert all(torch.isfinite(p.grad).all() if p.grad is not None else True
               for p in algo.arch_parameters())
    del buffers


def test_space_inputs_restore_buffers_and_bind_keywords():
    """The capture forward changes no buffer (BatchNorm statistics)."""
    from mmfusenas.registry import MODELS
    torch.manual_seed(0)
    algo = MODELS.build(
        dict(
            type='BilevelSearchAlgorithm',
            architecture=dict(
                type='ImageFusor',
                fusion_net=dict(
                    type='TIMFusionNet',
                    channels=4,
                    cells=[
                        dict(
                            type='SuccessiveCell',
                            ops=[
                                dict(
                                    type='DiffMixedOp',
                                    key='op0',
                                    candidates=['conv_3', 'skip'])
                            ])
                    ]),
                losses=[dict(type='MaxIntensityLoss')]),
            strategy=dict(type='DartsFirstOrderStrategy')))
    algo.train()
    inputs = torch.rand(2, 2, 8, 8)
    before = [b.clone() for b in algo.architecture.buffers()]
    got = algo.space_inputs(dict(inputs=inputs, data_samples=None))
    assert torch.equal(got, inputs)
    assert all(
        torch.equal(a, b) for a, b in zip(before, algo.architecture.buffers()))


def test_record_submodule_inputs_binds_keywords_and_direct_forward_calls():
    """Keyword inputs are bound to parameter names; a parent that calls
    ``part.forward`` directly (as mmseg's ``loss`` does) is caught too."""
    import torch.nn as nn

    from mmfusenas.search.algorithms.bilevel_search import \
        record_submodule_inputs

    class Part(nn.Module):

        def forward(self, x, fused, scale=1.0):
            return x * scale + fused

    class Model(nn.Module):

        def __init__(self, direct):
            super().__init__()
            self.part = Part()
            self.bn = nn.BatchNorm1d(2)
            self.direct = direct

        def forward(self, inputs, data_samples=None, mode='loss'):
            self.bn(inputs.flatten(2).mean(-1))
            call = self.part.forward if self.direct else self.part
            return call(inputs, fused=inputs + 1, scale=2.0).sum()

    x = torch.rand(3, 2, 4, 4)
    for direct in (False, True):
        model = Model(direct).train()
        got = record_submodule_inputs(model, model.part,
                                      dict(inputs=x, data_samples=None))
        assert set(got) == {'x', 'fused', 'scale'} and got['scale'] == 2.0
        assert torch.equal(got['x'], x) and torch.equal(got['fused'], x + 1)
        assert int(model.bn.num_batches_tracked) == 0  # buffers restored
        assert 'forward' not in vars(model.part)  # unpatched
    with pytest.raises(RuntimeError, match='did not run'):
        record_submodule_inputs(model, nn.Linear(1, 1), dict(inputs=x))
