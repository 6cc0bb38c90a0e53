"""What task-guided training adds on top of mmdet / mmseg: step time of the
compound model (fusion network + detector / segmentor) against the same
task model alone on the same batch.

Usage::

    python benchmarks/bench_training_overhead.py
        [--configs configs/tim/retinanet_ivif_toy.py
                   configs/tim/deeplabv3plus_r18_msrs_toy.py]
        [--rounds 12] [--warmup 2] [--threads 1] [--data-dir DIR]
        [--batch N] [--device cpu|cuda] [--compare-plain]

Per config, the model of the config is built twice from the same seed: the
compound model (``FusionDetector`` / ``FusionSegmentor``) and, for the
baseline, the task model of a second copy alone: the plain models the
runner trains, or with ``--cpu-kernels`` both with the CPU kernels of the
plugin ``projects/cpu_kernels`` (:func:`cpu_kernels.apply_cpu_kernels`
with ``training=True``, N_F on the fast training path), and the optimizer
of the config (``optim_wrapper``: AdamW, gradient clipping). The toy data are
generated into a temporary folder (``--data-dir`` reuses one whose
``meta.json`` records ``--num`` pairs of seed 0, refuses another) and read
by the config's own train loader.

Each round draws one batch from the loader (timed: ``data``) and runs, on
that batch, one compound step and one task-alone step, alternating which
goes first (A/B/B/A...) so that a varying machine load hits both alike.
The compound step is split at the task input (the normalised fused
picture) so that every part is timed on its own, with the same gradients
as one ``loss.backward()``:

* ``preprocess``: the data preprocessor (pad, stack, to device);
* ``fusion fwd``: N_F, the picture for the task and the fusion losses
  (l_F, eta-weighted);
* ``task fwd`` / ``task bwd``: the task model's loss on the (detached)
  picture and its backward down to the picture;
* ``fusion bwd``: the picture's gradient and l_F back through N_F;
* ``optim``: clipping + AdamW over all parameters.

The task-alone step is ``task fwd`` + ``task bwd`` + ``optim`` of the task
model on the VIS image (same shape, same samples). ``train_step`` is the
compound model's real ``train_step`` (MMEngine's path, one call) timed in
the same rounds, to check that the parts add up. Reported: medians over
rounds; the fusion overhead = compound step - task-alone step (both
without data loading), as a fraction of the task-alone step (target
<= 100 % on the toy configs). ``--compare-plain`` (with ``--cpu-kernels``)
also times, in the same rounds, the plain compound model (built without
:func:`~cpu_kernels.apply_cpu_kernels`: the before of the fast
training path); ``--compare-kernels SWITCH=BOOL ...`` the
compound step of the same model with CPU kernel switches set
(:mod:`cpu_kernels.switches`, e.g. ``grouped_conv=False``: one
kernel switch's before / after; ``--compare-env`` is its old name, which
also reads the old form ``MMFUSENAS_NO_GROUPED_CONV=1``).
``--cfg-options KEY=VALUE ...`` overrides settings of every config for
both steps (e.g. ``optim_wrapper.optimizer.fused=True``: PyTorch's fused
AdamW); the record keeps them. Ends with ``RESULT {json}``. The options
that use the plugin (``--cpu-kernels``, ``--compare-kernels``,
``--cpu-malloc tuned``) import it as its README says: run them with
``PYTHONPATH=projects/cpu_kernels``.


Modes (``--mode NAME``; ``--mode NAME --help`` lists its options):

* ``overhead`` (default): this text;
* ``reliability``: Cost of the reliability guarantees (docs/user_guides/reliability.md).
  (its text: ``DOC_RELIABILITY``);
* ``distributed``: Data-parallel throughput of search and training on CPU
  processes. Usage:: (its text: ``DOC_DISTRIBUTED``);
* ``framework``: The toolbox's training step (MMEngine runner, hooks, data
  preprocessor, optimizer wrapper) of a fusion config against a plain
  PyTorch loop of the same network, loss and optimizer on in-memory batches
  (its text: ``DOC_FRAMEWORK``);
* ``defaults``: The toolbox's runtime defaults (runner, hooks, guard) on the
  headline's training step against MMEngine's stock Runner with its default
  hooks (its text: ``DOC_DEFAULTS``).
"""
import argparse
import contextlib
import copy
import io
import json
import os
import os.path as osp
import shlex
import statistics
import sys
import tempfile
import time
from typing import Optional

import torch
from mmengine.config import Config, DictAction
from mmengine.logging import MMLogger
from mmengine.optim import build_optim_wrapper
from mmengine.registry import init_default_scope
from mmengine.runner import Runner
from terminaltables import AsciiTable

import mmfusenas  # noqa: F401
from mmfusenas.benchmark.cli_modes import run_mode
from mmfusenas.benchmark.results_record import (check_record_path,
                                                write_results_record)
from mmfusenas.engine.hooks import FiniteStepGuardHook
from mmfusenas.registry import MODELS
from mmfusenas.search.estimators.resource_estimator import \
    count_flops_of_call
from mmfusenas.testing.distributed import (launch, results_or_raise,
                                           strip_batchnorm)
from mmfusenas.testing.toy_data.ivif import (generate_toy_dataset,  # noqa
                                             toy_data_set)
from mmfusenas.utils.checkpoint import nonfinite_tensors, read_checkpoint
from mmfusenas.utils.distributed import unwrap
from mmfusenas.utils.fileio import atomic_write

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))

CONFIGS = ['configs/tim/retinanet_ivif_toy.py',
           'configs/tim/deeplabv3plus_r18_msrs_toy.py']
#: fusion overhead target: at most the detector's own step
TARGET = 1.00


def parse_args():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument('--configs', nargs='+', default=CONFIGS)
    p.add_argument('--rounds', type=int, default=12)
    p.add_argument('--warmup', type=int, default=2)
    p.add_argument('--threads', type=int, default=1,
                   help='intra-op threads (1: on a shared machine two '
                   'threads wait for each other and distort the parts)')
    p.add_argument('--batch', type=int, default=None,
                   help='batch size (default: the config\'s)')
    p.add_argument('--data-dir', default=None,
                   help='toy data folder: reused when its meta.json records '
                   '--num pairs of seed 0 (another set is refused), '
                   'generated there when it has none (else a temporary '
                   'folder)')
    p.add_argument('--num', type=int, default=48,
                   help='pairs of the toy data')
    p.add_argument('--channels-last', action='store_true',
                   help='both models (and their inputs) in channels-last '
                   'memory format')
    p.add_argument('--cpu-kernels', action='store_true',
                   help='both models with the CPU kernels of the plugin '
                   'projects/cpu_kernels (training=True); default: the '
                   'plain models the runner trains')
    p.add_argument('--compare-plain', action='store_true',
                   help='also time, in the same rounds, the compound step '
                   'of the plain model (no apply_cpu_kernels: N_F in NCHW '
                   "with PyTorch's PReLU and 1x1 kernels): before / after "
                   'of the fast training path side by side')
    p.add_argument('--compare-kernels', '--compare-env', nargs='+',
                   default=None, metavar='SWITCH=BOOL',
                   dest='compare_kernels',
                   help='also time, in the same rounds, the compound step of '
                   'the same model with these CPU kernel switches set '
                   '(cpu_kernels.switches), e.g. grouped_conv=False '
                   '(before / after of one kernel switch side by side; '
                   '--compare-env, the old name, also reads the old form '
                   'MMFUSENAS_NO_GROUPED_CONV=1)')
    p.add_argument('--cfg-options', nargs='+', action=DictAction,
                   default=None, metavar='KEY=VALUE',
                   help='override settings of every config (mmengine '
                   'syntax), e.g. optim_wrapper.optimizer.fused=True; both '
                   'the compound model and the task model alone get them, '
                   'and the record keeps them')
    p.add_argument('--cpu-malloc', default='off',
                   choices=['tuned', 'off'],
                   help="tuned: glibc malloc's thresholds of the plugin "
                   "(cpu_kernels.allocator.DEFAULT_CPU_MALLOC); off: glibc's "
                   'defaults')
    p.add_argument('--results-json', default=None, metavar='FILE',
                   help='also write the tables as a results record '
                   '(docs/results/<name>.json: command, commit, machine)')
    p.add_argument('--device', default='cpu',
                   help="'cpu' or 'cuda' (CUDA: both models on the GPU, the "
                   'clock read after a synchronisation at every part)')
    return p.parse_args()


def _loss_sum(model, losses):
    loss, _ = model.parse_losses(losses)
    return loss


#: the device of the run (``--device``); CUDA work is synchronised before
#: every clock reading so that each part gets its own kernels' time
DEVICE = torch.device('cpu')


def _now():
    if DEVICE.type == 'cuda':
        torch.cuda.synchronize(DEVICE)
    return time.perf_counter()


class Timer:
    def __init__(self):
        self.parts = {}
        self.t = _now()

    def lap(self, name):
        now = _now()
        self.parts[name] = self.parts.get(name, 0.0) + now - self.t
        self.t = now


def compound_step(model, optim, data):
    tm = Timer()
    data = model.data_preprocessor(data, True)
    inputs, samples = data['inputs'], data['data_samples']
    tm.lap('preprocess')
    out = model.run_pre(inputs)
    picture = model.task_inputs(out)
    pre = model.weighted_losses(out)
    pre_loss = _loss_sum(model, pre) if pre else None
    tm.lap('fusion fwd')
    leaf = picture.detach().requires_grad_()
    task_loss = _loss_sum(model, model._task_loss(leaf, samples))
    tm.lap('task fwd')
    task_loss.backward()
    tm.lap('task bwd')
    tensors, grads = [picture], [leaf.grad]
    if pre_loss is not None:
        tensors.append(pre_loss)
        grads.append(None)
    torch.autograd.backward(tensors, grads)
    tm.lap('fusion bwd')
    optim.step()
    optim.zero_grad()
    tm.lap('optim')
    return tm.parts


def task_step(model, task, optim, data):
    """The task model alone on the VIS image of the same batch."""
    with torch.no_grad():
        data = model.data_preprocessor(data, True)
        inputs, samples = data['inputs'], data['data_samples']
        images = model.split_sources(inputs)
        # the VIS luminance with its chroma: the VIS image
        images[model.task_input] = images['sources'][:, 1:2]
        picture = model.task_inputs(dict(images=images))
    tm = Timer()
    loss = _loss_sum(task, task.loss(picture, samples))
    tm.lap('task fwd')
    loss.backward()
    tm.lap('task bwd')
    optim.step()
    optim.zero_grad()
    tm.lap('optim')
    return tm.parts


_TRUE = ('1', 'true', 'yes', 'on')
_FALSE = ('0', 'false', 'no', 'off', '')


def kernel_switches(pairs) -> dict:
    """``SWITCH=BOOL`` strings (``grouped_conv=False``) as the arguments
    of :func:`~cpu_kernels.switches.cpu_kernels`; the form of the
    former environment variables, ``MMFUSENAS_NO_<SWITCH>=1`` (and
    ``MMFUSENAS_OPENCV_FILTERS=1``), is read as ``<switch>=False``."""
    switches = {}
    if pairs:
        from cpu_kernels.switches import SWITCHES  # the plugin
    for pair in pairs:
        key, sep, value = pair.partition('=')
        value = value.strip().lower()
        if not sep or not key or value not in _TRUE + _FALSE:
            raise SystemExit(f'--compare-kernels: expected SWITCH=BOOL '
                             f'(e.g. grouped_conv=False), got {pair!r}')
        on = value in _TRUE
        if key.startswith('MMFUSENAS_NO_'):
            key, on = key[len('MMFUSENAS_NO_'):].lower(), not on
        if key not in SWITCHES:
            raise SystemExit(f'--compare-kernels: unknown switch {key!r}; '
                             f'the valid ones are {", ".join(SWITCHES)}')
        switches[key] = on
    return switches


def _switches_text(switches: dict) -> str:
    return ' '.join(f'{k}={v}' for k, v in switches.items())


class _ChannelsLast(torch.nn.Module):
    """Wrap a data preprocessor: its ``inputs`` in channels-last format."""

    def __init__(self, pre):
        super().__init__()
        self.pre = pre

    def forward(self, data, training=False):
        data = self.pre(data, training)
        data['inputs'] = data['inputs'].contiguous(
            memory_format=torch.channels_last)
        return data


def load_config(path: str, cfg_options: Optional[dict] = None) -> Config:
    """The config at ``path`` (relative to the repository or absolute)
    with ``cfg_options`` (``--cfg-options``) merged in."""
    cfg = Config.fromfile(osp.join(ROOT, path) if not osp.isabs(path) else
                          path)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    return cfg


def run_config(path, args, data_root):
    cfg = load_config(path, args.cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmfusenas'))
    loader_cfg = cfg.train_dataloader.copy()
    loader_cfg['dataset']['data_root'] = data_root + '/'
    loader_cfg['num_workers'] = 0
    loader_cfg['persistent_workers'] = False
    if args.batch:
        loader_cfg['batch_size'] = args.batch
    loader = Runner.build_dataloader(loader_cfg, seed=0)
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    torch.manual_seed(0)
    alone = MODELS.build(cfg.model)
    alone.init_weights()
    if args.cpu_kernels:
        from cpu_kernels import apply_cpu_kernels  # the plugin
        apply_cpu_kernels(model, training=True)
        apply_cpu_kernels(alone, training=True)
    model.to(DEVICE)
    alone.to(DEVICE)
    task = alone.task_model
    if args.channels_last:
        for mod in (model, alone):
            mod.to(memory_format=torch.channels_last)
            mod.data_preprocessor = _ChannelsLast(mod.data_preprocessor)
    plain = optim_p = None
    if args.compare_plain:
        torch.manual_seed(0)
        plain = MODELS.build(cfg.model)     # no apply_cpu_kernels
        plain.init_weights()
        plain.to(DEVICE)
        plain.train()
        plain.task_enabled = True
        optim_p = build_optim_wrapper(plain, cfg.optim_wrapper)
    model.train()
    task.train()
    model.task_enabled = True       # past the fusion warm-up
    optim = build_optim_wrapper(model, cfg.optim_wrapper)
    optim_t = build_optim_wrapper(task, cfg.optim_wrapper)
    optim_s = build_optim_wrapper(alone, cfg.optim_wrapper)
    alone.task_enabled = True

    it = iter(loader)
    # forward GMACs of N_F and of the task model on one batch (eval mode,
    # so that counting does not move BN statistics)
    data = model.data_preprocessor(next(it), True)
    model.eval()
    with torch.no_grad():
        fused = model.run_pre(data['inputs'])
        picture = model.task_inputs(fused)
    macs = dict(
        fusion=count_flops_of_call(
            model.fusion_net, (fused['stages']['fusion']['inputs'], ),
            {}).macs / 1e9,
        task=count_flops_of_call(model.task_model, (picture, ),
                                 dict(mode='tensor')).macs / 1e9)
    model.train()
    rows = {'compound': [], 'alone': [], 'train_step': [], 'data': []}
    who_all = ('c', 'a', 's')
    if plain is not None:
        rows['plain'] = []
        who_all += ('p', )
    switches = kernel_switches(args.compare_kernels or [])
    if switches:
        from cpu_kernels.switches import cpu_kernels  # the plugin
        rows['kernels'] = []
        who_all += ('e', )
    for r in range(args.warmup + args.rounds):
        t0 = time.perf_counter()
        batch = next(it)
        data_s = time.perf_counter() - t0
        order = who_all if r % 2 == 0 else who_all[::-1]
        res = {}
        for who in order:
            if who == 'p':
                res['plain'] = compound_step(plain, optim_p, batch)
            elif who == 'e':
                with cpu_kernels(**switches):
                    res['kernels'] = compound_step(model, optim, batch)
            elif who == 'c':
                res['compound'] = compound_step(model, optim, batch)
            elif who == 'a':
                res['alone'] = task_step(model, task, optim_t, batch)
            else:
                t0 = _now()
                alone.train_step(batch, optim_s)
                res['train_step'] = {'total': _now() - t0}
        if r >= args.warmup:
            rows['data'].append({'data': data_s})
            for k in res:
                rows[k].append(res[k])
    med = {}
    for k, lst in rows.items():
        keys = lst[0].keys()
        med[k] = {p: statistics.median(d[p] for d in lst) for p in keys}
        med[k]['total'] = statistics.median(sum(d.values()) for d in lst)
    return cfg, med, loader_cfg['batch_size'], macs


def _transform_text(results: dict) -> str:
    """How the compound model of a result got its CPU kernels."""
    return ('CPU kernels, training=True' if results.get('cpu_kernels') else
            'plain, no CPU kernels')


def _record_tables(results: dict, configs) -> dict:
    """The record's tables: per config, one row per step kind, the parts
    and the step in ms and the overhead in % of the task step."""
    tables = {}
    for path in configs:
        name = osp.splitext(osp.basename(path))[0]
        res = results[name]
        rows = {}
        kinds = [(f'compound ({_transform_text(res)})', res)]
        if 'plain' in res:
            kinds.append(('compound, plain (no apply_cpu_kernels)',
                          res['plain']))
        if 'kernels' in res:
            kinds.append((
                f'compound, {_switches_text(res["kernels"]["switches"])}',
                res['kernels']))
        for label, r in kinds:
            rows[label] = dict(r['parts_ms'], step=r['compound_ms'],
                               **{'overhead %': r['overhead_pct'],
                                  'images per batch': res['batch']})
            rows[label].pop('total', None)
        rows['task model alone'] = dict(
            step=res['task_alone_ms'], **{'images per batch': res['batch']})
        tables[f'{name} ({res["device"]}, ms)'] = rows
    return tables


def main_overhead():
    global DEVICE
    args = parse_args()
    switches = kernel_switches(args.compare_kernels or [])  # checked first
    if args.results_json:
        check_record_path(args.results_json)
    DEVICE = torch.device(args.device)
    if DEVICE.type == 'cuda' and not torch.cuda.is_available():
        raise SystemExit('--device cuda: torch sees no CUDA device')
    sys.stdout.reconfigure(line_buffering=True)
    torch.set_num_threads(args.threads)
    # the weight-init and optimizer summaries of the builds are not needed
    MMLogger.get_instance('mmengine', log_level='WARNING')
    results = {}
    malloc = None
    if args.compare_plain and not args.cpu_kernels:
        raise SystemExit('--compare-plain compares the plain model with '
                         'the CPU kernels: add --cpu-kernels')
    if args.cpu_malloc == 'tuned':
        from cpu_kernels.allocator import (  # the plugin
            DEFAULT_CPU_MALLOC, configure_cpu_allocator)
        malloc = DEFAULT_CPU_MALLOC
        configure_cpu_allocator(**malloc)
    print(f'CPU allocator: {malloc or "glibc defaults"}')
    with tempfile.TemporaryDirectory() as tmp:
        root = args.data_dir or osp.join(tmp, 'toy')
        toy_data_set(root, num=args.num, seed=0, val_fraction=0.25)
        for path in args.configs:
            cfg, med, bs, macs = run_config(path, args, root)
            c, a = med['compound'], med['alone']
            task_alone = a['total']
            overhead = c['total'] - task_alone
            frac = overhead / task_alone
            name = osp.splitext(osp.basename(path))[0]
            pl = med.get('plain')
            ev = med.get('kernels')
            extra = [x for x in (pl, ev) if x]
            table = [['part', 'compound ms'] +
                     (['compound, plain N_F ms'] if pl else []) +
                     ([f'compound, {_switches_text(switches)} ms']
                      if ev else []) + ['task alone ms']]
            for part in ('preprocess', 'fusion fwd', 'task fwd', 'task bwd',
                         'fusion bwd', 'optim'):
                table.append([part, f'{c[part] * 1e3:.1f}'] +
                             [f'{x[part] * 1e3:.1f}' for x in extra] +
                             [f'{a[part] * 1e3:.1f}' if part in a else '-'])
            table.append(['step (sum of parts)', f'{c["total"] * 1e3:.1f}'] +
                         [f'{x["total"] * 1e3:.1f}' for x in extra] +
                         [f'{task_alone * 1e3:.1f}'])
            table.append(['train_step (one call)',
                          f'{med["train_step"]["total"] * 1e3:.1f}'] +
                         ['-'] * len(extra) + ['-'])
            table.append(['data (loader)', f'{med["data"]["data"] * 1e3:.1f}']
                         + ['same batch'] * len(extra) + ['same batch'])
            fusion_only = (c['preprocess'] + c['fusion fwd'] +
                           c['fusion bwd'])
            ok = 'PASS' if frac <= TARGET else 'FAIL'
            print(f'{name}: {args.device}, batch {bs}, {args.rounds} rounds '
                  '(median), '
                  f'{torch.get_num_threads()} threads, '
                  f'{"channels-last" if args.channels_last else "NCHW"}, '
                  f'CPU kernels: {_transform_text(cfg)}, '
                  + (f'cfg-options {args.cfg_options}, '
                     if args.cfg_options else '') + 'load '
                  f'{" ".join(f"{x:.2f}" for x in os.getloadavg())}')
            print(AsciiTable(table).table)
            print(f'fusion overhead = compound - task alone = '
                  f'{overhead * 1e3:.1f} ms = {frac * 100:.1f} % of the task '
                  f'step ({ok}, target <= {TARGET * 100:.0f} %); N_F fwd+bwd '
                  f'+ preprocess alone: {fusion_only * 1e3:.1f} ms = '
                  f'{fusion_only / task_alone * 100:.1f} %')
            fracs = {}
            for key, label, ours in (
                    ('plain', 'plain N_F (no apply_cpu_kernels)',
                     'the fast path'),
                    ('kernels', f'with {_switches_text(switches)}',
                     'the default')):
                if key in med:
                    other = med[key]['total']
                    fracs[key] = (other - task_alone) / task_alone
                    print(f'{label}: overhead {fracs[key] * 100:.1f} % of the '
                          f'task step; {ours} takes '
                          f'{c["total"] / other:.2f}x its compound step')
            print(f'forward GMACs per batch: N_F {macs["fusion"]:.2f}, task '
                  f'model {macs["task"]:.2f} (ratio '
                  f'{macs["fusion"] / macs["task"]:.2f})')
            results[name] = dict(
                device=args.device,
                batch=bs,
                cpu_kernels=args.cpu_kernels,
                compound_ms=round(c['total'] * 1e3, 1),
                task_alone_ms=round(task_alone * 1e3, 1),
                overhead_pct=round(frac * 100, 1),
                parts_ms={k: round(v * 1e3, 1) for k, v in c.items()},
                train_step_ms=round(med['train_step']['total'] * 1e3, 1),
                data_ms=round(med['data']['data'] * 1e3, 1),
                gmacs={k: round(v, 3) for k, v in macs.items()})
            if args.cfg_options:
                results[name]['cfg_options'] = dict(args.cfg_options)
            if pl:
                results[name]['plain'] = dict(
                    compound_ms=round(pl['total'] * 1e3, 1),
                    overhead_pct=round(fracs['plain'] * 100, 1),
                    parts_ms={k: round(v * 1e3, 1) for k, v in pl.items()})
            if ev:
                results[name]['kernels'] = dict(
                    switches=dict(switches),
                    compound_ms=round(ev['total'] * 1e3, 1),
                    overhead_pct=round(fracs['kernels'] * 100, 1),
                    parts_ms={k: round(v * 1e3, 1) for k, v in ev.items()})
    if args.results_json:
        write_results_record(
            args.results_json,
            'OMP_NUM_THREADS=1 python benchmarks/bench_training_overhead.py '
            + shlex.join(sys.argv[1:]), ROOT,
            _record_tables(results, args.configs), threads=args.threads,
            metrics=['preprocess', 'fusion fwd', 'task fwd', 'task bwd',
                     'fusion bwd', 'optim', 'step', 'overhead %'],
            count='images per batch', decimals=1, RESULT=results,
            note=f'Medians of {args.rounds} rounds; CPU allocator: '
            f'{malloc or "glibc defaults"}; load average '
            f'{" / ".join(f"{x:.2f}" for x in os.getloadavg())} at the end.')
    print('RESULT ' + json.dumps(results))


DOC_RELIABILITY = """Cost of the reliability guarantees (docs/user_guides/reliability.md).

Usage::

    OMP_NUM_THREADS=1 python benchmarks/bench_training_overhead.py --mode reliability [--repeat 20]

For two models — the TIM fusion network of ``configs/tim/fusion_ivif_toy.py``
and the TIM search supernet of ``configs/tim/search_fusion_ivif_toy.py``
(both at their toy width) — reports, as medians over ``--repeat`` runs:

- one training step (forward, backward, optimizer step) on a 2x2x64x64
  batch, and the gradient check :class:`FiniteStepGuardHook` adds before
  every optimizer step (absolute and relative to the step);
- the non-finite check of the model + optimizer state that
  :class:`SafeCheckpointHook` adds before every save;
- writing the checkpoint with ``torch.save`` to a file versus through
  ``atomic_write`` (temporary file, fsync, rename, fsync of the folder);
- ``read_checkpoint`` (the validation every ``--resume`` / ``test.py``
  path gets) versus a full ``torch.load``.

Ends with one line ``RESULT {json}``.
"""


MODELS_TO_TIME = {
    'TIM fusion net (toy)': ('configs/tim/fusion_ivif_toy.py', None),
    'TIM search supernet (toy)': ('configs/tim/search_fusion_ivif_toy.py',
                                  'architecture'),
}


def median_ms(fn, repeat):
    fn()  # warm-up
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times)


def bench(name, config, sub, repeat, folder):
    torch.manual_seed(0)
    model = MODELS.build(Config.fromfile(osp.join(ROOT, config)).model)
    net = getattr(model, sub) if sub else model
    net.train()
    optim = torch.optim.Adam(net.parameters(), lr=1e-4)
    x = torch.rand(2, 2, 64, 64)
    data = net.data_preprocessor(dict(inputs=x), True)

    def step():
        optim.zero_grad()
        losses = net(**data, mode='loss')
        sum(v for k, v in losses.items() if 'loss' in k).backward()
        optim.step()

    step_ms = median_ms(step, repeat)
    hook = FiniteStepGuardHook()
    guard_ms = median_ms(lambda: hook.nonfinite_grads(optim), repeat)
    state = dict(state_dict=net.state_dict(), optimizer=optim.state_dict())
    finite_ms = median_ms(lambda: nonfinite_tensors(state), repeat)
    buf = io.BytesIO()
    torch.save(state, buf)
    blob = buf.getvalue()
    plain_path = osp.join(folder, 'plain.pth')
    atomic_path = osp.join(folder, 'atomic.pth')

    def plain_save():
        with open(plain_path, 'wb') as f:
            f.write(blob)

    plain_ms = median_ms(plain_save, repeat)
    atomic_ms = median_ms(lambda: atomic_write(blob, atomic_path), repeat)
    check_ms = median_ms(lambda: read_checkpoint(atomic_path), repeat)
    load_ms = median_ms(
        lambda: torch.load(atomic_path, map_location='cpu',
                           weights_only=True), repeat)
    return dict(
        model=name,
        params=sum(p.numel() for p in net.parameters()),
        param_tensors=len(list(net.parameters())),
        ckpt_mb=len(blob) / 2**20,
        step_ms=step_ms,
        guard_ms=guard_ms,
        guard_pct=100 * guard_ms / step_ms,
        finite_check_ms=finite_ms,
        write_plain_ms=plain_ms,
        write_atomic_ms=atomic_ms,
        check_file_ms=check_ms,
        full_load_ms=load_ms)


def main_reliability(argv=None):
    parser = argparse.ArgumentParser(
        description=DOC_RELIABILITY.split('\n')[0])
    parser.add_argument('--repeat', type=int, default=20)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for name, (config, sub) in MODELS_TO_TIME.items():
            rows.append(bench(name, config, sub, args.repeat, folder))
    table = [[
        'model', 'params', 'tensors', 'ckpt MB', 'step ms', 'grad check ms',
        'grad check %', 'state check ms', 'write ms', 'atomic write ms',
        'check file ms', 'full load ms'
    ]]
    for r in rows:
        table.append([
            r['model'], r['params'], r['param_tensors'],
            f"{r['ckpt_mb']:.2f}", f"{r['step_ms']:.1f}",
            f"{r['guard_ms']:.3f}", f"{r['guard_pct']:.2f}",
            f"{r['finite_check_ms']:.2f}", f"{r['write_plain_ms']:.2f}",
            f"{r['write_atomic_ms']:.2f}", f"{r['check_file_ms']:.2f}",
            f"{r['full_load_ms']:.2f}"
        ])
    print(AsciiTable(table, title=f'median of {args.repeat} runs, '
                     f'{torch.get_num_threads()} thread').table)
    print('RESULT ' + json.dumps(dict(repeat=args.repeat, rows=rows)))


DOC_DISTRIBUTED = """Data-parallel throughput of search and training on CPU processes. Usage::

    python benchmarks/bench_training_overhead.py --mode distributed [--ranks 1 2] [--batch 4]
        [--size 32] [--steps 6] [--warmup 2] [--channels 8]

For every workload and rank count W, W forked processes (gloo, one intra-op
thread each) run ``--steps`` timed train steps (after ``--warmup`` untimed
ones) with per-rank batch ``--batch`` on random ``--size`` px IR/VIS
pairs, through :class:`~mmfusenas.engine.AlgorithmDistributedDataParallel`:

* ``ias``: the TIM search space (``channels``), IAS, an α step every step;
* ``darts2``: the same space, DARTS 2nd order (virtual step + FD HVP);
* ``train``: the fixed TIM fusion network of the toy training config
  (MMEngine's DDP step);
* ``oneshot``: DCNAS supernet training (``GuidedDepthSR`` + ``DCNASNet``,
  ``channels`` features, 2 blocks) on toy RGB-D pairs, one uniformly
  sampled path per step, the same on every rank (the wrapper's algorithm
  mode: gradients of the path averaged at the optimizer step);
* ``evolution``: one generation of W x ``--batch`` random paths of the
  same supernet, each scored on ``--val`` validation pairs (RMSE), the
  paths split across the ranks by ``parallel_map`` (a "sample" is a scored
  path here).

Printed per workload: seconds per step (slowest rank), samples per second,
the speed-up of W ranks over one in samples per second (ideal: W, when W
free cores are available), the CPU seconds per sample summed over the
ranks and the CPU efficiency (1-rank CPU s/sample over W-rank CPU
s/sample; 1.0 = distributing adds no work: communication and duplicated
work are what lowers it). On a shared machine the wall-time speed-up
reflects the CPU share the processes get; the CPU efficiency does not.
"""


REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))



def distributed_parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=DOC_DISTRIBUTED.splitlines()[0])
    p.add_argument('--ranks', type=int, nargs='+', default=[1, 2])
    p.add_argument('--batch', type=int, default=4, help='per rank')
    p.add_argument('--size', type=int, default=32)
    p.add_argument('--steps', type=int, default=6)
    p.add_argument('--warmup', type=int, default=2)
    p.add_argument('--channels', type=int, default=8)
    p.add_argument(
        '--val', type=int, default=4, help='evolution: pairs per score')
    p.add_argument(
        '--workloads', nargs='+', default=['ias', 'darts2', 'train'])
    return p.parse_args()


def _model(workload: str, channels: int):
    from mmengine.config import Config
    from mmengine.registry import init_default_scope

    from mmfusenas.registry import MODELS
    init_default_scope('mmfusenas')
    torch.manual_seed(0)
    if workload == 'train':
        cfg = Config.fromfile(
            osp.join(REPO, 'configs', 'tim', 'fusion_ivif_toy.py'))
        cfg.model.fusion_net.channels = channels
        return MODELS.build(cfg.model)
    cfg = Config.fromfile(
        osp.join(REPO, 'configs', 'tim', 'search_fusion_ivif_toy.py'))
    cfg.model.architecture.fusion_net.channels = channels
    cfg.model.arch_update_interval = 1
    cfg.model.strategy = dict(
        type='IASStrategy' if workload == 'ias' else
        'DartsSecondOrderStrategy')
    return MODELS.build(cfg.model)


def _optim(model, workload):
    from mmengine.optim import OptimWrapper, OptimWrapperDict
    if workload == 'train':
        return OptimWrapper(
            torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9))
    return OptimWrapperDict(
        weights=OptimWrapper(
            torch.optim.SGD(model.weight_parameters(), lr=1e-3,
                            momentum=0.9)),
        arch=OptimWrapper(torch.optim.Adam(model.arch_parameters(),
                                           lr=3e-4)))


def _supernet(args):
    from mmengine.registry import init_default_scope

    from mmfusenas.registry import MODELS
    init_default_scope('mmfusenas')
    torch.manual_seed(0)
    return MODELS.build(
        dict(
            type='GuidedDepthSR',
            network=dict(
                type='DCNASNet', num_features=args.channels, num_blocks=2),
            loss_space='normalised',
            mask_invalid=False))


def _rgbd_batches(args, split, rank):
    """An endless stream of collated toy RGB-D batches of this rank."""
    from mmengine.dataset import default_collate
    from mmengine.registry import init_default_scope

    from mmfusenas.registry import DATASETS
    init_default_scope('mmfusenas')
    dataset = DATASETS.build(
        dict(
            type='GISRDataset',
            data_root=osp.join(args.rgbd, split),
            test_mode=split != 'train',
            pipeline=[
                dict(type='LoadGISRSample'),
                dict(type='GISRModCrop', multiple=32),
                dict(type='GISRDegrade', scale=4, norm='lr_minmax'),
                dict(type='PackGISRInputs')
            ]))
    samples = [dataset[i] for i in range(len(dataset))]
    gen = torch.Generator().manual_seed(100 + rank)
    size = args.batch if split == 'train' else 1
    while True:
        idx = torch.randint(len(samples), (size, ), generator=gen).tolist()
        yield default_collate([samples[i] for i in idx])


def _bench_one_shot(rank, world_size, workload, args):
    import random

    from mmengine.optim import OptimWrapper

    from mmfusenas.engine import AlgorithmDistributedDataParallel
    from mmfusenas.models.mutables import (apply_choices, one_shot_space,
                                           random_choices)
    from mmfusenas.utils.distributed import parallel_map
    model = _supernet(args)
    space = one_shot_space(model)
    optim = OptimWrapper(torch.optim.Adam(model.parameters(), lr=1e-3))
    wrapped = AlgorithmDistributedDataParallel(model) \
        if world_size > 1 else model
    counter = [0]
    if workload == 'oneshot':
        batches = _rgbd_batches(args, 'train', rank)

        def step():
            # the same path on every rank (a shared counter)
            rng = random.Random(counter[0])
            counter[0] += 1
            apply_choices(model, random_choices(space, rng))
            wrapped.train_step(next(batches), optim)
    else:
        val_stream = _rgbd_batches(args, 'val', 0)
        val = [next(val_stream) for _ in range(args.val)]

        @torch.no_grad()
        def score(path):
            apply_choices(model, path)
            model.eval()
            errors = []
            for batch in val:
                for out in model.val_step(batch):
                    errors.append(
                        (out['pred_depth'] - out['gt_depth']).square().mean())
            return torch.stack(errors).mean().sqrt().item()

        def step():
            rng = random.Random(counter[0])
            counter[0] += 1
            paths = [
                random_choices(space, rng)
                for _ in range(world_size * args.batch)
            ]
            parallel_map(score, paths)

    return _time(step, world_size, args)


def _time(step, world_size, args):
    """(wall seconds per step of this rank, its CPU seconds per step)."""
    for _ in range(args.warmup):
        step()
    if world_size > 1:
        torch.distributed.barrier()
    start, cpu = time.perf_counter(), time.process_time()
    for _ in range(args.steps):
        step()
    cpu = time.process_time() - cpu
    if world_size > 1:
        torch.distributed.barrier()
    return (time.perf_counter() - start) / args.steps, cpu / args.steps


def _bench(rank, world_size, workload, args):
    from mmfusenas.engine import AlgorithmDistributedDataParallel
    if workload in ('oneshot', 'evolution'):
        return _bench_one_shot(rank, world_size, workload, args)
    model = strip_batchnorm(_model(workload, args.channels))
    optim = _optim(model, workload)
    if world_size > 1:
        model = AlgorithmDistributedDataParallel(model)
    gen = torch.Generator().manual_seed(100 + rank)

    def batch():
        return dict(inputs=torch.rand(
            args.batch, 2, args.size, args.size, generator=gen))

    def step():
        data = dict(train=batch(), val=batch()) \
            if workload != 'train' else batch()
        model.train_step(data, optim)

    return _time(step, world_size, args)


def main_distributed() -> None:
    args = distributed_parse_args()
    rows, result = [], {}
    tmp = None
    if {'oneshot', 'evolution'} & set(args.workloads):
        import tempfile

        from mmfusenas.testing.toy_data import generate_toy_rgbd
        tmp = tempfile.TemporaryDirectory()
        args.rgbd = osp.join(tmp.name, 'rgbd')
        generate_toy_rgbd(
            args.rgbd, 8, max(args.val, 2), 1, seed=0,
            size=max(32, args.size // 32 * 32))
    for workload in args.workloads:
        base = None
        for world in args.ranks:
            if world == 1:
                timings = [_bench(0, 1, workload, args)]
            else:
                timings = results_or_raise(
                    launch(_bench, world, (workload, args), timeout=1800))
            per_step = max(t[0] for t in timings)
            samples = world * args.batch
            cpu_per_sample = sum(t[1] for t in timings) / samples
            throughput = samples / per_step
            if world == 1:
                base, base_cpu = throughput, cpu_per_sample
            speedup = throughput / base
            efficiency = base_cpu / cpu_per_sample
            rows.append((workload, world, per_step, throughput, speedup,
                         cpu_per_sample, efficiency))
            key = f'{workload}_w{world}'
            result[f'{key}_s_per_step'] = round(per_step, 4)
            result[f'{key}_samples_per_s'] = round(throughput, 3)
            result[f'{key}_speedup'] = round(speedup, 3)
            result[f'{key}_cpu_s_per_sample'] = round(cpu_per_sample, 4)
            result[f'{key}_cpu_efficiency'] = round(efficiency, 3)
    print(f'per-rank batch {args.batch}, {args.size}x{args.size} px, '
          f'C={args.channels}, {args.steps} timed steps, 1 thread per rank')
    print(f'{"workload":<8} {"ranks":>5} {"s/step":>8} {"samples/s":>10} '
          f'{"speed-up":>9} {"cpu-s/sample":>13} {"cpu eff.":>9}')
    for workload, world, per_step, throughput, speedup, cpu, eff in rows:
        print(f'{workload:<8} {world:>5} {per_step:>8.3f} '
              f'{throughput:>10.2f} {speedup:>9.2f} {cpu:>13.3f} '
              f'{eff:>9.2f}')
    print('(oneshot / evolution: "samples" are training pairs / scored '
          'paths)')
    print('RESULT ' + json.dumps(result))
    if tmp is not None:
        tmp.cleanup()


DOC_FRAMEWORK = """Toolbox training step against a plain PyTorch loop of it.

Usage::

    OMP_NUM_THREADS=1 python benchmarks/bench_training_overhead.py \\
        --mode framework
        [--config configs/baselines/seafusion_ivif_roadscene221_cpu.py]
        [--rounds 30] [--warmup 3] [--threads 1] [--cached-batches 16]
        [--data-root DIR] [--cfg-options KEY=VALUE ...] [--results-json FILE]

What a fusion network's training costs in the toolbox beyond the loop its
authors ship (e.g. SeAFusion's ``train.py``: network, loss, Adam). Two
trainings of the config's network run in one process:

* **toolbox**: the MMEngine runner the config builds (``build_runner``, as
  ``tools/train.py``; a temporary work dir, nothing is written into the
  repository). ``runner.train()`` sets up everything as for training
  (optimizer wrapper, parameter schedulers, weight init, hooks'
  ``before_run`` / ``before_train``); its train loop's ``run`` is replaced
  by the timed rounds. A round's toolbox step is what
  ``IterBasedTrainLoop.run`` does per iteration: ``data`` = the next batch
  of the runner's own train dataloader (loading, augmentation, collation
  in this process with the config's ``num_workers=0``), then
  ``run_iter(batch)`` (``before_train_iter`` hooks, data preprocessor,
  ``loss`` forward, ``parse_losses``, backward, optimizer step and
  ``zero_grad``, ``after_train_iter`` hooks: scheduler, timer, logger,
  checkpoint, finite-step guard).
  An instrumented copy of ``run_iter`` on the same batch (the same calls,
  timed one by one) gives the parts: ``hooks`` (before + after
  ``train_iter``), ``preprocess``, ``forward`` (``mode='loss'`` +
  ``parse_losses``), ``backward``, ``optim`` (step + ``zero_grad``, with
  the guard's optimizer pre-hook); their sum is checked against
  ``run_iter`` (within 5 %).
* **plain**: a second ``ImageFusor`` built from the config, started from
  the toolbox model's weights: its ``fusion_net`` and
  its loss modules called directly (the sources through the fusor's
  ``preprocess``, the output through ``postprocess``, the weighted losses
  summed), a plain
  ``torch.optim`` optimizer of the config's type and settings (Adam, same
  lr), ``loss.backward()``, ``step()``, ``zero_grad()``: no data
  preprocessor, runner, hooks or optimizer wrapper. Its batches are
  ``--cached-batches`` batches of the same loader, preprocessed once and
  cycled from memory (no loading cost).

Before timing, both compute the loss of one batch (it must agree) and
their trained parameter counts are compared. Each round draws the
toolbox's batch (timed: ``data``), then runs ``run_iter``, the
instrumented step and the plain step, in alternating order (A/B/B/A...)
so that a varying machine load hits all alike; ``--warmup``
rounds are discarded. Reported: medians over ``--rounds``, the ratio
toolbox step (data + ``run_iter``) / plain step and the ratio without the
data loading (target <= 1.10). Medians leave out the occasional slow iteration (the logger hook's line
every ``interval`` iterations). Ends with ``RESULT {json}``;
``--results-json`` writes the table as a results record.
"""

#: the default config of ``--mode framework``
FRAMEWORK_CONFIG = 'configs/baselines/seafusion_ivif_roadscene221_cpu.py'
#: target of toolbox step / plain step
FRAMEWORK_TARGET = 1.10
#: the instrumented parts must add up to ``run_iter`` within this fraction
PARTS_TOLERANCE = 0.05
_TOOLBOX_PARTS = ('hooks', 'preprocess', 'forward', 'backward', 'optim')
_PLAIN_PARTS = ('forward', 'backward', 'optim')


def framework_parse_args(argv=None) -> argparse.Namespace:
    from mmfusenas.utils.config import ConfigOptionsAction
    p = argparse.ArgumentParser(description=DOC_FRAMEWORK.split('\n')[0])
    p.add_argument('--config', default=FRAMEWORK_CONFIG,
                   help='fusion training config (an ImageFusor, an '
                   'iteration-based loop); relative paths: to the working '
                   'directory, else to the repository')
    p.add_argument('--rounds', type=int, default=30, help='timed rounds')
    p.add_argument('--warmup', type=int, default=3,
                   help='untimed rounds first')
    p.add_argument('--threads', type=int, default=1,
                   help='torch intra-op threads (and OMP_NUM_THREADS)')
    p.add_argument('--cached-batches', type=int, default=16,
                   help='batches of the plain loop, drawn once from the '
                   'loader and cycled from memory')
    p.add_argument('--data-root', default=None,
                   help="re-root the config's datasets at this folder (as "
                   'tools/train.py --data-root)')
    p.add_argument('--cfg-options', nargs='+', action=ConfigOptionsAction,
                   default=None, metavar='KEY=VALUE',
                   help='override config settings (as tools/train.py), e.g. '
                   'train_dataloader.batch_size=4; both steps get them')
    p.add_argument('--results-json', default=None, metavar='FILE',
                   help='also write the table as a results record '
                   '(docs/results/<name>.json: command, commit, machine)')
    args = p.parse_args(argv)
    args.parser = p
    return args


def _framework_config(args) -> Config:
    """The config as ``tools/train.py`` loads it, with a temporary work dir
    set later; a missing config or data folder ends the run with exit
    code 2 and a message naming it."""
    from mmfusenas.utils.config import load_runner_config
    from mmfusenas.utils.data_folders import check_data_folders
    path = args.config
    if not osp.isabs(path) and not osp.isfile(path) and osp.isfile(
            osp.join(ROOT, path)):
        path = osp.join(ROOT, path)
    if not osp.isfile(path):
        args.parser.error(f'config file not found: {args.config}')
    ns = argparse.Namespace(config=path, cfg_options=args.cfg_options,
                            data_root=args.data_root, work_dir=None,
                            launcher='none', local_rank=0, tensorboard=False)
    try:
        cfg = load_runner_config(ns)
        check_data_folders(cfg, 'train')
    except FileNotFoundError as exc:
        args.parser.error(str(exc))
    return cfg


def _plain_fusion_loss(fusor, inputs: torch.Tensor) -> torch.Tensor:
    """The authors' loop: the network on the sources, the config's loss
    modules on its output, summed (no preprocessor, no loss parsing)."""
    from mmfusenas.models.fusion.fusion_outputs import (MAIN_OUTPUT,
                                                        loss_output,
                                                        run_fusion_outputs)
    from mmfusenas.models.fusion.image_fusor import (prepare_inputs,
                                                     reduce_output)
    x = prepare_inputs(inputs, fusor.preprocess)
    if fusor._needs_all:  # losses on named branch outputs
        outputs = run_fusion_outputs(fusor.fusion_net, x, True, 'plain loop')
    else:
        outputs = {
            MAIN_OUTPUT: reduce_output(fusor.fusion_net(x),
                                       fusor.postprocess)
        }
    return sum(fn(outputs[loss_output(fn)], inputs) for fn in fusor.losses)


def _plain_optimizer(params, optim_wrapper_cfg) -> torch.optim.Optimizer:
    """``torch.optim.<type>`` with the settings of the config's
    ``optim_wrapper.optimizer``."""
    kwargs = dict(optim_wrapper_cfg['optimizer'])
    name = kwargs.pop('type')
    if not isinstance(name, str) or not hasattr(torch.optim, name):
        raise SystemExit(f'--mode framework: optim_wrapper.optimizer.type '
                         f'{name!r} is not a torch.optim optimizer')
    return getattr(torch.optim, name)(params, **kwargs)


def _optim_params(param_groups) -> int:
    return sum(p.numel() for g in param_groups for p in g['params'])


def toolbox_step_parts(runner, loop, model, batch) -> dict:
    """``loop.run_iter(batch)`` (with the loop's ``model.train()``) as
    MMEngine 0.10.7 runs it (``BaseModel.train_step``,
    ``OptimWrapper.update_params``), each part timed."""
    ow = runner.optim_wrapper
    tm = Timer()
    runner.model.train()
    runner.call_hook('before_train_iter', batch_idx=loop._iter,
                     data_batch=batch)
    tm.lap('hooks')
    with ow.optim_context(model):
        data = model.data_preprocessor(batch, True)
        tm.lap('preprocess')
        losses = model._run_forward(data, mode='loss')
    loss, log_vars = model.parse_losses(losses)
    tm.lap('forward')
    ow.backward(ow.scale_loss(loss))
    tm.lap('backward')
    if ow.should_update():
        ow.step()
        ow.zero_grad()
    tm.lap('optim')
    runner.call_hook('after_train_iter', batch_idx=loop._iter,
                     data_batch=batch, outputs=log_vars)
    loop._iter += 1
    tm.lap('hooks')
    return tm.parts


def plain_step(fusor, optim, inputs) -> dict:
    """One step of the plain loop on an in-memory batch, each part timed."""
    tm = Timer()
    loss = _plain_fusion_loss(fusor, inputs)
    tm.lap('forward')
    loss.backward()
    tm.lap('backward')
    optim.step()
    optim.zero_grad()
    tm.lap('optim')
    return tm.parts


def _framework_rounds(runner, cfg, args) -> dict:
    """Replaces ``IterBasedTrainLoop.run`` of the runner: its set-up, the
    plain copy, the timed rounds; returns the medians and checks."""
    from mmengine.model import BaseModel
    loop = runner.train_loop
    model = unwrap(runner.model)
    if type(model).train_step is not BaseModel.train_step:
        raise SystemExit(f'--mode framework: {type(model).__name__} has its '
                         'own train_step; the parts follow '
                         "BaseModel.train_step's")
    global DEVICE
    # the device the runner put the model on (CUDA when there is one): the
    # clock synchronises with it, the plain copy goes there too
    DEVICE = next(model.parameters()).device
    torch.set_num_threads(args.threads)
    runner.call_hook('before_train')
    runner.call_hook('before_train_epoch')
    it = loop.dataloader_iterator
    cached = []
    with torch.no_grad():
        for _ in range(args.cached_batches):
            data = model.data_preprocessor(next(it), True)
            cached.append(data['inputs'].detach().clone())
    plain = MODELS.build(copy.deepcopy(cfg.model))
    plain.load_state_dict(model.state_dict())
    plain.to(DEVICE)
    plain.train()
    optim = _plain_optimizer(plain.fusion_net.parameters(),
                             cfg.optim_wrapper)
    params = dict(
        toolbox=_optim_params(runner.optim_wrapper.optimizer.param_groups),
        plain=_optim_params(optim.param_groups))
    with torch.no_grad():  # the same network and loss: the same value
        loss_t = model.parse_losses(model(cached[0], mode='loss'))[0]
        loss_p = _plain_fusion_loss(plain, cached[0])
    rows = {'data': [], 'run_iter': [], 'parts': [], 'plain': []}
    for r in range(args.warmup + args.rounds):
        # the toolbox step's data: the next batch of the runner's loader;
        # its run_iter and the instrumented step both train on it
        t0 = _now()
        batch = next(it)
        res = {'data': _now() - t0}
        order = ('t', 'i', 'p') if r % 2 == 0 else ('p', 'i', 't')
        for who in order:
            if who == 't':
                t0 = _now()
                runner.model.train()
                loop.run_iter(batch)
                res['run_iter'] = _now() - t0
            elif who == 'i':
                res['parts'] = toolbox_step_parts(runner, loop, model, batch)
            else:
                res['plain'] = plain_step(plain, optim,
                                          cached[r % len(cached)])
        if r >= args.warmup:
            for k in rows:
                rows[k].append(res[k])
    runner.call_hook('after_train_epoch')
    runner.call_hook('after_train')
    return dict(rows=rows, params=params,
                loss=dict(toolbox=float(loss_t), plain=float(loss_p)),
                batch=len(cached[0]), shape=list(cached[0].shape[1:]))


def _median_parts(lst) -> dict:
    med = {p: statistics.median(d[p] for d in lst) for p in lst[0]}
    med['sum'] = statistics.median(sum(d.values()) for d in lst)
    return med


def main_framework(argv=None):
    import logging
    args = framework_parse_args(argv)
    if args.results_json:
        check_record_path(args.results_json)
    if args.rounds < 1 or args.warmup < 0 or args.cached_batches < 1:
        args.parser.error('--rounds and --cached-batches must be >= 1, '
                          '--warmup >= 0')
    os.environ['OMP_NUM_THREADS'] = str(args.threads)
    torch.set_num_threads(args.threads)
    sys.stdout.reconfigure(line_buffering=True)
    from mmengine.runner import IterBasedTrainLoop

    from mmfusenas.engine.runner import build_runner
    cfg = _framework_config(args)
    if cfg.model.get('type') != 'ImageFusor':
        args.parser.error(f'{args.config}: the plain loop needs an '
                          f"ImageFusor model, got {cfg.model.get('type')}")
    max_iters = cfg.train_cfg.get('max_iters')
    needed = 2 * (args.warmup + args.rounds)
    if max_iters is not None and needed >= max_iters:
        args.parser.error(f'{args.config}: {needed} iterations timed but '
                          f'train_cfg.max_iters={max_iters}; raise it with '
                          f'--cfg-options train_cfg.max_iters={needed + 1}')
    out = {}
    with tempfile.TemporaryDirectory(prefix='bench_framework_') as work:
        cfg.work_dir = work
        runner = build_runner(cfg)
        try:
            loop = runner.build_train_loop(runner._train_loop)
            if not isinstance(loop, IterBasedTrainLoop):
                args.parser.error(f'{args.config}: an iteration-based train '
                                  f'loop is needed, got {type(loop).__name__}')
            runner._train_loop = loop
            # everything runner.train() sets up, then our rounds instead of
            # the loop's run()
            loop.run = lambda: out.update(_framework_rounds(runner, cfg,
                                                            args))
            runner.train()
        finally:
            for handler in list(runner.logger.handlers):
                if isinstance(handler, logging.FileHandler):
                    handler.close()
                    runner.logger.removeHandler(handler)
    rows = out['rows']
    data = statistics.median(rows['data'])
    run_iter = statistics.median(rows['run_iter'])
    toolbox = statistics.median(d + i for d, i in zip(rows['data'],
                                                      rows['run_iter']))
    parts = _median_parts(rows['parts'])
    plain = _median_parts(rows['plain'])
    ratio = toolbox / plain['sum']
    ratio_nodata = run_iter / plain['sum']
    parts_err = parts['sum'] / run_iter - 1
    reached = ratio <= FRAMEWORK_TARGET
    reached_nodata = ratio_nodata <= FRAMEWORK_TARGET
    labels = dict(hooks='hooks (before/after_train_iter)',
                  preprocess='data preprocessor',
                  forward='forward (loss + parse_losses)',
                  backward='backward', optim='optimiser (step + zero_grad)')
    ms = lambda v: f'{v * 1e3:.1f}'  # noqa: E731
    table = [['part', 'toolbox ms', 'plain loop ms']]
    table.append(['data (loader)', ms(data), '0 (in memory)'])
    for p in _TOOLBOX_PARTS:
        table.append([labels[p], ms(parts[p]),
                      ms(plain[p]) if p in plain else '-'])
    table.append(['sum of parts', ms(parts['sum']), ms(plain['sum'])])
    table.append(['run_iter (one call)', ms(run_iter), '-'])
    table.append(['step (data + run_iter / plain)', ms(toolbox),
                  ms(plain['sum'])])
    name = osp.splitext(osp.basename(args.config))[0]
    load = os.getloadavg()
    print(f'{name}: {DEVICE}, batch {out["batch"]} x {out["shape"]}, '
          f'{args.rounds} '
          f'rounds (median) after {args.warmup}, {torch.get_num_threads()} '
          f'thread(s), params {out["params"]["toolbox"]} (toolbox) / '
          f'{out["params"]["plain"]} (plain), loss on one batch '
          f'{out["loss"]["toolbox"]:.6f} / {out["loss"]["plain"]:.6f}, load '
          f'{" ".join(f"{x:.2f}" for x in load)}')
    print(AsciiTable(table).table)
    print(f'parts sum to {parts["sum"] * 1e3:.1f} ms = run_iter '
          f'{parts_err * 100:+.1f} % ('
          f'{"within" if abs(parts_err) <= PARTS_TOLERANCE else "NOT within"}'
          f' {PARTS_TOLERANCE * 100:.0f} %)')
    print(f'toolbox / plain = {ratio:.3f} (with data loading), '
          f'{ratio_nodata:.3f} (run_iter alone); target <= '
          f'{FRAMEWORK_TARGET:.2f}: {"reached" if reached else "NOT reached"}'
          f' with data, {"reached" if reached_nodata else "NOT reached"} '
          'without')
    r1 = lambda v: round(v * 1e3, 2)  # noqa: E731
    result = dict(
        config=args.config, device=str(DEVICE), batch=out['batch'],
        shape=out['shape'],
        rounds=args.rounds, warmup=args.warmup,
        threads=torch.get_num_threads(), cached_batches=args.cached_batches,
        params=out['params'], loss=out['loss'],
        toolbox_ms=dict(data=r1(data), run_iter=r1(run_iter),
                        step=r1(toolbox)),
        parts_ms={p: r1(parts[p]) for p in _TOOLBOX_PARTS},
        parts_sum_ms=r1(parts['sum']),
        parts_vs_run_iter_pct=round(parts_err * 100, 1),
        plain_ms=dict({p: r1(plain[p]) for p in _PLAIN_PARTS},
                      step=r1(plain['sum'])),
        ratio=round(ratio, 3), ratio_without_data=round(ratio_nodata, 3),
        target=FRAMEWORK_TARGET, reached=reached,
        reached_without_data=reached_nodata,
        load=[round(x, 2) for x in load])
    if args.cfg_options:
        result['cfg_options'] = dict(args.cfg_options)
    if args.results_json:
        row_t = dict({labels[p]: r1(parts[p]) for p in _TOOLBOX_PARTS},
                     **{'data (loader)': r1(data), 'run_iter': r1(run_iter),
                        'step': r1(toolbox),
                        'step / plain %': round(ratio * 100, 1),
                        'run_iter / plain %': round(ratio_nodata * 100, 1),
                        'images per batch': out['batch']})
        row_p = dict({labels[p]: r1(plain[p]) for p in _PLAIN_PARTS},
                     **{'data (loader)': 0.0, 'step': r1(plain['sum']),
                        'step / plain %': 100.0,
                        'images per batch': out['batch']})
        write_results_record(
            args.results_json,
            f'OMP_NUM_THREADS={args.threads} python '
            'benchmarks/bench_training_overhead.py '
            + shlex.join(['--mode', 'framework'] + list(
                sys.argv[1:] if argv is None else argv)), ROOT,
            {f'{name} (ms)': {
                'toolbox (MMEngine runner: data + run_iter)': row_t,
                'plain PyTorch loop (batches in memory)': row_p}},
            threads=args.threads,
            metrics=['data (loader)'] + [labels[p] for p in _TOOLBOX_PARTS]
            + ['run_iter', 'step', 'step / plain %', 'run_iter / plain %'],
            count='images per batch', decimals=1, row_label='loop',
            RESULT=result,
            note=f'Medians of {args.rounds} interleaved rounds after '
            f'{args.warmup}; ratio without data loading '
            f'{ratio_nodata:.3f} (target <= {FRAMEWORK_TARGET:.2f}); parts '
            f'sum = run_iter {parts_err * 100:+.1f} %; load average '
            f'{" / ".join(f"{x:.2f}" for x in load)} at the end.')
    print('RESULT ' + json.dumps(result))
    return result


DOC_DEFAULTS = """What the toolbox's runtime defaults add to a training step of
the headline: the same config trained with them (the atomic
``SafeCheckpointHook``, ``CheckedLoadHook``, ``FiniteStepGuardHook``, the
work-dir lock of ``tools/train.py``) and with MMEngine's ``Runner`` and its
default hooks only (the same
checkpoint interval; the config's custom hooks, its recipe, in both), in
interleaved rounds.
A round trains each for ``--warmup`` + ``--iters`` iterations on the toy
data; its time is the median of the last ``--iters`` iteration times of
``IterTimerHook`` (which span the hooks after each step, checkpoint saves
included). Reported: medians over rounds and their ratio (target
<= 1.05)."""
DEFAULTS_TARGET = 1.05


def defaults_parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=DOC_DEFAULTS.splitlines()[0])
    p.add_argument('--config', default='configs/tim/retinanet_ivif_toy.py')
    p.add_argument('--iters', type=int, default=15)
    p.add_argument('--warmup', type=int, default=55,
                   help='iterations not timed (default 55: past the '
                   "headline's 50-iteration fusion warm-up, whose steps "
                   'leave the detector out)')
    p.add_argument('--rounds', type=int, default=2)
    p.add_argument('--checkpoint-interval', type=int, default=10)
    p.add_argument('--threads', type=int, default=1)
    p.add_argument('--results-json', metavar='FILE')
    return p.parse_args(argv)


def _defaults_cfg(args, data: str, work: str, stock: bool) -> Config:
    """The config for one run: the toolbox's defaults, or (``stock``)
    MMEngine's Runner with its default hooks (custom hooks kept)."""
    cfg = Config.fromfile(osp.join(ROOT, args.config))
    cfg.train_dataloader.dataset.data_root = data
    cfg.train_dataloader.num_workers = 0
    cfg.train_dataloader.persistent_workers = False
    for part in ('val', 'test'):  # training steps only
        for key in ('dataloader', 'cfg', 'evaluator'):
            cfg[f'{part}_{key}'] = None
    cfg.train_cfg.max_iters = args.warmup + args.iters
    cfg.work_dir, cfg.log_level = work, 'WARNING'
    cfg.default_hooks.checkpoint.interval = args.checkpoint_interval
    if stock:
        cfg.default_hooks = dict(
            timer=dict(type='IterTimerHook'),
            logger=dict(type='LoggerHook', interval=20),
            param_scheduler=dict(type='ParamSchedulerHook'),
            checkpoint=dict(type='CheckpointHook', by_epoch=False,
                            interval=args.checkpoint_interval),
            sampler_seed=dict(type='DistSamplerSeedHook'))
    return cfg


def _defaults_round(args, data: str, stock: bool) -> float:
    """Median seconds per iteration of one run."""
    from mmfusenas.engine.runner import build_runner
    from mmfusenas.utils.workdir_lock import WorkDirLock
    with tempfile.TemporaryDirectory(prefix='bench_defaults_') as work:
        cfg = _defaults_cfg(args, data, work, stock)
        with WorkDirLock(work) if not stock else contextlib.nullcontext():
            runner = build_runner(cfg)
            runner.train()
        times = runner.message_hub.get_scalar('train/time').data[0]
    return float(statistics.median(list(times)[-args.iters:]))


def main_defaults(argv=None):
    args = defaults_parse_args(argv)
    if args.results_json:
        check_record_path(args.results_json)
    torch.set_num_threads(args.threads)
    times = {False: [], True: []}
    with tempfile.TemporaryDirectory(prefix='bench_defaults_data_') as data:
        generate_toy_dataset(data, num=16, seed=0, size=64)
        for r in range(args.rounds):
            for stock in ((False, True) if r % 2 == 0 else (True, False)):
                times[stock].append(_defaults_round(args, data, stock))
    toolbox, stock = (statistics.median(times[k]) for k in (False, True))
    ratio = toolbox / stock
    load = os.getloadavg()
    device = ('CUDA ' + torch.cuda.get_device_name(0)
              if torch.cuda.is_available() else 'CPU')
    print(AsciiTable([['runner', 'ms / iteration'],
                      ['toolbox defaults', f'{toolbox * 1e3:.1f}'],
                      ['MMEngine Runner, default hooks',
                       f'{stock * 1e3:.1f}']]).table)
    print(f'toolbox / stock = {ratio:.3f}; target <= {DEFAULTS_TARGET}: '
          f'{"reached" if ratio <= DEFAULTS_TARGET else "NOT reached"}')
    result = dict(config=args.config, iters=args.iters, warmup=args.warmup,
                  rounds=args.rounds, threads=args.threads,
                  toolbox_ms=[round(t * 1e3, 1) for t in times[False]],
                  stock_ms=[round(t * 1e3, 1) for t in times[True]],
                  ratio=round(ratio, 3), target=DEFAULTS_TARGET,
                  reached=ratio <= DEFAULTS_TARGET, device=device,
                  load=[round(x, 2) for x in load])
    if args.results_json:
        name = osp.splitext(osp.basename(args.config))[0]
        write_results_record(
            args.results_json,
            f'OMP_NUM_THREADS={args.threads} python '
            'benchmarks/bench_training_overhead.py ' + shlex.join(
                ['--mode', 'defaults'] + list(
                    sys.argv[1:] if argv is None else argv)), ROOT,
            {f'{name} (ms per iteration, {device})': {
                'toolbox defaults': {'ms': round(toolbox * 1e3, 1),
                                     '% of stock': round(ratio * 100, 1)},
                'MMEngine Runner, default hooks': {
                    'ms': round(stock * 1e3, 1), '% of stock': 100.0}}},
            threads=args.threads, metrics=['ms', '% of stock'], decimals=1,
            row_label='runner', RESULT=result,
            note=f'Medians of {args.rounds} interleaved rounds; load '
            f'average {" / ".join(f"{x:.2f}" for x in load)} at the end.')
    print('RESULT ' + json.dumps(result))
    return result


MODES = {
    'overhead': main_overhead,
    'reliability': main_reliability,
    'distributed': main_distributed,
    'framework': main_framework,
    'defaults': main_defaults,
}


def main(argv=None):
    """Run the mode ``--mode`` names (default ``overhead``)."""
    return run_mode(MODES, argv)


if __name__ == '__main__':
    main()
