"""Inference latency of the shipped official networks, eager and optimised,
side by side with the authors' networks.

Usage::

    PYTHONPATH=tests python benchmarks/bench_inference.py [--quick]
        [--threads 1] [--repeats 7] [--warmup 2] [--batches 1 8]
        [--models NAME ...]
        [--modes eager fold_bn channels_last fold_bn+channels_last
                 onnxruntime compile] [--device cpu|cuda] [--tf32]
        [--clock wall|cpu] [--cpu-malloc off|tuned] [--profile K]

For every network: the toolbox's fixed network (``fusion_net`` /
``network`` of the official configs) and the **authors' network rebuilt
from their public code** (TIM, Liu et al., TPAMI 2023,
github.com/LiuZhu-CV/TIM; RUAS, Liu et al., CVPR 2021 / TPAMI,
github.com/KarelZhang/RUAS: ``tests/helpers/tim_official_reference.py``,
``tests/helpers/ruas_official_reference.py``;
the official module tree and key layout, so the same weights load into
both): seeded weights converted with the official converters for TIM and
the RUAS CVPR network, the official TPAMI ``lol.pt`` for RUAS_s / RUAS_A
(``../shared/checkpoints/ruas_official``; seeded weights when absent).

=====================  ==================  ===========  ===================
network                config              paper size   input
=====================  ==================  ===========  ===================
TIM IVIF two-stage     fusion_ivif_        448 x 620    seeded (N, 2, H, W)
                       official.py
TIM IVIF light         ..._light_official  448 x 620    seeded
TIM MRI-CT / PET /     fusion_mri_*_       256 x 256    seeded
SPECT two-stage        official.py
RUAS_s / RUAS / RUAS_A ruas_{s,,a}_lol.py  400 x 600    LOL ``00271`` (its
                                                        noise gate opens)
RUAS_A clean           ruas_a_lol.py       400 x 600    LOL ``00001`` (gate
                                                        closed at N = 1)
DCNAS x4               DCNASNet, C = 16,   480 x 640    NYU v2 test 1000
                       example genotype                 ``[lr_up, rgb]``
HBL LOL                hbl/hbl_lol.py      400 x 600    LOL ``00271``
HQS hyper-guidance     hqs_proxy_bilevel_  252 x 252    Levin im05_flit01
                       levin.py                         ``[y, kernel]``
=====================  ==================  ===========  ===================

Official rebuilds of the later networks: DCNAS ``StaticModel``
(``tests/helpers/dcnas_official_reference.py``, seeded weights converted by
the official converter), HBL ``official_forward`` (``tests/helpers/
hbl_official_reference.py``, seeded official-layout weights converted), HQS
:func:`helpers.hqs_reference.official_hqs_forward` (same seeded weights).
The authors' networks rebuilt for the parity tests live in ``tests/helpers``
(imported as ``helpers``): run with ``PYTHONPATH=tests``. The official
converters (``tools/model_converters/*_official_to_mmfusenas.py``) run in a
subprocess, as a user runs them. Multi-input networks run as one packed tensor
(:class:`mmfusenas.apis.PackedInputs`; HQS's kernel centred in an H x W
plane).

Every toolbox network runs as built (the plain model, the default of the
inference tools), or with ``--cpu-kernels`` with the CPU kernels of the
plugin ``projects/cpu_kernels`` swapped in (:func:`cpu_kernels.apply_cpu_kernels`,
``optimize='cpu_kernels'`` of :func:`mmfusenas.apis.init_model`; CPU only),
in every mode below; the kernel classes run their plain forward where a
kernel does not apply (export, ``torch.compile``, tracing). What uses the
plugin (``--cpu-kernels``, the ``no:SWITCH`` modes,
``ort_no_commuted_upsampling``, ``--cpu-malloc tuned``) imports it as its
README says: ``PYTHONPATH=tests:projects/cpu_kernels``.

Modes of the toolbox network (``mmfusenas.apis.deploy``): ``eager``;
``fold_bn`` (BatchNorm folded into the convs); ``channels_last``;
``fold_bn+channels_last``; ``onnxruntime`` (folded network exported to ONNX
with dynamic sizes, run by ONNX Runtime on ``--threads`` threads);
``compile`` (folded network through ``torch.compile``, inductor; compiled
before timing). Not run by default: ``no:SWITCH`` for any switch of
:mod:`cpu_kernels.switches` (``SWITCHES``), the eager network with
that one kernel off for the call, in the same rounds (e.g.
``no:winograd``: oneDNN's 3 x 3 convolutions instead of Winograd's;
``no:channels_last``: the TIM and HBL networks in NCHW, the authors'
summation order), whose former names ``nchw``, ``aten_conv``,
``no_winograd``, ``no_tap_products`` and ``no_commuted_upsampling``
(:data:`SWITCH_ALIASES`) are still accepted; ONNX Runtime session variants
(:data:`ORT_MODES`; ``ort_no_commuted_upsampling`` exports the graph with
that switch off) and ``jit_freeze``. A mode that cannot be built for a network is reported
as not run, with its reason. The official network runs eager. Every timed pass of every
mode and of the official network is **interleaved** in one loop (repeat r:
official, eager, fold_bn, ...), so load changes on a shared machine hit all
of them alike; latency = median of ``--repeats`` passes after ``--warmup``
rounds, ``torch.set_num_threads(--threads)``, eval mode, no grad.
``--clock cpu`` (CPU, one thread, no ONNX Runtime mode) times each pass by
the calling thread's CPU time instead of the wall clock: the same work
without the time the thread waits for a core when the machine is shared.
``--cpu-malloc tuned`` keeps freed blocks in glibc's heap for every network
of the run (as the runner does for training,
:mod:`cpu_kernels.allocator`): with glibc's defaults (``off``, as a
script of the authors runs) every fresh map of a few MB is a new ``mmap``
whose pages fault on first touch, which costs a network that allocates more
maps more time.

Also measured: parameters and MACs (``mmfusenas.search.estimators``),
peak activation memory (largest total size of the tensors a forward pass
allocates and holds at once — weights and the input excluded — counted by
a dispatch mode; ``torch.cuda.max_memory_allocated`` on CUDA), and the
largest ``|output - eager|`` of every mode, and of the official network.
``--quick`` = ``--scale 0.25`` (a quarter of the paper's height and
width) and batches 1 and 2.

Targets: eager <= 0.8x official, best mode (eager or optimised)
<= 0.5x on CPU, every mode within 1e-5 of eager. Ends with ``RESULT {json}``.

The papers' cost tables of the official TIM and RUAS networks are
reproduced by ``projects/reproductions/bench_official_cost.py``; the
kernels one by one by ``python -m cpu_kernels.bench_kernels``.
"""
import argparse
import contextlib
import copy
import functools
import importlib
import json
import os
import os.path as osp
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
import weakref
from typing import Callable, Dict, List, Optional, Tuple

import numpy as np
import torch
import torch.nn as nn
from mmengine.config import Config
from PIL import Image
from terminaltables import AsciiTable
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_leaves

from mmfusenas.apis import (PackedInputs, export_network, init_model,
                            optimize_for_inference)
from mmfusenas.benchmark.cli_modes import run_mode
from mmfusenas.benchmark.results_record import (check_record_path,
                                                write_results_record)
from mmfusenas.models.fusion.tim_official import TIM_OFFICIAL
from mmfusenas.models.gisr import DCNASNet
from mmfusenas.registry import MODELS
from mmfusenas.search.estimators import count_flops, count_params, device_name

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
SHARED = osp.join(osp.dirname(ROOT), 'shared')
RUAS_WEIGHTS = osp.join(SHARED, 'checkpoints', 'ruas_official', 'lol.pt')
LOL_IMAGE = osp.join(SHARED, 'data', 'lowlight', 'lol', 'test', '00271.png')
#: RUAS_A's noise gate stays closed on LOL 00001 at batch 1 (denoiser
#: skipped); the entry ``RUAS_A clean`` runs on it
LOL_CLEAN_IMAGE = osp.join(SHARED, 'data', 'lowlight', 'lol', 'test',
                           '00001.png')
#: entry -> its input image, where not the family's default
ENTRY_IMAGES = {'RUAS_A clean': LOL_CLEAN_IMAGE}
DEFAULT_MODES = ('eager', 'fold_bn', 'channels_last', 'fold_bn+channels_last',
                 'onnxruntime', 'compile')
#: alternatives not run by default (besides ``no:SWITCH``)
EXTRA_MODES = ('jit_freeze', 'ort_basic', 'ort_extended',
               'ort_no_mem_pattern', 'ort_no_spinning', 'ort_parallel',
               'ort_channels_last', 'ort_prelu', 'ort_no_commuted_upsampling')
ALL_MODES = DEFAULT_MODES + EXTRA_MODES
#: former names of ``no:SWITCH`` modes (the records' commands use them)
SWITCH_ALIASES = {
    'nchw': 'channels_last', 'aten_conv': 'direct_conv',
    'no_winograd': 'winograd', 'no_tap_products': 'tap_products',
    'no_commuted_upsampling': 'commuted_upsampling'}


def switch_of(mode: str) -> Optional[str]:
    """The cpu_kernels switch a ``no:SWITCH`` mode (or its former name)
    turns off; None for the other modes."""
    if mode in SWITCH_ALIASES:
        return SWITCH_ALIASES[mode]
    return mode[3:] if mode.startswith('no:') else None


def mode_name(value: str) -> str:
    """``--modes`` entry check: a mode of :data:`ALL_MODES` or
    ``no:SWITCH`` with a switch of ``cpu_kernels`` (or a former name)."""
    if value in ALL_MODES:
        return value
    from cpu_kernels.switches import SWITCHES  # the plugin
    if switch_of(value) in SWITCHES:
        return value
    raise argparse.ArgumentTypeError(
        f'unknown mode {value!r}: one of {", ".join(ALL_MODES)} or '
        f'no:SWITCH with SWITCH in {", ".join(SWITCHES)}')

#: name -> (family, official protocol / variant, paper size (H, W))
NETWORKS: Dict[str, Tuple[str, str, Tuple[int, int]]] = {
    'TIM IVIF two-stage': ('tim', 'ivif', (448, 620)),
    'TIM IVIF light': ('tim', 'light', (448, 620)),
    'TIM MRI-CT': ('tim', 'ct', (256, 256)),
    'TIM MRI-PET': ('tim', 'pet', (256, 256)),
    'TIM MRI-SPECT': ('tim', 'spect', (256, 256)),
    'RUAS_s': ('ruas', 'RUAS_s', (400, 600)),
    'RUAS': ('ruas', 'RUAS', (400, 600)),
    'RUAS_A': ('ruas', 'RUAS_A', (400, 600)),
    'RUAS_A clean': ('ruas', 'RUAS_A', (400, 600)),
    'DCNAS x4': ('dcnas', 'example', (480, 640)),
    'HBL LOL': ('hbl', 'lol', (400, 600)),
    'HQS hyper-guidance': ('hqs', 'proxy', (252, 252)),
}
#: size multiple of every family (DCNAS: 3 x 2 downsampling)
SIZE_MULTIPLE = dict(dcnas=8)
NYU = osp.join(SHARED, 'data', 'gisr', 'NYUDepthv2_Test')
LEVIN = osp.join(SHARED, 'data', 'deblur', 'levin09', 'im05_flit01.mat')
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
#: eager latency target at batch 1, toolbox / authors' code
EAGER_TARGET = 0.8
RUAS_CONFIGS = dict(
    RUAS_s='ruas_s_lol.py', RUAS='ruas_lol.py', RUAS_A='ruas_a_lol.py')


# ---------------------------------------------------------------------------
# the two networks of every entry
# ---------------------------------------------------------------------------
def _reference(name: str):
    """``helpers.<name>``: an official network rebuilt for the parity
    tests (``tests/helpers``, on the path with ``PYTHONPATH=tests``)."""
    try:
        return importlib.import_module(f'helpers.{name}')
    except ModuleNotFoundError as e:
        if e.name != 'helpers':
            raise
        raise ImportError(
            'the official networks rebuilt for the parity tests live in '
            'tests/helpers: run with PYTHONPATH=tests') from e


def _convert(converter: str, *args: str) -> None:
    """Run ``tools/model_converters/<converter>`` as a user would."""
    subprocess.run([
        sys.executable,
        osp.join(ROOT, 'tools', 'model_converters', converter), *args
    ], check=True)


def _official_tim_call(name: str, m1: nn.Module,
                       m2: Optional[nn.Module]) -> Callable:
    """The official script's call on a toolbox-order stack ``(a, b)``."""

    def call(x: torch.Tensor) -> torch.Tensor:
        a, b = x[:, 0:1], x[:, 1:2]
        if name == 'light':  # model_1(vis, ir)
            return m1(b, a)
        if name == 'ivif':  # model_2(vis, ir, model_1(ir, vis))
            return m2(b, a, m1(a, b))[2]
        if name == 'pet':  # (y, mri) with (mri, pet) given
            return m2(b, a, m1(b, a))[2]
        return m2(a, b, m1(a, b))[2]  # ct: (mri, ct); spect: (mri, y)

    return call


def build_tim(name: str, tmp: str) -> Tuple[nn.Module, Callable, List]:
    """Toolbox ``fusion_net`` and the official networks, same weights."""
    ref = _reference('tim_official_reference')
    torch.manual_seed(0)
    m1, m2 = ref.build_official(name)
    ref.perturb_(m1, 7)
    files = [osp.join(tmp, f'{name}_1.pt')]
    torch.save(m1.state_dict(), files[0])
    args = [name, osp.join(tmp, f'{name}.pth'), '--stage1', files[0]]
    if m2 is not None:
        ref.perturb_(m2, 8)
        files.append(osp.join(tmp, f'{name}_2.pt'))
        torch.save(m2.state_dict(), files[1])
        args += ['--stage2', files[1]]
    _convert('tim_official_to_mmfusenas.py', *args)
    model = init_model(
        osp.join(ROOT, TIM_OFFICIAL[name]['config']), args[1], device='cpu')
    official = [m.eval() for m in (m1, m2) if m is not None]
    return model.fusion_net, _official_tim_call(name, m1, m2), official


def build_ruas(variant: str) -> Tuple[nn.Module, Callable, List]:
    """Toolbox ``network`` and the official network, same weights."""
    ref = _reference('ruas_official_reference')
    torch.manual_seed(0)
    official = ref.CVPRNetwork() if variant == 'RUAS' else ref.Network()
    if variant != 'RUAS' and osp.isfile(RUAS_WEIGHTS):
        official.load_state_dict(
            torch.load(RUAS_WEIGHTS, map_location='cpu', weights_only=True))
    config = osp.join(ROOT, 'configs', 'ruas', RUAS_CONFIGS[variant])
    with tempfile.TemporaryDirectory() as tmp:
        src, dst = osp.join(tmp, 'official.pt'), osp.join(tmp, 'ruas.pth')
        torch.save(official.state_dict(), src)
        _convert('ruas_official_to_mmfusenas.py', src, dst, '--config',
                 config, *(['--scene-only'] if variant == 'RUAS_s' else []))
        converted = torch.load(dst, weights_only=True)['state_dict']
    model = MODELS.build(Config.fromfile(config).model)
    model.load_state_dict(converted, strict=True)
    official.eval()
    if variant == 'RUAS_s':
        return model.network.eval(), (
            lambda x: official.enhance_net(x)[0][-1]), [official.enhance_net]
    return model.network.eval(), (lambda x: official(x)[0][-1]), [official]


def build_dcnas(tmp: str) -> Tuple[nn.Module, Callable, List]:
    """DCNAS fixed network (the reference's example genotype, C = 16)
    and the official ``StaticModel`` rebuild (``tests/helpers/
    dcnas_official_reference.py``), seeded weights converted by the
    official converter; one packed ``(N, 1 + 3, H, W)`` input
    ``[lr_up, rgb]``."""
    gold = _reference('dcnas_official_reference')
    torch.manual_seed(0)
    static = gold.StaticModel(gold.EXAMPLE, 16)
    with torch.no_grad():  # non-trivial PReLU slopes too
        for p in static.parameters():
            p.add_(0.05 * torch.randn_like(p))
    src, arch = osp.join(tmp, 'dcnas_official.pth'), osp.join(
        tmp, 'dcnas_arch.json')
    torch.save(static.state_dict(), src)
    with open(arch, 'w') as f:
        json.dump(gold.EXAMPLE, f)
    dst = osp.join(tmp, 'dcnas.pth')
    _convert('dcnas_official_to_mmfusenas.py', src, dst, '--arch', arch)
    net = DCNASNet(gold.EXAMPLE, num_features=16)
    net.load_state_dict({
        k[len('network.'):]: v
        for k, v in torch.load(dst, weights_only=True)['state_dict'].items()
    })
    static.eval()
    return PackedInputs(net, (1, 3)).eval(), (
        lambda x: static(x[:, :1], x[:, 1:])), [static]


class _WeightBuffers(nn.Module):
    """A functional official forward's state dict held as buffers, so that
    ``.to(device)`` moves it (``--device cuda``) and the peak-memory count
    excludes it; :meth:`weights` gives the state dict back (same keys, the
    buffers' current device and dtype)."""

    def __init__(self, sd: Dict[str, torch.Tensor]) -> None:
        super().__init__()
        self._keys = list(sd)
        for i, v in enumerate(sd.values()):
            self.register_buffer(f'w{i}', v)

    def weights(self) -> Dict[str, torch.Tensor]:
        return {k: getattr(self, f'w{i}') for i, k in enumerate(self._keys)}


def build_hbl(tmp: str) -> Tuple[nn.Module, Callable, List]:
    """HBL LOL network (``configs/hbl/hbl_lol.py``, running BN statistics)
    and the official forward pass (``tests/helpers/
    hbl_official_reference.py``) on the same seeded official-layout
    weights."""
    gold = _reference('hbl_official_reference')
    geno = gold.genotype_of('lol')
    sd = gold.official_state_dict(geno)
    src, dst = osp.join(tmp, 'hbl_official.pt'), osp.join(tmp, 'hbl.pth')
    torch.save(sd, src)
    _convert('hbl_official_to_mmfusenas.py', src, dst, '--genotype', 'lol')
    model = MODELS.build(
        Config.fromfile(osp.join(ROOT, 'configs', 'hbl',
                                 'hbl_lol.py')).model)
    model.load_state_dict(
        torch.load(dst, weights_only=True)['state_dict'], strict=True)

    class Official(_WeightBuffers):

        def forward(self, x):
            return gold.official_forward(self.weights(), geno, x, 'running')

    official = Official(sd)
    official.num_params = sum(
        v.numel() for k, v in sd.items() if k.endswith('weight'))
    return model.network.eval(), official, [official]


def build_hqs(tmp: str) -> Tuple[nn.Module, Callable, List]:
    """Unrolled HQS with the proxy (``configs/hyper_guidance/
    hqs_proxy_bilevel_levin.py``: 5 stages, 1,676,810 parameters) and the
    official network rebuilt functionally (``tests/helpers/
    hqs_reference.py``) on the same seeded weights; one packed ``(N, 2, H, W)``
    input ``[y, kernel centred in an H x W plane]``."""
    cfg = Config.fromfile(
        osp.join(ROOT, 'configs', 'hyper_guidance',
                 'hqs_proxy_bilevel_levin.py'))
    torch.manual_seed(0)
    net = MODELS.build(cfg.model.architecture).network.eval()
    with torch.no_grad():  # non-zero biases
        for p in net.parameters():
            p.add_(0.01 * torch.randn_like(p))
    sd = dict(net.state_dict())
    official = HQSReference(sd, _reference('hqs_reference'))
    official.num_params = sum(
        v.numel() for k, v in sd.items() if k.endswith(('weight', 'bias')))
    return PackedInputs(net, (1, 1), (None, 'kernel')).eval(), official, [
        official
    ]


class HQSReference(_WeightBuffers):
    """:func:`helpers.hqs_reference.official_hqs_forward` on a packed
    ``[y, kernel plane]``."""

    def __init__(self, sd: Dict[str, torch.Tensor], reference) -> None:
        super().__init__(sd)
        self._forward = reference.official_hqs_forward

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self._forward(self.weights(), x[:, :1], x[:, 1])


def _crop_or_resize(x: torch.Tensor, h: int, w: int,
                    mode: str = 'nearest') -> torch.Tensor:
    x = x[..., :h, :w]
    if x.shape[-2:] != (h, w):
        x = nn.functional.interpolate(x, size=(h, w), mode=mode)
    return x


def _centred_plane(k: torch.Tensor, h: int, w: int) -> torch.Tensor:
    """``(kh, kw)`` kernel zero-padded to ``(h, w)``, centre on centre."""
    if k.shape[0] > h or k.shape[1] > w:
        raise ValueError(f'the {k.shape[0]} x {k.shape[1]} blur kernel does '
                         f'not fit a {h} x {w} input: use a larger --scale')
    plane = torch.zeros(h, w)
    top, left = h // 2 - k.shape[0] // 2, w // 2 - k.shape[1] // 2
    plane[top:top + k.shape[0], left:left + k.shape[1]] = k
    return plane


def example_input(family: str, size: Tuple[int, int], batch: int,
                  image: Optional[str] = None) -> torch.Tensor:
    h, w = size
    image = image or LOL_IMAGE
    if family == 'dcnas' and osp.isdir(NYU):
        # NYU v2 test 1000: depth / max, x4 bicubic down and up (lr_up);
        # RGB / 255, ImageNet-normalised
        d = torch.from_numpy(np.load(osp.join(NYU, 'Depth', '1000.npy')))
        d = _crop_or_resize(d[None, None].float() / d.max(), h, w)
        lr = nn.functional.interpolate(d, scale_factor=0.25, mode='bicubic')
        lr_up = nn.functional.interpolate(lr, size=(h, w), mode='bicubic')
        rgb = torch.from_numpy(np.array(
            Image.open(osp.join(NYU, 'RGB', '1000.jpg')).convert('RGB')))
        rgb = _crop_or_resize(rgb.permute(2, 0, 1)[None].float() / 255, h, w)
        rgb = (rgb - torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1)) / \
            torch.tensor(IMAGENET_STD).view(1, 3, 1, 1)
        x = torch.cat([lr_up, rgb], 1)
    elif family == 'dcnas':
        x = torch.rand(1, 4, h, w, generator=torch.Generator().manual_seed(0))
    elif family == 'hqs':
        if osp.isfile(LEVIN):
            import scipy.io as sio
            mat = sio.loadmat(LEVIN)
            y = _crop_or_resize(
                torch.from_numpy(mat['y']).float()[None, None], h, w)
            k = torch.from_numpy(mat['f']).float()
        else:
            y = torch.rand(1, 1, h, w,
                           generator=torch.Generator().manual_seed(0))
            k = torch.full((15, 15), 1 / 225)
        x = torch.cat([y, _centred_plane(k, h, w)[None, None]], 1)
    elif family in ('ruas', 'hbl'):
        if osp.isfile(image):
            arr = np.array(Image.open(image).convert('RGB'))
            x = torch.from_numpy(arr).permute(2, 0, 1)[None].float() / 255
            x = x[..., :h, :w]
            if x.shape[-2:] != (h, w):
                x = nn.functional.interpolate(x, size=(h, w))
        else:
            x = torch.rand(1, 3, h, w, generator=torch.Generator()
                           .manual_seed(0)) * 0.2
    else:
        x = torch.rand(1, 2, h, w, generator=torch.Generator().manual_seed(0))
    return x.expand(batch, *x.shape[1:]).contiguous()


# ---------------------------------------------------------------------------
# measurements
# ---------------------------------------------------------------------------
class PeakActivationMemory(TorchDispatchMode):
    """Largest total size of live tensors allocated under the mode.

    Every operator output's storage is counted from its creation until the
    last tensor created under the mode that views it is freed; storages
    that existed before (weights, the input) are not counted.
    """

    def __init__(self, external: List[torch.Tensor]) -> None:
        super().__init__()
        self.external = {
            t.untyped_storage().data_ptr()
            for t in external if isinstance(t, torch.Tensor)
        }
        self.refs: Dict[int, int] = {}
        self.sizes: Dict[int, int] = {}
        self.live = 0
        self.peak = 0

    def _free(self, key: int) -> None:
        self.refs[key] -= 1
        if not self.refs[key]:
            self.live -= self.sizes.pop(key)
            del self.refs[key]

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        for t in tree_leaves(out):
            if not isinstance(t, torch.Tensor) or t.device.type == 'meta':
                continue
            key = t.untyped_storage().data_ptr()
            if key in self.external or key == 0:
                continue
            if key not in self.refs:
                self.refs[key] = 0
                self.sizes[key] = t.untyped_storage().nbytes()
                self.live += self.sizes[key]
                self.peak = max(self.peak, self.live)
            self.refs[key] += 1
            weakref.finalize(t, self._free, key)
        return out


def peak_memory_mb(fn: Callable, x: torch.Tensor,
                   modules: List[nn.Module]) -> float:
    if x.is_cuda:
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated()
        with torch.no_grad():
            out = fn(x)
        torch.cuda.synchronize()
        del out
        return (torch.cuda.max_memory_allocated() - base) / 2**20
    external = [x] + [
        t for m in modules
        for t in list(m.parameters()) + list(m.buffers())
    ]
    with torch.no_grad(), PeakActivationMemory(external) as mode:
        out = fn(x)
        del out
    return mode.peak / 2**20


def _sync(device: torch.device) -> None:
    if device.type == 'cuda':
        torch.cuda.synchronize()


#: ONNX Runtime variants: mode -> (export with channels_last, session
#: options). ``onnxruntime`` is ORT's default (graph optimisation level
#: ORT_ENABLE_ALL, NCHWc layout transforms included; memory pattern and
#: arena on; sequential execution; spinning intra-op threads).
ORT_MODES = {
    'onnxruntime': (False, {}),
    'ort_basic': (False, dict(level='ORT_ENABLE_BASIC')),
    'ort_extended': (False, dict(level='ORT_ENABLE_EXTENDED')),
    'ort_no_mem_pattern': (False, dict(mem_pattern=False, arena=False)),
    'ort_no_spinning': (False, dict(spinning=False)),
    'ort_parallel': (False, dict(parallel=True)),
    'ort_channels_last': (True, {}),
    # the ONNX graph with the network's PReLUs kept as PRelu (the default
    # export writes single-slope PReLUs as LeakyRelu, which ORT fuses into
    # the convolution before it)
    'ort_prelu': (False, dict(prelu_as_leaky=False)),
    # the graph exported with the TIM networks' ResidualUpSample in the
    # official order (an exported graph takes the cheaper one by default)
    'ort_no_commuted_upsampling': (
        False, dict(export_switches=dict(commuted_upsampling=False))),
}


def ort_runner(net: nn.Module,
               x: torch.Tensor,
               threads: int,
               path: str,
               level: str = 'ORT_ENABLE_ALL',
               mem_pattern: bool = True,
               arena: bool = True,
               spinning: bool = True,
               parallel: bool = False,
               prelu_as_leaky: bool = True) -> Callable:
    """An ONNX Runtime CPU session on ``net`` exported to ``path`` (made
    when absent: dynamic N, H, W; a fixed size when the dynamic export
    fails, e.g. a data-dependent size)."""
    import onnxruntime as ort
    if not osp.isfile(path):
        try:
            export_network(net, x[:1], path, prelu_as_leaky=prelu_as_leaky)
        except Exception:  # noqa: BLE001 - retried with fixed sizes
            export_network(net, x, path, dynamic=False,
                           prelu_as_leaky=prelu_as_leaky)
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.graph_optimization_level = getattr(ort.GraphOptimizationLevel,
                                            level)
    opts.enable_mem_pattern = mem_pattern
    opts.enable_cpu_mem_arena = arena
    opts.execution_mode = (ort.ExecutionMode.ORT_PARALLEL if parallel else
                           ort.ExecutionMode.ORT_SEQUENTIAL)
    if not spinning:
        opts.add_session_config_entry('session.intra_op.allow_spinning', '0')
    session = ort.InferenceSession(
        path, opts, providers=['CPUExecutionProvider'])

    def run(inp: torch.Tensor) -> torch.Tensor:
        return torch.from_numpy(
            session.run(None, {'x': inp.cpu().numpy()})[0])

    return run


def jit_frozen(net: nn.Module, x: torch.Tensor) -> Callable:
    """``torch.jit.trace`` + ``torch.jit.freeze`` +
    ``torch.jit.optimize_for_inference`` (oneDNN conv + activation fusion)
    of the folded network, for ``x``'s size. Refused (RuntimeError) when
    tracing meets data-dependent control flow (RUAS_A's noise gate)."""
    import warnings
    folded = optimize_for_inference(copy.deepcopy(net), 'fold_bn',
                                    verbose=False)
    with warnings.catch_warnings(record=True) as caught, torch.no_grad():
        warnings.simplefilter('always')
        traced = torch.jit.trace(folded, x, check_trace=False)
    bad = [w for w in caught
           if issubclass(w.category, torch.jit.TracerWarning)
           and 'Python boolean' in str(w.message)]
    if bad:
        raise RuntimeError(f'data-dependent control flow: {bad[0].message}')
    return torch.jit.optimize_for_inference(torch.jit.freeze(traced.eval()))


def _build_mode(mode: str, net: nn.Module, x: torch.Tensor, threads: int,
                tmp: str, cache: dict) -> Callable:
    if mode in ORT_MODES:
        if x.device.type != 'cpu':
            raise RuntimeError(f'ONNX Runtime modes run on CPU only (the '
                               f'input is on {x.device.type})')
        if mode not in cache:
            channels_last, opts = ORT_MODES[mode]
            opts = dict(opts)
            switches = opts.pop('export_switches', {})
            names = 'fold_bn,channels_last' if channels_last else 'fold_bn'
            folded = optimize_for_inference(
                copy.deepcopy(net), names, verbose=False)
            if '_dir' not in cache:  # one folder per network
                cache['_dir'] = tempfile.mkdtemp(dir=tmp)
            tag = ('_cl' if channels_last else '') + (
                '_prelu' if not opts.get('prelu_as_leaky', True) else '') + (
                    '_no_' + '_'.join(sorted(switches)) if switches else '')
            path = osp.join(cache['_dir'], f'net{tag}.onnx')
            context = contextlib.nullcontext()
            if switches:
                from cpu_kernels.switches import cpu_kernels  # the plugin
                context = cpu_kernels(**switches)
            with context:
                cache[mode] = ort_runner(folded, x, threads, path, **opts)
        return cache[mode]
    if mode == 'jit_freeze':
        return jit_frozen(net, x)
    if mode == 'compile':
        folded = optimize_for_inference(
            copy.deepcopy(net), 'fold_bn', verbose=False)
        compiled = torch.compile(folded, dynamic=False)
        with torch.no_grad():
            compiled(x)  # compile now, not in the timed loop
        return compiled
    return optimize_for_inference(
        copy.deepcopy(net), mode.replace('+', ','), verbose=False)


def _eager_without(switch: str, net: nn.Module,
                   x: torch.Tensor) -> torch.Tensor:
    """``net(x)`` with the CPU kernel switch ``switch`` off for the call
    (:mod:`cpu_kernels.switches`; e.g. ``channels_last``: the NCHW
    pass, in the authors' summation order)."""
    from cpu_kernels.switches import cpu_kernels  # the plugin
    with cpu_kernels(**{switch: False}):
        return net(x)


def make_modes(net: nn.Module,
               modes: List[str],
               x: torch.Tensor,
               threads: int,
               tmp: str,
               cache: dict,
               skipped: Dict[str, str],
               build_s: Optional[Dict[str, float]] = None
               ) -> Dict[str, Callable]:
    """Mode name -> callable, each on its own copy of the network; the
    ONNX export (dynamic N, H, W) is made once per network (``cache``). A
    mode that cannot be built for the network (e.g. ONNX export of complex
    FFT arithmetic) is left out and its reason put in ``skipped``; the
    seconds each mode took to build (fold, export, ``torch.compile``'s
    first call) go to ``build_s``."""
    out = {}
    build_s = {} if build_s is None else build_s
    for mode in modes:
        if mode == 'eager':
            out[mode] = net
            continue
        if switch_of(mode) is not None:
            out[mode] = functools.partial(_eager_without, switch_of(mode),
                                          net)
            continue
        start = time.perf_counter()
        try:
            out[mode] = _build_mode(mode, net, x, threads, tmp, cache)
            build_s[mode] = time.perf_counter() - start
        except Exception as err:  # noqa: BLE001 - reported, not hidden
            inner = err
            while inner.__cause__ is not None:  # the root cause's message
                inner = inner.__cause__
            reason = f'{type(inner).__name__}: ' + (
                str(inner).strip().splitlines() or [''])[0]
            skipped[mode] = reason[:200]
            print(f'  mode {mode} not run: {skipped[mode]}', flush=True)
    return out


#: ``--clock``: the timer of every pass. ``cpu`` is the calling thread's CPU
#: time (``time.thread_time``): with one intra-op thread every operator, and
#: every compiled kernel, runs on that thread, so it is the pass's work
#: without the time the thread waits for a core on a shared machine
CLOCKS = dict(wall=time.perf_counter, cpu=time.thread_time)


def interleaved_latency(fns: Dict[str, Callable], x: torch.Tensor,
                        repeats: int, warmup: int,
                        clock: str = 'wall') -> Dict[str, float]:
    """Median ms per callable; every round runs each callable once."""
    timer = CLOCKS[clock]
    times: Dict[str, List[float]] = {k: [] for k in fns}
    with torch.no_grad():
        for r in range(warmup + repeats):
            for name, fn in fns.items():
                _sync(x.device)
                start = timer()
                fn(x)
                _sync(x.device)
                if r >= warmup:
                    times[name].append((timer() - start) * 1e3)
    return {k: statistics.median(v) for k, v in times.items()}


def max_diff(fn: Callable, ref: torch.Tensor, x: torch.Tensor) -> float:
    with torch.no_grad():
        out = fn(x)
    return (out.float().cpu() - ref.float().cpu()).abs().max().item()


def run_entry(name: str, args, tmp: str) -> dict:
    family, variant, size = NETWORKS[name]
    mult = SIZE_MULTIPLE.get(family, 4)
    size = tuple(max(mult, int(s * args.scale) // mult * mult) for s in size)
    device = torch.device(args.device)
    if family == 'tim':
        net, official, official_modules = build_tim(variant, tmp)
    elif family == 'ruas':
        net, official, official_modules = build_ruas(variant)
    else:
        net, official, official_modules = dict(
            dcnas=build_dcnas, hbl=build_hbl, hqs=build_hqs)[family](tmp)
    if args.cpu_kernels:  # every mode is built from this network
        from cpu_kernels import apply_cpu_kernels  # the plugin
        apply_cpu_kernels(net)
    net = net.to(device)
    for m in official_modules:
        m.to(device)
    res = dict(size=list(size), batches={}, skipped={})
    image = ENTRY_IMAGES.get(name)
    x1 = example_input(family, size, 1, image).to(device)
    res['params'] = count_params(net)
    res['macs_b1'] = count_flops(net, x1).macs
    res['official_params'] = sum(
        getattr(m, 'num_params', None)
        or sum(p.numel() for p in m.parameters()) for m in official_modules)
    cache: dict = {}
    for batch in args.batches:
        x = example_input(family, size, batch, image).to(device)
        print(f'{name}: batch {batch}, {tuple(x.shape)} ...', flush=True)
        gated = getattr(net, 'estimator', None) is not None
        fns = {'official': official}
        build_s: Dict[str, float] = {}
        fns.update(
            make_modes(net, args.modes, x, args.threads, tmp, cache,
                       res['skipped'], build_s))
        with torch.no_grad():
            ref = net(x)
            if gated:  # RUAS_A: did the noise gate open on this input?
                denoised = len(net(x, return_all=True).u_list) > len(
                    net.scene.stages)
                state = ('open (denoiser runs)' if denoised else
                         'closed (denoiser skipped)')
                print(f'  {name} N={batch}: noise gate {state}', flush=True)
        row = dict(
            diff={k: max_diff(f, ref, x)
                  for k, f in fns.items() if k != 'eager'},
            latency_ms=interleaved_latency(fns, x, args.repeats,
                                           args.warmup, args.clock),
            peak_mb={},
            build_s=build_s)
        if gated:
            row['denoiser_ran'] = denoised
        for k, f in fns.items():
            if k in ('official', 'eager', 'fold_bn', 'channels_last',
                     'fold_bn+channels_last'):
                mods = official_modules if k == 'official' else [
                    f if isinstance(f, nn.Module) else net]
                row['peak_mb'][k] = peak_memory_mb(f, x, mods)
        off = row['latency_ms']['official']
        row['ratio'] = {k: v / off for k, v in row['latency_ms'].items()}
        if args.profile:
            row['profile'] = {
                k: top_ops(fns[k], x, args.profile)
                for k in ('official', 'eager')
            }
            onnx_file = osp.join(cache.get('_dir', ''), 'net.onnx')
            if 'onnxruntime' in fns and osp.isfile(onnx_file):
                row['profile']['onnxruntime'] = ort_top_ops(
                    onnx_file, x, args.threads, args.profile)
            for k, ops in row['profile'].items():
                print(f'  {name} N={batch} {k}: top operators by self '
                      f'time (% of the pass): ' + ', '.join(
                          f'{op} {pct:.1f}%' for op, pct in ops))
        res['batches'][batch] = row
    return res


def ort_top_ops(path: str, x: torch.Tensor, threads: int,
                k: int) -> List[Tuple[str, float]]:
    """The ``k`` ONNX operator types with the largest total time in one
    run of the ONNX file at ``path`` (a session like ``onnxruntime``'s,
    with ONNX Runtime's profiler on; the warm-up run is not counted), as
    (op type, % of the run's node time). Layout reorders that ORT inserts
    show as ``ReorderInput`` / ``ReorderOutput``."""
    import onnxruntime as ort
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    session = ort.InferenceSession(
        path, opts, providers=['CPUExecutionProvider'])
    feed = {'x': x.cpu().numpy()}
    session.run(None, feed)             # warm-up, not profiled
    opts.enable_profiling = True
    opts.profile_file_prefix = osp.join(osp.dirname(path), 'ort_profile')
    session = ort.InferenceSession(
        path, opts, providers=['CPUExecutionProvider'])
    session.run(None, feed)
    session.run(None, feed)
    with open(session.end_profiling()) as f:
        events = json.load(f)
    runs = [e for e in events if e.get('name') == 'model_run']
    t0 = runs[-1]['ts'] if runs else 0      # the second (warm) run only
    per_op: Dict[str, float] = {}
    for e in events:
        if e.get('cat') == 'Node' and e['name'].endswith('_kernel_time') \
                and e['ts'] >= t0:
            op = e.get('args', {}).get('op_name', e['name'])
            per_op[op] = per_op.get(op, 0.0) + e['dur']
    total = sum(per_op.values()) or 1.0
    ops = sorted(per_op.items(), key=lambda o: -o[1])[:k]
    return [(op, round(100.0 * t / total, 1)) for op, t in ops]


def top_ops(fn: Callable, x: torch.Tensor, k: int) -> List[Tuple[str, float]]:
    """The ``k`` operators with the largest self time (CPU, or CUDA
    kernels on a CUDA input) in one pass of ``fn``, as (name, % of the
    pass's total self time), from ``torch.profiler``."""
    from torch.profiler import ProfilerActivity, profile
    acts = [ProfilerActivity.CPU]
    if x.is_cuda:
        acts.append(ProfilerActivity.CUDA)
    with torch.no_grad(), profile(activities=acts) as prof:
        fn(x)
        _sync(x.device)
    attr = 'self_device_time_total' if x.is_cuda else 'self_cpu_time_total'
    events = [(e.key, getattr(e, attr, 0.0)) for e in prof.key_averages()]
    total = sum(t for _, t in events) or 1.0
    events.sort(key=lambda e: -e[1])
    return [(name, round(100.0 * t / total, 1)) for name, t in events[:k]]


def _run_note(repeats: int, cpu_malloc: str) -> str:
    """The timing note of a results record: passes, allocator, load."""
    allocator = 'tuned' if cpu_malloc == 'tuned' else 'glibc defaults'
    load = ' / '.join(f'{x:.2f}' for x in os.getloadavg())
    return (f'median of {repeats} interleaved passes; CPU allocator: '
            f'{allocator}; load average {load} at the end.')


def main_latency(argv=None) -> dict:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument(
        '--quick',
        action='store_true',
        help='--scale 0.25 and batches 1 2 (unless given)')
    parser.add_argument(
        '--scale',
        type=float,
        default=None,
        help='input sizes = paper sizes x scale (multiples of 4)')
    parser.add_argument('--threads', type=int, default=1)
    parser.add_argument('--repeats', type=int, default=7)
    parser.add_argument('--warmup', type=int, default=2)
    parser.add_argument('--batches', type=int, nargs='+', default=None)
    parser.add_argument(
        '--models', nargs='+', default=list(NETWORKS),
        choices=list(NETWORKS), metavar='NAME')
    parser.add_argument(
        '--modes', nargs='+', default=list(DEFAULT_MODES), type=mode_name,
        metavar='MODE',
        help=f'of {", ".join(ALL_MODES)} and no:SWITCH (a cpu_kernels '
        'switch off)')
    parser.add_argument(
        '--device', default='cpu',
        help='cpu or cuda[:i] (CUDA: synchronised timing, peak memory from '
        'torch.cuda.max_memory_allocated, ONNX Runtime modes skipped)')
    parser.add_argument(
        '--tf32', action='store_true',
        help='CUDA: allow TF32 convolutions / matmuls (off by default, so '
        'that modes compare with eager within 1e-5)')
    parser.add_argument(
        '--clock', default='wall', choices=list(CLOCKS),
        help='wall: wall-clock time of each pass; cpu: the CPU time of the '
        'calling thread (CPU, --threads 1 only): the work of the pass '
        'without the waits for a core on a shared machine')
    parser.add_argument(
        '--results-json', default=None, metavar='FILE',
        help='also write the latency tables as a results record '
        '(docs/results/<name>.json: command, commit, machine)')
    parser.add_argument(
        '--cpu-malloc', default='off', choices=['off', 'tuned'],
        help="off: glibc's allocator defaults (as a script of the authors "
        'runs); tuned: freed blocks kept for reuse as the runner does '
        '(cpu_kernels.allocator defaults), for every network of '
        'the run: each fresh multi-MB map then costs no page faults')
    parser.add_argument(
        '--cpu-kernels', action='store_true',
        help='the CPU kernels of the plugin projects/cpu_kernels swapped '
        'into every toolbox network (CPU only; default: the plain model)')
    parser.add_argument(
        '--profile', type=int, default=0, metavar='K',
        help='also print the K operators with the largest self time in one '
        'pass of the official and the eager network (torch.profiler)')
    args = parser.parse_args(argv)
    if args.results_json:
        check_record_path(args.results_json)
    device = torch.device(args.device)
    if device.type == 'cuda':
        if not torch.cuda.is_available():
            parser.error(f'--device {args.device}: torch sees no CUDA '
                         f'device (torch {torch.__version__})')
        torch.backends.cudnn.allow_tf32 = args.tf32
        torch.backends.cuda.matmul.allow_tf32 = args.tf32
        torch.backends.cudnn.benchmark = False
    elif device.type != 'cpu':
        parser.error(f'--device must be cpu or cuda, got {args.device!r}')
    if args.clock == 'cpu' and (device.type != 'cpu' or args.threads != 1
                                or set(args.modes) & set(ORT_MODES)):
        parser.error('--clock cpu times the calling thread: it needs '
                     '--device cpu, --threads 1 and no ONNX Runtime mode '
                     '(whose session runs on threads of its own)')
    if any(switch_of(m) for m in args.modes) and not args.cpu_kernels:
        parser.error('a no:SWITCH mode turns one CPU kernel off: add '
                     '--cpu-kernels')
    if args.cpu_kernels and device.type != 'cpu':
        parser.error('--cpu-kernels: the CPU kernels apply on the CPU only')
    if args.batches is None:
        args.batches = [1, 2] if args.quick else [1, 8]
    if args.scale is None:
        args.scale = 0.25 if args.quick else 1.0
    if 'eager' not in args.modes:
        args.modes = ['eager'] + args.modes
    torch.set_num_threads(args.threads)
    if args.cpu_malloc == 'tuned':
        from cpu_kernels.allocator import configure_cpu_allocator
        configure_cpu_allocator()
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.models:
            results[name] = run_entry(name, args, tmp)
            # one line per network as soon as it is done (long runs)
            for batch, row in results[name]['batches'].items():
                print(f'{name} N={batch} done: ' + ', '.join(
                    f'{k} {v:.0f} ms ({row["ratio"][k]:.2f}x)'
                    for k, v in row['latency_ms'].items()), flush=True)
    where = device_name(torch.device(args.device))
    print(f'\nlatency ({args.clock} clock): median of {args.repeats} '
          f'interleaved passes after '
          f'{args.warmup} warm-up rounds, {args.threads} thread(s), on '
          f'{where}, torch {torch.__version__}')
    rows = [[
        'network', 'HxW', 'N', 'mode', 'ms', 'x official', 'max|d| vs eager',
        'peak act. MB'
    ]]
    for name, res in results.items():
        for batch, row in res['batches'].items():
            for k, ms in row['latency_ms'].items():
                rows.append([
                    name, 'x'.join(map(str, res['size'])), batch, k,
                    f'{ms:.1f}', f'{row["ratio"][k]:.2f}',
                    '-' if k == 'eager' else f'{row["diff"][k]:.1e}',
                    (f'{row["peak_mb"][k]:.0f}'
                     if k in row['peak_mb'] else '-')
                ])
    print(AsciiTable(rows).table)
    for name, res in results.items():
        for batch, row in res['batches'].items():
            slow = {k: v for k, v in row['build_s'].items() if v >= 1.0}
            if slow:
                print(f'build time {name} N={batch}: ' + ', '.join(
                    f'{k} {v:.1f} s' for k, v in slow.items()))
    cost = [['network', 'params', 'official params', 'MACs (G, N=1)']]
    for name, res in results.items():
        cost.append([
            name, f'{res["params"]:,}', f'{res["official_params"]:,}',
            f'{res["macs_b1"] / 1e9:.2f}'
        ])
    print(AsciiTable(cost).table)
    summary = {}
    for name, res in results.items():
        for batch, row in res['batches'].items():
            # best of eager and the optimised modes (not the switched-off
            # comparison modes)
            opt = {k: v for k, v in row['ratio'].items()
                   if k != 'official' and switch_of(k) is None}
            best = min(opt, key=opt.get)
            diffs = [v for k, v in row['diff'].items() if k in opt]
            summary[f'{name} N={batch}'] = dict(
                eager=round(row['ratio']['eager'], 3),
                best_mode=best,
                best=round(row['ratio'][best], 3),
                max_diff=max(diffs) if diffs else 0.0,
                official_diff=row['diff']['official'])
    print(f'\ntargets: eager <= {EAGER_TARGET}x official, best mode (eager '
          'or optimised) <= 0.5x, outputs within 1e-5 of eager')
    for key, s in summary.items():
        ok = (s['eager'] <= EAGER_TARGET, s['best'] <= 0.5,
              s['max_diff'] <= 1e-5)
        best = (f'best {s["best_mode"]} {s["best"]:.2f}x '
                f'[{"ok" if ok[1] else "MISS"}]')
        print(f'  {key}: eager {s["eager"]:.2f}x '
              f'[{"ok" if ok[0] else "MISS"}], {best}, max|d| '
              f'{s["max_diff"]:.1e} [{"ok" if ok[2] else "MISS"}], '
              f'vs official {s["official_diff"]:.1e}')
    out = dict(
        device=where,
        threads=args.threads,
        clock=args.clock,
        quick=args.quick,
        scale=args.scale,
        repeats=args.repeats,
        torch=torch.__version__,
        cpu_malloc=args.cpu_malloc,
        results=results,
        summary=summary)
    if args.results_json:
        write_results_record(
            args.results_json, f'OMP_NUM_THREADS={args.threads} python '
            'benchmarks/bench_inference.py ' + shlex.join(
                sys.argv[1:] if argv is None else argv), ROOT,
            _latency_tables(results), threads=args.threads,
            metrics=['ms', 'x official', 'max abs diff vs eager'],
            count='images per batch', decimals=2,
            RESULT=out, note=f'{args.clock} clock, ' +
            _run_note(args.repeats, args.cpu_malloc))
    print('RESULT ' + json.dumps(out))
    return out


def _latency_tables(results: dict) -> dict:
    """Record tables: one per network and batch, one row per mode."""
    tables = {}
    for name, res in results.items():
        for batch, row in res['batches'].items():
            size = 'x'.join(map(str, res['size']))
            tables[f'{name}, {size}'] = {
                mode: {'ms': round(ms, 1),
                       'x official': round(row['ratio'][mode], 2),
                       'max abs diff vs eager':
                       f'{row["diff"].get(mode, 0.0):.1e}',
                       'images per batch': int(batch)}
                for mode, ms in row['latency_ms'].items()}
    return tables


MODES = {'latency': main_latency}


def main(argv=None):
    """Run the mode ``--mode`` names (default ``latency``)."""
    return run_mode(MODES, argv)


if __name__ == '__main__':
    main()
