"""The transform of :mod:`cpu_kernels`: ``apply_cpu_kernels`` swaps
the registered modules of a built model for their kernel classes (state
dict unchanged, outputs within float rounding of the plain model's),
``remove_cpu_kernels`` gives the plain model back (bit-identical outputs),
and ``CpuKernelsHook``, ``init_model`` and the inference tools apply it
when asked by name, on CPU models only."""
import copy

import pytest
import torch
import torch.nn as nn
from mmengine.model import BaseModel
from mmengine.runner import Runner

from mmfusenas.apis import init_model, parse_optimize
from cpu_kernels import (KERNEL_CLASSES, apply_cpu_kernels,
                         fast_training_targets, has_cpu_kernels, plain_class,
                         remove_cpu_kernels)
from cpu_kernels.modules import (CpuChannelsLastStem, CpuECABlock,
                                 CpuReflectPadConv2d)
from mmfusenas.models.ops import ECABlock, ReflectPadConv2d
from helpers import REPO_ROOT

pytestmark = pytest.mark.usefixtures('one_thread')

LIGHT = f'{REPO_ROOT}/configs/tim/fusion_ivif_light_official.py'


@pytest.fixture(scope='module')
def light_model():
    torch.manual_seed(0)
    return init_model(LIGHT, None)


def _classes(model):
    return {name: type(m) for name, m in model.named_modules()}


def test_apply_swaps_registered_modules_and_keeps_the_state(light_model):
    model = copy.deepcopy(light_model)
    state = {k: v.clone() for k, v in model.state_dict().items()}
    before = _classes(model)
    x = torch.rand(1, 2, 160, 192)
    with torch.no_grad():
        plain = model.fusion_net(x)
    report = apply_cpu_kernels(model)
    assert has_cpu_kernels(model)
    swapped = {name: kernel for name, _, kernel in report.swapped}
    # the TIM-light network: its stem fed channels-last, every reflection
    # conv and ECA block with Winograd's convolutions, 1 x 1 convs as
    # products
    assert swapped['fusion_net.stem'] == 'CpuChannelsLastStem'
    n_reflect = sum(c is ReflectPadConv2d for c in before.values())
    n_eca = sum(c is ECABlock for c in before.values())
    assert n_reflect > 0 and n_eca > 0
    assert sum(k == 'CpuReflectPadConv2d' for k in swapped.values()) \
        == n_reflect
    assert sum(k == 'CpuECABlock' for k in swapped.values()) == n_eca
    after = _classes(model)
    for name, kernel in swapped.items():
        assert after[name].__name__ == kernel
        assert KERNEL_CLASSES[after[name]] is before[name]
        assert plain_class(after[name]) is before[name]
    assert type(model.fusion_net.stem) is CpuChannelsLastStem
    # no state added, none changed
    new_state = model.state_dict()
    assert list(new_state) == list(state)
    assert all(torch.equal(new_state[k], v) for k, v in state.items())
    with torch.no_grad():
        fast = model.fusion_net(x)
    assert fast.is_contiguous(memory_format=torch.channels_last)
    assert not torch.equal(fast, plain)    # another summation order ...
    torch.testing.assert_close(fast, plain, rtol=0, atol=1e-5)  # ... only
    # the plain model again: classes and outputs bit for bit
    assert remove_cpu_kernels(model) == len(report)
    assert not has_cpu_kernels(model)
    assert _classes(model) == before
    with torch.no_grad():
        assert torch.equal(model.fusion_net(x), plain)
    assert remove_cpu_kernels(model) is None


def test_apply_twice_changes_nothing_and_modes_do_not_mix(light_model):
    model = copy.deepcopy(light_model)
    first = apply_cpu_kernels(model)
    assert len(first) > 0
    assert len(apply_cpu_kernels(model)) == 0
    with pytest.raises(RuntimeError, match='remove_cpu_kernels'):
        apply_cpu_kernels(model, training=True)
    remove_cpu_kernels(model)
    assert len(apply_cpu_kernels(model, training=True)) >= len(first)


def test_kernel_classes_add_no_state_and_subclass_their_plain_class():
    for kernel, plain in KERNEL_CLASSES.items():
        assert kernel.__bases__ == (plain, ), kernel
        own = set(vars(kernel)) - {'__module__', '__doc__', '__qualname__',
                                   '__firstlineno__', '__static_attributes__'}
        assert '__init__' not in own, kernel   # no new parameters / buffers
    # only exact classes are swapped: a subclass the table does not know
    # keeps its own forward

    class MyConv(ReflectPadConv2d):
        pass

    net = nn.Sequential(MyConv(4, 4, 3), ReflectPadConv2d(4, 4, 3))
    report = apply_cpu_kernels(net)
    assert [n for n, _, _ in report.swapped] == ['1']
    assert type(net[0]) is MyConv and type(net[1]) is CpuReflectPadConv2d
    remove_cpu_kernels(net)
    assert type(net[1]) is ReflectPadConv2d


def test_fast_training_path_on_a_bare_network_and_back():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(2, 8, 3, padding=1), nn.PReLU(),
                        nn.Conv2d(8, 8, 1), ECABlock(8))
    assert fast_training_targets(net) == ['']
    x = torch.rand(2, 2, 24, 24)
    plain = net(x)
    plain.square().sum().backward()
    grads = [p.grad.clone() for p in net.parameters()]
    net.zero_grad()
    report = apply_cpu_kernels(net, training=True)
    assert report.fast_training == ['']
    kinds = {n: k for n, _, k in report.swapped}
    assert kinds['1'] == 'FastPReLU' and kinds['2'] == 'PointwiseConv2d'
    assert type(net[3]) is CpuECABlock
    assert all(p.is_contiguous(memory_format=torch.channels_last)
               for p in net.parameters() if p.dim() == 4)
    fast = net(x)                       # the input hook: channels-last
    assert fast.is_contiguous(memory_format=torch.channels_last)
    torch.testing.assert_close(fast, plain, rtol=0, atol=1e-5)
    fast.square().sum().backward()
    for p, g in zip(net.parameters(), grads):
        torch.testing.assert_close(p.grad, g, rtol=1e-4,
                                   atol=1e-4 * g.abs().max().item())
    remove_cpu_kernels(net)
    assert [type(m) for m in net] == [nn.Conv2d, nn.PReLU, nn.Conv2d,
                                      ECABlock]
    assert all(p.is_contiguous() for p in net.parameters())
    assert not net._forward_pre_hooks
    assert torch.equal(net(x), plain)


def test_fast_training_targets_of_an_mmengine_model_without_a_host():

    class Wrapped(BaseModel):

        def __init__(self):
            super().__init__()
            self.net = nn.Conv2d(1, 1, 1)

        def forward(self, *args, **kwargs):
            return self.net(*args)

    assert fast_training_targets(Wrapped()) == []


def test_init_model_and_the_optimize_names(light_model):
    assert 'cpu_kernels' in parse_optimize('cpu_kernels,fold_bn')
    assert not has_cpu_kernels(light_model)            # the default: plain
    model = init_model(LIGHT, None, optimize='cpu_kernels')
    assert has_cpu_kernels(model)
    assert type(model.fusion_net.stem) is CpuChannelsLastStem


def test_export_refuses_the_kernels(tmp_path):
    from helpers import load_tool
    export = load_tool('tools/deployment/export.py')
    with pytest.raises(ValueError, match='cpu_kernels cannot be exported'):
        export.main([LIGHT, 'none', '--out', str(tmp_path / 'n.onnx'),
                     '--optimize', 'cpu_kernels'])
    assert not list(tmp_path.iterdir())


def test_the_hook_applies_the_kernels_and_the_runner_alone_does_not(
        tmp_path):
    """Without the hook the runner trains the plain model; with
    ``CpuKernelsHook`` in ``custom_hooks`` the kernels are in from the start
    of the run. Unknown switches are refused when the hook is built."""
    from mmfusenas.registry import HOOKS

    class Net(BaseModel):

        def __init__(self):
            super().__init__()
            self.conv = ReflectPadConv2d(1, 1, 3)

        def forward(self, inputs=None, data_samples=None, mode='tensor'):
            return self.conv(inputs)

    for hooks, kernel in (([], ReflectPadConv2d),
                          ([dict(type='CpuKernelsHook', training=False)],
                           CpuReflectPadConv2d)):
        runner = Runner(
            model=Net(), work_dir=str(tmp_path / str(len(hooks))),
            default_scope='mmfusenas', custom_hooks=hooks)
        runner.call_hook('before_run')
        assert type(runner.model.conv) is kernel
    with pytest.raises(KeyError, match='winogard'):
        HOOKS.build(dict(type='CpuKernelsHook',
                         switches=dict(winogard=False)))
    # the switches hold for the run only (units run one after another in
    # one process must not inherit them)
    from cpu_kernels.switches import get_cpu_kernels
    hook = HOOKS.build(dict(type='CpuKernelsHook',
                            switches=dict(winograd=False)))
    runner = Runner(model=Net(), work_dir=str(tmp_path / 's'),
                    default_scope='mmfusenas')
    before = get_cpu_kernels()
    hook.before_run(runner)
    assert not get_cpu_kernels().winograd
    hook.after_run(runner)
    assert get_cpu_kernels() == before


def test_a_model_off_the_cpu_is_refused(light_model):
    """The kernels apply to CPU models only: a model on another device
    (``meta`` stands in for ``cuda`` here) is refused by name, by the
    transform and by ``optimize='cpu_kernels'``."""
    from mmfusenas.apis import optimize_for_inference
    net = nn.Sequential(ReflectPadConv2d(1, 1, 3)).to('meta')
    with pytest.raises(RuntimeError, match='model is on meta; the CPU '
                       'kernels apply to a model on the CPU only'):
        apply_cpu_kernels(net)
    assert type(net[0]) is ReflectPadConv2d
    model = copy.deepcopy(light_model).to('meta')
    with pytest.raises(RuntimeError, match='model is on meta'):
        optimize_for_inference(model, 'cpu_kernels', verbose=False)
    assert not has_cpu_kernels(model)
