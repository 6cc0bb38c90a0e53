"""Equal-budget comparison of detection necks on the toy IR/VIS data.

TIM (Sec. 4.3.1) credits its detection gain to the searched neck. This
benchmark trains the toy RetinaNet (ResNet-18 at 1/4 width, no pretrained
weights, :func:`~mmfusenas.testing.toy_models.toy_retinanet`) on the
early-fused toy input ``[IR, Y, max(IR, Y)]`` with the *same* schedule,
batch order, flips, optimiser and seeds, changing only the neck:

* ``fpn``: mmdet's FPN (64 channels, strides 4-32) -- the baseline;
* ``pafpn``: mmdet's PAFPN (64 channels);
* ``searched``: the :class:`~mmfusenas.models.necks.SearchableDistillationNeck`
  found by the project's own search (``BilevelSearchAlgorithm`` + the
  ``--strategy``, every edge choosing among TIM's 11 task operators, weights
  on one half of the train split, α on the other), derived, then retrained
  from scratch like the others;
* ``random<k>``: ``--random`` genotypes of the same space drawn uniformly
  (edge by edge) with a fixed generator (``--random-seed``).

Equal budget: every distillation neck is rebuilt at the largest width of
``--widths`` whose whole-detector FLOPs (one 3x``--res``x``--res`` image) do
not exceed FPN's, so no searched or random neck gets more compute than the
baseline; the table lists params, GFLOPs and single-thread CPU latency of
each detector. mAP is COCO bbox mAP (pycocotools) on the toy val split.
Seeds run in parallel processes (``--jobs``, one thread each).

Example::

    python projects/reproductions/bench_task_necks.py                    # full run
    python projects/reproductions/bench_task_necks.py --seeds 0 --random 2 --iters 50
    python projects/reproductions/bench_task_necks.py --genotype G.yaml  # skip search

The derived genotype is written to ``--genotype-out`` (a neck config that
``dict(type='mmfusenas.GenotypeNet', genotype=PATH)`` rebuilds); the last
line is ``RESULT {json}``.


Modes (``--mode NAME``; ``--mode NAME --help`` lists its options):

* ``necks`` (default): this text;
* ``decoders``: Equal-budget comparison of segmentation decoders on the toy
  IR/VIS data. (its text: ``DOC_DECODERS``);
"""
import argparse
import copy
import json
import logging
import os
import os.path as osp
import tempfile
import time
from typing import Callable, Dict, List, Optional, Sequence

import cv2
import numpy as np
import torch
import torch.nn.functional as F
# a script of this folder (on the path, as a script's own folder is)
from bench_task_guidance import (coco_dets, coco_eval, flipped_batch,
                                 load_toy_split, optimizer_step)

from mmfusenas.benchmark.cli_modes import run_mode
from mmfusenas.benchmark.process_units import map_in_processes
from mmfusenas.models.ops import TASK_OP_NAMES
from mmfusenas.search.estimators import config_cost, largest_width
from mmfusenas.testing.toy_data.ivif import CLASSES, toy_data_set
from mmfusenas.testing.toy_models import toy_retinanet

BC = 16  # the toy ResNet-18's base width: levels of 16, 32, 64, 128
IN_CHANNELS = [BC, BC * 2, BC * 4, BC * 8]
STRIDES = [4, 8, 16, 32]
MEAN, STD = 0.45, 0.25  # input normalisation of the early-fused toy input


def load_split(root: str, split: str, res: int) -> dict:
    """IR, luma and boxes of one split, resized to ``res``, with the COCO
    image ids and file names (:func:`bench_task_guidance.load_toy_split`)."""
    data = load_toy_split(root, split, res)
    return dict(ir=data['ir'][:, 0], y=data['gray'], boxes=data['boxes'],
                labels=data['labels'], ids=data['ids'], files=data['files'],
                scale=data['scale'])


def make_input(kind: str, ir: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """``(N, H, W)`` IR and luma in [0, 1] -> normalised ``(N, 3, H, W)``."""
    if kind == 'avg':
        g = (ir + y) / 2
        x = torch.stack([g, g, g], 1)
    elif kind == 'stack':
        x = torch.stack([ir, y, torch.maximum(ir, y)], 1)
    else:
        raise ValueError(kind)
    return (x - MEAN) / STD



def toy_data(args) -> tuple:
    """``(tmp, root)``: the toy IR/VIS set of ``--data-dir``, generated
    there (``--num`` pairs, ``--data-seed``, a quarter for validation) when
    it has no ``meta.json``, reused when its ``meta.json`` records those
    (another set is an error naming what differs:
    ``mmfusenas.testing.toy_data.ivif.toy_data_set``); without ``--data-dir`` in a
    temporary folder ``tmp`` (``tmp.cleanup()`` removes it)."""
    tmp = tempfile.TemporaryDirectory()
    root = args.data_dir or osp.join(tmp.name, 'toy')
    try:
        toy_data_set(root, num=args.num, seed=args.data_seed,
                     val_fraction=0.25)
    except BaseException:
        tmp.cleanup()
        raise
    return tmp, root


def det_samples(boxes, labels, res: int, with_gt: bool = True):
    from mmdet.structures import DetDataSample
    from mmengine.structures import InstanceData
    out = []
    for b, lab in zip(boxes, labels):
        d = DetDataSample(
            metainfo=dict(
                img_shape=(res, res),
                pad_shape=(res, res),
                ori_shape=(res, res),
                batch_input_shape=(res, res),
                scale_factor=(1.0, 1.0)))
        if with_gt:
            d.gt_instances = InstanceData(bboxes=b, labels=lab)
        out.append(d)
    return out


def det_train_and_eval(kind: str,
                       seed: int,
                       train: dict,
                       val: dict,
                       args,
                       gt_json: str,
                       model_cfg: dict = None) -> dict:
    """Train the toy RetinaNet (or ``model_cfg``, an mmdet detector config)
    on input ``kind`` and return its COCO bbox mAP / AP50 on ``val``."""
    from mmdet.registry import MODELS
    from mmengine.config import ConfigDict
    from mmengine.logging import MMLogger
    from mmengine.registry import init_default_scope
    init_default_scope('mmdet')
    MMLogger.get_current_instance().setLevel(logging.WARNING)  # init logs
    torch.manual_seed(seed)
    np.random.seed(seed)
    if model_cfg is None:
        model_cfg = toy_retinanet(len(CLASSES))
    model = MODELS.build(ConfigDict(model_cfg))
    model.init_weights()
    res = args.res
    x_train = make_input(kind, train['ir'], train['y'])
    n = x_train.shape[0]
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(
        opt, max_lr=args.lr, total_steps=args.iters, pct_start=0.1)
    g = torch.Generator().manual_seed(seed)
    model.train()
    t0 = time.perf_counter()
    for it in range(args.iters):
        idx = torch.randint(0, n, (args.batch, ), generator=g)
        flip = torch.rand(args.batch, generator=g) < 0.5
        x, boxes = flipped_batch(x_train, train['boxes'], idx, flip, res)
        labels = [train['labels'][i] for i in idx.tolist()]
        losses = model.loss(x, det_samples(boxes, labels, res))
        loss, _ = model.parse_losses(losses)
        optimizer_step(model, opt, sched, loss)
    train_s = time.perf_counter() - t0

    model.eval()
    x_val = make_input(kind, val['ir'], val['y'])
    dets = []
    with torch.no_grad():
        for s in range(0, x_val.shape[0], 32):
            xb = x_val[s:s + 32]
            preds = model.predict(
                xb,
                det_samples([None] * len(xb), [None] * len(xb), res, False),
                rescale=False)
            dets += coco_dets(val['ids'][s:s + 32], preds, val['scale'])
    return dict(coco_eval(gt_json, dets), train_s=train_s)


def parse_args() -> argparse.Namespace:
    p = common_parser(
        __doc__, 'detector', 'neck', num=400, batch=16, random=8,
        widths=[64, 56, 48, 40, 32, 24, 16],
        variants='fpn pafpn searched random<k>')
    p.add_argument('--search-iters', type=int, default=150)
    p.add_argument('--search-width', type=int, default=16,
                   help='supernet width (the derived neck is rebuilt at the '
                   'matched width)')
    p.add_argument('--search-batch', type=int, default=8)
    p.add_argument('--strategy', default='IASStrategy',
                   choices=['IASStrategy', 'DartsFirstOrderStrategy'])
    p.add_argument('--arch-interval', type=int, default=2,
                   help='weight steps per alpha step')
    p.add_argument('--search-seed', type=int, default=0)
    p.add_argument('--genotype', default=None,
                   help='use this genotype file instead of searching')
    p.add_argument('--genotype-out', default=None,
                   help='write the searched genotype here')
    return p.parse_args()


# ---------------------------------------------------------------- models
def fixed_neck(ops, width: int, num_nodes: int) -> dict:
    """The distillation neck over C2-C5 (strides 4-32, as the toy FPN) with
    ``ops`` (one list of edge specs per cell) or, given a single spec, that
    spec as ``edge_cfg`` on every edge."""
    edges = dict(edge_cfg=ops) if isinstance(ops, (str, dict)) else dict(
        ops=ops)
    return dict(
        type='mmfusenas.SearchableDistillationNeck',
        in_channels=IN_CHANNELS,
        out_channels=width,
        num_outs=4,
        num_nodes=num_nodes,
        strides=STRIDES,
        **edges)


def neck_space(width: int, num_nodes: int) -> dict:
    """The supernet neck: every edge a DiffMixedOp over TIM's task ops."""
    return fixed_neck(
        dict(type='DiffMixedOp', key='neck', candidates=list(TASK_OP_NAMES)),
        width, num_nodes)


def detector(neck: dict = None) -> dict:
    """The toy RetinaNet with ``neck`` (FPN when None)."""
    cfg = toy_retinanet(len(CLASSES))
    if neck is not None:
        cfg['neck'] = neck
        width = neck.get('out_channels', 64)
        cfg['bbox_head']['in_channels'] = width
    return cfg


def match_width(ops: List[List[str]], args, budget: float) -> int:
    """Largest width of ``--widths`` whose detector FLOPs <= budget."""
    return largest_width(
        lambda w: detector(fixed_neck(ops, w, args.num_nodes)), args.widths,
        dict(gflops=budget), args.res)


# ---------------------------------------------------------------- search
def search(train: dict, args) -> dict:
    """Bilevel neck search on the toy detector; returns the genotype."""
    from mmengine.logging import MMLogger
    from mmengine.optim import OptimWrapper, OptimWrapperDict
    from mmengine.registry import init_default_scope

    from mmfusenas.search import BilevelSearchAlgorithm
    init_default_scope('mmfusenas')
    MMLogger.get_current_instance().setLevel(logging.WARNING)
    torch.manual_seed(args.search_seed)
    arch = detector(neck_space(args.search_width, args.num_nodes))
    arch['_scope_'] = 'mmdet'
    strategy = dict(type=args.strategy)
    algo = BilevelSearchAlgorithm(
        architecture=arch,
        strategy=strategy,
        space_path='neck',
        arch_update_interval=args.arch_interval)
    algo.architecture.init_weights()
    wopt = torch.optim.AdamW(
        algo.weight_parameters(), lr=args.lr, weight_decay=1e-4)
    aopt = torch.optim.Adam(
        algo.arch_parameters(), lr=3e-3, betas=(0.5, 0.999),
        weight_decay=1e-3)
    wrappers = OptimWrapperDict(
        weights=OptimWrapper(wopt, clip_grad=dict(max_norm=10.0)),
        arch=OptimWrapper(aopt))
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(
        wopt, T_max=args.search_iters, eta_min=1e-5)
    x_all = make_input('stack', train['ir'], train['y'])
    n = x_all.shape[0]
    g = torch.Generator().manual_seed(args.search_seed)
    perm = torch.randperm(n, generator=g)
    halves = perm[:n // 2], perm[n // 2:]  # weights, alpha (DARTS split)

    def batch(pool):
        idx = pool[torch.randint(0, len(pool), (args.search_batch, ),
                                 generator=g)]
        flip = torch.rand(args.search_batch, generator=g) < 0.5
        x, boxes = flipped_batch(x_all, train['boxes'], idx, flip, args.res)
        labels = [train['labels'][i] for i in idx.tolist()]
        return dict(
            inputs=x, data_samples=det_samples(boxes, labels, args.res))

    algo.train()
    t0 = time.perf_counter()
    for it in range(args.search_iters):
        data = dict(train=batch(halves[0]))
        if algo.arch_step_due:
            data['val'] = batch(halves[1])
        log = algo.train_step(data, wrappers)
        sched.step()
        if (it + 1) % 10 == 0:
            print(f'  search iter {it + 1}/{args.search_iters}: loss '
                  f"{float(log['loss']):.3f}", flush=True)
    geno = algo.derive_genotype(
        meta=dict(search_iters=args.search_iters,
                  search_seconds=round(time.perf_counter() - t0, 1)))
    return geno


# ---------------------------------------------------------------- runs
def run_one(job: tuple) -> dict:
    """Train and evaluate one (variant, seed) of ``job = (name, cfg, seed,
    root, args, scope)``: a detector (``scope='mmdet'``, COCO mAP) or a
    segmentor (``'mmseg'``, mIoU)."""
    name, cfg, seed, root, args, scope = job
    torch.set_num_threads(args.threads)
    if scope == 'mmseg':
        train = load_seg_split(root, 'train', args.res)
        val = load_seg_split(root, 'val', args.res)
        r = train_and_eval(cfg, seed, train, val, args, tag=f'{name} s{seed}')
        shown = (f"{name:14s} seed {seed}: mIoU {r['mIoU']:.4f} aAcc "
                 f"{r['aAcc']:.4f} val CE {r['val_ce']:.4f}")
    else:
        train = load_split(root, 'train', args.res)
        val = load_split(root, 'val', args.res)
        gt_json = osp.join(root, 'annotations', 'instances_val.json')
        r = det_train_and_eval('stack', seed, train, val, args, gt_json,
                               model_cfg=copy.deepcopy(cfg))
        shown = (f"{name:10s} seed {seed}: mAP {r['mAP']:.4f} AP50 "
                 f"{r['AP50']:.4f}")
    r.update(name=name, seed=seed)
    print(f"  {shown} ({r['train_s']:.0f} s)", flush=True)
    return r


def main_necks() -> None:
    args = parse_args()
    torch.set_num_threads(args.threads)
    t_start = time.perf_counter()
    tmp, root = toy_data(args)
    train = load_split(root, 'train', args.res)

    fpn = detector()
    budget = config_cost(fpn, args.res)['gflops']
    archs: Dict[str, dict] = {'fpn': fpn}
    pafpn = detector()
    pafpn['neck']['type'] = 'PAFPN'
    archs['pafpn'] = pafpn
    num_cells = 2 * (len(IN_CHANNELS) - 1)
    genotypes: Dict[str, List[List[str]]] = {}

    wanted = args.variants
    if wanted is None or 'searched' in wanted:
        if args.genotype:
            from mmfusenas.models.mutables import Genotype
            geno = Genotype.load(args.genotype)
            print(f'genotype from {args.genotype}')
        else:
            t0 = time.perf_counter()
            geno = search(train, args)
            print(f'search: {args.search_iters} iters ({args.strategy}, '
                  f'alpha every {args.arch_interval}) at width '
                  f'{args.search_width} in {time.perf_counter() - t0:.0f} s',
                  flush=True)
            if args.genotype_out:
                geno.dump(args.genotype_out)
                print(f'genotype written to {args.genotype_out}')
        genotypes['searched'] = [list(c) for c in geno.network['ops']]
    rng = np.random.default_rng(args.random_seed)
    for k in range(args.random):
        ops = random_ops(rng, num_cells, args.num_nodes)
        if wanted is None or f'random{k}' in wanted:
            genotypes[f'random{k}'] = ops
    widths = {}
    for name, ops in genotypes.items():
        widths[name] = match_width(ops, args, budget)
        archs[name] = detector(fixed_neck(ops, widths[name], args.num_nodes))
    if wanted is not None:
        archs = {k: v for k, v in archs.items() if k in wanted}

    costs, rows = cost_and_train(archs, root, args)
    tmp.cleanup()

    print(f'\nRetinaNet R18/4 from scratch on [IR, Y, max(IR, Y)], '
          f'{args.iters} iters x {args.batch} at {args.res}px, seeds '
          f'{args.seeds}; distillation necks: {args.num_nodes} nodes/cell, '
          f'{num_cells} cells, width = largest of {args.widths} within FPN '
          f'FLOPs ({budget:.3f} G)')
    summary = summarise(rows, list(archs), 'mAP', ['AP50'], costs,
                        {k: widths.get(k, 64) for k in archs}, args.seeds,
                        'neck')
    if 'searched' in genotypes:
        print('searched genotype (cells: 3 top-down, 3 bottom-up):')
        for c, ops in enumerate(genotypes['searched']):
            print(f'  cell{c}: {ops}')
    print(f'total {time.perf_counter() - t_start:.0f} s')
    result = dict(summary=summary, genotypes=genotypes, args=vars(args))
    if args.json_out:
        with open(args.json_out, 'w') as f:
            json.dump(dict(result, rows=rows), f, indent=2)
    print('RESULT ' + json.dumps(
        {k: dict(mAP=round(v['mAP'], 4), std=round(v['std'], 4),
                 gflops=round(v['gflops'], 4), width=v['width'])
         for k, v in summary.items()}))


DOC_DECODERS = """Equal-budget comparison of segmentation decoders on the toy IR/VIS data.

TIM (Sec. 4.3.2) replaces DeepLabV3+'s ASPP decoder by a searched decoder of
feature distillation cells. This benchmark trains the toy segmentor of
``configs/tim/deeplabv3plus_r18_msrs_toy.py`` (mmseg ``EncoderDecoder``,
ResNetV1c-18 at 1/4 width, no pretrained weights, the FCN auxiliary head on
the 1/16 level at loss weight 0.4) on the early-fused toy input
``[IR, Y, max(IR, Y)]`` with the *same* schedule, batch order, flips,
optimiser and seeds, changing only the decoder:

* ``deeplabv3plus``: mmseg's ``DepthwiseSeparableASPPHead`` on the dilated
  backbone (output stride 8) -- the toy config's own decoder, the budget;
* ``aspp``: mmseg's ``ASPPHead`` (DeepLabV3) on the same backbone;
* ``fcn``: mmseg's ``FCNHead`` (2 convs, ``concat_input``) on the same
  backbone;
* ``searched``: the :class:`~mmfusenas.models.decode_heads.\
SearchableDistillationHead` of a genotype found by the project's decoder
  search (``--genotype``, e.g. the output of
  ``configs/tim/search_deeplabv3plus_r18_msrs_toy.py``) on the
  non-dilated backbone (C3-C5 at 1/8, 1/16, 1/32, logits at 1/8), as
  ``configs/tim/retrain_deeplabv3plus_r18_msrs_toy.py`` retrains it;
* ``random<k>``: ``--random`` genotypes of the same space drawn uniformly
  (edge by edge) with a fixed generator (``--random-seed``).

Equal budget: every distillation decoder is rebuilt at the largest width of
``--widths`` whose whole-segmentor FLOPs (backbone + decode head, one
3x``--res``x``--res`` image) and parameters do not exceed DeepLabV3+'s
(``--match params_flops``, the default; ``--match flops``: FLOPs only, as
``bench_task_necks.py``; the distillation decoder's levels double in width,
so at equal FLOPs it holds several times the parameters); the FCN and ASPP
heads keep the toy config's width (``--channels``) on the same backbone as
DeepLabV3+, and their FLOPs are listed. The table gives params, GFLOPs and
single-thread CPU latency of each segmentor and the mIoU (5 classes,
background included, classes absent from both prediction and labels left
out as in mmseg's ``IoUMetric``) on the toy val split at ``--res`` px
(labels resized nearest). Every (decoder, seed) run is a separate process
(``--jobs`` at a time, one thread each).

Example::

    python projects/reproductions/bench_task_necks.py --mode decoders --genotype G.yaml
    python projects/reproductions/bench_task_necks.py --mode decoders --genotype G.yaml --seeds 0 \\
        --random 1 --iters 20 --variants deeplabv3plus searched random0

The last line is ``RESULT {json}``.
"""


NUM_CLASSES = 5  # background, person, car, bicycle, cone
IGNORE = 255
BASELINES = ('deeplabv3plus', 'aspp', 'fcn')
#: --match: the costs of DeepLabV3+ a distillation decoder may not exceed
MATCH = dict(flops=('gflops', ), params_flops=('gflops', 'params_m'))


def decoders_parse_args(
        argv: Optional[List[str]] = None) -> argparse.Namespace:
    p = common_parser(
        DOC_DECODERS, 'segmentor', 'decoder', num=300, batch=8, random=4,
        widths=[64, 48, 40, 32, 24, 20, 16, 12, 8],
        variants='deeplabv3plus aspp fcn searched random<k>')
    p.add_argument('--fg-weight', type=float, default=1.0,
                   help='cross-entropy weight of the 4 object classes '
                   '(background: 1) in training, for every decoder alike; '
                   '1 = the configs\' plain loss')
    p.add_argument('--channels', type=int, default=2 * BC,
                   help='width of the mmseg heads (the toy config: 32)')
    p.add_argument('--match', default='params_flops', choices=sorted(MATCH),
                   help='budget of the distillation decoders: DeepLabV3+ '
                   "FLOPs ('flops') or its FLOPs and params")
    p.add_argument('--genotype', default=None,
                   help='genotype file of the searched decoder (required '
                   'for the variant searched)')
    p.add_argument('--log-interval', type=int, default=25,
                   help='print the loss every N iterations (0: never)')
    return p.parse_args(argv)


# ---------------------------------------------------------------- models
def backbone(dilated: bool) -> dict:
    """The toy config's ResNetV1c-18 at 1/4 width: dilated (output stride
    8, for the ASPP / FCN heads) or plain (strides 4-32, for the
    distillation decoder)."""
    return dict(
        type='ResNetV1c',
        depth=18,
        stem_channels=BC,
        base_channels=BC,
        num_stages=4,
        out_indices=(0, 1, 2, 3),
        dilations=(1, 1, 2, 4) if dilated else (1, 1, 1, 1),
        strides=(1, 2, 1, 1) if dilated else (1, 2, 2, 2),
        norm_cfg=dict(type='BN', requires_grad=True),
        norm_eval=False,
        style='pytorch',
        contract_dilation=True,
        init_cfg=None)


def _head_common(channels: int) -> dict:
    loss = dict(type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0)
    return dict(
        channels=channels,
        dropout_ratio=0.1,
        num_classes=NUM_CLASSES,
        norm_cfg=dict(type='BN', requires_grad=True),
        align_corners=False,
        loss_decode=loss)


def mmseg_head(kind: str, channels: int) -> dict:
    """mmseg's DeepLabV3+, ASPP or FCN head on the 1/8 C5 (128 channels),
    with the toy config's dilations (scaled to 16x16 features)."""
    common = dict(in_channels=BC * 8, in_index=3, **_head_common(channels))
    if kind == 'deeplabv3plus':
        return dict(
            type='DepthwiseSeparableASPPHead',
            dilations=(1, 2, 4, 6),
            c1_in_channels=BC,
            c1_channels=8,
            **common)
    if kind == 'aspp':
        return dict(type='ASPPHead', dilations=(1, 2, 4, 6), **common)
    if kind == 'fcn':
        return dict(
            type='FCNHead', num_convs=2, concat_input=True, **common)
    raise ValueError(f'unknown mmseg head {kind!r}: expected one of '
                     f'{BASELINES}')


def distillation_head(ops: List[List[str]], width: int,
                      num_nodes: int) -> dict:
    """The distillation decoder on C3-C5 (1/8, 1/16, 1/32) with ``ops``
    (one list of edge specs per cell) at ``width`` channels (level ``i``:
    ``width * 2^i``)."""
    return dict(
        type='mmfusenas.SearchableDistillationHead',
        in_channels=[BC * 2, BC * 4, BC * 8],
        in_index=[1, 2, 3],
        num_nodes=num_nodes,
        ops=ops,
        **_head_common(width))


def segmentor(decode_head: dict, dilated: bool) -> dict:
    """The toy ``EncoderDecoder`` with ``decode_head`` and the toy
    config's FCN auxiliary head on the 1/16 level (index 2, loss weight
    0.4)."""
    aux_loss = dict(copy.deepcopy(decode_head['loss_decode']), loss_weight=0.4)
    return dict(
        type='EncoderDecoder',
        backbone=backbone(dilated),
        decode_head=decode_head,
        auxiliary_head=dict(
            type='FCNHead',
            in_channels=BC * 4,
            in_index=2,
            channels=16,
            num_convs=1,
            concat_input=False,
            dropout_ratio=0.1,
            num_classes=NUM_CLASSES,
            norm_cfg=dict(type='BN', requires_grad=True),
            align_corners=False,
            loss_decode=aux_loss),
        train_cfg=dict(),
        test_cfg=dict(mode='whole'))


def genotype_ops(path: str) -> List[List[str]]:
    """The per-cell edge ops of a decoder genotype file.

    Raises:
        ValueError: when the genotype is not a ``SearchableDistillationHead``
            of the benchmark's space.
    """
    from mmfusenas.models.mutables import Genotype
    net = Genotype.load(path).network
    if 'SearchableDistillationHead' not in str(net.get('type')):
        raise ValueError(f'{path}: expected a SearchableDistillationHead '
                         f'genotype, got type {net.get("type")!r}')
    ops = [list(c) for c in net['ops']]
    if len(ops) != 2:
        raise ValueError(f'{path}: the benchmark decodes C3-C5 with 2 cells, '
                         f'the genotype has {len(ops)}')
    return ops


# ---------------------------------------------------------------- data
def load_seg_split(root: str, split: str, res: int) -> dict:
    """IR, luma (``load_split``) and the semantic masks of one split at
    ``res`` px (nearest)."""
    data = load_split(root, split, res)
    masks = []
    for name in data['files']:
        path = osp.join(root, 'masks', name)
        m = cv2.imread(path, cv2.IMREAD_UNCHANGED)
        if m is None:
            raise FileNotFoundError(f'{path}: the toy set has no mask for '
                                    f'{name} (regenerate it with '
                                    f'tools/misc/make_toy_data.py)')
        masks.append(
            cv2.resize(m, (res, res), interpolation=cv2.INTER_NEAREST))
    data['masks'] = torch.from_numpy(np.stack(masks)).long()
    return data


def seg_samples(masks: Optional[torch.Tensor], n: int, res: int) -> list:
    from mmengine.structures import PixelData
    from mmseg.structures import SegDataSample
    meta = dict(
        img_shape=(res, res),
        pad_shape=(res, res),
        ori_shape=(res, res),
        batch_input_shape=(res, res),
        scale_factor=(1.0, 1.0))
    out = []
    for i in range(n):
        d = SegDataSample(metainfo=meta)
        if masks is not None:
            d.gt_sem_seg = PixelData(data=masks[i][None])
        out.append(d)
    return out


def miou(pred: torch.Tensor, gt: torch.Tensor,
         num_classes: int = NUM_CLASSES) -> Dict[str, float]:
    """mIoU / aAcc of label maps (``IGNORE`` pixels left out); a class
    absent from both prediction and labels is left out of the mean (NaN
    IoU), as in mmseg's ``IoUMetric``."""
    valid = gt != IGNORE
    p, g = pred[valid], gt[valid]
    conf = torch.bincount(
        g * num_classes + p, minlength=num_classes**2).reshape(
            num_classes, num_classes).double()
    inter = conf.diag()
    union = conf.sum(0) + conf.sum(1) - inter
    iou = inter / union  # NaN where union == 0
    return dict(
        mIoU=float(np.nanmean(iou.numpy())),
        aAcc=float(inter.sum() / conf.sum()),
        per_class=[float(v) for v in iou])


# ---------------------------------------------------------------- runs
def seg_loss(model, x: torch.Tensor, y: torch.Tensor,
             class_weight: torch.Tensor) -> torch.Tensor:
    """Decode + 0.4 x auxiliary cross-entropy of an ``EncoderDecoder``,
    computed as mmseg's heads do (logits resized bilinearly to the label
    size) but with PyTorch's class-weighted mean over labelled pixels
    (``ignore_index=255``): mmseg 1.2.2's ``class_weight`` indexes its
    weights by the ignore label and stacks one tensor per pixel."""
    feats = model.extract_feat(x)
    total = 0.0
    heads = [(model.decode_head, 1.0)]
    if getattr(model, 'auxiliary_head', None) is not None:
        heads.append((model.auxiliary_head, 0.4))
    for head, weight in heads:
        logits = F.interpolate(
            head(feats), y.shape[-2:], mode='bilinear', align_corners=False)
        total = total + weight * F.cross_entropy(
            logits, y, weight=class_weight, ignore_index=IGNORE)
    return total


def train_and_eval(cfg: dict, seed: int, train: dict, val: dict, args,
                   tag: str = '') -> dict:
    """Train the segmentor ``cfg`` and return its mIoU on ``val`` (see
    :func:`_train_and_eval`), in the mmseg scope without changing the
    caller's default scope."""
    from mmengine.registry import DefaultScope
    with DefaultScope.overwrite_default_scope('mmseg'):
        return _train_and_eval(cfg, seed, train, val, args, tag)


def _train_and_eval(cfg: dict, seed: int, train: dict, val: dict, args,
                    tag: str = '') -> dict:
    """Train the segmentor ``cfg`` (AdamW, one-cycle, clip 10, flips, the
    cross-entropy of :func:`seg_loss`) and return its mIoU on ``val``."""
    from mmengine.config import ConfigDict
    from mmengine.logging import MMLogger
    from mmseg.registry import MODELS

    import mmfusenas.models  # noqa: F401
    MMLogger.get_current_instance().setLevel(logging.WARNING)
    torch.manual_seed(seed)
    np.random.seed(seed)
    model = MODELS.build(ConfigDict(copy.deepcopy(cfg)))
    model.init_weights()
    res = args.res
    x_train = make_input('stack', train['ir'], train['y'])
    y_train = train['masks']
    n = x_train.shape[0]
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(
        opt, max_lr=args.lr, total_steps=args.iters, pct_start=0.1)
    g = torch.Generator().manual_seed(seed)
    class_weight = torch.tensor([1.0] + [args.fg_weight] * (NUM_CLASSES - 1))
    model.train()
    t0 = time.perf_counter()
    for it in range(args.iters):
        idx = torch.randint(0, n, (args.batch, ), generator=g)
        flip = (torch.rand(args.batch, generator=g) < 0.5)[:, None, None]
        x = torch.where(flip[:, None], x_train[idx].flip(-1), x_train[idx])
        y = torch.where(flip, y_train[idx].flip(-1), y_train[idx])
        loss = seg_loss(model, x, y, class_weight)
        if not torch.isfinite(loss):
            raise FloatingPointError(f'non-finite training loss {loss}')
        optimizer_step(model, opt, sched, loss)
        if args.log_interval and (it + 1) % args.log_interval == 0:
            print(f'    [{tag}] iter {it + 1}/{args.iters}: loss '
                  f'{loss.item():.3f} ({time.perf_counter() - t0:.0f} s)',
                  flush=True)
    train_s = time.perf_counter() - t0

    model.eval()
    x_val = make_input('stack', val['ir'], val['y'])
    preds, ce = [], 0.0
    with torch.no_grad():
        for s in range(0, x_val.shape[0], 16):
            xb = x_val[s:s + 16]
            logits = model.encode_decode(
                xb, [d.metainfo for d in seg_samples(None, len(xb), res)])
            if logits.shape[-2:] != (res, res):
                logits = F.interpolate(
                    logits, (res, res), mode='bilinear', align_corners=False)
            preds.append(logits.argmax(1))
            ce += F.cross_entropy(
                logits, val['masks'][s:s + 16], ignore_index=IGNORE,
                reduction='sum').item()
    out = miou(torch.cat(preds), val['masks'])
    valid = int((val['masks'] != IGNORE).sum())
    # plain (unweighted) cross-entropy per labelled val pixel: the loss the
    # decoder search minimises, continuous where mIoU saturates
    out.update(train_s=train_s, val_ce=ce / valid)
    return out



def build_variants(args) -> tuple:
    """The segmentor configs by variant name, the distillation decoders'
    widths, their genotypes and the FLOP budget (DeepLabV3+'s)."""
    archs = {
        k: segmentor(mmseg_head(k, args.channels), dilated=True)
        for k in BASELINES
    }
    base = config_cost(archs['deeplabv3plus'], args.res, scope='mmseg')
    budget = {k: base[k] for k in MATCH[args.match]}
    wanted = args.variants
    genotypes: Dict[str, List[List[str]]] = {}
    if wanted is None or 'searched' in wanted:
        if not args.genotype:
            raise ValueError('the variant searched needs --genotype (the '
                             'decoder genotype of configs/tim/'
                             'search_deeplabv3plus_r18_msrs_toy.py); leave '
                             'it out with --variants')
        genotypes['searched'] = genotype_ops(args.genotype)
    rng = np.random.default_rng(args.random_seed)
    for k in range(args.random):
        ops = random_ops(rng, 2, args.num_nodes)
        if wanted is None or f'random{k}' in wanted:
            genotypes[f'random{k}'] = ops
    widths: Dict[str, int] = {k: args.channels for k in BASELINES}
    for name, ops in genotypes.items():
        widths[name] = largest_width(
            lambda w, ops=ops: segmentor(
                distillation_head(ops, w, args.num_nodes), dilated=False),
            args.widths, budget, args.res, scope='mmseg')
        archs[name] = segmentor(
            distillation_head(ops, widths[name], args.num_nodes),
            dilated=False)
    if wanted is not None:
        unknown = set(wanted) - set(archs)
        if unknown:
            raise ValueError(f'unknown --variants {sorted(unknown)}: '
                             f'choose from {sorted(archs)}')
        archs = {k: v for k, v in archs.items() if k in wanted}
    return archs, widths, genotypes, budget


def main_decoders(argv: Optional[List[str]] = None) -> dict:
    args = decoders_parse_args(argv)
    torch.set_num_threads(args.threads)
    t_start = time.perf_counter()
    tmp, root = toy_data(args)
    archs, widths, genotypes, budget = build_variants(args)
    costs, rows = cost_and_train(archs, root, args, scope='mmseg')
    tmp.cleanup()

    print(f'\nEncoderDecoder ResNetV1c-18/4 from scratch on [IR, Y, '
          f'max(IR, Y)], {args.iters} iters x {args.batch} at {args.res}px, '
          f'seeds {args.seeds}; mmseg heads at {args.channels} channels on '
          f'the dilated backbone (OS 8); distillation decoders: '
          f'{args.num_nodes} nodes/cell, 2 cells on C3-C5, width = largest '
          f'of {args.widths} within DeepLabV3+ ' + ', '.join(
              f'{k} {v:.3f}' for k, v in budget.items()))
    summary = summarise(rows, list(archs), 'mIoU', ['aAcc', 'val_ce'], costs,
                        widths,
                        args.seeds, 'decoder')
    for name, ops in genotypes.items():
        if name in archs:
            print(f'{name} genotype: ' + ' | '.join(
                f'cell{c}: {o}' for c, o in enumerate(ops)))
    print(f'total {time.perf_counter() - t_start:.0f} s')
    result = dict(summary=summary, genotypes=genotypes, args=vars(args))
    if args.json_out:
        from mmfusenas.utils.fileio import atomic_write
        atomic_write(json.dumps(dict(result, rows=rows), indent=2),
                     args.json_out)
    print('RESULT ' + json.dumps(
        {k: dict(mIoU=round(v['mIoU'], 4), std=round(v['std'], 4),
                 val_ce=round(v['val_ce'], 4),
                 gflops=round(v['gflops'], 4), params_m=round(
                     v['params_m'], 4), width=v['width'])
         for k, v in summary.items()}))
    return result


def common_parser(doc: str, model: str, space: str, num: int, batch: int,
                  random: int, widths: Sequence[int],
                  variants: str) -> argparse.ArgumentParser:
    """The options every task-module benchmark shares: toy data, training
    schedule, seeds, random genotypes, widths, variants, processes and
    output. ``model`` / ``space`` / ``variants`` name the trained model,
    the searched space and the variant names in the help texts."""
    p = argparse.ArgumentParser(description=doc.split('\n')[0])
    p.add_argument('--num', type=int, default=num,
                   help='pairs generated (val = num // 4)')
    p.add_argument('--data-seed', type=int, default=0)
    p.add_argument('--res', type=int, default=128)
    p.add_argument('--iters', type=int, default=200,
                   help=f'training iterations of every {model}')
    p.add_argument('--batch', type=int, default=batch)
    p.add_argument('--lr', type=float, default=2e-3)
    p.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
    p.add_argument('--random', type=int, default=random,
                   help=f'random genotypes of the {space} space')
    p.add_argument('--random-seed', type=int, default=0)
    p.add_argument('--num-nodes', type=int, default=2,
                   help='nodes per distillation cell')
    p.add_argument('--widths', type=int, nargs='+', default=list(widths),
                   help=f'{space} widths tried, the largest within the '
                   'baseline\'s budget')
    p.add_argument('--variants', nargs='+', default=None,
                   help=f'subset of {variants}')
    p.add_argument('--jobs', type=int, default=2)
    p.add_argument('--threads', type=int, default=1)
    p.add_argument('--data-dir', default=None,
                   help='toy set to use (generated there when missing; a '
                   'set of other --num / --data-seed is refused)')
    p.add_argument('--json-out', default=None)
    return p


def random_ops(rng: np.random.Generator, num_cells: int,
               num_nodes: int) -> List[List[str]]:
    """One uniformly drawn task operator per edge of ``num_cells`` cells of
    ``num_nodes`` nodes (``n (n + 1) / 2`` edges each)."""
    n_edges = num_nodes * (num_nodes + 1) // 2
    ops = list(TASK_OP_NAMES)
    return [[ops[rng.integers(len(ops))] for _ in range(n_edges)]
            for _ in range(num_cells)]


def cost_and_train(archs: Dict[str, dict], root: str, args,
                   scope: str = 'mmdet') -> tuple:
    """The cost (with latency) of every variant of ``archs`` and one
    :func:`run_one` per variant and seed of ``args.seeds`` on ``args.jobs``
    processes; returns ``(costs, rows)``."""
    costs = {name: config_cost(cfg, args.res, latency=True, scope=scope)
             for name, cfg in archs.items()}
    jobs = [(name, cfg, seed, root, args, scope) for seed in args.seeds
            for name, cfg in archs.items()]
    print(f'{len(jobs)} training runs on {args.jobs} processes', flush=True)
    rows = map_in_processes(run_one, [(job, ) for job in jobs], args.jobs,
                            osp.join(root, 'units'))
    return costs, rows


def summarise(rows: List[dict], names: Sequence[str], metric: str,
              extra: Sequence[str], costs: Dict[str, dict],
              widths: Dict[str, int], seeds: Sequence[int],
              label: str) -> Dict[str, dict]:
    """Print the per-variant table (width, params, GFLOPs, latency, the
    metric per seed, mean, population std and the means of ``extra``) and
    return it as a dict keyed by variant name."""
    head = (f"{label:<14} | {'width':>5} | {'params M':>8} | {'GFLOPs':>6} "
            f"| {'lat ms':>6} | " +
            ' | '.join(f'{"s" + str(s):>6}' for s in seeds) +
            f' | {metric:>6} | {"std":>6} | ' +
            ' | '.join(f'{e:>6}' for e in extra))
    print(head)
    print('-' * len(head))
    summary = {}
    for name in names:
        rs = sorted((r for r in rows if r['name'] == name),
                    key=lambda r: r['seed'])
        vals = [r[metric] for r in rs]
        summary[name] = dict(
            width=widths.get(name),
            per_seed=vals,
            std=float(np.std(vals)),
            **{metric: float(np.mean(vals))},
            **{e: float(np.mean([r[e] for r in rs]))
               for e in extra},
            **costs[name])
        s = summary[name]
        width = '-' if s['width'] is None else s['width']
        print(f"{name:<14} | {width:>5} | {s['params_m']:8.3f} | "
              f"{s['gflops']:6.3f} | {s['latency_ms']:6.1f} | " +
              ' | '.join(f'{m:6.4f}' for m in vals) +
              f" | {s[metric]:6.4f} | {s['std']:6.4f} | " +
              ' | '.join(f'{s[e]:6.4f}' for e in extra))
    rand = [v[metric] for k, v in summary.items() if k.startswith('random')]
    if rand:
        print(f'random genotypes: mean {metric} {np.mean(rand):.4f}, best '
              f'{np.max(rand):.4f}, worst {np.min(rand):.4f}')
    return summary


MODES = {'necks': main_necks, 'decoders': main_decoders}


def main(argv=None):
    """Run the mode ``--mode`` names (default ``necks``)."""
    return run_mode(MODES, argv)


if __name__ == '__main__':
    os.environ.setdefault('OMP_NUM_THREADS', '1')
    main()
