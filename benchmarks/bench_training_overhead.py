"""What task-guided training adds on top of mmdet / mmseg: step time of the
compound model (fusion network + detector / segmentor) against the same
task model alone on the same batch.

Usage::

    python benchmarks/bench_training_overhead.py
        [--configs configs/tim/retinanet_ivif_fpn_toy.py
                   configs/tim/deeplabv3plus_r18_msrs_toy.py]
        [--rounds 12] [--warmup 2] [--threads 1] [--data-dir DIR]
        [--batch N] [--device cpu|cuda]

Per config, the model of the config is built twice from the same seed: the
compound model (``FusionDetector`` / ``FusionSegmentor``) and, for the
baseline, the task model of a second copy alone. Both get the optimizer of
the config (``optim_wrapper``: AdamW, gradient clipping). The toy data are
generated into a temporary folder (``--data-dir`` reuses one) and read by the
config's own train loader.

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
<= 30 % on the toy RetinaNet config). Ends with ``RESULT {json}``.
"""
import argparse
import json
import os
import os.path as osp
import statistics
import sys
import tempfile
import time

import torch
from mmengine.config import Config
from mmengine.logging import MMLogger
from mmengine.optim import build_optim_wrapper
from mmengine.registry import init_default_scope
from mmengine.runner import Runner
from terminaltables import AsciiTable

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, ROOT)

import mmfusenas  # noqa: E402,F401
from mmfusenas.registry import MODELS  # noqa: E402
from mmfusenas.search.estimators.flop_counter import \
    count_flops_of_call  # noqa: E402
from mmfusenas.toy_data.ivif import generate_toy_dataset  # noqa: E402

CONFIGS = ['configs/tim/retinanet_ivif_fpn_toy.py',
           'configs/tim/deeplabv3plus_r18_msrs_toy.py']
TARGET = 0.30


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
                   help='existing toy data folder (else generated)')
    p.add_argument('--num', type=int, default=48,
                   help='pairs to generate')
    p.add_argument('--channels-last', action='store_true',
                   help='both models (and their inputs) in channels-last '
                   'memory format')
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
    picture = model.task_inputs(out, samples)
    pre = model._weighted_pre_losses(out, inputs)
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
        picture = model.task_inputs(inputs[:, 1:2], samples)
    tm = Timer()
    loss = _loss_sum(task, task.loss(picture, samples))
    tm.lap('task fwd')
    loss.backward()
    tm.lap('task bwd')
    optim.step()
    optim.zero_grad()
    tm.lap('optim')
    return tm.parts


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


def run_config(path, args, data_root):
    cfg = Config.fromfile(osp.join(ROOT, path) if not osp.isabs(path) else
                          path)
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
    model.to(DEVICE)
    alone.to(DEVICE)
    task = alone.task_model
    if args.channels_last:
        for mod in (model, alone):
            mod.to(memory_format=torch.channels_last)
            mod.data_preprocessor = _ChannelsLast(mod.data_preprocessor)
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
        picture = model.task_inputs(fused, data['data_samples'])
    macs = dict(
        fusion=count_flops_of_call(model.pre_net, (data['inputs'], ),
                                   {}).macs / 1e9,
        task=count_flops_of_call(model.task_model, (picture, ),
                                 dict(mode='tensor')).macs / 1e9)
    model.train()
    rows = {'compound': [], 'alone': [], 'train_step': [], 'data': []}
    for r in range(args.warmup + args.rounds):
        t0 = time.perf_counter()
        batch = next(it)
        data_s = time.perf_counter() - t0
        order = ('c', 'a', 's') if r % 2 == 0 else ('s', 'a', 'c')
        res = {}
        for who in order:
            if who == 'c':
                res['compound'] = compound_step(model, optim, batch)
            elif who == 'a':
                res['alone'] = task_step(model, task, optim_t, batch)
            else:
                t0 = _now()
                alone.train_step(batch, optim_s)
                res['train_step'] = {'total': _now() - t0}
        if r >= args.warmup:
            rows['data'].append({'data': data_s})
            for k in ('compound', 'alone', 'train_step'):
                rows[k].append(res[k])
    med = {}
    for k, lst in rows.items():
        keys = lst[0].keys()
        med[k] = {p: statistics.median(d[p] for d in lst) for p in keys}
        med[k]['total'] = statistics.median(sum(d.values()) for d in lst)
    return cfg, med, loader_cfg['batch_size'], macs


def main():
    global DEVICE
    args = parse_args()
    DEVICE = torch.device(args.device)
    if DEVICE.type == 'cuda' and not torch.cuda.is_available():
        raise SystemExit('--device cuda: torch sees no CUDA device')
    sys.stdout.reconfigure(line_buffering=True)
    torch.set_num_threads(args.threads)
    # the weight-init and optimizer summaries of the builds are not needed
    MMLogger.get_instance('mmengine', log_level='WARNING')
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        root = args.data_dir or osp.join(tmp, 'toy')
        if not osp.isfile(osp.join(root, 'meta.json')):
            generate_toy_dataset(root, num=args.num, seed=0,
                                 val_fraction=0.25)
        for path in args.configs:
            cfg, med, bs, macs = run_config(path, args, root)
            c, a = med['compound'], med['alone']
            task_alone = a['total']
            overhead = c['total'] - task_alone
            frac = overhead / task_alone
            name = osp.splitext(osp.basename(path))[0]
            table = [['part', 'compound ms', 'task alone ms']]
            for part in ('preprocess', 'fusion fwd', 'task fwd', 'task bwd',
                         'fusion bwd', 'optim'):
                table.append([part, f'{c[part] * 1e3:.1f}',
                              f'{a[part] * 1e3:.1f}' if part in a else '-'])
            table.append(['step (sum of parts)', f'{c["total"] * 1e3:.1f}',
                          f'{task_alone * 1e3:.1f}'])
            table.append(['train_step (one call)',
                          f'{med["train_step"]["total"] * 1e3:.1f}', '-'])
            table.append(['data (loader)', f'{med["data"]["data"] * 1e3:.1f}',
                          'same batch'])
            fusion_only = (c['preprocess'] + c['fusion fwd'] +
                           c['fusion bwd'])
            ok = 'PASS' if frac <= TARGET else 'FAIL'
            print(f'{name}: {args.device}, batch {bs}, {args.rounds} rounds '
                  '(median), '
                  f'{torch.get_num_threads()} threads, '
                  f'{"channels-last" if args.channels_last else "NCHW"}, load '
                  f'{" ".join(f"{x:.2f}" for x in os.getloadavg())}')
            print(AsciiTable(table).table)
            print(f'fusion overhead = compound - task alone = '
                  f'{overhead * 1e3:.1f} ms = {frac * 100:.1f} % of the task '
                  f'step ({ok}, target <= {TARGET * 100:.0f} %); N_F fwd+bwd '
                  f'+ preprocess alone: {fusion_only * 1e3:.1f} ms = '
                  f'{fusion_only / task_alone * 100:.1f} %')
            print(f'forward GMACs per batch: N_F {macs["fusion"]:.2f}, task '
                  f'model {macs["task"]:.2f} (ratio '
                  f'{macs["fusion"] / macs["task"]:.2f})')
            results[name] = dict(
                device=args.device,
                batch=bs,
                compound_ms=round(c['total'] * 1e3, 1),
                task_alone_ms=round(task_alone * 1e3, 1),
                overhead_pct=round(frac * 100, 1),
                parts_ms={k: round(v * 1e3, 1) for k, v in c.items()},
                train_step_ms=round(med['train_step']['total'] * 1e3, 1),
                data_ms=round(med['data']['data'] * 1e3, 1),
                gmacs={k: round(v, 3) for k, v in macs.items()})
    print('RESULT ' + json.dumps(results))


if __name__ == '__main__':
    main()
