"""Cost of the reliability guarantees (docs/reliability.md).

Usage::

    OMP_NUM_THREADS=1 python benchmarks/bench_reliability.py [--repeat 20]

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
- ``check_checkpoint_file`` (the validation every ``--resume`` / ``test.py``
  path gets) versus a full ``torch.load``.

Ends with one line ``RESULT {json}``.
"""
import argparse
import io
import json
import os.path as osp
import statistics
import sys
import tempfile
import time

import torch
from mmengine.config import Config
from terminaltables import AsciiTable

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, ROOT)

from mmfusenas.engine.hooks import FiniteStepGuardHook  # noqa: E402
from mmfusenas.registry import MODELS  # noqa: E402
from mmfusenas.utils.checkpoint import (check_checkpoint_file,  # noqa: E402
                                        nonfinite_tensors)
from mmfusenas.utils.fileio import atomic_write  # noqa: E402

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
    check_ms = median_ms(lambda: check_checkpoint_file(atomic_path), repeat)
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


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
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


if __name__ == '__main__':
    main()
