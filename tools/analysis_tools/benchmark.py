"""FPS / latency of any config's model, end to end, as mmdet's benchmark.

``python tools/analysis_tools/benchmark.py CONFIG [CHECKPOINT] --shape H W
[--batch-size 1] [--warmup 5] [--repeats 20] [--device cpu] [--threads N]
[--cfg-options ...]``

Random images of ``H x W`` (one file per modality the config reads: IR /
VIS for fusion, one RGB image for enhancement and scene + task models, a
16-bit HR depth + RGB for guided depth SR, a blurred image + 15 x 15 kernel
for hyper-guidance restorers) become a batch exactly as the inference APIs
build it (:func:`mmfusenas.apis.build_batch`: the test pipeline); what is timed
is ``model.test_step`` on the packed batch — data preprocessing (padding,
normalisation), the network and, for compound models, the detector /
segmentor and its post-processing — ``--warmup`` untimed passes, then
``--repeats`` timed ones (:func:`~mmfusenas.search.estimators.
measure_latency`: median, min, max; CUDA synchronised). Without a checkpoint
the initial weights are used (speed does not depend on them, except
data-dependent post-processing such as NMS). Prints a table and returns the
numbers; ``tools/analysis_tools/get_flops.py`` gives params / FLOPs and the
network-only latency.
"""
import argparse
import os.path as osp
import tempfile
from typing import Dict, List, Optional

import cv2
import numpy as np
import torch
import torch.nn as nn
from mmengine.config import DictAction
from terminaltables import AsciiTable

from mmfusenas.apis import (add_optimize_argument, build_batch,
                            config_modalities, init_model, model_family,
                            test_pipeline_cfg)
from mmfusenas.apis.inference import loader_kind
from mmfusenas.search.estimators import device_name, measure_latency

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


class TestStep(nn.Module):
    """``forward(inputs, data_samples) = model.test_step(batch)``."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, inputs, data_samples):
        return self.model.test_step(
            dict(inputs=inputs, data_samples=data_samples))


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='FPS / latency of a config\'s model (test_step)')
    parser.add_argument('config', help='config file')
    parser.add_argument('checkpoint', nargs='?', help='checkpoint (optional)')
    parser.add_argument(
        '--shape', type=int, nargs=2, required=True, metavar=('H', 'W'),
        help='size of the input images (before the test pipeline)')
    parser.add_argument('--batch-size', type=int, default=1)
    parser.add_argument('--warmup', type=int, default=5,
                        help='untimed passes first')
    parser.add_argument('--repeats', type=int, default=20,
                        help='timed passes')
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--threads', type=int,
                        help='torch intra-op threads (CPU)')
    parser.add_argument('--seed', type=int, default=0,
                        help='seed of the random images')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    add_optimize_argument(parser)
    return parser.parse_args(argv)


def synthetic_inputs(model: nn.Module, shape, folder: str, seed: int = 0):
    """Random input file(s) of ``shape`` in the layout the model reads and
    the keyword arguments of :func:`~mmfusenas.apis.build_batch`."""
    rng = np.random.default_rng(seed)
    h, w = shape

    def image(name: str) -> str:
        path = osp.join(folder, f'{name}.png')
        cv2.imwrite(path, rng.integers(0, 256, (h, w, 3), dtype=np.uint8))
        return path

    family = model_family(model)
    if family == 'gisr':  # an HR depth (16-bit) and its RGB guide
        depth = osp.join(folder, 'depth.png')
        cv2.imwrite(depth, rng.integers(500, 5000, (h, w), dtype=np.uint16))
        return (depth, image('rgb')), {}
    if family == 'restoration':  # a blurred image and a 15 x 15 kernel
        kernel = rng.random((15, 15))
        return image('img'), dict(kernel=kernel / kernel.sum())
    kind = loader_kind(test_pipeline_cfg(model.cfg))
    if kind == 'paired':
        names = config_modalities(model.cfg) or ['ir', 'vi']
        return {name: image(name) for name in names}, {}
    return image('img'), {}


def main(argv: Optional[List[str]] = None) -> Dict[str, float]:
    """Benchmark; returns ``dict(fps=, median_ms=, min_ms=, max_ms=)``."""
    args = parse_args(argv)
    if args.batch_size < 1:
        raise ValueError(f'--batch-size must be >= 1, got {args.batch_size}')
    model = init_model(args.config, args.checkpoint, device=args.device,
                       cfg_options=args.cfg_options, optimize=args.optimize)
    with tempfile.TemporaryDirectory() as tmp:
        inputs, kwargs = synthetic_inputs(model, args.shape, tmp, args.seed)
        batch = build_batch(model, [inputs] * args.batch_size, batch=True,
                            **kwargs)
    print(f'timing {args.warmup} warm-up + {args.repeats} passes of '
          f'{osp.basename(args.config)} at {args.shape[0]} x '
          f'{args.shape[1]} ...', flush=True)
    stats = measure_latency(
        TestStep(model), batch, repeats=args.repeats, warmup=args.warmup,
        device=args.device, threads=args.threads)
    result = dict(
        fps=1000.0 * args.batch_size / stats.median_ms,
        median_ms=stats.median_ms, min_ms=stats.min_ms, max_ms=stats.max_ms)
    rows = [['config', 'input (H x W)', 'batch', 'device', 'threads',
             'median ms', 'min ms', 'max ms', 'images / s'],
            [osp.basename(args.config), f'{args.shape[0]} x {args.shape[1]}',
             args.batch_size, device_name(args.device),
             torch.get_num_threads() if args.threads is None else
             args.threads, f'{stats.median_ms:.1f}', f'{stats.min_ms:.1f}',
             f'{stats.max_ms:.1f}', f'{result["fps"]:.2f}']]
    print(AsciiTable(rows).table)
    print(f'({args.warmup} warm-up + {args.repeats} timed passes of '
          'model.test_step: preprocessing, network, task post-processing)')
    return result


if __name__ == '__main__':
    main()
