"""Joint registration and fusion on warped real pairs (TIM Table 3).

TIM (Sec. 5.1.2) corrupts the infrared image of real IVIF pairs with random
affine + elastic deformation fields, puts a registration module ``N_R`` in
front of the fusion network and reports fusion metrics (MI, FMI, VIF,
Q^AB/F) of the result. This benchmark does the same on the shared TNO and
RoadScene pairs (``../shared/data/fusion``):

1. every pair is reduced to its luminance, resized so that its shorter side
   is ``--size`` and centre-cropped to ``size x 4/3 size``; the last
   ``--test-tno`` TNO and ``--test-roadscene`` RoadScene pairs are held out,
   the others train;
2. ``N_R`` (:class:`~mmfusenas.models.DeformableRegNet`) is trained for
   ``--reg-iters`` iterations on random ``--crop`` crops of the training
   pairs, each IR crop warped by a new random field
   (:func:`~mmfusenas.datasets.transforms.random_affine_elastic_field`,
   the options of ``configs/_base_/datasets/ivif_misaligned.py``), with the
   losses of ``--reg-losses`` (``ngf``: NGF + smoothness, unsupervised, the
   configs' default; ``epe``: supervised by the known field; ``both``);
3. ``N_F`` (TIM's stage-1 fusion network at ``--fusion-channels``) is
   trained for ``--fusion-iters`` iterations on aligned crops with the
   fusion losses of the configs;
4. every held-out IR image is warped by one fixed field (seed 0, as the
   misaligned validation pipelines) and fused five ways: **aligned** (the
   original pair: the reference), **misaligned** (no registration),
   **registered** (IR warped back by ``N_R``'s field), **refined** (``N_R``'s
   field refined on the pair by instance optimisation,
   :func:`~mmfusenas.models.registration.optimise_field`: NGF with
   ``--refine-eps`` + smoothness, ``--refine-iters`` Adam steps at each of
   3 levels) and **oracle** (IR warped back by the ground-truth field: what
   perfect registration gives after resampling).

Reported per dataset and condition: the fusion metrics of Table 3 (MI,
FMI_gradient, VIF, Qabf; plus SSIM) computed with
:func:`~mmfusenas.evaluation.functional.compute_fusion_metrics` (preset
``cddfuse``) **against the aligned sources** (the fused image should carry
the scene as it is), and the registration error (mean end-point error in
pixels over the image without an 8-pixel border; ``EPE_none`` is the
misalignment itself).

Example::

    python projects/reproductions/bench_registration.py            # defaults
    python projects/reproductions/bench_registration.py --quick    # a smoke run
"""
import argparse
import glob
import json
import math
import os.path as osp
import time
from typing import Dict, List, Tuple

import cv2
import numpy as np
import torch
# a script of this folder (on the path, as a script's own folder is)
from bench_task_guidance import FUSION_LOSSES, fusion_net_cfg
from mmengine.config import Config

from mmfusenas.datasets.transforms import (invert_flow,
                                           random_affine_elastic_field,
                                           remap_array)
from mmfusenas.evaluation.functional import compute_fusion_metrics
from mmfusenas.models import (DeformableRegNet, FlowEPELoss,
                              FlowSmoothnessLoss, NGFLoss)
from mmfusenas.models.registration import (PyramidCorrRegNet, optimise_field,
                                           register_pair, warp_image)
from mmfusenas.registry import MODELS

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
SHARED = osp.join(osp.dirname(REPO), 'shared', 'data', 'fusion')
METRICS = ['MI', 'FMI_gradient', 'VIF', 'Qabf', 'SSIM']
CONDITIONS = ('aligned', 'misaligned', 'registered', 'refined', 'oracle')
#: the field options of the configs (ivif_misaligned.py's `misalignment`)
FIELD = {
    k: v
    for k, v in Config.fromfile(
        osp.join(REPO, 'configs', '_base_', 'datasets',
                 'ivif_misaligned.py')).misalignment.items()
    if k not in ('type', 'key')
}
BORDER = 8
#: where the networks run (``--device``)
DEVICE = torch.device('cpu')


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--data', default=SHARED, help='folder with TNO/ and '
                   'RoadScene/ ({ir,vi} sub-folders)')
    p.add_argument('--size', type=int, default=192)
    p.add_argument('--crop', type=int, default=96)
    p.add_argument('--batch', type=int, default=8)
    p.add_argument('--test-tno', type=int, default=8)
    p.add_argument('--test-roadscene', type=int, default=15)
    p.add_argument('--reg-iters', type=int, default=600)
    p.add_argument('--reg-net', choices=('pyramid', 'unet'),
                   default='pyramid', help='PyramidCorrRegNet or the '
                   'VoxelMorph-style DeformableRegNet')
    p.add_argument('--reg-lr', type=float, default=3e-3)
    p.add_argument('--reg-warmup', type=int, default=0,
                   help='iterations of linear lr warm-up (from 1 %% of '
                   '--reg-lr) before the cosine decay (0: none)')
    p.add_argument('--reg-clip', type=float, default=0.0,
                   help='clip the global gradient norm of N_R to this value '
                   '(0: no clipping; the configs: optim_wrapper.clip_grad)')
    p.add_argument('--reg-val', type=int, default=0,
                   help='carve N pairs (evenly spaced) out of the training '
                   'pairs, warp each by a fixed field, measure their EPE at '
                   'every --log-interval and keep the N_R state with the '
                   'lowest one (checkpoint selection; the held-out pairs '
                   'stay untouched until the end). 0: keep the last state')
    p.add_argument('--reg-losses', choices=('ngf', 'epe', 'both'),
                   default='ngf')
    p.add_argument('--reg-eps', type=float, default=0.1,
                   help='NGF edge scale of the N_R training')
    p.add_argument('--reg-smooth', type=float, default=1.0,
                   help='weight of the smoothness loss')
    p.add_argument('--reg-channels', type=int, default=16)
    p.add_argument('--reg-inputs', choices=('intensity', 'orientation',
                                            'both'), default='intensity',
                   help="PyramidCorrRegNet's encoder input: standardised "
                   'luminance + gradient magnitude, the contrast-free '
                   'doubled-angle orientation image, or both')
    p.add_argument('--reg-separate', action='store_true',
                   help='modality-specific encoders (pseudo-siamese) '
                   'instead of one shared encoder')
    p.add_argument('--reg-ngf-cost', type=float, default=0.1,
                   help='edge scale of the NGF cost volume the decoders '
                   'read (<= 0: off)')
    p.add_argument('--reg-flow-bound', type=float, default=0.0,
                   help="PyramidCorrRegNet's flow_bound (px; bounds the field "
                   'at every level and normalises the decoders\' flow input; '
                   '0: unbounded, the earlier network)')
    p.add_argument('--curve', action='store_true',
                   help='log the held-out EPE at every N_R log line')
    p.add_argument('--log-interval', type=int, default=100)
    p.add_argument('--diagnose', action='store_true',
                   help='log the gradient norm (before clipping), the lr and '
                   'the flow magnitude (mean / max |flow|, px) at every '
                   '--log-interval, and the number of skipped steps')
    p.add_argument('--epe-only', action='store_true',
                   help='measure the held-out registration error only (no '
                   'N_F, no fusion metrics)')
    p.add_argument('--bank', type=int, default=4,
                   help='misaligned copies of every training pair')
    p.add_argument('--no-warp-full', dest='warp_full', action='store_false',
                   help='warp every crop on its own (the earlier protocol: '
                   'crops see about half the displacement of the held-out '
                   'full images)')
    p.add_argument('--fusion-iters', type=int, default=300)
    p.add_argument('--fusion-channels', type=int, default=16)
    p.add_argument('--refine-iters', type=int, default=60,
                   help='instance-optimisation steps per level (0: skip)')
    p.add_argument('--refine-eps', type=float, default=0.1,
                   help='NGF edge scale of the instance optimisation')
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--device', default='cpu',
                   help="where the networks run ('cuda' on a GPU machine)")
    p.add_argument('--quick', action='store_true',
                   help='40 + 20 iterations, 10 refinement steps, 3 + 3 test '
                   'pairs')
    args = p.parse_args(argv)
    if args.quick:
        args.reg_iters, args.fusion_iters, args.refine_iters = 40, 20, 10
        args.test_tno, args.test_roadscene = 3, 3
    return args


def load_pairs(folder: str, size: int) -> List[Tuple[str, np.ndarray,
                                                    np.ndarray]]:
    """``(stem, ir, vi)`` luminance pairs in ``[0, 1]``, ``size x 4/3
    size``."""
    out = []
    width = size * 4 // 3
    for ir_path in sorted(glob.glob(osp.join(folder, 'ir', '*'))):
        stem = osp.splitext(osp.basename(ir_path))[0]
        (vi_path, ) = glob.glob(osp.join(folder, 'vi', stem + '.*'))
        imgs = []
        for path in (ir_path, vi_path):
            img = cv2.imread(path, cv2.IMREAD_GRAYSCALE)
            if img is None:
                raise OSError(f'cannot read {path}')
            h, w = img.shape
            scale = max(size / h, width / w)
            img = cv2.resize(img, (max(width, round(w * scale)),
                                   max(size, round(h * scale))),
                             interpolation=cv2.INTER_AREA)
            y0 = (img.shape[0] - size) // 2
            x0 = (img.shape[1] - width) // 2
            imgs.append(img[y0:y0 + size, x0:x0 + width].astype(np.float32) /
                        255.0)
        out.append((stem, imgs[0], imgs[1]))
    if not out:
        raise FileNotFoundError(f'no pairs under {folder}/ir')
    return out


def to_t(arr: np.ndarray) -> torch.Tensor:
    """``(H, W)`` -> ``(1, 1, H, W)``; ``(H, W, 2)`` -> ``(1, 2, H, W)``."""
    t = torch.from_numpy(np.ascontiguousarray(arr)).to(DEVICE)
    return t[None, None] if t.dim() == 2 else t.permute(2, 0, 1)[None]


def crops(pairs, rng, batch, crop, warp):
    """A batch of random aligned crops; with ``warp`` the IR crops are
    warped by new random fields (and the inverse fields returned)."""
    irs, vis, gts = [], [], []
    for i in rng.integers(0, len(pairs), batch):
        _, ir, vi = pairs[i]
        y = rng.integers(0, ir.shape[0] - crop + 1)
        x = rng.integers(0, ir.shape[1] - crop + 1)
        ir_c, vi_c = ir[y:y + crop, x:x + crop], vi[y:y + crop, x:x + crop]
        if warp:
            field = random_affine_elastic_field(crop, crop, rng, **FIELD)
            ir_c = remap_array(ir_c, field)
            gts.append(to_t(invert_flow(field)))
        irs.append(to_t(ir_c))
        vis.append(to_t(vi_c))
    gt = torch.cat(gts) if gts else None
    return torch.cat(irs), torch.cat(vis), gt


def warped_bank(pairs, rng, copies: int) -> List[Tuple[np.ndarray, ...]]:
    """``copies`` misaligned versions of every pair: ``(ir_warped, vi,
    gt_flow)`` with the IR image warped **as a whole** by a random field
    (the options of the configs), so that a crop of it sees the
    displacements of the full image -- the lever arm of the rotation and
    scaling included -- as the held-out images do."""
    bank = []
    for _ in range(copies):
        for _, ir, vi in pairs:
            field = random_affine_elastic_field(*ir.shape, rng, **FIELD)
            bank.append((remap_array(ir, field), vi, invert_flow(field)))
    return bank


def bank_crops(bank, rng, batch, crop):
    """A batch of random crops of the misaligned bank (IR, VIS, field)."""
    irs, vis, gts = [], [], []
    for i in rng.integers(0, len(bank), batch):
        ir, vi, gt = bank[i]
        y = rng.integers(0, ir.shape[0] - crop + 1)
        x = rng.integers(0, ir.shape[1] - crop + 1)
        irs.append(to_t(ir[y:y + crop, x:x + crop]))
        vis.append(to_t(vi[y:y + crop, x:x + crop]))
        gts.append(to_t(gt[y:y + crop, x:x + crop]))
    return torch.cat(irs), torch.cat(vis), torch.cat(gts)


def build_reg_net(args) -> torch.nn.Module:
    if args.reg_net == 'pyramid':
        return PyramidCorrRegNet(
            channels=args.reg_channels, num_levels=3, radius=3,
            inputs=args.reg_inputs, shared_encoder=not args.reg_separate,
            ngf_eps=args.reg_ngf_cost if args.reg_ngf_cost > 0 else None,
            flow_bound=args.reg_flow_bound or None)
    return DeformableRegNet(channels=args.reg_channels, num_levels=3)


@torch.no_grad()
def heldout_epe(net, pairs, seed: int, stream: int = None) -> float:
    """Mean EPE (px, without the border) of ``net`` on held-out pairs
    warped by the fixed fields of :func:`evaluate` (``stream`` None); a
    ``stream`` gives other fixed fields (the validation split's)."""
    was_training = net.training
    net.eval()
    b = (slice(BORDER, -BORDER), slice(BORDER, -BORDER))
    epes = []
    for stem, ir, vi in pairs:
        key = [seed, sum(map(ord, stem))] if stream is None else \
            [seed, stream, sum(map(ord, stem))]
        rng = np.random.default_rng(key)
        field = random_affine_elastic_field(*ir.shape, rng, **FIELD)
        gt = to_t(invert_flow(field))
        flow = net(to_t(vi), to_t(remap_array(ir, field)))
        epes.append((flow - gt).pow(2).sum(1).sqrt()[0][b].mean().item())
    net.train(was_training)
    return float(np.mean(epes))


#: the random stream of the validation split's fixed fields (the held-out
#: pairs use the seed alone)
VAL_STREAM = 7919


def carve_val(pairs: list, n: int) -> Tuple[list, list]:
    """``(train, val)``: ``n`` pairs at evenly spaced positions of
    ``pairs`` (so a TNO + RoadScene list gives both) become the validation
    split, the others stay for training."""
    if n <= 0:
        return list(pairs), []
    if n >= len(pairs):
        raise ValueError(f'--reg-val {n}: needs fewer than the {len(pairs)} '
                         'training pairs')
    idx = set(np.linspace(0, len(pairs) - 1, n).round().astype(int).tolist())
    if len(idx) != n:
        raise ValueError(f'--reg-val {n}: cannot pick {n} distinct pairs of '
                         f'{len(pairs)}')
    return ([p for i, p in enumerate(pairs) if i not in idx],
            [p for i, p in enumerate(pairs) if i in idx])


def lr_factor(it: int, iters: int, warmup: int = 0,
              floor: float = 0.01) -> float:
    """Multiplier of the peak lr at step ``it`` of ``iters``: linear warm-up
    from ``floor`` over ``warmup`` steps, then cosine from 1 to ``floor``
    over the rest (``warmup=0``: ``CosineAnnealingLR(T_max=iters,
    eta_min=floor * lr)``)."""
    if it < warmup:
        return floor + (1 - floor) * it / warmup
    t = min((it - warmup) / max(iters - warmup, 1), 1.0)
    return floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * t))


class BestState:
    """The state of a module with the lowest score seen so far (a copy on
    the CPU): checkpoint selection on a validation split."""

    def __init__(self) -> None:
        self.score, self.iter, self.state = math.inf, None, None

    def update(self, net: torch.nn.Module, score: float, it: int) -> bool:
        """Keep ``net``'s state if ``score`` is finite and lower than every
        earlier one; True when kept."""
        if not (math.isfinite(score) and score < self.score):
            return False
        self.score, self.iter = float(score), it
        self.state = {k: v.detach().cpu().clone()
                      for k, v in net.state_dict().items()}
        return True

    def restore(self, net: torch.nn.Module) -> None:
        """Load the kept state into ``net``."""
        if self.state is None:
            raise RuntimeError('BestState.restore: no finite score was seen')
        net.load_state_dict(self.state)


def registration_step(net, opt, losses, ir, vi, gt,
                      clip: float = 0.0) -> Dict[str, float]:
    """One N_R weight step on a batch; returns the loss, the gradient norm
    (before clipping), the flow magnitude, the training-batch EPE and
    whether the step was skipped (a non-finite loss or gradient: the
    weights are left as they were)."""
    fields = register_pair(net, vi, ir)
    fields['gt_flow'] = gt
    loss = sum(fn(*(fields[k] for k in fn.inputs)) for fn in losses)
    with torch.no_grad():  # before the step (a field may view a weight)
        flow = fields['flow'].detach()
        mag = flow.pow(2).sum(1).sqrt()
        stats = dict(flow_mean=mag.mean().item(), flow_max=mag.max().item(),
                     epe=(flow - gt).pow(2).sum(1).sqrt().mean().item(),
                     epe_none=gt.pow(2).sum(1).sqrt().mean().item())
    opt.zero_grad()
    skipped = not torch.isfinite(loss)
    grad_norm = math.nan
    if not skipped:
        loss.backward()
        params = [p for p in net.parameters() if p.grad is not None]
        grad_norm = float(torch.nn.utils.clip_grad_norm_(
            params, clip if clip > 0 else math.inf))
        skipped = not math.isfinite(grad_norm)
        if skipped:
            opt.zero_grad()
        else:
            opt.step()
    return dict(loss=loss.item(), grad_norm=grad_norm, skipped=skipped,
                **stats)


def train_registration(pairs, args, heldout=None, val=None,
                       compare=None) -> Tuple[torch.nn.Module, Dict]:
    """Train N_R; with ``val`` pairs, return the state with the lowest
    validation EPE (measured at every log line). Returns the network (eval
    mode) and a record: the log lines, the selected iteration, the skipped
    steps and, with ``val`` and ``compare`` (a dict of held-out pair
    lists), the held-out EPE of the last state (``EPE_last``; reported, not
    used for the selection)."""
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    net = build_reg_net(args).to(DEVICE)
    losses = []
    if args.reg_losses in ('ngf', 'both'):
        losses += [NGFLoss(eps=args.reg_eps),
                   FlowSmoothnessLoss(loss_weight=args.reg_smooth)]
    if args.reg_losses in ('epe', 'both'):
        losses += [FlowEPELoss()]
    opt = torch.optim.Adam(net.parameters(), lr=args.reg_lr)
    iters = max(args.reg_iters, 1)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda it: lr_factor(it, iters, args.reg_warmup))
    bank = warped_bank(pairs, rng, args.bank) if args.warp_full else None
    best = BestState() if val else None
    log, skipped = [], 0
    for it in range(args.reg_iters):
        if bank is not None:
            ir, vi, gt = bank_crops(bank, rng, args.batch, args.crop)
        else:  # the earlier protocol: warp each crop on its own
            ir, vi, gt = crops(pairs, rng, args.batch, args.crop, warp=True)
        lr = opt.param_groups[0]['lr']
        step = registration_step(net, opt, losses, ir, vi, gt, args.reg_clip)
        skipped += step['skipped']
        sched.step()
        if it % args.log_interval == 0 or it == args.reg_iters - 1:
            rec = dict(iter=it, lr=lr, **step)
            msg = ''
            if args.diagnose:
                msg += (f', lr {lr:.2e}, grad norm {step["grad_norm"]:.3g}, '
                        f'|flow| mean {step["flow_mean"]:.2f} max '
                        f'{step["flow_max"]:.1f} px, skipped {skipped}')
            if val:
                rec['val_epe'] = heldout_epe(net, val, args.seed, VAL_STREAM)
                kept = best.update(net, rec['val_epe'], it)
                msg += f', val EPE {rec["val_epe"]:.3f}' + (' *' * kept)
            if heldout:
                rec['heldout'] = {k: heldout_epe(net, v, args.seed)
                                  for k, v in heldout.items()}
                msg += ', held-out EPE ' + ', '.join(
                    f'{k} {v:.3f}' for k, v in rec['heldout'].items())
            print(f'  N_R iter {it}: loss {step["loss"]:.4f}, train EPE '
                  f'{step["epe_none"]:.3f} -> {step["epe"]:.3f} px{msg}',
                  flush=True)
            log.append(rec)
    info = dict(log=log, skipped=skipped, selected_iter=None)
    if best is not None and best.state is not None:
        if compare:  # the last state, for comparison (not for selection)
            info['EPE_last'] = {k: heldout_epe(net, v, args.seed)
                                for k, v in compare.items()}
        best.restore(net)
        info.update(selected_iter=best.iter, val_epe=best.score)
        print(f'  N_R: kept the state of iteration {best.iter} (val EPE '
              f'{best.score:.3f} px)', flush=True)
    return net.eval(), info


def train_fusion(pairs, args) -> torch.nn.Module:
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed + 1)
    net = MODELS.build(fusion_net_cfg(args.fusion_channels)).to(DEVICE)
    losses = [MODELS.build(cfg) for cfg in FUSION_LOSSES]
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    for it in range(args.fusion_iters):
        ir, vi, _ = crops(pairs, rng, args.batch, args.crop, warp=False)
        src = torch.cat([ir, vi], 1)
        fused = net(src)
        loss = sum(fn(fused, src) for fn in losses)
        opt.zero_grad()
        loss.backward()
        opt.step()
        if it % 100 == 0 or it == args.fusion_iters - 1:
            print(f'  N_F iter {it}: loss {loss.item():.4f}', flush=True)
    return net.eval()


def fuse(net, ir: torch.Tensor, vi: torch.Tensor) -> np.ndarray:
    # the multi-scale cell needs sides divisible by 4
    h, w = ir.shape[-2:]
    ph, pw = -h % 4, -w % 4
    src = torch.nn.functional.pad(torch.cat([ir, vi], 1), (0, pw, 0, ph),
                                  mode='replicate')
    return net(src)[..., :h, :w].clamp(0, 1)[0, 0].cpu().numpy()


@torch.no_grad()
def evaluate(pairs, reg_net, fusion_net, args) -> Dict:
    seed = args.seed
    rows = {c: [] for c in CONDITIONS}
    epes, epes_refined, epes_none = [], [], []
    refine_losses = [NGFLoss(eps=args.refine_eps), FlowSmoothnessLoss()]
    b = (slice(BORDER, -BORDER), slice(BORDER, -BORDER))
    for stem, ir, vi in pairs:
        rng = np.random.default_rng([seed, sum(map(ord, stem))])
        field = random_affine_elastic_field(*ir.shape, rng, **FIELD)
        moving = remap_array(ir, field)
        gt = to_t(invert_flow(field))
        flow = reg_net(to_t(vi), to_t(moving))
        registered = warp_image(to_t(moving), flow)
        refined_flow = optimise_field(
            to_t(vi), to_t(moving), refine_losses, flow,
            iters=args.refine_iters) if args.refine_iters > 0 else flow
        refined = warp_image(to_t(moving), refined_flow)
        oracle = warp_image(to_t(moving), gt)
        epes.append((flow - gt).pow(2).sum(1).sqrt()[0][b].mean().item())
        epes_refined.append(
            (refined_flow - gt).pow(2).sum(1).sqrt()[0][b].mean().item())
        epes_none.append(gt.pow(2).sum(1).sqrt()[0][b].mean().item())
        irs = dict(aligned=to_t(ir), misaligned=to_t(moving),
                   registered=registered, refined=refined, oracle=oracle)
        for cond, ir_c in irs.items() if fusion_net is not None else ():
            fused = fuse(fusion_net, ir_c, to_t(vi))
            rows[cond].append(
                compute_fusion_metrics(ir * 255, vi * 255, fused * 255,
                                       preset='cddfuse', metrics=METRICS))
    means = {
        c: {m: float(np.mean([r[m] for r in rows[c]])) for m in METRICS}
        for c in CONDITIONS
    } if fusion_net is not None else {}
    return dict(metrics=means, EPE=float(np.mean(epes)),
                EPE_refined=float(np.mean(epes_refined)),
                EPE_none=float(np.mean(epes_none)), n=len(pairs))


def main(argv=None) -> Dict:
    args = parse_args(argv)
    global DEVICE
    DEVICE = torch.device(args.device)
    torch.set_num_threads(1)
    start = time.time()
    tno = load_pairs(osp.join(args.data, 'TNO'), args.size)
    road = load_pairs(osp.join(args.data, 'RoadScene'), args.size)
    test = dict(
        TNO=tno[-args.test_tno:], RoadScene=road[-args.test_roadscene:])
    train, val = carve_val(tno[:-args.test_tno] + road[:-args.test_roadscene],
                           args.reg_val)
    print(f'{len(train)} training pairs, {len(val)} validation pairs, test: '
          f'TNO {len(test["TNO"])}, RoadScene {len(test["RoadScene"])}; '
          f'{args.size} x {args.size * 4 // 3} px')
    reg_net, reg_info = train_registration(
        train, args, test if args.curve else None, val, test)
    fusion_net = None if args.epe_only else train_fusion(train, args)
    results = {name: evaluate(pairs, reg_net, fusion_net, args)
               for name, pairs in test.items()}
    for name, res in results.items():
        print(f'\n{name} ({res["n"]} held-out pairs, IR warped by a known '
              f'field; metrics against the aligned sources)')
        print(f'registration EPE: {res["EPE_none"]:.3f} px without -> '
              f'{res["EPE"]:.3f} px with N_R -> {res["EPE_refined"]:.3f} px '
              'with N_R + instance optimisation')
        if not res['metrics']:
            continue
        print('| condition | ' + ' | '.join(METRICS) + ' |')
        print('|---' * (len(METRICS) + 1) + '|')
        for cond in CONDITIONS:
            vals = ' | '.join(f'{res["metrics"][cond][m]:.4f}'
                              for m in METRICS)
            print(f'| {cond} | {vals} |')
    summary = dict(
        args={k: v for k, v in vars(args).items() if k != 'data'},
        results=results,
        registration=dict(
            reg_info, log=[{k: float(f'{v:.4g}') if isinstance(v, float) else v
                            for k, v in r.items()} for r in reg_info['log']]),
        seconds=round(time.time() - start, 1))
    print('RESULT ' + json.dumps(summary))
    return summary


if __name__ == '__main__':
    main()
