"""Score random one-shot paths with supernet weights and train a predictor.

``python tools/search/train_predictor.py CONFIG [--checkpoint CKPT]
[--work-dir DIR] [--cfg-options ...] [--data-root DIR] [--launcher ...]``

The config is a supernet config (model + ``val_dataloader``) with
``load_from`` (the trained supernet, or ``--checkpoint``) and::

    predictor = dict(num_paths=1024, batches=201, loss='ranknet',
                     epochs=100, batch_size=16, lr=1e-3, val_fraction=0.2,
                     seed=42, label_norm=None,
                     out_dir='work_dirs/.../predictor')

1. ``num_paths`` uniform random paths are scored by their mean loss on the
   first ``batches`` validation batches (official ``--generate_train_pair``;
   lower is better). Scores go to ``out_dir/path_scores.json`` as they are
   made, with what made them (:func:`scores_key`); a rerun reuses them
   (resumable) only while that is unchanged, else rescores.
2. A :class:`~mmfusenas.search.predictors.BGRUPredictor` is trained on a
   ``1 - val_fraction`` split (seeded) with the chosen loss (on the raw
   labels, or standardised ones with ``label_norm='standardize'``, see
   :func:`~mmfusenas.search.predictors.train_predictor`) and evaluated on
   the held-out paths (Kendall τ, Spearman ρ of predicted vs measured
   scores); it is saved to ``out_dir/predictor.pth``.

Distributed: ``python -m torch.distributed.run --nproc_per_node=N
tools/search/train_predictor.py CONFIG --launcher pytorch`` splits the paths
across the ranks (each scores its share on the same validation batches,
read unsharded; the scores are gathered every ``16 x N`` paths); rank 0
writes the score file and the predictor (every rank trains the same one).
Without CUDA the process group is gloo (as in ``tools/train.py``).

Prints ``RESULT {json}`` last.
"""
import argparse
import json
import os.path as osp
import random
import time
from typing import List, Optional

import numpy as np
import torch
from mmengine.dist import get_dist_info
from mmengine.runner import Runner

from mmfusenas.engine.runner import with_cached_text
from mmfusenas.models.mutables import (encode_choices, one_shot_space,
                                       random_choices)
from mmfusenas.search.predictors import (BGRUPredictor, kendall_tau,
                                         predict_scores, save_predictor,
                                         spearman_rho, train_predictor)
from mmfusenas.search.strategies.evolution import loader_sha256
from mmfusenas.search.strategies.path_samplers import path_loss
from mmfusenas.utils.cache_keys import portable_sha256
from mmfusenas.utils.config import (add_runner_args, load_runner_config,
                                    setup_distributed)
from mmfusenas.utils.distributed import (parallel_map, unshard_sampler_,
                                         unwrap)
from mmfusenas.utils.fileio import atomic_write
from mmfusenas.utils.progress import track
from mmfusenas.utils.state_dict_conversion import file_sha256

DEFAULTS = dict(num_paths=1024, batches=201, loss='ranknet', epochs=100,
                batch_size=16, lr=1e-3, val_fraction=0.2, seed=42,
                label_norm=None, out_dir=None)


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('config')
    p.add_argument('--checkpoint', help='supernet checkpoint (overrides '
                   'the config\'s load_from)')
    # --work-dir, --cfg-options, --data-root, --launcher (paths scored in
    # parallel across the ranks), local rank
    add_runner_args(p)
    return p.parse_args(argv)


def scores_key(cfg, opts, space) -> dict:
    """What makes the path scores: the checkpoint's bytes, the model and val
    loader configs (paths of the checkout / work dir normalised), the number
    of batches, the seed and the space."""
    return dict(
        checkpoint_sha256=file_sha256(cfg.load_from),
        model_sha256=portable_sha256(cfg.model, cfg.work_dir),
        val_dataloader_sha256=loader_sha256(cfg.val_dataloader,
                                            cfg.work_dir),
        batches=opts['batches'], seed=opts['seed'],
        space={k: list(v) for k, v in space.items()})


def score_paths(runner, space, opts, scores_file, key) -> dict:
    """``{code string: {'choices', 'loss'}}`` of this run's paths, resuming
    ``scores_file`` if it was made with ``key`` (:func:`scores_key`)."""
    rng = random.Random(opts['seed'])
    paths = [random_choices(space, rng) for _ in range(opts['num_paths'])]
    done = {}
    rank, world = get_dist_info()
    if osp.isfile(scores_file):
        with open(scores_file, encoding='utf-8') as f:
            saved = json.load(f)
        differ = sorted(k for k in key
                        if (saved.get('key') or {}).get(k) != key[k])
        if not differ:
            done = saved['scores']
        elif rank == 0:
            print(f'{scores_file}: made with other {", ".join(differ)}; '
                  f'rescoring (not reusing {len(saved["scores"])} scores)')
    loader = runner.val_dataloader
    if world > 1:
        unshard_sampler_(loader)  # every rank scores on the same batches
    batches = []
    for batch in loader:
        batches.append(batch)
        if len(batches) >= opts['batches']:
            break
    model = unwrap(runner.model)
    mine = {','.join(map(str, encode_choices(space, p))): p for p in paths}
    todo = [(code, p) for code, p in mine.items() if code not in done]
    chunk = 16 * world  # the score file is rewritten after every chunk
    starts = range(0, len(todo), chunk)
    for start in track(
            starts,
            f'scoring {len(todo)} path(s) in chunks of {chunk}',
            enabled=rank == 0):
        part = todo[start:start + chunk]
        losses = parallel_map(lambda item: path_loss(model, item[1], batches),
                              part)
        for (code, p), loss in zip(part, losses):
            done[code] = dict(choices=p, loss=loss)
        if rank == 0:
            atomic_write(
                json.dumps(dict(space=key['space'], key=key, scores=done)),
                scores_file)
    return {code: done[code] for code in mine}


def main(argv: Optional[List[str]] = None) -> dict:
    args = parse_args(argv)
    cfg = load_runner_config(args)
    if 'predictor' not in cfg:
        raise KeyError(f'{args.config} has no `predictor` settings (see '
                       'this tool\'s doc)')
    opts = dict(DEFAULTS, **cfg.predictor)
    if args.checkpoint:
        cfg.load_from = args.checkpoint
    if not cfg.get('load_from') or not osp.isfile(cfg.load_from):
        raise FileNotFoundError(
            f'supernet checkpoint {cfg.get("load_from")!r} not found: train '
            'the supernet first (tools/train.py with the supernet config) '
            'or pass --checkpoint')
    setup_distributed(cfg)  # gloo where there is no CUDA
    out_dir = opts['out_dir'] or osp.join(cfg.work_dir, 'predictor')
    cfg.train_cfg = None
    cfg.train_dataloader = None
    cfg.optim_wrapper = None
    cfg.param_scheduler = None
    runner = Runner.from_cfg(with_cached_text(cfg))
    runner.load_checkpoint(cfg.load_from)
    space = one_shot_space(unwrap(runner.model))
    t0 = time.time()
    scored = score_paths(runner, space, opts,
                         osp.join(out_dir, 'path_scores.json'),
                         scores_key(cfg, opts, space))
    t_score = time.time() - t0
    keys = sorted(scored)
    rng = np.random.default_rng(opts['seed'])
    order = rng.permutation(len(keys))
    n_val = max(2, int(round(opts['val_fraction'] * len(keys))))
    val_idx, train_idx = order[:n_val], order[n_val:]
    codes = np.array([[int(c) for c in k.split(',')] for k in keys])
    labels = np.array([scored[k]['loss'] for k in keys])
    torch.manual_seed(opts['seed'])  # the predictor's initial weights
    pred = BGRUPredictor(space)
    history = train_predictor(pred, codes[train_idx], labels[train_idx],
                              opts['loss'], opts['epochs'],
                              opts['batch_size'], opts['lr'], opts['seed'],
                              label_norm=opts['label_norm'])
    est = predict_scores(pred, codes[val_idx])
    result = dict(
        paths=len(keys),
        train=len(train_idx),
        heldout=len(val_idx),
        loss=opts['loss'],
        kendall_tau=kendall_tau(est, labels[val_idx]),
        spearman_rho=spearman_rho(est, labels[val_idx]),
        final_train_loss=history[-1] if history else None,
        scoring_s=round(t_score, 1))
    if get_dist_info()[0] == 0:
        save_predictor(pred, osp.join(out_dir, 'predictor.pth'), **result)
    print(f'predictor: held-out Kendall tau {result["kendall_tau"]:.4f}, '
          f'Spearman rho {result["spearman_rho"]:.4f} on {len(val_idx)} '
          f'paths; saved {osp.join(out_dir, "predictor.pth")}')
    print('RESULT ' + json.dumps(result))
    return result


if __name__ == '__main__':
    main()
