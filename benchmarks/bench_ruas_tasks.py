"""Time and score the RUAS scene + SSD toy pipeline. Usage::

    python benchmarks/bench_ruas_tasks.py [--num-train 200] [--num-val 50]
        [--size 128] [--seed 0] [--threads 1] [--keep DIR]

Writes darkened toy scenes in the ExDark layout, then runs, each with
``tools/train.py`` in its own process (``OMP_NUM_THREADS=--threads``):

1. ``configs/ruas/ssd_exdark_toy.py``: the scene module + SSD with the
   official detection task cell, 300 iterations;
2. ``configs/ruas/search_ssd_exdark_toy.py``: the cooperative search of the
   scene module and the SSD task cell, 60 iterations;
3. ``configs/ruas/retrain_ssd_exdark_toy.py`` with the genotype of 2.

Printed: wall time of each run and the last validation VOC mAP of 1. and
3. One seed, SSD from scratch: the figures show that the pipeline runs in
minutes, they do not rank the architectures.
"""
import argparse
import glob
import json
import os
import os.path as osp
import subprocess
import sys
import tempfile
import time

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, REPO)

from mmfusenas.toy_data.lowlight_tasks import generate_toy_exdark  # noqa


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--num-train', type=int, default=200)
    p.add_argument('--num-val', type=int, default=50)
    p.add_argument('--size', type=int, default=128)
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--threads', type=int, default=1,
                   help='OMP_NUM_THREADS of each run (default: 1)')
    p.add_argument('--keep', default=None,
                   help='work folder to keep (default: a temporary one)')
    return p.parse_args()


def train(config: str, work_dir: str, options: list, threads: int) -> float:
    """Run tools/train.py; returns the wall time in seconds."""
    env = dict(os.environ, OMP_NUM_THREADS=str(threads))
    cmd = [
        sys.executable,
        osp.join(REPO, 'tools', 'train.py'),
        osp.join(REPO, 'configs', 'ruas', f'{config}.py'), '--work-dir',
        work_dir, '--cfg-options'
    ] + options
    start = time.perf_counter()
    done = subprocess.run(
        cmd, cwd=REPO, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode:
        sys.exit(f'{config} failed:\n{done.stderr[-3000:]}')
    return seconds


def last_map(work_dir: str) -> float:
    (path, ) = glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json'))
    with open(path) as f:
        rows = [json.loads(line) for line in f]
    return [r for r in rows if 'pascal_voc/mAP' in r][-1]['pascal_voc/mAP']


def main() -> None:
    args = parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = args.keep or tmp
        data = osp.join(root, 'toy_exdark')
        generate_toy_exdark(
            data,
            num_train=args.num_train,
            num_val=args.num_val,
            size=args.size,
            seed=args.seed,
            overwrite=True)
        data_opts = [
            f'{split}_dataloader.dataset.data_root={data}/'
            for split in ('train', 'val', 'test')
        ]
        work = {k: osp.join(root, k) for k in ('train', 'search', 'retrain')}
        rows = []
        sec = train('ssd_exdark_toy', work['train'], data_opts, args.threads)
        rows.append(('ssd_exdark_toy (official cell)', sec,
                     last_map(work['train'])))
        sec = train('search_ssd_exdark_toy', work['search'], [
            f'train_dataloader.dataset.data_root={data}/',
            f'train_cfg.arch_dataloader.dataset.data_root={data}/'
        ], args.threads)
        rows.append(('search_ssd_exdark_toy', sec, None))
        geno = osp.join(work['search'], 'genotypes', 'latest.yaml')
        parts = ('scene_net', 'detector.neck', 'detector.bbox_head')
        sec = train('retrain_ssd_exdark_toy', work['retrain'],
                    [f'model.{p}.genotype={geno}'
                     for p in parts] + data_opts, args.threads)
        rows.append(('retrain_ssd_exdark_toy (searched)', sec,
                     last_map(work['retrain'])))
    print(f'toy ExDark: {args.num_train} train / {args.num_val} val images '
          f'at {args.size} px, seed {args.seed}, OMP_NUM_THREADS='
          f'{args.threads}, load average {os.getloadavg()[0]:.2f}')
    print(f'{"run":<36}{"wall s":>8}{"VOC mAP":>10}')
    for name, sec, score in rows:
        shown = '-' if score is None else f'{score:.4f}'
        print(f'{name:<36}{sec:>8.0f}{shown:>10}')


if __name__ == '__main__':
    main()
