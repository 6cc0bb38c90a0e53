"""Which pyramid levels of TIM's toy neck search carry a task signal
(positive anchors per level, the alpha gradient per cell): the diagnosis
behind the toy neck search's settings (``docs/methods/tim_task_necks.md``).
The toy neck space and its settings are those of the search-vs-random
control (``benchmarks/bench_search_vs_random.py``, space ``tim_neck``).
"""
import argparse
import json
import os
import os.path as osp
import tempfile
from typing import Dict

import torch
from mmengine.config import Config
from mmengine.logging import MMLogger
from mmengine.runner import Runner
from terminaltables import AsciiTable

from mmfusenas.benchmark.search_spaces import (SPACES, anchor_positives,
                                               merge_options, quiet_run,
                                               set_img_scale)
from mmfusenas.engine.runner import with_cached_text
from mmfusenas.testing.toy_data.control_sets import toy_ivif

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


DOC_ANCHOR_LEVELS = """Which pyramid levels of the toy neck search carry a task signal?

Usage::

    python projects/reproductions/bench_neck_anchor_levels.py
    python projects/reproductions/bench_neck_anchor_levels.py --res 64 128 \\
        --octave-base-scales 2 1 0.5 0.4 --grad-scales 2 0.4 --warmup 20

The diagnosis behind the ``tim_neck`` space of
``bench_search_vs_random.py`` (docs/user_guides/search.md Sec. 10, "TIM
detection neck"). On generated toy IR/VIS pairs (64 px, as that benchmark
makes them):

1. **positive anchors per level**: for every image size of ``--res`` and
   every RetinaNet ``octave_base_scale`` of ``--octave-base-scales`` (anchor
   base size = scale x stride; the toy detectors use 2), the anchors of the
   head of ``configs/tim/retrain_retinanet_ivif_toy.py`` (strides 4-32,
   2 scales, 3 ratios) labelled by its max-IoU assigner on the training
   split's boxes (``anchor_positives`` of
   ``mmfusenas.benchmark.search_spaces``, which ``bench_search_vs_random.py``
   runs too). A level without positives gives its neck output no
   classification or regression target.
2. **α gradient per cell**: for each scale of ``--grad-scales`` (at 64 px),
   the search config ``configs/tim/search_retinanet_ivif_toy.py`` (as the
   benchmark runs it: DARTS first order, batch 4) is built, trained for the
   ``--warmup`` weights-only iterations of its schedule, and
   ``|dF/dα|`` (the L2 norm of the upper loss' gradient w.r.t. each edge's
   α, summed over the cell's edges, mean over 4 α-split batches) is
   printed per cell, before and after the warm-up. Cells 0-2 are the
   top-down cells (strides 16, 8, 4), 3-5 the bottom-up ones (strides 8,
   16, 32).

The last line is ``RESULT {json}`` with ``positives`` (``{res: {scale:
[per level]}}``) and ``alpha_grad`` (``{scale: {untrained: {cell: g},
warmed_up: {...}}}``). One thread is enough (``OMP_NUM_THREADS=1``).
"""


def cell_alpha_grads(model, loader, batches: int = 4) -> Dict[str, float]:
    """``|dF/dα|`` per cell: the L2 norms of each edge's α gradient of the
    upper loss, summed over the cell's edges, averaged over ``batches``."""
    model.train()
    keys = list(model.arch_params.keys())
    alphas = [model.arch_params.alphas[k] for k in keys]
    out: Dict[str, float] = {}
    it = iter(loader)
    for _ in range(batches):
        data = model.data_preprocessor(next(it), True)
        grads = torch.autograd.grad(
            model.total_loss(data), alphas, allow_unused=True)
        for key, g in zip(keys, grads):
            cell = key.split('/')[1]
            norm = 0.0 if g is None else float(g.norm())
            out[cell] = out.get(cell, 0.0) + norm / batches
    return out


def search_cfg(scale: float, warmup: int, work: str) -> Config:
    """The toy neck search at 64 px with ``octave_base_scale`` ``scale``,
    ``warmup`` weights-only iterations, first-order DARTS."""
    spec = SPACES['tim_neck']
    cfg = Config.fromfile(osp.join(ROOT, spec['search']))
    merge_options(cfg, spec['search_opts'](True))
    merge_options(
        cfg, {
            'train_cfg.max_iters': warmup,
            'model.architecture.detector.bbox_head.anchor_generator.'
            'octave_base_scale': scale,
        })
    cfg.model.strategy = dict(type='DartsFirstOrderStrategy')
    cfg.model.arch_update_interval = 1
    set_img_scale(cfg._cfg_dict, spec['img_scale'])
    quiet_run(cfg, work, 0, f'grad_{scale}')
    return cfg


def arch_batches(cfg: Config):
    """A new loader of the arch split (sampler seed 0): a loader serves one
    measurement (an ``InfiniteSampler``'s indices end with the first
    iterator over them)."""
    return Runner.build_dataloader(cfg.train_cfg.arch_dataloader, seed=0)


def alpha_grads(scale: float, warmup: int, work: str) -> dict:
    cfg = search_cfg(scale, warmup, work)
    runner = Runner.from_cfg(with_cached_text(cfg))
    before = cell_alpha_grads(runner.model, arch_batches(cfg))
    runner.train()  # only the weights-only warm-up iterations
    after = cell_alpha_grads(runner.model, arch_batches(cfg))
    return dict(untrained=before, warmed_up=after)


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=DOC_ANCHOR_LEVELS.split('\n')[0])
    parser.add_argument('--res', type=int, nargs='+', default=[64, 128])
    parser.add_argument('--octave-base-scales', type=float, nargs='+',
                        default=[2, 1, 0.5, 0.4])
    parser.add_argument('--grad-scales', type=float, nargs='*',
                        default=[2, 0.4],
                        help='anchor scales whose alpha gradients are '
                        'measured at 64 px (none: skip)')
    parser.add_argument('--warmup', type=int, default=20,
                        help='weights-only iterations before the second '
                        'gradient measurement (the config: 20)')
    parser.add_argument('--toy-num', type=int, default=48)
    args = parser.parse_args(argv)
    torch.set_num_threads(int(os.environ.get('OMP_NUM_THREADS', '1')))
    MMLogger.get_instance('mmengine', log_level='WARNING')
    result: dict = dict(positives={}, alpha_grad={})
    cwd = os.getcwd()
    with tempfile.TemporaryDirectory(prefix='bench_anchor_') as tmp:
        os.makedirs(osp.join(tmp, 'data'))
        os.chdir(tmp)
        try:
            toy_ivif(osp.join(tmp, 'data'), True, args.toy_num)
            ann = osp.join(tmp, 'data', 'toy', 'annotations',
                           'instances_train.json')
            det = Config.fromfile(
                osp.join(ROOT, SPACES['tim_neck']['retrain'])
            ).model.detector
            strides = det.bbox_head.anchor_generator.strides
            rows = [['px', 'octave_base_scale'] +
                    [f'stride {s}' for s in strides]]
            for res in args.res:
                result['positives'][res] = {}
                for scale in args.octave_base_scales:
                    d = Config(dict(det=det.to_dict()))
                    d.merge_from_dict({
                        'det.bbox_head.anchor_generator.octave_base_scale':
                        scale
                    })
                    pos = anchor_positives(d.det, ann, (res, res))
                    result['positives'][res][scale] = pos
                    rows.append([str(res), f'{scale:g}'] +
                                [str(n) for n in pos])
            print('positive anchors per level (toy train split):')
            print(AsciiTable(rows).table, flush=True)
            grows = [['octave_base_scale', 'when'] +
                     [f'cell{c}' for c in range(6)]]
            for scale in args.grad_scales:
                g = alpha_grads(scale, args.warmup,
                                osp.join(tmp, f'grad_{scale}'))
                result['alpha_grad'][scale] = g
                for when, cells in g.items():
                    grows.append([f'{scale:g}', when] + [
                        f'{cells.get(f"cell{c}", 0.0):.3g}'
                        for c in range(6)
                    ])
            if args.grad_scales:
                print(f'|dF/d alpha| per cell at 64 px (untrained; after '
                      f'{args.warmup} weights-only iterations):')
                print(AsciiTable(grows).table)
        finally:
            os.chdir(cwd)
    print('RESULT ' + json.dumps(result))


if __name__ == '__main__':
    main()
