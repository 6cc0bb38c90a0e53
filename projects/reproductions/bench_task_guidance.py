"""Does task-guided fusion help the detector? (TIM Tables 4 / 10, toy data)

Generates a toy IR/VIS set (``--num`` pairs at 256x256, resized to
``--res``) in a temporary directory and trains, with the same seed, the
same detector budget (``--iters`` iterations of ``--batch`` images, same
batch order, flips, optimiser and schedule) and the same detector
initialisation, four inputs of one :class:`~mmfusenas.models.FusionDetector`
(RetinaNet, ResNet-18 at 1/4 width, FPN strides 4-32, no pretrained
weights; N_F = TIM's stage-1 fusion network at ``--fusion-channels``):

(a) ``vis``: the VIS image (N_F replaced by "take the VIS luminance";
    with its chroma that is the RGB VIS image);
(b) ``ir``: the IR image replicated to 3 channels;
(c) ``direct``: N_F trained alone on ℓ_F for ``--fusion-iters`` +
    ``--iters`` iterations, then frozen; the detector learns on its fused
    output (fused Y + VIS chroma);
(d) ``guided``: the same N_F run, taken after ``--fusion-iters``
    iterations (the warm-up), trained *jointly* with the detector for
    ``--iters`` iterations on ℓ_T + η·ℓ_F (``--eta``): task-guided fusion
    (TIM Alg. 1 line 15).

N_F therefore gets the same number of updates in (c) and (d); only what
drives the last ``--iters`` of them differs (ℓ_F alone vs. ℓ_T + η·ℓ_F).

The staging (warm-up, freeze, joint) is done with the model's own switches
(``task_enabled``, ``set_stage_frozen``), which the training hooks
``FusionWarmupHook`` / ``FreezeFusionHook`` drive in configs. Batches are
held in memory (no PNG decoding), so the timing is the models'. COCO bbox
mAP is computed with pycocotools against the generator's
``instances_val.json`` (boxes rescaled to 256 px); fusion quality of (c) and
(d) is reported with ``FusionMetric`` (EN, SD, SF, AG, SSIM, Qabf).

Example::

    python projects/reproductions/bench_task_guidance.py                  # 2 seeds
    python projects/reproductions/bench_task_guidance.py --seeds 0 1 2 --eta 0.25


Modes (``--mode NAME``; ``--mode NAME --help`` lists its options):

* ``guidance`` (default): this text;
* ``compose``: Night-time detection through a chain of pre-modules (toy data,
  equal budget). (its text: ``DOC_COMPOSE``);
"""
import argparse
import contextlib
import copy
import functools
import io
import json
import logging
import os.path as osp
import tempfile
import time
from typing import Dict, List, Tuple

import cv2
import numpy as np
import torch
import torch.nn as nn

from mmfusenas.benchmark.cli_modes import run_mode
from mmfusenas.benchmark.process_units import map_in_processes
from mmfusenas.models.utils.colorspace import rgb_to_ycbcr
from mmfusenas.testing.toy_data.ivif import CLASSES, toy_data_set
from mmfusenas.testing.toy_models import toy_retinanet

VARIANTS = ('vis', 'ir', 'direct', 'guided')
NAMES = {
    'vis': '(a) VIS only',
    'ir': '(b) IR only',
    'direct': '(c) direct fusion + detector',
    'guided': '(d) task-guided joint training',
}
FUSION_METRICS = ['EN', 'SD', 'SF', 'AG', 'SSIM', 'Qabf']


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--num', type=int, default=400,
                   help='pairs generated (val = num // 4)')
    p.add_argument('--data-seed', type=int, default=0)
    p.add_argument('--res', type=int, default=128,
                   help='training / test resolution (images are 256)')
    p.add_argument('--iters', type=int, default=200,
                   help='detector iterations (all variants)')
    p.add_argument('--fusion-iters', type=int, default=100,
                   help='N_F warm-up on l_F alone before (d); (c) trains '
                   'N_F alone for fusion-iters + iters')
    p.add_argument('--batch', type=int, default=16)
    p.add_argument('--lr', type=float, default=2e-3,
                   help='detector AdamW peak learning rate (one-cycle)')
    p.add_argument('--fusion-lr', type=float, default=1e-3,
                   help='N_F Adam learning rate (warm-up and (d))')
    p.add_argument('--eta', type=float, default=0.5,
                   help='weight of l_F in (d)')
    p.add_argument('--fusion-channels', type=int, default=8)
    p.add_argument('--seeds', type=int, nargs='+', default=[0, 1])
    p.add_argument('--variants', nargs='+', default=list(VARIANTS),
                   choices=VARIANTS, help='run only these inputs')
    p.add_argument('--threads', type=int, default=1,
                   help='torch threads per process')
    p.add_argument('--jobs', type=int, default=2,
                   help='seeds trained in parallel processes (one core '
                   'each)')
    p.add_argument('--data-dir', default=None,
                   help='reuse / write the toy set here instead of a temp '
                   'dir (a set of other --num / --data-seed is refused)')
    p.add_argument('--json-out', default=None, help='write results as json')
    return p.parse_args()


def fusion_net_cfg(channels: int) -> dict:
    """TIM's stage-1 N_F (genotype fusion_M) at ``channels`` width."""
    return dict(
        type='TIMFusionNet',
        channels=channels,
        in_channels=2,
        cells=[
            dict(
                type='MultiScaleFusionCell',
                ops=['Residualblocks_3_1', 'DilConv_3_2']),
            dict(
                type='SuccessiveCell', ops=['Denseblocks_3_1', 'DilConv_3_2'])
        ])


FUSION_LOSSES = [
    dict(type='InfoPreservationLoss', loss_weight=1.0),
    dict(type='SaliencyWeightedLoss', ssim_weight=1.0, loss_weight=1.0),
]


class SelectSource(nn.Module):
    """A parameter-free "fusion" that returns one source (variants a, b)."""

    def __init__(self, index: int) -> None:
        super().__init__()
        self.index = index

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x[:, self.index:self.index + 1]


def load_toy_split(root: str, split: str, res: int) -> dict:
    """One split of a generated toy IR/VIS set (COCO boxes) at ``res`` px.

    Returns:
        dict: ``ir`` (N, 1, res, res) and ``vis`` (N, 3, res, res, RGB) in
        [0, 1]; ``gray`` (N, res, res), the VIS luma of OpenCV's
        ``COLOR_BGR2GRAY`` (8-bit, then resized) in [0, 1]; per image
        ``boxes`` (x1, y1, x2, y2 at ``res``), ``labels`` (0-based),
        ``ids`` and ``files``; ``size`` (the images' own width) and
        ``scale`` (``res / size``).
    """
    with open(osp.join(root, 'annotations', f'instances_{split}.json')) as f:
        coco = json.load(f)
    by_img = {im['id']: [] for im in coco['images']}
    for a in coco['annotations']:
        by_img[a['image_id']].append(a)
    irs, vis, grays, boxes, labels, ids, files = [], [], [], [], [], [], []
    for im in coco['images']:
        s = res / im['width']
        ir = cv2.imread(
            osp.join(root, 'ir', im['file_name']), cv2.IMREAD_UNCHANGED)
        vi = cv2.imread(
            osp.join(root, 'vi', im['file_name']), cv2.IMREAD_COLOR)
        irs.append(cv2.resize(ir, (res, res), interpolation=cv2.INTER_AREA))
        vis.append(
            cv2.resize(cv2.cvtColor(vi, cv2.COLOR_BGR2RGB), (res, res),
                       interpolation=cv2.INTER_AREA))
        grays.append(
            cv2.resize(cv2.cvtColor(vi, cv2.COLOR_BGR2GRAY), (res, res),
                       interpolation=cv2.INTER_AREA))
        b = np.array([a['bbox'] for a in by_img[im['id']]],
                     np.float32).reshape(-1, 4) * s
        b[:, 2:] += b[:, :2]
        boxes.append(torch.from_numpy(b))
        labels.append(
            torch.tensor([a['category_id'] - 1 for a in by_img[im['id']]],
                         dtype=torch.long))
        ids.append(im['id'])
        files.append(im['file_name'])
    size = coco['images'][0]['width']
    return dict(
        ir=torch.from_numpy(np.stack(irs)).float()[:, None] / 255,
        vis=torch.from_numpy(np.stack(vis)).permute(0, 3, 1, 2).float() / 255,
        gray=torch.from_numpy(np.stack(grays)).float() / 255,
        boxes=boxes,
        labels=labels,
        ids=ids,
        files=files,
        size=size,
        scale=res / size)


def load_split(root: str, split: str, res: int) -> dict:
    """Sources (IR, VIS Y), VIS chroma and boxes of a split at ``res``."""
    data = load_toy_split(root, split, res)
    ycbcr = rgb_to_ycbcr(data['vis'])
    return dict(
        sources=torch.cat([data['ir'], ycbcr[:, :1]], 1),  # (N, 2, H, W)
        chroma=ycbcr[:, 1:],
        boxes=data['boxes'],
        labels=data['labels'],
        ids=data['ids'],
        size=data['size'])


def flipped_batch(images: torch.Tensor, boxes: List[torch.Tensor], idx,
                  flip, res: int) -> Tuple[torch.Tensor, List[torch.Tensor]]:
    """``images[idx]`` (a copy), image ``j`` mirrored horizontally where
    ``flip[j]``, and the boxes of those images (x1, y1, x2, y2 at ``res``
    px, copies) mirrored alike."""
    idx = [int(i) for i in idx]
    x = images[idx].clone()
    out = []
    for j, i in enumerate(idx):
        b = boxes[i].clone()
        if flip[j]:
            x[j] = x[j].flip(-1)
            b[:, [0, 2]] = res - b[:, [2, 0]]
        out.append(b)
    return x, out


def det_sample(data: dict, i: int, res: int, boxes: torch.Tensor,
               with_gt: bool = True):
    """The DetDataSample of image ``i`` of a split (``load_toy_split``
    layout: ``size``, ``ids``, ``labels``) resized to ``res``."""
    from mmdet.structures import DetDataSample
    from mmengine.structures import InstanceData
    scale = res / data['size']
    s = DetDataSample(
        metainfo=dict(
            img_shape=(res, res),
            pad_shape=(res, res),
            batch_input_shape=(res, res),
            ori_shape=(data['size'], data['size']),
            scale_factor=(scale, scale),
            stem=str(data['ids'][i])))
    if with_gt:
        s.gt_instances = InstanceData(bboxes=boxes, labels=data['labels'][i])
    return s


def optimizer_step(model: nn.Module, opt, sched,
                   loss: torch.Tensor) -> None:
    """One step of the task benchmarks' training loops: backward, gradient
    norm clipped to 10, the optimiser's and the scheduler's step."""
    opt.zero_grad()
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 10.0)
    opt.step()
    sched.step()


def make_samples(data: dict, idx: List[int], flip: List[bool], res: int,
                 with_gt: bool = True, chroma: bool = True):
    """Batch ``(N, 2, H, W)`` (+ the VIS chroma, ``(N, 4, H, W)``, with
    ``chroma``: a ``fused_color='rgb'`` model's) and DetDataSamples."""
    both, boxes = flipped_batch(
        torch.cat([data['sources'], data['chroma']], 1), data['boxes'], idx,
        flip, res)
    x = both[:, :2].contiguous()
    samples = []
    for j, i in enumerate(idx):
        s = det_sample(data, i, res, boxes[j], with_gt)
        s.sources = x[j]
        samples.append(s)
    return (both if chroma else x), samples


def build_model(variant: str, args) -> nn.Module:
    from mmfusenas.registry import MODELS
    if variant == 'vis':
        net, color = SelectSource(1), 'rgb'
    elif variant == 'ir':
        net, color = SelectSource(0), 'gray'
    else:
        net, color = fusion_net_cfg(args.fusion_channels), 'rgb'
    model = MODELS.build(
        dict(
            type='FusionDetector',
            fusion_net=net,
            detector=toy_retinanet(len(CLASSES)),
            fusion_losses=FUSION_LOSSES,
            fusion_loss_weight=args.eta,
            fused_color=color,
            mean=(114.0, ) * 3,
            std=(64.0, ) * 3))
    return model


def train_fusion_alone(seed: int, train: dict, args
                       ) -> Tuple[Dict[str, torch.Tensor],
                                  Dict[str, torch.Tensor]]:
    """N_F trained alone on l_F for ``fusion_iters + iters`` iterations.

    Returns the weights after ``fusion_iters`` (the warm-up (d) starts
    from) and at the end (the N_F of (c), which so gets as many updates as
    (d)'s N_F: ``fusion_iters`` alone plus ``iters`` joint).
    """
    torch.manual_seed(seed + 1000)
    model = build_model('direct', args)
    model.set_loss_weight('fusion', 1.0)
    model.task_enabled = False
    model.train()
    opt = torch.optim.Adam(model.fusion_net.parameters(), lr=args.fusion_lr)
    g = torch.Generator().manual_seed(seed + 1000)
    n = train['sources'].shape[0]
    warm = None
    for it in range(args.fusion_iters + args.iters):
        if it == args.fusion_iters:
            warm = copy.deepcopy(model.fusion_net.state_dict())
        idx = torch.randint(0, n, (args.batch, ), generator=g).tolist()
        flip = (torch.rand(args.batch, generator=g) < 0.5).tolist()
        x, samples = make_samples(train, idx, flip, args.res)
        loss, _ = model.parse_losses(model.loss(x, samples))
        opt.zero_grad()
        loss.backward()
        opt.step()
    return warm, copy.deepcopy(model.fusion_net.state_dict())


def train_and_eval(variant: str, seed: int, train: dict, val: dict, args,
                   gt_json: str, fusion_state=None) -> dict:
    from mmfusenas.evaluation.metrics import FusionMetric
    torch.manual_seed(seed)
    np.random.seed(seed)
    model = build_model(variant, args)
    # identical detector initialisation in every variant of a seed
    torch.manual_seed(seed)
    model.detector.init_weights()
    if fusion_state is not None:
        model.fusion_net.load_state_dict(fusion_state)
    if variant != 'guided':
        model.set_stage_frozen('fusion', True)
    groups = [dict(params=model.detector.parameters(), lr=args.lr)]
    if variant == 'guided':
        groups.append(
            dict(params=model.fusion_net.parameters(), lr=args.fusion_lr))
    opt = torch.optim.AdamW(groups, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(
        opt,
        max_lr=[g['lr'] for g in groups],
        total_steps=args.iters,
        pct_start=0.1)
    g = torch.Generator().manual_seed(seed)
    n = train['sources'].shape[0]
    # a grey model (the IR baseline) reads no chroma from its batch
    make = functools.partial(make_samples, chroma='chroma' in model.sources)
    model.train()
    t0 = time.perf_counter()
    for _ in range(args.iters):
        idx = torch.randint(0, n, (args.batch, ), generator=g).tolist()
        flip = (torch.rand(args.batch, generator=g) < 0.5).tolist()
        x, samples = make(train, idx, flip, args.res)
        loss, _ = model.parse_losses(model.loss(x, samples))
        optimizer_step(model, opt, sched, loss)
    train_s = time.perf_counter() - t0

    model.eval()
    metric = FusionMetric(metrics=FUSION_METRICS)

    def fused(preds):
        if variant in ('direct', 'guided'):
            metric.process(None, [p.to_dict() for p in preds])

    dets = predict_val(model, val, make, val['sources'].shape[0],
                       args.res, fused)
    fusion = {}
    if metric.results:
        fusion = metric.compute_metrics(metric.results)
    return dict(
        coco_eval(gt_json, dets), fusion=fusion, train_s=train_s)


def coco_dets(ids: List[int], preds: list, scale: float = 1.0) -> list:
    """COCO detections (``bbox`` as x, y, w, h divided by ``scale``,
    1-based ``category_id``) of the predictions of images ``ids``."""
    dets = []
    for img_id, p in zip(ids, preds):
        pi = p.pred_instances
        boxes = (pi.bboxes / scale).tolist() if scale != 1.0 else (
            pi.bboxes.tolist())
        for bb, sc, lab in zip(boxes, pi.scores.tolist(), pi.labels.tolist()):
            dets.append(
                dict(
                    image_id=img_id,
                    category_id=int(lab) + 1,
                    bbox=[bb[0], bb[1], bb[2] - bb[0], bb[3] - bb[1]],
                    score=sc))
    return dets


def predict_val(model: nn.Module, val: dict, make, num: int, res: int,
                on_batch=None) -> list:
    """COCO detections of ``model`` on the ``num`` images of ``val`` in
    batches of 32 without flips (``make(val, idx, flips, res, with_gt)``
    builds a batch); ``on_batch(preds)`` sees every batch's predictions."""
    dets = []
    with torch.no_grad():
        for s in range(0, num, 32):
            idx = list(range(s, min(s + 32, num)))
            x, samples = make(val, idx, [False] * len(idx), res, False)
            preds = model.predict(x, samples)
            if on_batch is not None:
                on_batch(preds)
            dets += coco_dets(val['ids'][s:s + 32], preds)
    return dets


def coco_eval(gt_json: str, dets: list) -> dict:
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval
    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO(gt_json)
        if not dets:
            return dict(mAP=0.0, AP50=0.0, per_class={})
        ev = COCOeval(gt, gt.loadRes(dets), 'bbox')
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    per_class = {}
    for ci, cat in enumerate(ev.params.catIds):
        pr = ev.eval['precision'][0, :, ci, 0, -1]  # IoU .5, all areas
        pr = pr[pr > -1]
        per_class[CLASSES[cat - 1]] = float(pr.mean()) if pr.size else 0.
    return dict(
        mAP=float(ev.stats[0]), AP50=float(ev.stats[1]), per_class=per_class)


def setup(threads: int) -> None:
    """Threads, default scope and quiet logs (main process and workers)."""
    from mmengine.logging import MMLogger
    from mmengine.registry import init_default_scope
    torch.set_num_threads(threads)
    init_default_scope('mmfusenas')
    MMLogger.get_current_instance().setLevel(logging.WARNING)


def run_seed(seed: int, root: str, args) -> List[dict]:
    """Every variant of one seed (runs in a worker process with --jobs)."""
    setup(args.threads)
    train = load_split(root, 'train', args.res)
    val = load_split(root, 'val', args.res)
    gt_json = osp.join(root, 'annotations', 'instances_val.json')
    states = {}
    if {'direct', 'guided'} & set(args.variants):
        tw = time.perf_counter()
        states = dict(
            zip(('guided', 'direct'), train_fusion_alone(seed, train, args)))
        print(f'seed {seed}: N_F alone on l_F, {args.fusion_iters} + '
              f'{args.iters} iters in {time.perf_counter() - tw:.0f} s',
              flush=True)
    rows = []
    for variant in args.variants:
        r = train_and_eval(variant, seed, train, val, args, gt_json,
                           states.get(variant))
        r.update(variant=variant, seed=seed)
        rows.append(r)
        print(f"seed {seed} {variant:6s}: mAP {r['mAP']:.4f} AP50 "
              f"{r['AP50']:.4f} ({r['train_s']:.0f} s training)",
              flush=True)
    return rows


def main_guidance() -> None:
    args = parse_args()
    setup(args.threads)
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        root = args.data_dir or osp.join(tmp, 'toy')
        summary = toy_data_set(root, num=args.num, seed=args.data_seed,
                               val_fraction=0.25)
        if summary:
            print(f"generated {summary['num']} pairs "
                  f"({summary['num_train']} train / {summary['num_val']} val,"
                  f" {summary['num_night']} night) in {summary['seconds']} s")
        jobs = min(args.jobs, len(args.seeds))
        per_seed = map_in_processes(
            run_seed, [(seed, root, args) for seed in args.seeds], jobs,
            osp.join(tmp, 'units'))
        rows = [r for seed_rows in per_seed for r in seed_rows]
        with open(osp.join(root, 'meta.json')) as f:
            meta = json.load(f)
    report(rows, args, meta['num_train'], meta['num_val'])
    print(f'total {time.perf_counter() - t0:.0f} s')
    if args.json_out:
        with open(args.json_out, 'w') as f:
            json.dump(dict(rows=rows, args=vars(args)), f, indent=2)
    print('RESULT ' + json.dumps(dict(rows=rows), default=str))


def report(rows: list, args, num_train: int, num_val: int) -> None:
    print(f'\nFusionDetector: RetinaNet R18/4 + FPN from scratch, '
          f'{args.iters} iters x {args.batch} at {args.res}px; N_F = TIM '
          f'stage-1 C={args.fusion_channels}: (c) {args.fusion_iters} + '
          f'{args.iters} iters on l_F alone, (d) {args.fusion_iters} on l_F '
          f'+ {args.iters} joint, eta = {args.eta}; {num_train} train / '
          f'{num_val} val toy pairs')
    head = (f"{'seed':>4} | {'input':<32} | {'mAP':>6} | {'AP50':>6} | " +
            ' | '.join(f'{c[:6]:>6}' for c in CLASSES) + ' | ' +
            ' | '.join(f'{m:>5}' for m in ('EN', 'SSIM', 'Qabf')))
    print(head)
    print('-' * len(head))
    for r in rows:
        fus = r['fusion']
        fcols = ' | '.join(
            f"{fus.get(m, float('nan')):5.3f}" for m in ('EN', 'SSIM', 'Qabf'))
        print(f"{r['seed']:>4} | {NAMES[r['variant']]:<32} | {r['mAP']:6.4f} "
              f"| {r['AP50']:6.4f} | " +
              ' | '.join(f"{r['per_class'].get(c, 0.0):6.4f}"
                         for c in CLASSES) + ' | ' + fcols)
    print(f"\n{'mean over seeds':<38} | {'mAP':>6} | {'AP50':>6}")
    for variant in args.variants:
        sel = [r for r in rows if r['variant'] == variant]
        print(f'{NAMES[variant]:<38} | '
              f"{np.mean([r['mAP'] for r in sel]):6.4f} | "
              f"{np.mean([r['AP50'] for r in sel]):6.4f}")
    if not {'direct', 'guided'} <= set(args.variants):
        return
    margins = []
    for seed in sorted({r['seed'] for r in rows}):
        c = next(r for r in rows
                 if r['seed'] == seed and r['variant'] == 'direct')
        d = next(r for r in rows
                 if r['seed'] == seed and r['variant'] == 'guided')
        margins.append((d['mAP'] - c['mAP'], d['AP50'] - c['AP50']))
        print(f'margin (d)-(c), seed {seed}: mAP {margins[-1][0]:+.4f}, '
              f'AP50 {margins[-1][1]:+.4f}')
    mm = np.mean(margins, 0)
    wins = sum(m[0] > 0 for m in margins)
    print(f'mean margin (d)-(c): mAP {mm[0]:+.4f}, AP50 {mm[1]:+.4f}; '
          f'(d) better on {wins}/{len(margins)} seeds (per-class columns: '
          'AP50; fusion columns: FusionMetric on the val set)')


DOC_COMPOSE = """Night-time detection through a chain of pre-modules (toy data, equal budget).

Generates a night-time toy IR/VIS set (every scene at night, the VIS
radiance divided by ``--darkness`` before the sensor noise: dark and noisy)
and trains, per seed, six variants of one
:class:`~mmfusenas.models.ChainDetector` (RetinaNet, ResNet-18 at 1/4 width,
FPN strides 4-32, from scratch) with the same detector initialisation, batch
order, flips, optimiser and ``--iters`` detector iterations:

(a) ``vis``: the detector on the VIS image alone (a chain without stages);
(b) ``ir``: on the IR image (grey, 3 channels);
(c) ``fusion``: TIM's N_F on (IR, raw VIS Y), ``--warmup`` iterations on ℓ_F
    alone, then trained jointly with the detector (ℓ_T + η·ℓ_F);
(d) ``scene``: RUAS's scene module on the VIS image, ``--warmup`` iterations
    on its own loss, then jointly with the detector (ℓ_T + λ·ℓ_s);
(e) ``chain_fixed``: scene module (``--warmup`` alone), then N_F on (IR,
    enhanced VIS Y) (``--warmup`` alone, scene frozen), then both frozen
    while the detector trains on the chain's output;
(f) ``chain_joint``: the same warm-ups, then everything jointly
    (ℓ_T + λ·ℓ_s + η·ℓ_F).

Staging uses the models' own switches (``set_stage_frozen``,
``active_losses``, ``task_enabled``, ``set_bn_recalibration``),
which ``ChainStagingHook`` drives in configs. A stage frozen after its
warm-up re-estimates its BatchNorm statistics with its final weights in the
first ``--bn-recal`` iterations of the next phase (without it, N_F's
running variance still holds ~0.9^warmup of its initial 1 and the frozen
N_F outputs a near-constant image: the collapse of the first tables in
``docs/methods/compose.md``). Reported: COCO bbox mAP / AP50 on
the held-out split (pycocotools, boxes at the generator's 256 px), and the
fusion metrics (EN, SD, SF, AG, SSIM, Qabf against the raw IR / VIS Y) of
the fused image where there is one.

Example::

    python projects/reproductions/bench_task_guidance.py --mode compose                 # 3 seeds
    python projects/reproductions/bench_task_guidance.py --mode compose --quick         # 1 seed, short
"""


COMPOSE_VARIANTS = ('vis', 'ir', 'fusion', 'scene', 'chain_fixed',
                    'chain_joint')


def compose_parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=DOC_COMPOSE.split('\n')[0])
    p.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
    p.add_argument('--num', type=int, default=240, help='toy pairs')
    p.add_argument('--darkness', type=float, default=4.0,
                   help='night_darkness of the toy generator')
    p.add_argument('--res', type=int, default=96, help='input side (px)')
    p.add_argument('--iters', type=int, default=200,
                   help='detector iterations of every variant')
    p.add_argument('--warmup', type=int, default=40,
                   help='iterations of each pre-module alone on its loss')
    p.add_argument('--batch', type=int, default=8)
    p.add_argument('--lr', type=float, default=2e-3)
    p.add_argument('--pre-lr', type=float, default=1e-3,
                   help='Adam lr of the pre-modules in the joint phase and '
                   'of the warm-ups that --warmup-lr does not name')
    p.add_argument('--warmup-lr', nargs='*',
                   default=['scene=3e-3', 'fusion=3e-3'],
                   metavar='STAGE=LR',
                   help="warm-up lr of a stage ('scene', 'fusion' = N_F); "
                   "default 3e-3 for both: with both warm-ups at 1e-3 "
                   "N_F ended with a negative SSIM on the enhanced VIS in "
                   "2 of 3 seeds and joint training did not repair it; "
                   "N_F alone at 3e-3 did not fix seed 2, both at 3e-3 "
                   "fixed seeds 0 and 2 (docs/methods/compose.md); give none "
                   "for --pre-lr everywhere")
    p.add_argument('--fusion-channels', type=int, default=8)
    p.add_argument('--bn-recal', type=int, default=20,
                   help='iterations in which a stage frozen after its '
                   'warm-up re-estimates its BN statistics (0: keep the '
                   'warm-up running statistics, the collapse of the '
                   'earlier tables)')
    p.add_argument('--variants', nargs='+', default=list(COMPOSE_VARIANTS),
                   choices=COMPOSE_VARIANTS)
    p.add_argument('--threads', type=int, default=1)
    p.add_argument('--quick', action='store_true',
                   help='1 seed, 60 detector iterations, 20 warm-up')
    p.add_argument('--bn-diagnosis', action='store_true',
                   help='only warm up the chain (scene, then N_F on the '
                   'enhanced VIS) per seed and print the std and fusion '
                   'metrics of the held-out fused images in training mode, '
                   'in eval mode with the warm-up BN statistics and after '
                   're-estimating them')
    p.add_argument('--diag-variant', default='chain_fixed',
                   choices=['chain_fixed', 'fusion'],
                   help="--bn-diagnosis of the chain (N_F on the enhanced "
                   "VIS) or of variant (c)'s N_F on the raw VIS")
    p.add_argument('--data-dir', default=None,
                   help='reuse / write the night-time toy set here (a set '
                   'of other --num / --darkness is refused)')
    p.add_argument('--json-out', default=None)
    args = p.parse_args(argv)
    args.warmup_lrs = parse_stage_lrs(args.warmup_lr)
    if args.quick:
        args.seeds, args.iters, args.warmup, args.num = [0], 60, 20, 120
    return args


def parse_stage_lrs(items: List[str]) -> Dict[str, float]:
    """``['fusion=3e-3', ...]`` -> ``{'fusion': 0.003, ...}``."""
    out = {}
    for item in items or []:
        name, sep, value = item.partition('=')
        try:
            lr = float(value)
        except ValueError:
            lr = None
        if not sep or not name or lr is None or lr <= 0:
            raise ValueError(f'--warmup-lr expects STAGE=LR with a positive '
                             f'LR (e.g. fusion=3e-3), got {item!r}')
        out[name] = lr
    return out


def warmup_lr(stage: str, args) -> float:
    """The warm-up lr of ``stage``: ``--warmup-lr`` or ``--pre-lr``."""
    return getattr(args, 'warmup_lrs', {}).get(stage, args.pre_lr)


def compose_load_split(root: str, split: str, res: int) -> dict:
    """IR (1 channel), RGB VIS and boxes of a split at ``res``."""
    data = load_toy_split(root, split, res)
    return dict(x=torch.cat([data['ir'], data['vis']], 1),
                boxes=data['boxes'], labels=data['labels'], ids=data['ids'],
                size=data['size'])


def compose_make_samples(data: dict, idx: List[int], flip: List[bool],
                         res: int, with_gt: bool = True):
    """Batch ``(N, 1 + 3, H, W)`` and DetDataSamples (raw IR / VIS Y as
    ``sources`` for the fusion metrics)."""
    x, boxes = flipped_batch(data['x'], data['boxes'], idx, flip, res)
    samples = []
    for j, i in enumerate(idx):
        s = det_sample(data, i, res, boxes[j], with_gt)
        s.sources = torch.cat([x[j, :1], rgb_to_ycbcr(x[j, 1:])[:1]], 0)
        samples.append(s)
    return x, samples


def scene_stage() -> dict:
    from mmengine.config import Config
    base = Config.fromfile(osp.join(
        osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))), 'configs', '_base_',
        'models', 'ruas_scene.py'))
    return dict(name='scene', kind='scene', module=base.ruas_scene_net,
                inputs=['vi'], output='vi_enh',
                losses=base.ruas_scene_losses, loss_weight=0.1)


def fusion_stage(args, vis: str) -> dict:
    return dict(name='fusion', kind='fusion',
                module=fusion_net_cfg(args.fusion_channels),
                inputs=['ir', vis], output='fused', losses=FUSION_LOSSES,
                loss_weight=0.5)


def compose_build_model(variant: str, args):
    from mmfusenas.registry import MODELS
    stages, color = [], None
    task_input = 'vi' if variant == 'vis' else variant
    if variant == 'fusion':
        stages, task_input, color = [fusion_stage(args, 'vi:y')], 'fused', \
            'vi'
    elif variant == 'scene':
        stages, task_input = [scene_stage()], 'vi_enh'
    elif variant.startswith('chain'):
        stages = [scene_stage(), fusion_stage(args, 'vi_enh:y')]
        task_input, color = 'fused', 'vi_enh'
    model = MODELS.build(dict(
        type='ChainDetector',
        stages=stages,
        sources=dict(ir=1, vi=3),
        task_input=task_input, color_from=color,
        detector=toy_retinanet(len(CLASSES)),
        mean=(114.0, ) * 3, std=(64.0, ) * 3))
    return model


def batches(seed: int, n: int, args):
    g = torch.Generator().manual_seed(seed)
    while True:
        yield (torch.randint(0, n, (args.batch, ), generator=g).tolist(),
               (torch.rand(args.batch, generator=g) < 0.5).tolist())


def recalibrate(model, names, i: int, args) -> None:
    """Stages ``names`` (frozen after training) re-estimate their BN
    statistics in the first ``--bn-recal`` iterations (``i``) of a phase,
    as ``ChainStagingHook(recalibrate_bn=...)`` does in configs."""
    for name in names:
        if i == 0 and args.bn_recal:
            model.set_bn_recalibration(name, True)
        elif i == args.bn_recal:
            model.set_bn_recalibration(name, False)


def warm_up(model, stage: str, train: dict, seed: int, args) -> None:
    """``--warmup`` iterations of one stage alone on its own loss."""
    for name in model.stages:
        model.set_stage_frozen(name, name != stage)
    model.active_losses = {stage}
    model.task_enabled = False
    opt = torch.optim.Adam(model.stage(stage).parameters(),
                           lr=warmup_lr(stage, args))
    it = batches(seed + 1000 + len(stage), train['x'].shape[0], args)
    # the stages warmed up before this one are frozen now
    names = list(model.stages)
    before = names[:names.index(stage)]
    for i in range(args.warmup):
        recalibrate(model, before, i, args)
        idx, flip = next(it)
        x, samples = compose_make_samples(train, idx, flip, args.res)
        loss, _ = model.parse_losses(model.loss(x, samples))
        opt.zero_grad()
        loss.backward()
        opt.step()
    recalibrate(model, before, args.bn_recal, args)


@torch.no_grad()
def fused_quality(model, data: dict, args) -> dict:
    """Per-image std of the fused image (mean) and the fusion metrics
    (against the raw IR / VIS Y) of the chain's output on ``data``."""
    from mmfusenas.evaluation.metrics import FusionMetric
    metric = FusionMetric(metrics=['EN', 'SD', 'SSIM', 'Qabf'])
    stds, n = [], data['x'].shape[0]
    for s in range(0, n, 32):
        idx = list(range(s, min(s + 32, n)))
        x, samples = compose_make_samples(data, idx, [False] * len(idx),
                                          args.res, False)
        fused = model.run_pre(x)['images']['fused']
        stds += fused.flatten(1).std(1).tolist()
        for sample, f in zip(samples, fused):
            sample.pred_fused = f
        metric.process(None, [p.to_dict() for p in samples])
    out = metric.compute_metrics(metric.results)
    out['std'] = float(np.mean(stds))
    return out


def bn_diagnosis(seed: int, train: dict, val: dict, args) -> dict:
    """Why the fixed chain (e) collapsed: its fused image on the held-out
    split after the warm-ups (scene, then N_F on the enhanced VIS), with N_F
    in training mode (batch statistics), frozen in eval mode with the
    warm-up BN statistics (the earlier (e)), and frozen after ``--bn-recal``
    recalibration batches (the fixed (e); the detector does not change
    the fused image of (e), whose stages are frozen)."""
    torch.manual_seed(seed)
    model = compose_build_model(args.diag_variant, args)
    model.train()
    for name in model.stages:
        warm_up(model, name, train, seed, args)
    bn = list(model.stage_bn_layers('fusion').values())
    out = dict(running_var=float(torch.cat([b.running_var for b in bn]
                                            ).mean()))
    model.set_stage_frozen('fusion', False)
    out['train_mode'] = fused_quality(model, val, args)
    model.set_stage_frozen('fusion', True)
    out['eval_warmup_stats'] = fused_quality(model, val, args)
    model.set_bn_recalibration('fusion', True)
    it = batches(seed, train['x'].shape[0], args)
    with torch.no_grad():
        for _ in range(max(args.bn_recal, 1)):
            idx, flip = next(it)
            model.run_pre(
                compose_make_samples(train, idx, flip, args.res)[0])
    model.set_bn_recalibration('fusion', False)
    out['running_var_recalibrated'] = float(
        torch.cat([b.running_var for b in bn]).mean())
    out['eval_recalibrated'] = fused_quality(model, val, args)
    return out


def compose_train_and_eval(variant: str, seed: int, train: dict, val: dict,
                           args, gt_json: str) -> dict:
    from mmfusenas.evaluation.metrics import FusionMetric
    torch.manual_seed(seed)
    model = compose_build_model(variant, args)
    torch.manual_seed(seed)  # the same detector initialisation everywhere
    model.detector.init_weights()
    model.train()
    t0 = time.perf_counter()
    for name in model.stages:  # the pre-modules alone, in chain order
        warm_up(model, name, train, seed, args)
    joint = variant != 'chain_fixed'
    for name in model.stages:
        model.set_stage_frozen(name, not joint)
    model.active_losses = set(model.stages) if joint else set()
    model.task_enabled = True
    groups = [dict(params=model.detector.parameters(), lr=args.lr)]
    if joint and model.stages:
        groups.append(dict(params=[
            p for name in model.stages
            for p in model.stage(name).parameters()], lr=args.pre_lr))
    opt = torch.optim.AdamW(groups, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(
        opt, max_lr=[g['lr'] for g in groups], total_steps=args.iters,
        pct_start=0.1)
    it = batches(seed, train['x'].shape[0], args)
    frozen = [] if joint else list(model.stages)
    for i in range(args.iters):
        recalibrate(model, frozen, i, args)
        idx, flip = next(it)
        x, samples = compose_make_samples(train, idx, flip, args.res)
        loss, _ = model.parse_losses(model.loss(x, samples))
        optimizer_step(model, opt, sched, loss)
    recalibrate(model, frozen, args.bn_recal, args)
    train_s = time.perf_counter() - t0

    model.eval()
    metric = FusionMetric(metrics=FUSION_METRICS)
    brightness = []

    def fused_and_bright(preds):
        if 'pred_fused' in preds[0]:
            metric.process(None, [p.to_dict() for p in preds])
        if 'pred_vi_enh' in preds[0]:
            brightness.extend(p.pred_vi_enh.mean().item() for p in preds)

    dets = predict_val(model, val, compose_make_samples, val['x'].shape[0],
                       args.res, fused_and_bright)
    fusion = metric.compute_metrics(metric.results) if metric.results else {}
    return dict(coco_eval(gt_json, dets), fusion=fusion, train_s=train_s,
                vis_brightness=float(val['x'][:, 1:].mean()),
                enhanced_brightness=(float(np.mean(brightness))
                                     if brightness else None))


def compose_report(rows: List[dict], args, meta: dict) -> Dict[str, dict]:
    print(f"\nChainDetector on night-time toy data (darkness {args.darkness}, "
          f"{meta['num_train']} train / {meta['num_val']} val): RetinaNet "
          f'R18/4 + FPN from scratch, {args.iters} detector iters x '
          f'{args.batch} at {args.res}px, {args.warmup} warm-up iters per '
          f'pre-module; seeds {args.seeds}')
    print(f"{'variant':12s} {'mAP':>15s} {'AP50':>15s} {'SSIM':>7s} "
          f"{'Qabf':>7s} {'EN':>7s} {'VIS mean':>9s}")
    summary = {}
    for v in args.variants:
        rs = [r for r in rows if r['variant'] == v]
        maps = np.array([r['mAP'] for r in rs])
        ap50 = np.array([r['AP50'] for r in rs])
        fus = {k: float(np.mean([r['fusion'][k] for r in rs]))
               for k in FUSION_METRICS if rs[0]['fusion']}
        bright = rs[0]['enhanced_brightness']
        summary[v] = dict(
            mAP=maps.tolist(), AP50=ap50.tolist(),
            mAP_mean=float(maps.mean()), mAP_std=float(maps.std()),
            fusion=fus,
            enhanced_brightness=[r['enhanced_brightness'] for r in rs])
        fmt = (lambda k: f"{fus[k]:7.3f}" if fus else f"{'-':>7s}")
        print(f'{v:12s} {maps.mean():7.4f}±{maps.std():6.4f} '
              f'{ap50.mean():7.4f}±{ap50.std():6.4f} {fmt("SSIM")} '
              f'{fmt("Qabf")} {fmt("EN")} '
              f"{(bright if bright is not None else rs[0]['vis_brightness']):9.3f}")
    return summary


def main_compose(argv=None) -> None:
    args = compose_parse_args(argv)
    from mmengine.logging import MMLogger
    from mmengine.registry import init_default_scope
    torch.set_num_threads(args.threads)
    init_default_scope('mmfusenas')
    MMLogger.get_current_instance().setLevel(logging.WARNING)
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        root = args.data_dir or osp.join(tmp, 'toy_night')
        toy_data_set(root, num=args.num, seed=123, night_fraction=1.0,
                     night_darkness=args.darkness)
        with open(osp.join(root, 'meta.json')) as f:
            meta = json.load(f)
        train = compose_load_split(root, 'train', args.res)
        val = compose_load_split(root, 'val', args.res)
        gt_json = osp.join(root, 'annotations', 'instances_val.json')
        if args.bn_diagnosis:
            diag = {}
            for seed in args.seeds:
                diag[seed] = bn_diagnosis(seed, train, val, args)
                print(f'seed {seed}: ' + '; '.join(
                    f'{k} ' + (', '.join(f'{m} {x:.4g}' for m, x in v.items())
                               if isinstance(v, dict) else f'{v:.4g}')
                    for k, v in diag[seed].items()), flush=True)
            print('RESULT ' + json.dumps(dict(
                benchmark='compose_bn_diagnosis', seeds=args.seeds,
                variant=args.diag_variant,
                warmup=args.warmup, darkness=args.darkness,
                bn_recal=args.bn_recal, fused=diag)))
            return
        rows = []
        for seed in args.seeds:
            for v in args.variants:
                r = compose_train_and_eval(v, seed, train, val, args, gt_json)
                r.update(variant=v, seed=seed)
                rows.append(r)
                fus = ''.join(f" {k} {r['fusion'][k]:.3f}"
                              for k in ('SSIM', 'Qabf') if k in r['fusion'])
                print(f"seed {seed} {v:12s}: mAP {r['mAP']:.4f} AP50 "
                      f"{r['AP50']:.4f}{fus} ({r['train_s']:.0f} s)",
                      flush=True)
    summary = compose_report(rows, args, meta)
    print(f'total {time.perf_counter() - t0:.0f} s')
    if args.json_out:
        from mmfusenas.utils.fileio import atomic_write
        atomic_write(json.dumps(dict(rows=rows, args=vars(args)), indent=2),
                     args.json_out)
    print('RESULT ' + json.dumps(dict(
        benchmark='compose', seeds=args.seeds, iters=args.iters,
        warmup=args.warmup, res=args.res, darkness=args.darkness,
        bn_recal=args.bn_recal, pre_lr=args.pre_lr,
        warmup_lrs=args.warmup_lrs, variants=summary)))


MODES = {'guidance': main_guidance, 'compose': main_compose}


def main(argv=None):
    """Run the mode ``--mode`` names (default ``guidance``)."""
    return run_mode(MODES, argv)


if __name__ == '__main__':
    main()
