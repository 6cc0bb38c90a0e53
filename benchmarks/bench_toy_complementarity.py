"""Does the toy data reward fusion that keeps both modalities?

Generates a small toy set (``--num`` pairs at 256x256, downscaled to
``--res``) in a temporary directory, then trains the *same* small mmdet
RetinaNet (ResNet-18 at 1/4 width, FPN, no pretrained weights) with the same
seed, schedule and augmentation on two inputs:

(a) ``avg``: naive average fusion, the gray image ``(IR + Y) / 2`` replicated
    to 3 channels;
(b) ``stack``: ``[IR, Y, max(IR, Y)]``, which keeps which modality a
    structure comes from (``Y`` = BT.601 luma of the VIS image).

and reports COCO bbox mAP (pycocotools ``COCOeval`` against the generator's
own ``instances_val.json``) of both and the margin (b) - (a). The claim the
toy data must support is ``margin > 0``.

Example::

    python benchmarks/bench_toy_complementarity.py --iters 200 --seeds 0 1
"""
import argparse
import contextlib
import io
import json
import logging
import os.path as osp
import sys
import tempfile
import time

import cv2
import numpy as np
import torch

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from mmfusenas.testing.task_models import toy_retinanet  # noqa
from mmfusenas.toy_data.ivif import CLASSES, generate_toy_dataset  # noqa

MEAN, STD = 0.45, 0.25


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument(
        '--num',
        type=int,
        default=400,
        help='pairs generated (val = floor(num * 0.25))')
    p.add_argument('--data-seed', type=int, default=0)
    p.add_argument(
        '--res',
        type=int,
        default=128,
        help='training / test resolution (images are 256)')
    p.add_argument('--iters', type=int, default=200)
    p.add_argument('--batch', type=int, default=16)
    p.add_argument('--lr', type=float, default=2e-3)
    p.add_argument('--seeds', type=int, nargs='+', default=[0, 1])
    p.add_argument('--threads', type=int, default=2)
    p.add_argument(
        '--data-dir',
        default=None,
        help='reuse / write the toy set here instead of a temp dir')
    p.add_argument('--json-out', default=None, help='write results as json')
    return p.parse_args()


def load_split(root: str, split: str, res: int) -> dict:
    """IR, luma and boxes of one split, resized to ``res``, with the COCO
    image ids and file names."""
    with open(osp.join(root, 'annotations', f'instances_{split}.json')) as f:
        coco = json.load(f)
    by_img = {im['id']: [] for im in coco['images']}
    for a in coco['annotations']:
        by_img[a['image_id']].append(a)
    irs, ys, boxes, labels, ids, files = [], [], [], [], [], []
    for im in coco['images']:
        s = res / im['width']
        ir = cv2.imread(
            osp.join(root, 'ir', im['file_name']), cv2.IMREAD_UNCHANGED)
        vi = cv2.imread(
            osp.join(root, 'vi', im['file_name']), cv2.IMREAD_COLOR)
        y = cv2.cvtColor(vi, cv2.COLOR_BGR2GRAY)
        irs.append(cv2.resize(ir, (res, res), interpolation=cv2.INTER_AREA))
        ys.append(cv2.resize(y, (res, res), interpolation=cv2.INTER_AREA))
        b = np.array([a['bbox'] for a in by_img[im['id']]],
                     np.float32).reshape(-1, 4) * s
        b[:, 2:] += b[:, :2]
        boxes.append(torch.from_numpy(b))
        labels.append(
            torch.tensor([a['category_id'] - 1 for a in by_img[im['id']]],
                         dtype=torch.long))
        ids.append(im['id'])
        files.append(im['file_name'])
    ir = torch.from_numpy(np.stack(irs)).float() / 255
    y = torch.from_numpy(np.stack(ys)).float() / 255
    return dict(
        ir=ir,
        y=y,
        boxes=boxes,
        labels=labels,
        ids=ids,
        files=files,
        scale=res / coco['images'][0]['width'])


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


def samples(boxes, labels, res: int, with_gt: bool = True):
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


def train_and_eval(kind: str,
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
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval
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
        x = x_train[idx].clone()
        boxes, labels = [], []
        for j, i in enumerate(idx.tolist()):
            b = train['boxes'][i].clone()
            if flip[j]:
                x[j] = x[j].flip(-1)
                b[:, [0, 2]] = res - b[:, [2, 0]]
            boxes.append(b)
            labels.append(train['labels'][i])
        losses = model.loss(x, samples(boxes, labels, res))
        loss, _ = model.parse_losses(losses)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 10.0)
        opt.step()
        sched.step()
    train_s = time.perf_counter() - t0

    model.eval()
    x_val = make_input(kind, val['ir'], val['y'])
    dets = []
    with torch.no_grad():
        for s in range(0, x_val.shape[0], 32):
            xb = x_val[s:s + 32]
            preds = model.predict(
                xb,
                samples([None] * len(xb), [None] * len(xb), res, False),
                rescale=False)
            for img_id, p in zip(val['ids'][s:s + 32], preds):
                pi = p.pred_instances
                b = pi.bboxes.numpy() / val['scale']
                for bb, sc, lab in zip(b, pi.scores.numpy(),
                                       pi.labels.numpy()):
                    dets.append(
                        dict(
                            image_id=img_id,
                            category_id=int(lab) + 1,
                            bbox=[
                                float(bb[0]),
                                float(bb[1]),
                                float(bb[2] - bb[0]),
                                float(bb[3] - bb[1])
                            ],
                            score=float(sc)))
    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO(gt_json)
        if not dets:
            return dict(mAP=0.0, AP50=0.0, per_class={}, train_s=train_s)
        dt = gt.loadRes(dets)
        ev = COCOeval(gt, dt, 'bbox')
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
        per_class = {}
        for ci, cat in enumerate(ev.params.catIds):
            pr = ev.eval['precision'][0, :, ci, 0, -1]  # IoU .5, all areas
            pr = pr[pr > -1]
            per_class[CLASSES[cat - 1]] = float(pr.mean()) if pr.size else 0.
    return dict(
        mAP=float(ev.stats[0]),
        AP50=float(ev.stats[1]),
        per_class=per_class,
        train_s=train_s)


def main() -> None:
    args = parse_args()
    torch.set_num_threads(args.threads)
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        root = args.data_dir or osp.join(tmp, 'toy')
        if not osp.isfile(osp.join(root, 'meta.json')):
            summary = generate_toy_dataset(
                root, num=args.num, seed=args.data_seed, val_fraction=0.25)
            print(f"generated {summary['num']} pairs "
                  f"({summary['num_train']} train / {summary['num_val']} val,"
                  f" {summary['num_night']} night) in {summary['seconds']} s")
        train = load_split(root, 'train', args.res)
        val = load_split(root, 'val', args.res)
        gt_json = osp.join(root, 'annotations', 'instances_val.json')
        rows = []
        for seed in args.seeds:
            for kind in ('avg', 'stack'):
                r = train_and_eval(kind, seed, train, val, args, gt_json)
                r.update(kind=kind, seed=seed)
                rows.append(r)
                print(
                    f"seed {seed} {kind:5s}: mAP {r['mAP']:.4f} AP50 "
                    f"{r['AP50']:.4f} ({r['train_s']:.0f} s training)",
                    flush=True)

    print('\nRetinaNet R18/4 + FPN, from scratch, '
          f'{args.iters} iters x {args.batch} at {args.res}px, '
          f'{len(train["ids"])} train / {len(val["ids"])} val toy pairs')
    head = (f"{'seed':>4} | {'input':<32} | {'mAP':>6} | {'AP50':>6} | " +
            ' | '.join(f'{c[:6]:>6}' for c in CLASSES))
    print(head)
    print('-' * len(head))
    names = {'avg': '(a) avg (IR+Y)/2 x3', 'stack': '(b) [IR, Y, max(IR,Y)]'}
    for r in rows:
        print(f"{r['seed']:>4} | {names[r['kind']]:<32} | {r['mAP']:6.4f} | "
              f"{r['AP50']:6.4f} | " +
              ' | '.join(f"{r['per_class'].get(c, 0.0):6.4f}"
                         for c in CLASSES))
    margins = []
    for seed in args.seeds:
        a = next(r for r in rows if r['seed'] == seed and r['kind'] == 'avg')
        b = next(r for r in rows if r['seed'] == seed and r['kind'] == 'stack')
        margins.append((b['mAP'] - a['mAP'], b['AP50'] - a['AP50']))
        print(f'margin (b)-(a), seed {seed}: mAP {margins[-1][0]:+.4f}, '
              f'AP50 {margins[-1][1]:+.4f}')
    mm = np.mean(margins, 0)
    print(f'mean margin: mAP {mm[0]:+.4f}, AP50 {mm[1]:+.4f} '
          f'(per-class columns: AP50)')
    print(f'total {time.perf_counter() - t0:.0f} s')
    if args.json_out:
        with open(args.json_out, 'w') as f:
            json.dump(
                dict(rows=rows, margins=margins, args=vars(args)), f, indent=2)


if __name__ == '__main__':
    main()
