"""CUDA checks (skipped without a GPU): the shipped networks and a compound
training step give on CUDA what they give on the CPU (the batched fusion
metrics on CUDA: ``tests/test_evaluation/test_fusion_metrics.py``).

The code is device-agnostic; these tests are the evidence that it is. They
run where ``torch.cuda.is_available()``; CI (no GPU) skips them with the
reason. TF32 is switched off so that CUDA convolutions are plain float32.
"""
import copy

import pytest
import torch

from helpers import load_tool

pytestmark = pytest.mark.skipif(
    not torch.cuda.is_available(), reason='needs a CUDA device')

#: the networks of ``benchmarks/bench_inference.py`` (every shipped
#: official / searched network), at a small size that keeps the test short
NETWORKS = ('TIM IVIF two-stage', 'TIM IVIF light', 'TIM MRI-PET', 'RUAS_s',
            'RUAS', 'RUAS_A', 'DCNAS x4', 'HBL LOL', 'HQS hyper-guidance')


@pytest.fixture(autouse=True)
def no_tf32():
    flags = (torch.backends.cuda.matmul.allow_tf32,
             torch.backends.cudnn.allow_tf32)
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    yield
    (torch.backends.cuda.matmul.allow_tf32,
     torch.backends.cudnn.allow_tf32) = flags


def _build(bench, name, tmp):
    family, variant, size = bench.NETWORKS[name]
    mult = bench.SIZE_MULTIPLE.get(family, 4)
    size = tuple(max(mult, s // 4 // mult * mult) for s in size)
    if family == 'tim':
        net, official, mods = bench.build_tim(variant, tmp)
    elif family == 'ruas':
        net, official, mods = bench.build_ruas(variant)
    else:
        net, official, mods = dict(
            dcnas=bench.build_dcnas, hbl=bench.build_hbl,
            hqs=bench.build_hqs)[family](tmp)
    return net.eval(), official, mods, bench.example_input(family, size, 2)


@pytest.mark.parametrize('name', NETWORKS)
def test_network_cuda_equals_cpu_and_official(name, tmp_path):
    """Same weights, same input: CUDA output = CPU output (float32
    rounding), and on CUDA the toolbox network = the authors' network."""
    bench = load_tool('benchmarks/bench_inference.py')
    net, official, mods, x = _build(bench, name, str(tmp_path))
    with torch.no_grad():
        cpu = net(x)
        net.cuda()
        for m in mods:
            m.cuda()
        xc = x.cuda()
        gpu = net(xc)
        off = official(xc)
    assert gpu.is_cuda and gpu.shape == cpu.shape
    scale = max(1.0, cpu.abs().max().item())
    assert (gpu.cpu() - cpu).abs().max().item() <= 1e-4 * scale, name
    assert (gpu - off).abs().max().item() <= 1e-5 * scale, name


def test_fusion_segmentor_trains_on_cuda_like_on_cpu():
    """A compound model (N_F + mmseg DeepLabV3+) computes the same losses
    on CUDA as on the CPU and its CUDA training step moves every part."""
    cm = load_tool('tests/test_models/test_compound_models.py')
    from helpers.task_models import (encoder_decoder, seg_backbone,
                                     seg_head)
    torch.manual_seed(0)
    model = cm.fusion_segmentor(
        encoder_decoder(
            seg_head('deeplabv3plus', in_channels=64, c1=8),
            seg_backbone(depth=18), aux_channels=32))
    model.eval()      # BN in eval: the two devices see identical statistics
    batch = cm.seg_batch()

    def losses_on(m):
        data = m.data_preprocessor(copy.deepcopy(batch), True)
        out = m(**data, mode='loss')
        return {k: v for k, v in out.items() if 'loss' in k}

    with torch.no_grad():
        cpu = losses_on(model)
    model.cuda()
    with torch.no_grad():
        gpu = losses_on(model)
    assert set(cpu) == set(gpu)
    for k in cpu:
        assert gpu[k].is_cuda
        assert gpu[k].item() == pytest.approx(cpu[k].item(), rel=1e-4), k
    model.train()
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    opt = torch.optim.SGD(model.parameters(), lr=1e-2)
    data = model.data_preprocessor(copy.deepcopy(batch), True)
    loss, _ = model.parse_losses(model(**data, mode='loss'))
    assert torch.isfinite(loss)
    loss.backward()
    opt.step()
    for part in ('fusion_net', 'segmentor.backbone',
                 'segmentor.decode_head'):
        moved = [(p - before[n]).abs().max().item()
                 for n, p in model.named_parameters()
                 if n.startswith(part)]
        assert max(moved) > 0, part


def test_fast_training_network_and_fusion_losses_on_cuda_like_on_cpu():
    """The training fast path (``apply_cpu_kernels(net, training=True)``:
    FastPReLU, PointwiseConv2d, FastGroupedConv2d, channels-last inputs)
    and the kernel classes of TIM's fusion losses (the compiled SSIM
    moments, the batched Laplacian) run on CUDA through ATen's kernels and
    give the CPU fast path's loss and gradients."""
    from cpu_kernels import apply_cpu_kernels
    from mmfusenas.registry import MODELS
    fast_training = load_tool('tests/test_projects/test_cpu_kernels/test_fast_training.py')
    torch.manual_seed(5)
    net = fast_training._tim_net()
    report = apply_cpu_kernels(net, training=True)
    kernels = {k for _, _, k in report.swapped}
    # the classes above are in the network
    assert {'FastPReLU', 'PointwiseConv2d', 'FastGroupedConv2d'} <= kernels
    assert report.fast_training == ['']
    losses = [
        MODELS.build(
            dict(type='InfoPreservationLoss', measure='gradient')),
        MODELS.build(dict(type='SaliencyWeightedLoss', ssim_weight=1.0))
    ]
    for loss in losses:
        assert len(apply_cpu_kernels(loss)) == 1
    x = torch.rand(2, 2, 48, 48)

    def step(device):
        net.to(device).zero_grad(set_to_none=True)
        src = x.to(device)
        fused = net(src)        # the pre-hook feeds it channels-last
        loss = sum(loss(fused, src) for loss in losses)
        loss.backward()
        # copies: moving the network moves its parameters' .grad tensors
        return loss.detach().cpu(), [
            p.grad.to('cpu', copy=True) for p in net.parameters()
        ]

    cpu_loss, cpu_grads = step('cpu')
    gpu_loss, gpu_grads = step('cuda')
    assert gpu_loss.item() == pytest.approx(cpu_loss.item(), rel=1e-5)
    top = max(g.abs().max() for g in cpu_grads)
    assert top > 0
    for a, b in zip(gpu_grads, cpu_grads):
        assert torch.allclose(a, b, atol=1e-4 * top)


def test_amp_nan_loss_stops_training_with_finite_weights(tmp_path):
    """Under AMP the guard refuses a NaN loss (the loss scaler skipped the
    step, the step pre-hook never ran)."""
    import time

    from mmengine.runner import Runner

    from test_engine.test_reliability import TinyModel, batches

    class NaNLoss(TinyModel):

        def forward(self, inputs, data_samples=None, mode='tensor'):
            out = super().forward(inputs, data_samples, mode)
            if mode == 'loss' and self.calls == 3:
                out['loss'] = out['loss'] * float('nan')
            return out

    model = NaNLoss().cuda()
    runner = Runner(
        model=model, work_dir=str(tmp_path), train_dataloader=batches(),
        optim_wrapper=dict(type='AmpOptimWrapper',
                           optimizer=dict(type='SGD', lr=0.01)),
        train_cfg=dict(by_epoch=False, max_iters=6),
        default_hooks=dict(checkpoint=None),
        custom_hooks=[dict(type='FiniteStepGuardHook')],
        default_scope='mmfusenas', experiment_name=f'amp{time.time_ns()}')
    with pytest.raises(FloatingPointError, match='non-finite loss'):
        runner.train()
    assert runner.iter == 2
    assert torch.isfinite(model.linear.weight).all()
