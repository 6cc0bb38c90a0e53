"""Equal-budget comparison of segmentation decoders on the toy IR/VIS data.

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

    python benchmarks/bench_task_decoders.py --genotype G.yaml
    python benchmarks/bench_task_decoders.py --genotype G.yaml --seeds 0 \\
        --random 1 --iters 20 --variants deeplabv3plus searched random0

The last line is ``RESULT {json}``.
"""
import argparse
import copy
import json
import logging
import os
import os.path as osp
import sys
import tempfile
import time
from typing import Dict, List, Optional

import cv2
import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, osp.dirname(osp.abspath(__file__)))

from bench_toy_complementarity import load_split, make_input  # noqa
from task_bench_common import (common_parser, cost,  # noqa
                               cost_and_train, largest_width, random_ops,
                               summarise)

from mmfusenas.toy_data.ivif import generate_toy_dataset  # noqa

BC = 16  # the toy ResNetV1c-18's base width: levels of 16, 32, 64, 128
NUM_CLASSES = 5  # background, person, car, bicycle, cone
IGNORE = 255
BASELINES = ('deeplabv3plus', 'aspp', 'fcn')
#: --match: the costs of DeepLabV3+ a distillation decoder may not exceed
MATCH = dict(flops=('gflops', ), params_flops=('gflops', 'params_m'))


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    p = common_parser(
        __doc__, 'segmentor', 'decoder', num=300, batch=8, random=4,
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
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 10.0)
        opt.step()
        sched.step()
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


def run_one(job: tuple) -> dict:
    name, cfg, seed, root, args = job
    torch.set_num_threads(args.threads)
    train = load_seg_split(root, 'train', args.res)
    val = load_seg_split(root, 'val', args.res)
    r = train_and_eval(cfg, seed, train, val, args, tag=f'{name} s{seed}')
    r.update(name=name, seed=seed)
    print(f"  {name:14s} seed {seed}: mIoU {r['mIoU']:.4f} aAcc "
          f"{r['aAcc']:.4f} val CE {r['val_ce']:.4f} ({r['train_s']:.0f} s)",
          flush=True)
    return r


def build_variants(args) -> tuple:
    """The segmentor configs by variant name, the distillation decoders'
    widths, their genotypes and the FLOP budget (DeepLabV3+'s)."""
    archs = {
        k: segmentor(mmseg_head(k, args.channels), dilated=True)
        for k in BASELINES
    }
    base = cost(archs['deeplabv3plus'], args.res, scope='mmseg')
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


def main(argv: Optional[List[str]] = None) -> dict:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    t_start = time.perf_counter()
    tmp = tempfile.TemporaryDirectory()
    root = args.data_dir or osp.join(tmp.name, 'toy')
    if not osp.isfile(osp.join(root, 'meta.json')):
        generate_toy_dataset(
            root, num=args.num, seed=args.data_seed, val_fraction=0.25)
    archs, widths, genotypes, budget = build_variants(args)
    costs, rows = cost_and_train(archs, run_one, root, args, scope='mmseg')
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


if __name__ == '__main__':
    os.environ.setdefault('OMP_NUM_THREADS', '1')
    main()
