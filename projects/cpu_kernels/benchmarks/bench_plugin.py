"""What the CPU kernel plugin buys on the CPU: the plain model (the toolbox's
default) against the same model with ``apply_cpu_kernels``, in one run.

Inference: batch-1 latency of TIM-light, RUAS_A and SeAFusion through
``inference_fusion`` / ``inference_enhancer`` (the path of ``tools/fuse.py``
and ``tools/enhance.py``) on a real image at its stored size, plain and with
``optimize='cpu_kernels'``, interleaved (A/B/B/A...), median of
``--repeats``, and the largest output difference.
Training: one ``train_step`` of the headline toy job
(``configs/tim/retinanet_ivif_toy.py``, batch of its config) on toy data,
the plain compound model against a copy with ``apply_cpu_kernels(...,
training=True)`` (what ``CpuKernelsHook`` does), interleaved, median of
``--steps`` after a warm-up. Ends with ``RESULT {json}``;
``--results-json`` writes the record.

    PYTHONPATH=projects/cpu_kernels OMP_NUM_THREADS=1 python \\
        projects/cpu_kernels/benchmarks/bench_plugin.py --threads 1
"""
import argparse
import copy
import json
import os.path as osp
import shlex
import statistics
import sys
import tempfile
import time

import torch
# the plugin, on the path as its README says (PYTHONPATH=projects/cpu_kernels)
from cpu_kernels import apply_cpu_kernels
from mmengine.config import Config
from mmengine.logging import MMLogger
from mmengine.optim import build_optim_wrapper
from mmengine.registry import init_default_scope
from mmengine.runner import Runner
from terminaltables import AsciiTable

from mmfusenas.apis import inference_enhancer, inference_fusion, init_model
from mmfusenas.benchmark.results_record import (check_record_path,
                                                write_results_record)
from mmfusenas.registry import MODELS
from mmfusenas.testing.toy_data.ivif import generate_toy_dataset

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.dirname(
    osp.abspath(__file__)))))
SHARED = osp.join(osp.dirname(ROOT), 'shared', 'data')
TNO = {m: osp.join(SHARED, 'fusion', 'TNO', m, '01.png') for m in ('ir', 'vi')}
LOL = osp.join(SHARED, 'lowlight', 'lol', 'test', '00001.png')
#: name -> (config, inference function, input)
NETWORKS = {
    'TIM-light': ('configs/tim/fusion_ivif_light_official.py',
                  inference_fusion, TNO),
    'RUAS_A': ('configs/ruas/ruas_a_lol.py', inference_enhancer, LOL),
    'SeAFusion': ('configs/baselines/seafusion_ivif.py', inference_fusion,
                  TNO),
}
TRAIN_CONFIG = 'configs/tim/retinanet_ivif_toy.py'


def _output(sample) -> torch.Tensor:
    return sample.pred_fused if 'pred_fused' in sample else sample.pred_img


def interleaved(calls: dict, repeats: int, warmup: int) -> dict:
    """Median seconds of each call, run in alternating order."""
    times = {k: [] for k in calls}
    names = list(calls)
    for r in range(warmup + repeats):
        for name in names if r % 2 == 0 else names[::-1]:
            t0 = time.perf_counter()
            calls[name]()
            if r >= warmup:
                times[name].append(time.perf_counter() - t0)
    return {k: statistics.median(v) for k, v in times.items()}


def bench_inference(args) -> dict:
    rows = {}
    for name, (config, infer, inputs) in NETWORKS.items():
        torch.manual_seed(0)
        plain = init_model(osp.join(ROOT, config), None, device='cpu')
        kernels = copy.deepcopy(plain)
        apply_cpu_kernels(kernels)
        with torch.no_grad():
            diff = float((_output(infer(plain, inputs)) -
                          _output(infer(kernels, inputs))).abs().max())
            med = interleaved(
                dict(plain=lambda: infer(plain, inputs),
                     plugin=lambda: infer(kernels, inputs)), args.repeats,
                args.warmup)
        rows[name] = dict(plain_ms=round(med['plain'] * 1e3, 1),
                          plugin_ms=round(med['plugin'] * 1e3, 1),
                          speedup=round(med['plain'] / med['plugin'], 2),
                          max_abs_diff=diff)
        print(f'{name}: {rows[name]}', flush=True)
    return rows


def bench_training(args, tmp: str) -> dict:
    cfg = Config.fromfile(osp.join(ROOT, TRAIN_CONFIG))
    init_default_scope('mmfusenas')
    root = osp.join(tmp, 'toy')
    generate_toy_dataset(root, num=16, seed=0)
    loader_cfg = copy.deepcopy(cfg.train_dataloader)
    loader_cfg['dataset']['data_root'] = root + '/'
    loader_cfg.update(num_workers=0, persistent_workers=False)
    loader = Runner.build_dataloader(loader_cfg, seed=0)
    models, optims = {}, {}
    for name in ('plain', 'plugin'):
        torch.manual_seed(0)
        model = MODELS.build(cfg.model)
        model.init_weights()
        if name == 'plugin':
            apply_cpu_kernels(model, training=True)
        model.train()
        models[name] = model
        optims[name] = build_optim_wrapper(model, copy.deepcopy(
            cfg.optim_wrapper))
    batch = next(iter(loader))
    med = interleaved(
        {n: (lambda n=n: models[n].train_step(copy.deepcopy(batch),
                                              optims[n]))
         for n in models}, args.steps, args.warmup)
    return {TRAIN_CONFIG: dict(
        plain_ms=round(med['plain'] * 1e3, 1),
        plugin_ms=round(med['plugin'] * 1e3, 1),
        speedup=round(med['plain'] / med['plugin'], 2),
        batch=loader_cfg['batch_size'])}


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--threads', type=int, default=1)
    p.add_argument('--repeats', type=int, default=10)
    p.add_argument('--steps', type=int, default=10)
    p.add_argument('--warmup', type=int, default=2)
    p.add_argument('--results-json', default=None, metavar='FILE')
    args = p.parse_args(argv)
    if args.results_json:
        check_record_path(args.results_json)
    for path in (*TNO.values(), LOL):
        if not osp.isfile(path):
            sys.exit(f'{path} not found (the shared data folder sits next '
                     'to the repository)')
    torch.set_num_threads(args.threads)
    # the weight-init and optimizer summaries of the builds are not needed
    MMLogger.get_instance('mmengine', log_level='WARNING')
    result = {'inference, batch 1 (ms)': bench_inference(args)}
    with tempfile.TemporaryDirectory() as tmp:
        result['training step (ms)'] = bench_training(args, tmp)
    for table, rows in result.items():
        cols = list(next(iter(rows.values())))
        print(table)
        print(AsciiTable([['', *cols]] + [[k, *(r[c] for c in cols)]
                                           for k, r in rows.items()]).table)
    if args.results_json:
        write_results_record(
            args.results_json,
            'PYTHONPATH=projects/cpu_kernels python projects/cpu_kernels/'
            'benchmarks/bench_plugin.py ' + shlex.join(
                sys.argv[1:] if argv is None else argv),
            ROOT, result, threads=args.threads,
            metrics=['plain_ms', 'plugin_ms', 'speedup'],
            table_metrics={
                'inference, batch 1 (ms)': ['plain_ms', 'plugin_ms',
                                            'speedup', 'max_abs_diff'],
                'training step (ms)': ['plain_ms', 'plugin_ms', 'speedup',
                                       'batch']},
            row_label='network / config', decimals=3,
            note='plain: the model as built (the toolbox default on every '
            'device); plugin: apply_cpu_kernels (training=True for the '
            'training step, as CpuKernelsHook); medians of interleaved '
            'runs on the CPU.')
    print('RESULT ' + json.dumps(result))
    return result


if __name__ == '__main__':
    main()
