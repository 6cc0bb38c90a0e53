"""Micro-benchmarks of the CPU kernels, one kernel against the ATen / oneDNN
operator it replaces, at the shapes of the networks that use it.

Modes (``--mode NAME``; ``--mode NAME --help`` lists its options):

* ``conv`` (default): 3 x 3 convolutions of the official networks' shapes,
  oneDNN against Winograd's F(4x4, 3x3) (its parts timed apart) and tap
  products, and which kernel the toolbox takes for each shape
  (``projects/cpu_kernels/docs/winograd_convolutions.md``);
* ``training``: the operators of the fast training path (grouped
  convolutions, PReLU, 1 x 1 convolutions on pixel pairs, commuted
  up-sampling, the separable SSIM window) against the ATen modules, forward
  and backward (``benchmarks/docs/training_speed.md``).

Run from the repository root::

    OMP_NUM_THREADS=1 python -m cpu_kernels.bench_kernels --mode conv
    OMP_NUM_THREADS=1 python -m cpu_kernels.bench_kernels \\
        --mode training --batch 8 --size 128

Each prints its table and ends with one line ``RESULT {json}``;
``--results-json FILE`` writes a ``docs/results`` record. The whole-network
effect of the kernels is measured by ``benchmarks/bench_inference.py`` and
``benchmarks/bench_training_overhead.py``.
"""
import argparse
import json
import os.path as osp
import shlex
import statistics
import sys
import time
from typing import Callable, Optional, Tuple

import numpy as np
import torch
import torch.nn as nn
from terminaltables import AsciiTable

# the benchmarks' --mode switch and results records (mmfusenas.benchmark)
from mmfusenas.benchmark.cli_modes import run_mode  # noqa: E402
from mmfusenas.benchmark.results_record import (  # noqa: E402
    check_record_path, write_results_record)

from .transform import apply_cpu_kernels
from mmfusenas.search.estimators import device_name, num_threads
from .allocator import configure_cpu_allocator
from .switches import cpu_kernels

#: the repository (the commit a results record names)
ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


DOC_CONV_KERNELS = """3 x 3 convolutions of the official networks' shapes: oneDNN, Winograd, tap products.

Usage::

    OMP_NUM_THREADS=1 python -m cpu_kernels.bench_kernels \\
        --mode conv [--repeats 7] [--warmup 2] [--cpu-malloc tuned|off] \\
        [--results-json FILE]

For each shape (input -> output channels, map size; the network that has
it) one convolution with seeded weights on a channels-last map, one torch
thread: oneDNN's direct kernel (``conv(x)``),
:func:`cpu_kernels.winograd_conv.winograd_conv2d` and, up to 16
output channels,
:func:`cpu_kernels.tap_product_conv.tap_product_conv2d`, each
forced where its rule declines the shape, interleaved, median of
``--repeats`` passes. Winograd's pass is split into its parts, each
timed over the map's full blocks of tiles: the compiled input transform,
the 36 batched products (``torch.bmm``) and the compiled output
transform. ``kernel``: what the toolbox runs for the shape at inference
(``winograd_ok``, then ``tap_product_ok``, else oneDNN). Ends with
``RESULT {json}``.
"""

#: (input channels, output channels, H, W, network)
CONV_SHAPES = (
    (64, 64, 252, 252, 'HQS'), (64, 1, 252, 252, 'HQS'),
    (16, 64, 252, 252, '-'), (32, 32, 400, 600, 'RUAS'),
    (32, 3, 400, 600, 'RUAS'), (32, 8, 400, 600, '-'),
    (32, 16, 400, 600, '-'),
    (24, 24, 400, 600, '-'), (16, 16, 400, 600, 'HBL'),
    (32, 32, 200, 300, 'HBL'), (32, 32, 100, 150, 'HBL'),
    (64, 32, 100, 150, 'HBL'))


def _winograd_parts(x, conv) -> Tuple[Callable, Callable, Callable]:
    """Three passes over the full blocks of tiles of ``x``: input
    transform, products, output transform (as :func:`winograd_conv2d`
    runs them block by block), on buffers of their own."""
    from cpu_kernels import winograd_conv as wmod
    forward, backward = wmod._kernels()
    n, c, h, w = x.shape
    wt = wmod.winograd_weight(conv.weight)
    tiles = wmod._tiles(n, h, w, 1)
    blocks = [tiles[i:i + wmod.TILE_BLOCK]
              for i in range(0, len(tiles) - wmod.TILE_BLOCK + 1,
                             wmod.TILE_BLOCK)]
    v = torch.empty((36, wmod.TILE_BLOCK, c))
    m = torch.empty((36, wmod.TILE_BLOCK, wt.shape[2]))
    y = torch.empty((n, wt.shape[2], h, w), memory_format=torch.channels_last)
    xa, ya = x.numpy().transpose(0, 2, 3, 1), y.numpy().transpose(0, 2, 3, 1)
    bias = conv.bias.detach().numpy()
    lo = np.float32(-np.inf)
    return (lambda: [forward(xa, 1, 1, False, b, v.numpy()) for b in blocks],
            lambda: [torch.bmm(v, wt, out=m) for b in blocks],
            lambda: [backward(m.numpy(), b, bias, lo, 1, ya) for b in blocks])


def main_conv(argv=None) -> dict:
    parser = argparse.ArgumentParser(
        description=DOC_CONV_KERNELS,
        formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument('--repeats', type=int, default=7)
    parser.add_argument('--warmup', type=int, default=2)
    parser.add_argument('--cpu-malloc', choices=('tuned', 'off'),
                        default='tuned')
    parser.add_argument('--results-json', default=None, metavar='FILE')
    args = parser.parse_args(argv)
    if args.results_json:
        check_record_path(args.results_json)
    from cpu_kernels import tap_product_conv as tmod
    from cpu_kernels import winograd_conv as wmod
    if wmod._kernels() is None:
        sys.exit('--mode conv times the compiled Winograd passes: '
                 'needs numba, with the cpu_kernels switches winograd and '
                 'numba on')
    if args.cpu_malloc == 'tuned':
        configure_cpu_allocator()
    header = ['convolution', 'network', 'kernel', 'oneDNN ms', 'Winograd ms',
              'x oneDNN', 'input transform ms', 'products ms',
              'output transform ms', 'tap products ms']
    rows, table = [header], {}
    with num_threads(1), torch.no_grad():
        for ci, co, h, w, net in CONV_SHAPES:
            torch.manual_seed(0)
            conv = nn.Conv2d(ci, co, 3, padding=1).eval()
            x = torch.rand(1, ci, h, w).contiguous(
                memory_format=torch.channels_last)
            kernel = ('Winograd' if wmod.winograd_ok(conv, tuple(x.shape))
                      else 'tap products' if tmod.tap_product_ok(
                          conv, tuple(x.shape)) else 'oneDNN')
            saved = (wmod.WINOGRAD_MIN_OUT_CHANNELS, wmod.WINOGRAD_MIN_PIXELS,
                     tmod.TAP_PRODUCT_MAX_OUT_CHANNELS)
            wmod.WINOGRAD_MIN_OUT_CHANNELS = wmod.WINOGRAD_MIN_PIXELS = 1
            tmod.TAP_PRODUCT_MAX_OUT_CHANNELS = 16
            try:   # forced where the rules decline the shape
                runs = dict(onednn=lambda: conv(x),
                            winograd=lambda: wmod.winograd_conv2d(x, conv))
                runs.update(zip(('input', 'products', 'output'),
                                _winograd_parts(x, conv)))
                if co <= 16:
                    runs['taps'] = lambda: tmod.tap_product_conv2d(x, conv)
                times = {k: [] for k in runs}
                for r in range(args.warmup + args.repeats):
                    for k, f in runs.items():
                        t0 = time.perf_counter()
                        f()
                        if r >= args.warmup:
                            times[k].append(1e3 * (time.perf_counter() - t0))
            finally:
                (wmod.WINOGRAD_MIN_OUT_CHANNELS, wmod.WINOGRAD_MIN_PIXELS,
                 tmod.TAP_PRODUCT_MAX_OUT_CHANNELS) = saved
            ms = {k: statistics.median(v) for k, v in times.items()}
            name = f'{ci} -> {co} at {h}x{w}'
            table[name] = {
                'network': net, 'kernel': kernel,
                'oneDNN ms': round(ms['onednn'], 2),
                'Winograd ms': round(ms['winograd'], 2),
                'x oneDNN': round(ms['winograd'] / ms['onednn'], 2),
                'input transform ms': round(ms['input'], 2),
                'products ms': round(ms['products'], 2),
                'output transform ms': round(ms['output'], 2),
                'tap products ms': round(ms['taps'], 2) if 'taps' in ms
                else '-'}
            rows.append([name] + [table[name][k] for k in header[1:]])
            print(name, table[name], flush=True)
    print(AsciiTable(rows).table)
    title = '3 x 3 convolutions, channels-last, 1 thread'
    out = dict(device=device_name(torch.device('cpu')),
               cpu_malloc=args.cpu_malloc, results={title: table})
    if args.results_json:
        write_results_record(
            args.results_json, 'OMP_NUM_THREADS=1 python -m '
            'cpu_kernels.bench_kernels --mode conv ' +
            shlex.join(sys.argv[1:] if argv is None else argv), ROOT,
            {title: table}, threads=1, metrics=header[1:],
            row_label='convolution', decimals=2, RESULT=out,
            note=f'median of {args.repeats} interleaved passes; CPU '
            f'allocator: {args.cpu_malloc}.')
    print('RESULT ' + json.dumps(out))
    return out


DOC_KERNELS = """Fast-path operators against ATen, one by one, at the shapes of the toy N_F.

Usage::

    OMP_NUM_THREADS=1 python -m cpu_kernels.bench_kernels \\
        --mode training [--batch 8] [--size 128] [--repeats 15]

For each operator of the fast training path that replaces an ATen kernel
(``projects/cpu_kernels/cpu_kernels/grouped_conv.py``, ``fast_training.py``) or
computes a block in a cheaper order (``CpuResidualUpSample`` on
channels-last maps, ``projects/cpu_kernels/cpu_kernels/modules/tim.py``: against the
official order), at the
batch and sizes of TIM's stage-1 N_F in the toy configs (8 channels at
``--size``, 16 at half, 32 at a quarter): the forward and the forward +
backward (input and parameter gradients) of the fast module and of the
ATen module it replaces (same parameters, channels-last inputs), timed in
interleaved rounds (median), with the largest difference of the output
and of the input gradient. Ends with ``RESULT {json}``; ``--results-json``
writes the table as a results record.
"""


def _kernel_cases(batch: int, size: int):
    """``(name, aten module, fast module, input shape)`` of the fast-path
    operators at the toy N_F's shapes."""
    from .fast_training import FastPReLU
    from .grouped_conv import FastGroupedConv2d
    cases = []
    for cin, groups, d, s in ((8, 8, 2, size), (16, 8, 1, size),
                              (24, 8, 1, size), (16, 16, 2, size // 2),
                              (32, 32, 2, size // 4)):
        what = ('depthwise' if cin == groups else f'{cin} -> {groups}, '
                f'{cin // groups} inputs per group')
        name = f'grouped conv 3x3 d{d}: {what}'
        torch.manual_seed(0)
        ref = torch.nn.Conv2d(cin, groups, 3, padding=d, dilation=d,
                              groups=groups, bias=False)
        fast = FastGroupedConv2d(cin, groups, 3, padding=d, dilation=d,
                                 groups=groups, bias=False)
        fast.load_state_dict(ref.state_dict())
        cases.append((name, ref, fast, (batch, cin, s, s)))
    for ch, s in ((8, size), (16, size // 2)):
        ref = torch.nn.PReLU()
        fast = FastPReLU()
        fast.load_state_dict(ref.state_dict())
        cases.append((f'PReLU backward, {ch} channels', ref, fast,
                      (batch, ch, s, s)))
    # 1 x 1 convolutions with 8 outputs: products on pixel pairs, or F.linear
    from .fast_training import PointwiseConv2d
    for cin in (8, 16):
        torch.manual_seed(0)
        conv = PointwiseConv2d(cin, 8, 1)
        cases.append((f'1x1 conv {cin} -> 8 (pixel pairs)',
                      _Switched(conv, 'paired_products'),
                      _Switched(conv), (batch, cin, size, size)))
    # residual up-sampling 16 -> 8 (half size -> size): the official order
    # (bilinear, then the 1 x 1) against the 1 x 1 first (its CPU kernel
    # class, with the fast training path)
    from mmfusenas.models.ops import ResidualUpSample
    torch.manual_seed(0)
    block = ResidualUpSample(16)
    apply_cpu_kernels(block, training=True)
    cases.append(('residual up-sampling 16 -> 8, 1x1 before the bilinear',
                  _Switched(block, 'commuted_upsampling'),
                  _Switched(block), (batch, 16, size // 2, size // 2)))
    # the SSIM window over the five moments of two sources (TIM's losses)
    window = _GaussianWindow()
    cases.append(('separable 11-tap Gaussian (SSIM moments)',
                  _Switched(window, 'separable_filter'),
                  _Switched(window), (batch, 10, size, size)))
    return cases


class _Switched(torch.nn.Module):
    """``module`` run with the CPU kernel switch ``switch`` off (its ATen
    path, :mod:`cpu_kernels.switches`), or as it is (``switch``
    None); the input's memory format is the module's
    ``input_memory_format`` (default channels-last)."""

    def __init__(self, module: torch.nn.Module,
                 switch: Optional[str] = None):
        super().__init__()
        self.module = module
        self.switch = switch
        self.input_memory_format = getattr(module, 'input_memory_format',
                                           torch.channels_last)

    def forward(self, x):
        switches = {self.switch: False} if self.switch else {}
        with cpu_kernels(**switches):
            return self.module(x)


class _GaussianWindow(torch.nn.Module):
    """The differentiable SSIM's valid 11-tap Gaussian of NCHW planes
    (``separable_filter``); its input is NCHW, as the SSIM's stacked
    moments."""

    input_memory_format = torch.contiguous_format

    def __init__(self):
        super().__init__()
        from mmfusenas.models.losses import gaussian_kernel1d
        self.register_buffer('taps', gaussian_kernel1d(11, 1.5))

    def forward(self, x):
        from .separable_filter import separable_filter
        return separable_filter(x, self.taps, self.taps)


def main_training(argv=None) -> dict:
    parser = argparse.ArgumentParser(
        description=DOC_KERNELS.split('\n')[0])
    parser.add_argument('--batch', type=int, default=8)
    parser.add_argument('--size', type=int, default=128)
    parser.add_argument('--repeats', type=int, default=15)
    parser.add_argument('--threads', type=int, default=1)
    parser.add_argument('--results-json', default=None, metavar='FILE')
    args = parser.parse_args(argv)
    if args.results_json:
        check_record_path(args.results_json)
    torch.set_num_threads(args.threads)
    configure_cpu_allocator()
    rows, tables = [], {}
    for name, ref, fast, shape in _kernel_cases(args.batch, args.size):
        for mod in (ref, fast):
            mod.to(memory_format=torch.channels_last)
        torch.manual_seed(1)
        x = torch.randn(shape).contiguous(memory_format=getattr(
            fast, 'input_memory_format', torch.channels_last))
        x.requires_grad_()
        g = torch.randn_like(ref(x))

        times = {k: [] for k in ('aten fwd', 'fast fwd', 'aten fwd+bwd',
                                 'fast fwd+bwd')}
        for r in range(args.repeats + 2):   # two warm-up rounds
            for label, mod in (('aten', ref), ('fast', fast)):
                # the forward while autograd records (the fast passes are
                # taken only then), then forward + backward
                t0 = time.perf_counter()
                y = mod(x)
                t1 = time.perf_counter()
                del y
                torch.autograd.grad(mod(x), [x] + list(mod.parameters()), g)
                t2 = time.perf_counter()
                if r >= 2:
                    times[f'{label} fwd'].append(t1 - t0)
                    times[f'{label} fwd+bwd'].append(t2 - t1)
        med = {k: statistics.median(v) * 1e3 for k, v in times.items()}
        y0, y1 = ref(x), fast(x)
        gx0 = torch.autograd.grad(y0, x, g)[0]
        gx1 = torch.autograd.grad(y1, x, g)[0]
        y0, y1 = y0.detach(), y1.detach()
        row = dict(
            op=name, shape='x'.join(map(str, shape)),
            **{k: round(v, 2) for k, v in med.items()},
            ratio=round(med['fast fwd+bwd'] / med['aten fwd+bwd'], 2),
            max_diff=float((y1 - y0).abs().max()),
            grad_max_diff=float((gx1 - gx0).abs().max()))
        rows.append(row)
        tables.setdefault('fast-path operators (ms)', {})[
            f'{name} ({row["shape"]})'] = {
                'ATen fwd': row['aten fwd'], 'fast fwd': row['fast fwd'],
                'ATen fwd+bwd': row['aten fwd+bwd'],
                'fast fwd+bwd': row['fast fwd+bwd'],
                'fast / ATen (fwd+bwd)': row['ratio'],
                'images per batch': args.batch}
    table = [['operator', 'input', 'ATen fwd', 'fast fwd', 'ATen fwd+bwd',
              'fast fwd+bwd', 'ratio', 'max|d| out / grad']]
    for r in rows:
        table.append([r['op'], r['shape'], r['aten fwd'], r['fast fwd'],
                      r['aten fwd+bwd'], r['fast fwd+bwd'], r['ratio'],
                      f'{r["max_diff"]:.1e} / {r["grad_max_diff"]:.1e}'])
    print(f'median ms of {args.repeats} interleaved rounds, '
          f'{torch.get_num_threads()} thread(s), forward with autograd '
          'recording')
    print(AsciiTable(table).table)
    result = dict(batch=args.batch, size=args.size, repeats=args.repeats,
                  threads=torch.get_num_threads(), rows=rows)
    if args.results_json:
        write_results_record(
            args.results_json,
            f'OMP_NUM_THREADS={args.threads} python -m '
            'cpu_kernels.bench_kernels '
            + shlex.join(['--mode', 'training'] + list(
                sys.argv[1:] if argv is None else argv)), ROOT, tables,
            threads=args.threads,
            metrics=['ATen fwd', 'fast fwd', 'ATen fwd+bwd', 'fast fwd+bwd',
                     'fast / ATen (fwd+bwd)'],
            count='images per batch', decimals=2, RESULT=result,
            note=f'Median of {args.repeats} interleaved rounds; forward '
            'with autograd recording.')
    print('RESULT ' + json.dumps(result))
    return result


MODES = {'conv': main_conv, 'training': main_training}


def main(argv=None):
    """Run the mode ``--mode`` names (default ``conv``)."""
    return run_mode(MODES, argv)


if __name__ == '__main__':
    main()
