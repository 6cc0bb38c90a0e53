"""Do the searches beat random architectures? The NAS control experiment.

Usage::

    python benchmarks/bench_search_vs_random.py --quick
    python benchmarks/bench_search_vs_random.py [--spaces tim_fusion ...]
        [--strategies ias_paper darts1 implicit] [--search-seeds 2]
        [--num-random 8] [--retrain-seeds 2] [--out results.json]
        [--toy-num N] [--random-subset FIRST END] [--first-search-seed S]
        [--first-retrain-seed S] [--reuse DIR] [--work-dir DIR]
        [--jobs N] [--search-cfg-options K=V ...]
        [--retrain-cfg-options K=V ...] [--argmax-too]
        [--match-size {params,flops} [--size-tolerance 0.15]
         [--min-matched 8] [--max-draws 1000]] [--results-json FILE]
    python benchmarks/bench_search_vs_random.py --wl   # TIM_w/L cost check
    # real pairs: TIM's fusion search on RoadScene221, scored on RoadScene-50
    OMP_NUM_THREADS=1 python benchmarks/bench_search_vs_random.py \
        --spaces tim_fusion_roadscene221 --strategies ias_paper \
        --search-seeds 2 --num-random 12 --retrain-seeds 1 --jobs 2 \
        --match-size params --size-tolerance 0.15 --min-matched 8 \
        --work-dir work_dirs/svr_roadscene221 \
        --results-json docs/results/search_vs_random_roadscene221.json
    # the same searched until softmax(α) separates (content_ssim loss),
    # two retrain seeds: the record's ``goal`` decides the claim
    OMP_NUM_THREADS=1 python benchmarks/bench_search_vs_random.py \
        --spaces tim_fusion_roadscene221_separation --strategies ias_paper \
        --search-seeds 2 --num-random 0 --retrain-seeds 2 --jobs 2 \
        --match-size params --size-tolerance 0.15 --min-matched 8 \
        --results-json \
        docs/results/search_vs_random_roadscene221_separation.json

For every search space of :data:`SPACES` (in
:mod:`mmfusenas.benchmark.search_spaces`: a search config, the config that
retrains a genotype, and the held-out split), on generated toy data (or,
for a space with ``real_data``, on the real pairs its configs read from
that folder beside the repository root: ``tim_fusion_roadscene221``, run
only when named in ``--spaces``; a clear error when the folder is absent):

1. run the search config with each strategy and each search seed and
   derive its genotype;
2. sample ``--num-random`` genotypes uniformly from the same space (every
   choice point independently uniform, ``zero`` excluded);
3. retrain every genotype with the *same* budget, data order and seeds
   (``--retrain-seeds``), on the training split (whose two halves the
   search used for θ and α);
4. score it on the ``val`` split, which neither the search nor the
   retraining saw: the mean of the retrained model's loss (the loss the
   search optimises; lower is better) over the whole split, in eval mode.

Per space it prints each genotype's score (mean ± std over retrain seeds),
the searched genotypes' rank percentile among the random ones (100 = better
than every random genotype, 50 = the median), and the searched part's
parameters and FLOPs. The last line is ``RESULT {json}``: per space,
``{strategy: {searched_rank_pct: [per search seed], scores: [...]},
random_scores, n_random, spearman_score_params, ...}``
(``spearman_score_params``: Spearman's rho of the uniform random
genotypes' held-out loss with their parameters; a strong correlation
means that "above the random median" may only mean "larger").

**Size-matched control** (``--match-size params|flops``): after the
searches, the random stream (the same seeded one, so the first
``--num-random`` draws are unchanged) is drawn on until every searched
genotype has ``--min-matched`` random genotypes whose searched part lies
within ``±--size-tolerance`` of its own size (parameters, or FLOPs on the
first held-out sample, as the table reports them); those extra draws are
retrained too (rows ``random i (size-matched draw)``; draws that match no
searched genotype still short of matches are only sized). Each searched
genotype is then ranked twice: among the ``--num-random`` uniform draws
(``searched_rank_pct``) and among the random genotypes of its size
(``matched_rank_pct``, ``n_matched``, ``matched_median``; the draws in
``size_match``). ``--max-draws`` bounds the drawing (an error naming the
genotypes still short of matches). ``--results-json FILE`` writes the
ranks as a results record (``tools/misc/results_to_docs.py`` renders it
into the docs, e.g. ``docs/user_guides/search_controls.md``) with its
``goal`` (:func:`control_goal`: every search seed's genotype above the
median of its size-matched random genotypes over >= 2 retrain seeds). A
search config with an ``ArchSeparationHook`` leaves softmax(α)'s
separation curve in the genotype's meta; ``RESULT`` carries it per search
(``arch_separation``).

The independent units of a control (each search seed; each genotype and
retrain seed) run in ``--jobs`` worker processes (one torch thread each;
the same scores as ``--jobs 1``, which runs them in this process).
Started again with the same ``--work-dir``, a control resumes each search
from its last epoch when its :func:`search_key` is unchanged
(``search_key.json`` in its folder; another one: the folder is started
afresh) and keeps each finished retraining whose :func:`retrain_key` is
unchanged (``retrain_done.json`` in its folder).
Everything runs in a temporary folder (``--work-dir DIR``:
that folder, kept) holding ``data/<toy set>`` and the work dirs, with ``OMP_NUM_THREADS``-many torch
threads in this process (set 1 on a shared machine). Spaces are a table: a new space is one
more entry (search config, retrain config, the config keys of the genotype
path, the searched part's path in the retrained model, toy data (``data``)
or a real data folder (``real_data``, with ``held_out`` naming its
held-out split), budget).
A detection space with ``anchor_check`` also prints (and returns as
``positives_per_level``) the positive anchors per pyramid level of its
retrain config on the toy training split.

Which pyramid levels of the toy neck search carry a task signal:
``projects/reproductions/bench_neck_anchor_levels.py``.
"""
import argparse
import contextlib
import copy
import hashlib
import itertools
import json
import os
import os.path as osp
import random
import shutil
import statistics
import sys
import tempfile
import time
from typing import Any, Dict, Iterator, List, Optional

import numpy as np
import torch
from mmengine.config import Config, DictAction
from mmengine.logging import MMLogger
from mmengine.runner import Runner
from terminaltables import AsciiTable

from mmfusenas.utils.cache_keys import portable_json  # noqa: E402
from mmfusenas.engine.hooks.arch_separation_hook import (
    CURVE_KEY as SEPARATION_KEY)
from mmfusenas.engine.runner import with_cached_text
from mmfusenas.benchmark.control_stats import (
    rank_pct, signal_vs_noise)
from mmfusenas.models.mutables import (
    Genotype, build_genotype_net)
from mmfusenas.registry import MODELS
from mmfusenas.search.algorithms.bilevel_search import (
    record_submodule_inputs)
from mmfusenas.search.estimators import count_flops
from mmfusenas.search.predictors import spearman_rho
from mmfusenas.benchmark.cli_modes import run_mode
from mmfusenas.benchmark.process_units import (
    ProcessUnit, launch_unit_worker, run_process_units)
from mmfusenas.benchmark.search_spaces import (
    SPACES, anchor_positives, merge_options, quiet_run, real_data_root,
    resolve_real_data, set_img_scale)
from mmfusenas.testing.toy_data.control_sets import DATA

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))

STRATEGIES = {
    'ias_paper': dict(type='IASStrategy', variant='paper'),
    'ias_official': dict(type='IASStrategy', variant='official'),
    'darts1': dict(type='DartsFirstOrderStrategy'),
    'darts2': dict(type='DartsSecondOrderStrategy'),
    'implicit': dict(
        type='ImplicitStrategy', solver='cg', max_iters=5, damping=1.0),
}


def _build_runner(cfg: Config) -> Runner:
    runner = Runner.from_cfg(with_cached_text(cfg))
    return runner


def config_sha256(cfg: Config, spec: Optional[dict] = None) -> str:
    """SHA-256 of a config of the space ``spec`` dumped as JSON (keys
    sorted), with every path up to and including the last ``/configs/``
    written ``<repository>/configs/``, the repository root ``<work-dir>``,
    the space's real data folder ``<data>`` and no object addresses: the
    same digest for the same config in any checkout and work folder,
    another after any change of its content."""
    # the work folders lie in the checkout: written as the work dir
    data = real_data_root(spec) if spec else ''
    text = portable_json(cfg.to_dict(), ROOT)
    if data:
        text = text.replace(data, '<data>')
    return hashlib.sha256(text.encode('utf-8')).hexdigest()


def toy_num_of(spec: dict, args) -> Any:
    """``--toy-num`` where it sizes the space's data (the IR/VIS toy set,
    :func:`main_control`), else None."""
    return getattr(args, 'toy_num', None) if spec.get('data') == 'ivif' \
        else None


#: what a search folder's checkpoints were made with (:func:`search_key`)
SEARCH_KEY = 'search_key.json'
#: the files of the unit now running in its folder (kept by a fresh start)
_UNIT_FILES = ('unit.json', 'unit.log')


def search_key(spec: dict, space: str, strategy: str, seed: int,
               quick: bool, extra: Dict[str, Any] = None,
               toy_num: Any = None) -> dict:
    """What a search folder's checkpoints and genotype were made with: the
    space, strategy and seed, ``--quick``, the ``--search-cfg-options``,
    ``--toy-num`` and the sha256 of the whole search config
    (:func:`search_config`, :func:`config_sha256`)."""
    extra = json.loads(json.dumps(extra or {}))
    cfg = search_config(spec, strategy, quick, extra or None)
    return dict(space=space, strategy=strategy, seed=seed,
                quick=bool(quick), extra=extra, toy_num=toy_num,
                config_sha256=config_sha256(cfg, spec))


def read_search_key(folder: str) -> Any:
    """The :data:`SEARCH_KEY` of ``folder``; None without one."""
    path = osp.join(folder, SEARCH_KEY)
    if not osp.isfile(path):
        return None
    with open(path) as f:
        return json.load(f)


def _differing(stored: Any, key: dict) -> List[str]:
    stored = stored if isinstance(stored, dict) else {}
    return sorted(k for k in set(stored) | set(key)
                  if stored.get(k) != key.get(k))


def fresh_search_folder(work: str, key: dict, label: str) -> None:
    """Make ``work`` a folder of the search of ``key``: a search made with
    another :func:`search_key` (or with none recorded) is removed (its
    checkpoints would be resumed, its genotype reused) before ``key`` is
    written; a folder of the same key is kept, so the search resumes."""
    from mmfusenas.utils.fileio import atomic_write
    stored = read_search_key(work)
    if stored == key:
        return
    old = sorted(f for f in os.listdir(work) if f not in _UNIT_FILES) \
        if osp.isdir(work) else []
    if old:
        why = (f'made with other {_differing(stored, key)}' if stored else
               f'with no {SEARCH_KEY}')
        print(f'  [{label}] {work} holds a search {why}: starting it '
              'afresh', flush=True)
        for name in old:
            path = osp.join(work, name)
            if osp.isdir(path) and not osp.islink(path):
                shutil.rmtree(path)
            else:
                os.remove(path)
    os.makedirs(work, exist_ok=True)
    atomic_write(json.dumps(key, indent=1), osp.join(work, SEARCH_KEY))


def search_config(spec: dict, strategy: str, quick: bool,
                  extra: Dict[str, Any] = None) -> Config:
    """The space's search config with the strategy, budget and options of
    a control's search unit (data roots and work dir still unset)."""
    cfg = Config.fromfile(osp.join(ROOT, spec['search']))
    merge_options(cfg, spec['search_opts'](quick))
    if strategy in STRATEGIES and not spec.get('strategies_fixed'):
        cfg.model.strategy = copy.deepcopy(STRATEGIES[strategy])
        # DARTS: an α step after every weight step; the implicit strategy
        # assumes θ ≈ θ*(α), so it keeps T = 5 inner weight steps
        if not spec.get('config_arch_interval'):
            cfg.model.arch_update_interval = \
                5 if strategy == 'implicit' else 1
    if extra:
        merge_options(cfg, extra)
    if spec.get('img_scale'):
        set_img_scale(cfg._cfg_dict, spec['img_scale'])
    return cfg


def run_search(spec: dict, strategy: str, seed: int, workdir: str,
               quick: bool, extra: Dict[str, Any] = None) -> Genotype:
    """Run the space's search config; return the derived genotype."""
    cfg = search_config(spec, strategy, quick, extra)
    resolve_real_data(cfg, spec)
    quiet_run(cfg, workdir, seed, f'search_{osp.basename(workdir)}')
    if cfg.train_cfg.get('max_epochs'):
        # a checkpoint after every epoch in the unit's work dir: a killed
        # search resumes from its last epoch (ArchSeparationHook's curve
        # included) instead of starting again
        cfg.default_hooks['checkpoint'] = dict(
            type='CheckpointHook', interval=1, by_epoch=True,
            max_keep_ckpts=1)
        cfg.resume = True
    runner = _build_runner(cfg)
    runner.train()
    model = runner.model
    meta = dict(seed=seed, bench=strategy)
    curve = runner.message_hub.get_info(SEPARATION_KEY)
    if curve:  # an ArchSeparationHook measured softmax(α)'s separation
        meta[SEPARATION_KEY] = curve
    genotype = model.derive_genotype(meta=meta)
    return genotype


def separation_curve(path: str):
    """softmax(α)'s separation curve over the search that derived the
    genotype file ``path`` (its meta's ``arch_separation``, which
    :func:`run_search` writes when the search config has an
    ``ArchSeparationHook``); None without one (or without the file)."""
    if not osp.isfile(path):
        return None
    return (Genotype.load(path).meta or {}).get(SEPARATION_KEY)


def argmax_genotype(genotype: Genotype) -> Genotype:
    """The plain DARTS derivation of a searched genotype: per choice point
    the candidate of largest stored ``softmax(α)`` (``probabilities``),
    never ``'zero'`` unless it is the only one, whatever budget the search
    config's regulariser applied (``--argmax-too``: the capped and the plain
    genotype of the same α side by side).

    Raises:
        ValueError: the genotype records no ``space`` or no probabilities
            for one of its choice points.
    """
    missing = [k for k in genotype.choices
               if k not in (genotype.probabilities or {})]
    if genotype.space is None or missing:
        raise ValueError(
            'argmax_genotype: the genotype needs its space and the '
            f'probabilities of every choice point (missing: {missing}, '
            f'space recorded: {genotype.space is not None})')
    choices = {}
    for key in genotype.choices:
        probs = genotype.probabilities[key]
        names = [n for n in probs if n != 'zero'] or list(probs)
        choices[key] = max(names, key=lambda n: probs[n])
    meta = {k: v for k, v in (genotype.meta or {}).items()
            if k not in ('budget', 'cost', 'budget_swaps')}
    meta['derivation'] = 'argmax (no budget)'
    return Genotype.from_space(
        genotype.space, choices,
        probabilities={k: genotype.probabilities[k] for k in choices},
        meta=meta)


def search_algorithm(spec: dict):
    """The space's search algorithm as its search config builds it (the
    supernet with its alpha), for drawing or deriving genotypes of the
    space without searching."""
    cfg = Config.fromfile(osp.join(ROOT, spec['search']))
    return MODELS.build(cfg.model)


def random_genotypes(spec: dict, n: int, seed: int) -> List[Genotype]:
    """``n`` genotypes drawn uniformly from the search config's space: the
    first ``n`` of :func:`iter_random_genotypes`' stream."""
    return list(itertools.islice(iter_random_genotypes(spec, seed), n))


def iter_random_genotypes(spec: dict, seed: int) -> Iterator[Genotype]:
    """The endless stream of genotypes drawn uniformly from the search
    config's space (every choice point independently uniform, ``zero``
    excluded), seeded by ``seed``: draw ``i`` is the same however many are
    taken (the size-matched draws continue the ``--num-random`` ones)."""
    algo = search_algorithm(spec)
    rng = random.Random(seed)
    for i in itertools.count():
        choices = {}
        for key in algo.arch_params.keys():
            names = [c for c in algo.arch_params.choices(key) if c != 'zero']
            choices[key] = rng.choice(names or list(
                algo.arch_params.choices(key)))
        yield Genotype.from_space(
            algo._space_cfg,
            choices,
            meta=dict(random_sample=i, seed=seed,
                      space_path=algo.space_path))


def constant_genotypes(spec: dict, ops: List[str]) -> List[Genotype]:
    """One genotype per operator in ``ops`` that chooses it at *every*
    choice point of the search config's space (``--constant-ops``): the
    check that a control's proxy can see the space's operators at all. If a
    neck with ``skip`` on every edge retrains as well as the random necks,
    no search of the operators can beat random there (docs/user_guides/search.md,
    "a proxy that cannot see the neck").

    Raises:
        ValueError: an operator is not a candidate of every choice point
            (the keys that lack it are named).
    """
    if not ops:
        return []
    algo = search_algorithm(spec)
    keys = list(algo.arch_params.keys())
    out = []
    for op in ops:
        lacking = [k for k in keys if op not in algo.arch_params.choices(k)]
        if lacking:
            raise ValueError(
                f'--constant-ops: {op!r} is not a candidate of '
                f'{len(lacking)} of the {len(keys)} choice points of '
                f'{spec["search"]} (e.g. {lacking[:3]}); candidates there: '
                f'{list(algo.arch_params.choices(lacking[0]))}')
        out.append(Genotype.from_space(
            algo._space_cfg, {k: op for k in keys},
            meta=dict(constant_op=op, space_path=algo.space_path)))
    return out


def derived_random_genotypes(spec: dict, n: int,
                             seed: int) -> List[Genotype]:
    """``n`` genotypes that the search config's *derivation* gives for an
    uninformative α: every α entry drawn i.i.d. from N(0, 1) (seeded), then
    derived exactly as a search derives (``derive_genotype``: the argmax,
    and a structural regulariser budget such as the toy neck search's cap
    on skip / conv_1 edges). Against the searched genotypes they tell
    whether the learned α adds anything beyond the derivation rule
    (``--random-derived N``).

    Raises:
        ValueError: the config's regulariser needs example inputs to
            prepare (a FLOPs / latency budget): only structural budgets
            (``SkipCountRegularizer``) can be applied without data.
    """
    if n <= 0:
        return []
    algo = search_algorithm(spec)
    if algo.regularizer is not None:
        try:
            algo.regularizer.prepare(algo.space, algo.arch_params, None)
        except Exception as err:
            raise ValueError(
                f'--random-derived: the regulariser of {spec["search"]} '
                f'({type(algo.regularizer).__name__}) cannot prepare '
                f'without example inputs ({err}); only a structural budget '
                '(SkipCountRegularizer) can be applied to random alpha')
        algo._regularizer_ready = True
    gen = torch.Generator().manual_seed(seed)
    out = []
    for i in range(n):
        with torch.no_grad():
            for key in algo.arch_params.keys():
                alpha = algo.arch_params.alphas[key]
                alpha.copy_(torch.randn(alpha.shape, generator=gen))
        out.append(algo.derive_genotype(
            meta=dict(random_derived=i, seed=seed)))
    return out


def _score_loader(cfg: Config, spec: dict):
    loader = copy.deepcopy(cfg.get('test_dataloader') or cfg.val_dataloader)
    if spec.get('score_pipeline') == 'train':
        # the test pipelines of the detection / segmentation toys load no
        # ground truth; score with the training pipeline (its random flips
        # are seeded) on the held-out split
        loader.dataset.pipeline = copy.deepcopy(
            cfg.train_dataloader.dataset.pipeline)
        if not spec.get('score_flips', True):
            # a deterministic score: one flip draw moves a retrained
            # neck's held-out loss by up to 0.16 (docs/user_guides/search.md)
            loader.dataset.pipeline = [
                t for t in loader.dataset.pipeline
                if not str(t.get('type', '')).endswith('RandomFlip')
            ]
        loader.dataset.pop('test_mode', None)
        if 'filter_cfg' in loader.dataset:
            loader.dataset.filter_cfg = None
    loader.sampler = dict(type='DefaultSampler', shuffle=False)
    loader.num_workers = 0
    loader.persistent_workers = False
    return Runner.build_dataloader(loader, seed=0)


@torch.no_grad()
def held_out_losses(runner: Runner, cfg: Config,
                    spec: dict) -> Dict[str, float]:
    """Per logged loss key (``parse_losses``' log variables: ``loss`` the
    total, and each term, e.g. ``loss_cls``, ``fusion.loss_int``), its mean
    over the held-out split, in eval mode."""
    model = runner.model
    model.eval()
    # the training pipeline's random flips draw from numpy: seeded here so
    # that every genotype is scored on the same flipped held-out images
    torch.manual_seed(0)
    random.seed(0)
    np.random.seed(0)
    totals: Dict[str, float] = {}
    count = 0
    for batch in _score_loader(cfg, spec):
        data = model.data_preprocessor(batch, True)
        losses = model(**data, mode='loss')
        _, log_vars = model.parse_losses(losses)
        n = len(batch['inputs']) if isinstance(batch['inputs'],
                                                list) else 1
        for key, value in log_vars.items():
            totals[key] = totals.get(key, 0.0) + float(value) * n
        count += n
    return {k: v / max(count, 1) for k, v in totals.items()}


def score_of(parts: Dict[str, float], keys=None) -> float:
    """The held-out score from :func:`held_out_losses`' ``parts``: the total
    ``loss`` (``keys=None``), or the sum of the named terms (a space's
    ``score_keys``, e.g. only the task head's ``('loss_cls',
    'loss_bbox')``).

    Raises:
        KeyError: a named term is not among the logged ones (which are
            listed).
    """
    if keys is None:
        return parts['loss']
    missing = [k for k in keys if k not in parts]
    if missing:
        raise KeyError(f'score_keys {missing} are not among the held-out '
                       f'loss terms {sorted(parts)}')
    return float(sum(parts[k] for k in keys))


def held_out_loss(runner: Runner, cfg: Config, spec: dict) -> float:
    """The retrained model's held-out score (lower is better): its mean
    loss on the held-out split, the space's ``score_keys`` terms only
    where it names them (:func:`score_of`)."""
    return score_of(held_out_losses(runner, cfg, spec),
                    spec.get('score_keys'))


def model_part_cost(model: torch.nn.Module, cfg: Config, spec: dict,
                    flops: bool = True) -> Dict[str, float]:
    """Parameters and FLOPs of the searched part (``spec['part']``, a
    module path or a list of them, summed) of a model built from the
    retrain config ``cfg``; the FLOPs of one forward pass of the first
    sample of the held-out split (as it is scored). ``flops=False``: the
    parameters only (no forward pass)."""
    paths = [spec['part']] if isinstance(spec['part'], str) else spec['part']
    parts = [model.get_submodule(path) for path in paths]
    params = sum(p.numel() for part in parts for p in part.parameters())
    if not flops:
        return dict(params=params)
    batch = next(iter(_score_loader(cfg, spec)))
    data = model.data_preprocessor(batch, True)
    one = {k: (v[:1] if isinstance(v, (torch.Tensor, list)) else v)
           for k, v in data.items()}
    model.eval()
    flops = sum(
        count_flops(part, record_submodule_inputs(model, part, one)).flops
        for part in parts)
    return dict(params=params, mflops=flops / 1e6)


def annealed_schedule(max_iters: int, eta_min: float = 1e-5) -> List[dict]:
    """A learning-rate schedule that fits the retraining budget: linear
    warm-up from 0.1x over ``min(20, max_iters // 5)`` iterations, then
    cosine annealing to ``eta_min`` at ``max_iters``.

    The toy detection configs' schedule is built for 300 iterations (a
    50-iteration fusion warm-up, then a ramp and a cosine to 300): cut at
    the benchmark's 120 iterations it ends at ~90 % of the peak rate, so the
    retrained weights (and the held-out score) are a noisy last iterate
    (docs/user_guides/search.md, "TIM detection neck": retrain noise).
    """
    warm = max(1, min(20, max_iters // 5))
    return [
        dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0,
             end=warm),
        dict(type='CosineAnnealingLR', by_epoch=False, begin=warm,
             end=max_iters, T_max=max_iters - warm, eta_min=eta_min),
    ]


def retrain_config(spec: dict, genotype_path: str, quick: bool,
                   extra: Dict[str, Any] = None) -> Config:
    """The space's retrain config for the genotype at ``genotype_path``:
    the space's options, then ``extra``, its schedule annealed where the
    space says so, real data roots absolute."""
    cfg = Config.fromfile(osp.join(ROOT, spec['retrain']))
    merge_options(cfg, {k: genotype_path for k in spec['genotype_keys']})
    merge_options(cfg, spec['retrain_opts'](quick))
    if extra:
        merge_options(cfg, extra)
    if spec.get('anneal_retrain'):
        cfg.param_scheduler = annealed_schedule(cfg.train_cfg.max_iters)
    if spec.get('img_scale'):
        set_img_scale(cfg._cfg_dict, spec['img_scale'])
    resolve_real_data(cfg, spec)
    return cfg


def genotype_size(spec: dict, genotype_path: str, quick: bool,
                  extra: Dict[str, Any] = None,
                  flops: bool = True) -> Dict[str, float]:
    """Parameters (and FLOPs) of the searched part of the genotype's model
    as :func:`retrain` builds it, before any training: the same numbers
    as the retrained model's :func:`model_part_cost` (the size matching of the
    random draws, ``--match-size``)."""
    from mmengine.registry import init_default_scope
    cfg = retrain_config(spec, genotype_path, quick, extra)
    init_default_scope(cfg.get('default_scope', 'mmfusenas'))
    model = MODELS.build(cfg.model)
    return model_part_cost(model, cfg, spec, flops=flops)


def within_size(size: float, ref: float, tolerance: float) -> bool:
    """``size`` within ``±tolerance`` (a fraction) of ``ref``."""
    return abs(size - ref) <= tolerance * abs(ref)


def size_matched_draws(searched: Dict[str, float], size_of, num_random: int,
                       tolerance: float, min_matched: int,
                       max_draws: int) -> tuple:
    """Which random draws to retrain so that every searched genotype has at
    least ``min_matched`` random genotypes of its size.

    Draw ``i`` (``size_of(i)``: its size, asked once per draw, in order)
    is retrained when ``i < num_random`` (the uniform control, always), or
    when it lies within ``±tolerance`` of a searched genotype that still
    has fewer than ``min_matched`` matches when it is drawn. Drawing stops
    at the first draw ``>= num_random`` before which every searched
    genotype has its matches; a retrained draw counts as a match of every
    searched genotype whose size it is within. The rule reads sizes only,
    never scores, so the matched set is not selected by the outcome.

    Args:
        searched (dict): label -> size of each searched genotype.
        size_of (callable): draw index -> its size.
        num_random (int): the uniform draws (all retrained).
        tolerance (float): relative tolerance (0.15: ±15 %).
        min_matched (int): matches needed per searched genotype.
        max_draws (int): the most draws (the uniform ones included).

    Returns:
        tuple: ``(retrain, matched, sizes)``: the retrained draw indices
        (ascending), ``{label: [matched draw indices]}`` and the size of
        every draw made.

    Raises:
        RuntimeError: ``max_draws`` draws were made and some searched
            genotype still has fewer than ``min_matched`` matches (named,
            with its size and its matches).
    """
    matched: Dict[str, List[int]] = {k: [] for k in searched}
    retrain_ids: List[int] = []
    sizes: List[float] = []
    i = 0
    while i < num_random or any(
            len(v) < min_matched for v in matched.values()):
        if i >= max_draws:
            short = {k: (searched[k], len(v)) for k, v in matched.items()
                     if len(v) < min_matched}
            raise RuntimeError(
                f'--max-draws {max_draws} exhausted: '
                + '; '.join(f'{k} (size {sz:,.6g}) has {n} of the '
                            f'{min_matched} random genotypes within '
                            f'±{tolerance:.0%}'
                            for k, (sz, n) in short.items())
                + '; raise --max-draws or --size-tolerance, or lower '
                '--min-matched')
        size = size_of(i)
        sizes.append(size)
        near = [k for k, ref in searched.items()
                if within_size(size, ref, tolerance)]
        if i < num_random or any(len(matched[k]) < min_matched
                                 for k in near):
            retrain_ids.append(i)
            for k in near:
                matched[k].append(i)
        i += 1
    return retrain_ids, matched, sizes


def retrain(spec: dict, genotype_path: str, seed: int, workdir: str,
            quick: bool, extra: Dict[str, Any] = None) -> Dict[str, float]:
    """Retrain the genotype at ``genotype_path`` with the space's retrain
    config (``extra``: config options merged last); return its held-out
    ``score`` (and ``held_out_n``, the held-out samples it averages) and
    the searched part's ``params`` / ``mflops``."""
    cfg = retrain_config(spec, genotype_path, quick, extra)
    score_cfg = copy.deepcopy(cfg)
    quiet_run(cfg, workdir, seed, f'retrain_{osp.basename(workdir)}')
    runner = _build_runner(cfg)
    runner.train()
    parts = held_out_losses(runner, score_cfg, spec)
    out = dict(score=score_of(parts, spec.get('score_keys')),
               score_parts=parts,
               held_out_n=len(_score_loader(score_cfg, spec).dataset))
    out.update(model_part_cost(runner.model, score_cfg, spec))
    return out


def _mean_std(xs: List[float]) -> str:
    if len(xs) == 1:
        return f'{xs[0]:.4f}'
    return f'{statistics.mean(xs):.4f} ± {statistics.stdev(xs):.4f}'


def _unit_label(label: str) -> str:
    return label.replace(' ', '_')


def plan_units(name: str, spec: dict, args, tmp: str) -> tuple:
    """The independent units of one space's control.

    Returns ``(rows, units)``: ``rows`` = ``[(label, kind, genotype
    path)]`` in table order; ``units`` = one dict per search (strategy,
    search seed; reused genotypes need none) and per retraining (genotype,
    retrain seed), each with its own work dir under
    ``<tmp>/work/<space>/`` (``search_<strategy>_<seed>``,
    ``retrain_<label>_<seed>``: distinct for distinct units, so units can
    run side by side), ``deps`` (the search a retraining waits for) and
    ``result`` (the JSON file a unit run in a worker process writes).
    """
    strategies = ['cooperative'] if spec.get('strategies_fixed') else \
        args.strategies
    toy_num = toy_num_of(spec, args)
    base = dict(space=name, quick=args.quick, root=tmp, toy_num=toy_num)
    # the options as a worker process reads them back (JSON: tuples become
    # lists), so that every --jobs gives the same configs
    search_extra = json.loads(json.dumps(args.search_cfg_options or {}))
    rows, units = [], []
    for strategy in strategies:
        for seed in range(args.first_search_seed,
                          args.first_search_seed + args.search_seeds):
            work = osp.join(tmp, 'work', name, f'search_{strategy}_{seed}')
            reused = args.reuse and osp.join(args.reuse, name,
                                             f'search_{strategy}_{seed}',
                                             'genotype.yaml')
            path = osp.join(work, 'genotype.yaml')
            label = f'{strategy} s{seed}'
            plain = osp.join(work, 'genotype_argmax.yaml') \
                if getattr(args, 'argmax_too', False) else None
            deps = []
            if reused and osp.isfile(reused):
                note = reused_search_note(
                    reused, search_key(spec, name, strategy, seed,
                                       args.quick, search_extra, toy_num))
                os.makedirs(work, exist_ok=True)
                genotype = Genotype.load(reused)
                genotype.dump(path)
                if plain:
                    argmax_genotype(genotype).dump(plain)
                print(f'  [{name}] reused the genotype {reused} instead of '
                      f'searching ({strategy}, seed {seed}): {note}',
                      flush=True)
            else:
                uid = f'{name}/search_{strategy}_{seed}'
                units.append(dict(
                    base, id=uid, kind='search', strategy=strategy,
                    seed=seed, work=work, genotype=path,
                    argmax_genotype=plain, extra=search_extra, deps=[],
                    result=osp.join(work, 'unit_result.json')))
                deps = [uid]
            rows.append((label, strategy, path, deps))
            if plain:
                rows.append((f'{strategy}-argmax s{seed}',
                             f'{strategy}-argmax', plain, deps))
    # --random-derived: random alpha through the search's derivation
    for i, genotype in enumerate(derived_random_genotypes(
            spec, getattr(args, 'random_derived', 0) or 0, seed=2000)):
        path = osp.join(tmp, 'work', name, f'random-derived_{i}.yaml')
        genotype.dump(path)
        rows.append((f'random-derived {i}', 'random-derived', path, []))
    # --constant-ops: one operator on every choice point (proxy check)
    for genotype in constant_genotypes(
            spec, getattr(args, 'constant_ops', None) or []):
        op = genotype.meta['constant_op']
        path = osp.join(tmp, 'work', name, f'constant_{op}.yaml')
        genotype.dump(path)
        rows.append((f'constant {op}', 'constant', path, []))
    first, last = args.random_subset or (0, args.num_random)
    for i, genotype in enumerate(
            random_genotypes(spec, args.num_random, seed=1000)):
        if not first <= i < last:
            continue
        path = osp.join(tmp, 'work', name, f'random_{i}.yaml')
        genotype.dump(path)
        rows.append((f'random {i}', 'random', path, []))
    units += retrain_units(name, rows, args, tmp)
    return [r[:3] for r in rows], units


def reused_search_note(genotype: str, key: dict) -> str:
    """``--reuse``: what is known of the search that wrote ``genotype``,
    from the :data:`SEARCH_KEY` beside it.

    Raises:
        ValueError: that search was made with another :func:`search_key`
            (the keys that differ named, with both values).
    """
    stored = read_search_key(osp.dirname(genotype))
    if stored is None:
        return (f'no {SEARCH_KEY} beside it (a run from before searches '
                'recorded their settings): its search config, --quick, '
                'options and --toy-num are NOT checked')
    keys = _differing(stored, key)
    if keys:
        raise ValueError(
            f'--reuse: {genotype} was searched with other settings than '
            'this run\'s: ' + '; '.join(
                f'{k} {stored.get(k)!r} there, {key.get(k)!r} here'
                for k in keys) + '; drop --reuse (search again) or rerun '
            'with the settings it was searched with')
    return (f'its {SEARCH_KEY} matches (search config sha256, --quick, '
            '--search-cfg-options, --toy-num)')


def retrain_units(name: str, rows: List[tuple], args, tmp: str) -> List[dict]:
    """One retraining unit per row ``(label, kind, genotype path, deps)``
    and retrain seed (:func:`plan_units`)."""
    base = dict(space=name, quick=args.quick, root=tmp,
                toy_num=toy_num_of(SPACES.get(name, {}), args))
    retrain_extra = json.loads(json.dumps(args.retrain_cfg_options or {}))
    units = []
    for label, kind, path, deps in rows:
        for seed in range(args.first_retrain_seed,
                          args.first_retrain_seed + args.retrain_seeds):
            work = osp.join(tmp, 'work', name,
                            f'retrain_{_unit_label(label)}_{seed}')
            units.append(dict(
                base, id=f'{name}/retrain_{_unit_label(label)}_{seed}',
                kind='retrain', label=label, seed=seed, work=work,
                genotype=path, extra=retrain_extra,
                deps=list(deps), result=osp.join(work, 'unit_result.json')))
    return units


def plan_size_match(name: str, spec: dict, args, tmp: str,
                    rows: List[tuple], kinds: List[str]) -> tuple:
    """The random draws beyond ``--num-random`` that the size-matched
    control retrains (``--match-size``), once the searches are done.

    The searched genotypes (rows of a kind in ``kinds``) and the draws of
    the seeded stream (:func:`iter_random_genotypes`, the one that gives
    the ``--num-random`` uniform draws) are sized by
    :func:`genotype_size` (``--match-size``: ``params`` or ``flops`` of
    the searched part); :func:`size_matched_draws` decides which to
    retrain.

    Returns:
        tuple: ``(match, new_rows)``: ``match`` (metric, tolerance,
        min_matched, draws, the searched sizes, the matched labels per
        searched genotype, the extra draws) and the rows ``(label,
        'random-matched', path, [])`` of the extra draws to retrain.
    """
    metric = args.match_size
    retrain_extra = json.loads(json.dumps(args.retrain_cfg_options or {}))

    def size(path):
        cost = genotype_size(spec, path, args.quick, retrain_extra,
                             flops=metric == 'flops')
        return float(cost['mflops'] * 1e6 if metric == 'flops'
                     else cost['params'])

    searched = {label: size(path) for label, kind, path in rows
                if kind in kinds}
    stream = iter_random_genotypes(spec, seed=1000)
    drawn: List[Genotype] = []

    def size_of(i):
        drawn.append(next(stream))
        path = osp.join(tmp, 'work', name, f'random_{i}.yaml')
        if i >= args.num_random:
            drawn[-1].dump(path)
        return size(path)

    ids, matched, sizes = size_matched_draws(
        searched, size_of, args.num_random, args.size_tolerance,
        args.min_matched, args.max_draws)
    extra = [i for i in ids if i >= args.num_random]
    for i in range(args.num_random, len(drawn)):
        if i not in extra:  # drawn, sized, not retrained
            os.remove(osp.join(tmp, 'work', name, f'random_{i}.yaml'))
    new_rows = [(f'random {i}', 'random-matched',
                 osp.join(tmp, 'work', name, f'random_{i}.yaml'), [])
                for i in extra]
    match = dict(
        metric=metric, tolerance=args.size_tolerance,
        min_matched=args.min_matched, max_draws=args.max_draws,
        draws=len(sizes), extra_retrained=extra,
        searched_size=searched,
        matched={k: [f'random {i}' for i in v] for k, v in matched.items()},
        draw_sizes=sizes)
    print(f'  [{name}] size matching ({metric} within '
          f'±{args.size_tolerance:.0%}): {len(sizes)} draws, '
          f'{len(extra)} retrained beyond the {args.num_random} uniform '
          'ones; matches per searched genotype: ' + ', '.join(
              f'{k} ({searched[k]:,.6g}) {len(v)}'
              for k, v in matched.items()), flush=True)
    return match, new_rows


def run_unit(unit: dict) -> dict:
    """Run one unit of :func:`plan_units` in this process.

    A search writes its derived genotype to ``unit['genotype']`` and
    returns ``{'genotype': path}``; a retraining returns
    :func:`retrain`'s ``score`` / ``params`` / ``mflops``.
    """
    spec = SPACES[unit['space']]
    if unit['kind'] == 'search':
        # checkpoints and a genotype of a search made otherwise: not resumed
        fresh_search_folder(unit['work'], search_key(
            spec, unit['space'], unit['strategy'], unit['seed'],
            unit['quick'], unit.get('extra'), unit.get('toy_num')),
            unit.get('id', unit['work']))
        genotype = run_search(spec, unit['strategy'], unit['seed'],
                              unit['work'], unit['quick'],
                              extra=unit.get('extra') or None)
        genotype.dump(unit['genotype'])
        if unit.get('argmax_genotype'):
            argmax_genotype(genotype).dump(unit['argmax_genotype'])
        return dict(genotype=unit['genotype'])
    if unit['kind'] == 'retrain':
        return finished_retrain(unit) or retrain_and_keep(spec, unit)
    raise ValueError(f"unit {unit.get('id')!r}: kind must be 'search' or "
                     f"'retrain', got {unit['kind']!r}")


#: a finished retraining's result and what it was run with, in its folder
RETRAIN_DONE = 'retrain_done.json'


#: stands for the genotype file in the retrain config a key hashes (its
#: content is keyed by ``genotype_sha256``, not its path)
GENOTYPE_PLACEHOLDER = '<genotype>'


def retrain_key(unit: dict) -> dict:
    """What a finished retraining must have been run with to be kept when
    the control is started again: the space, the genotype file's content
    (sha256), the retrain seed, ``--quick``, the retraining options,
    ``--toy-num`` and the sha256 of the whole retrain config
    (:func:`retrain_config` with the genotype path left out,
    :func:`config_sha256`)."""
    with open(unit['genotype'], 'rb') as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    extra = json.loads(json.dumps(unit.get('extra') or {}))
    cfg = retrain_config(SPACES[unit['space']], GENOTYPE_PLACEHOLDER,
                         unit['quick'], extra or None)
    return dict(space=unit['space'], genotype_sha256=digest,
                seed=unit['seed'], quick=bool(unit['quick']), extra=extra,
                toy_num=unit.get('toy_num'),
                config_sha256=config_sha256(cfg, SPACES[unit['space']]))


def finished_retrain(unit: dict) -> Dict[str, Any]:
    """The stored result of ``unit`` when its folder holds a finished
    retraining of the same :func:`retrain_key`; ``{}`` otherwise (none, or
    one run with another genotype, seed or options, which is run again)."""
    path = osp.join(unit['work'], RETRAIN_DONE)
    if not osp.exists(path):
        return {}
    with open(path) as f:
        done = json.load(f)
    return done['result'] if done.get('key') == retrain_key(unit) else {}


def retrain_and_keep(spec: dict, unit: dict) -> Dict[str, Any]:
    """Retrain ``unit`` (:func:`retrain`) and store its result with its
    :func:`retrain_key` in its folder, so a restarted control keeps it."""
    from mmfusenas.utils.fileio import atomic_write
    result = retrain(spec, unit['genotype'], unit['seed'], unit['work'],
                     unit['quick'], extra=unit.get('extra') or None)
    atomic_write(json.dumps(dict(key=retrain_key(unit), result=result)),
                 osp.join(unit['work'], RETRAIN_DONE))
    return result


def _unit_main(path: str) -> None:
    """``--unit FILE``: run the unit described by the JSON ``FILE`` (one
    torch thread, in the unit's root folder) and write its result JSON
    atomically to ``unit['result']``."""
    from mmfusenas.utils.fileio import atomic_write
    with open(path) as f:
        unit = json.load(f)
    torch.set_num_threads(1)
    MMLogger.get_instance('mmengine', log_level='WARNING')
    os.chdir(unit['root'])
    out = run_unit(unit)
    atomic_write(json.dumps(out), unit['result'])


def _start_unit(unit: dict):
    return launch_unit_worker(__file__, unit, unit['work'],
                              osp.join(unit['work'], 'unit.log'),
                              cwd=unit['root'])


def _score_note(result: dict) -> str:
    return f": held-out {result['score']:.4f}" if 'score' in result else ''


def run_units(units: List[dict], jobs: int) -> Dict[str, dict]:
    """Run ``units`` (:func:`plan_units`); return ``{unit id: result}``.

    ``jobs <= 1``: one after another in this process, in list order (the
    searches come before the retrainings that wait for them). Otherwise at
    most ``jobs`` worker processes at a time, each this script with
    ``--unit`` and one torch thread (``OMP_NUM_THREADS=1``), its output in
    ``<work>/unit.log``; a unit starts once the units in its ``deps`` are
    done, the first ready one in list order first (searches, then the
    retrainings of searched genotypes as their search ends, then the
    random ones). Every unit seeds itself, so the results equal
    ``jobs=1``'s (with one thread there too).

    Raises:
        RuntimeError: a worker failed (its exit code and the end of its
            log); the other workers are stopped.
    """
    def done(unit, result, took):
        note, uid = _score_note(result), unit.id
        print(f'  [{uid}] done{note}' if took.inline else
              f'  [{uid}] done in {took.seconds:.0f} s ({took.elapsed:.0f} '
              f's, {took.done}/{took.total} units){note}', flush=True)

    return run_process_units(
        [ProcessUnit(u['id'], osp.join(u['work'], 'unit.log'), u['result'],
                     u['deps'], data=u) for u in units], jobs,
        start=lambda u: _start_unit(u.data),
        inline=lambda u: run_unit(u.data), on_done=done)


def bench_space(name: str, spec: dict, args, tmp: str) -> dict:
    quick = args.quick
    strategies = ['cooperative'] if spec.get('strategies_fixed') else \
        args.strategies
    t0 = time.time()
    rows, units = plan_units(name, spec, args, tmp)
    n_search = sum(u['kind'] == 'search' for u in units)
    print(f'  [{name}] {len(units)} units ({n_search} searches, '
          f'{len(units) - n_search} retrainings) on {args.jobs} '
          f'process(es)', flush=True)
    positives = None
    if spec.get('anchor_check'):
        cfg = Config.fromfile(osp.join(ROOT, spec['retrain']))
        merge_options(cfg, spec['retrain_opts'](quick))
        if args.retrain_cfg_options:
            merge_options(cfg, args.retrain_cfg_options)
        positives = anchor_positives(
            cfg.model.detector,
            osp.join(tmp, 'data', 'toy', 'annotations',
                     'instances_train.json'), spec['img_scale'])
        print(f'  [{name}] positive anchors per level (train split, '
              f'{spec["img_scale"][0]} px): {positives}', flush=True)
    match = None
    if getattr(args, 'match_size', None):
        # the searches first: the extra random draws are matched to the
        # sizes of the genotypes they derive
        searches = [u for u in units if u['kind'] == 'search']
        done = run_units(searches, args.jobs) if searches else {}
        match, new_rows = plan_size_match(name, spec, args, tmp, rows,
                                          strategies)
        rows = rows + [r[:3] for r in new_rows]
        ran = {u['id'] for u in searches}
        units = [dict(u, deps=[d for d in u['deps'] if d not in ran])
                 for u in units if u['kind'] != 'search']
        units += retrain_units(name, new_rows, args, tmp)
        done.update(run_units(units, args.jobs))
    else:
        done = run_units(units, args.jobs)
    results = []
    for label, kind, path in rows:
        scores, parts, cost = [], [], {}
        for seed in range(args.first_retrain_seed,
                          args.first_retrain_seed + args.retrain_seeds):
            res = done[f'{name}/retrain_{_unit_label(label)}_{seed}']
            scores.append(res['score'])
            parts.append(res.get('score_parts'))
            cost = dict(params=res['params'], mflops=res['mflops'])
            if 'held_out_n' in res:
                cost['held_out_n'] = res['held_out_n']
        results.append(
            dict(label=label, kind=kind, scores=scores, parts=parts,
                 mean=statistics.mean(scores), **cost))
        print(f'  [{name}] retrained {label}: {_mean_std(scores)} '
              f'({time.time() - t0:.0f} s)', flush=True)
    randoms = [r['mean'] for r in results if r['kind'] == 'random']
    # no uniform draws (--num-random 0): no median, no uniform rank (None)
    median = statistics.median(randoms) if randoms else None
    by_label = {r['label']: r for r in results}
    matched_scores = {} if match is None else {
        label: [by_label[m]['mean'] for m in labels]
        for label, labels in match['matched'].items()}
    rho_params = spearman_rho([r['params'] for r in results
                               if r['kind'] == 'random'], randoms) \
        if len(randoms) >= 2 else None
    header = ['genotype', 'held-out loss', 'rank %', 'params', 'MFLOPs']
    if match is not None:
        header[3:3] = ['rank % matched', 'n matched']
    table = [header]
    for r in sorted(results, key=lambda r: r['mean']):
        random_row = r['kind'] in ('random', 'random-matched')
        row = [r['label'] + (' (size-matched draw)'
                             if r['kind'] == 'random-matched' else ''),
               _mean_std(r['scores']),
               '' if random_row else (f'{rank_pct(r["mean"], randoms):.0f}'
                                      if randoms else '-'),
               f'{r["params"]:,}', f'{r["mflops"]:.2f}']
        if match is not None:
            mine = matched_scores.get(r['label'])
            row[3:3] = ['', ''] if mine is None else [
                f'{rank_pct(r["mean"], mine):.0f}' if mine else '-',
                str(len(mine))]
        table.append(row)
    print(f'\n{name}: {spec["title"]}; held-out = '
          f'{spec.get("held_out", "toy val split")}; '
          f'{args.retrain_seeds} retrain seed(s); random median '
          f'{"-" if median is None else f"{median:.4f}"} ({len(randoms)} '
          'uniform draws); Spearman rho of their held-out loss with their '
          f'parameters {"-" if rho_params is None else f"{rho_params:+.2f}"}; '
          f'{time.time() - t0:.0f} s')
    if match is not None:
        print(f'rank % matched: among the random genotypes whose '
              f'{match["metric"]} lie within ±{match["tolerance"]:.0%} of '
              f'the searched one ({match["draws"]} draws)')
    print(AsciiTable(table).table)
    out = dict(
        n_random=len(randoms),
        random_scores=randoms,
        random_median=median,
        spearman_score_params=rho_params,
        held_out=spec.get('held_out', 'toy val split'),
        held_out_n=max((r.get('held_out_n', 0) for r in results),
                       default=0),
        default_strategy=spec['default'],
        seconds=round(time.time() - t0, 1))
    if match is not None:
        out['size_match'] = dict(
            match, matched_scores=matched_scores,
            extra_scores={r['label']: r['mean'] for r in results
                          if r['kind'] == 'random-matched'},
            extra_params={r['label']: r['params'] for r in results
                          if r['kind'] == 'random-matched'})
    # per genotype, the score of every retrain seed (the seeds are shared,
    # so genotypes can also be ranked seed by seed)
    out['retrain_scores'] = {r['label']: r['scores'] for r in results}
    if positives is not None:
        out['positives_per_level'] = positives
    kinds = list(strategies)
    if getattr(args, 'argmax_too', False):
        kinds += [f'{s}-argmax' for s in strategies]
    if getattr(args, 'random_derived', 0):
        kinds.append('random-derived')
    if getattr(args, 'constant_ops', None):
        kinds.append('constant')
    # every held-out loss term of every retraining, and whether the
    # control can rank genotypes at all (signal_vs_noise)
    terms = _loss_terms(results)
    if terms:
        terms += add_score_groups(results, spec.get('score_groups', {}))
        out['retrain_score_parts'] = {
            r['label']: [{k: p[k] for k in terms} for p in r['parts']]
            for r in results}
    out['signal_vs_noise'] = signal_vs_noise(out['retrain_scores'])
    sig = out['signal_vs_noise']
    if sig:
        print(f'  [{name}] signal vs noise of the score over '
              f'{sig["genotypes"]} genotypes x {sig["seeds"]} retrain seeds: '
              f'genotype x seed s.d. {sig["interaction_sd"]:.4f}, between '
              f'(estimated true) s.d. {sig["between_sd"]:.4f}, reliability '
              f'of the seed mean {sig["reliability"]:.2f}', flush=True)
    random_rows = [r for r in results if r['kind'] == 'random']
    for r in random_rows:
        r['choices'] = Genotype.load(
            next(p for lb, _, p in rows if lb == r['label'])).choices
    out['score_predictors'] = score_predictors(random_rows)
    if out['score_predictors']:
        print(f'  [{name}] Spearman rho of the random genotypes\' score '
              f'with: ' + ', '.join(
                  f'{k} {v:+.2f}'
                  for k, v in out['score_predictors'].items()), flush=True)
    for strategy in kinds:
        mine = [r for r in results if r['kind'] == strategy]
        out[strategy] = dict(
            searched_rank_pct=[rank_pct(r['mean'], randoms) if randoms
                               else None for r in mine],
            scores=[r['mean'] for r in mine],
            mflops=[r['mflops'] for r in mine],
            params=[r['params'] for r in mine])
        curves = [separation_curve(next(
            p for lb, _, p, *_ in rows if lb == r['label'])) for r in mine]
        if any(curves):  # softmax(α)'s separation over each search
            out[strategy]['arch_separation'] = curves
        if match is not None and strategy in strategies:
            # the same genotypes ranked among the random ones of their size
            same = [matched_scores[r['label']] for r in mine]
            out[strategy].update(
                matched_rank_pct=[rank_pct(r['mean'], m) if m else None
                                  for r, m in zip(mine, same)],
                n_matched=[len(m) for m in same],
                matched_median=[statistics.median(m) if m else None
                                for m in same])
        if terms and randoms:
            # the same ranks by each held-out loss term alone (mean over
            # retrain seeds), e.g. the task's classification loss
            out[strategy]['rank_pct_by_term'] = {
                t: [rank_pct(_term_mean(r, t),
                             [_term_mean(q, t) for q in results
                              if q['kind'] == 'random']) for r in mine]
                for t in terms}
    return out


def score_predictors(rows: List[dict]) -> Dict[str, float]:
    """Does a cheap genotype property predict the retrained score? Over the
    rows (random genotypes: ``mean`` score, ``params``, ``mflops``,
    ``choices``), Spearman's rho of the score with the parameters, the
    FLOPs and the count of every candidate operator (``n_<op>``; positive:
    more of it, a higher (worse) loss). Constant properties are left out;
    fewer than 4 rows: empty."""
    if len(rows) < 4:
        return {}
    scores = [r['mean'] for r in rows]
    feats = {'params': [r['params'] for r in rows],
             'mflops': [r['mflops'] for r in rows]}
    ops = sorted({v for r in rows for v in r.get('choices', {}).values()})
    for op in ops:
        feats[f'n_{op}'] = [
            sum(v == op for v in r['choices'].values()) for r in rows]
    out = {}
    for key, xs in feats.items():
        rho = spearman_rho(xs, scores)
        if rho == rho:  # not NaN
            out[key] = round(rho, 3)
    return out


def _loss_terms(results: List[dict]) -> List[str]:
    """The loss terms every retraining logged (``loss`` first)."""
    parts = [p for r in results for p in r.get('parts', [])]
    if not parts or any(p is None for p in parts):
        return []
    common = set.intersection(*(set(p) for p in parts))
    return sorted((k for k in common if 'loss' in k),
                  key=lambda k: (k != 'loss', k))


def add_score_groups(results: List[dict],
                     groups: Dict[str, tuple]) -> List[str]:
    """Add to every retraining's held-out ``parts`` the named sums of terms
    of a space's ``score_groups`` (e.g. ``{'task': ('loss_cls',
    'loss_bbox')}``: the detector's own loss, without N_F's fusion terms),
    reported beside the single terms; return their names.

    Raises:
        KeyError: a group names a term some retraining did not log.
    """
    for r in results:
        for p in r['parts']:
            for group, keys in groups.items():
                missing = [k for k in keys if k not in p]
                if missing:
                    raise KeyError(
                        f'score_groups[{group!r}]: {missing} are not among '
                        f"the held-out loss terms {sorted(p)} of {r['label']}")
                p[group] = float(sum(p[k] for k in keys))
    return list(groups)


def _term_mean(result: dict, term: str) -> float:
    return statistics.mean(p[term] for p in result['parts'])


def genotype_cost(genotype: Genotype, size: int = 64) -> Dict[str, float]:
    """Parameters and FLOPs of a fusion genotype's network (2 x size²)."""
    net = build_genotype_net(genotype)
    params = sum(p.numel() for p in net.parameters())
    flops = count_flops(net, torch.rand(1, 2, size, size)).flops
    return dict(params=params, mflops=flops / 1e6)


def bench_wl(args, tmp: str) -> dict:
    """TIM_w/L: FLOPs of the genotypes derived with λ = 0 and λ > 0."""
    spec = dict(SPACES['tim_fusion'])
    spec['search'] = 'configs/tim/search_fusion_ivif_wl_toy.py'
    rows, out = [['λ', 'seed', 'genotype MFLOPs', 'params', 'cells']], {}
    for lam in args.lambdas:
        out[str(lam)] = []
        for seed in range(args.search_seeds):
            work = osp.join(tmp, 'work', 'wl', f'lam{lam}_s{seed}')
            extra = {'model.regularizer.loss_weight': lam} if lam else \
                {'model.regularizer': None}
            fresh_search_folder(work, search_key(
                spec, 'tim_fusion_wl', args.wl_strategy, seed, args.quick,
                extra, getattr(args, 'toy_num', None)), f'wl λ={lam} s{seed}')
            genotype = run_search(spec, args.wl_strategy, seed, work,
                                  args.quick, extra=extra)
            res = genotype_cost(genotype)
            cells = [
                genotype.choices[k] for k in sorted(genotype.choices)
                if '/' not in k
            ]
            out[str(lam)].append(
                dict(mflops=res['mflops'], params=res['params'],
                     cells=cells))
            rows.append([
                str(lam), str(seed), f'{res["mflops"]:.2f}',
                f'{res["params"]:,}', ' '.join(cells)
            ])
            print(f'  [wl] λ={lam} seed {seed}: {res["mflops"]:.2f} MFLOPs',
                  flush=True)
    print('\nTIM_w/L on the toy fusion space (FlopsRegularizer, nested); '
          'cost of the derived N_F at 1 x 2 x 64 x 64:')
    print(AsciiTable(rows).table)
    return out


@contextlib.contextmanager
def _work_dir(path: str = None) -> Iterator[str]:
    """``path`` (created, kept) or a temporary folder (removed)."""
    if path:
        os.makedirs(path, exist_ok=True)
        yield osp.abspath(path)
    else:
        with tempfile.TemporaryDirectory(prefix='bench_svr_') as tmp:
            yield tmp


def main_control():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--quick', action='store_true',
                        help='short searches / retrains, fewer samples')
    parser.add_argument('--spaces', nargs='+', default=None,
                        choices=sorted(SPACES))
    parser.add_argument('--strategies', nargs='+', default=None,
                        choices=sorted(STRATEGIES))
    parser.add_argument('--search-seeds', type=int, default=2)
    parser.add_argument('--num-random', type=int, default=None)
    parser.add_argument('--retrain-seeds', type=int, default=None)
    parser.add_argument('--wl', action='store_true',
                        help='only the TIM_w/L cost comparison')
    parser.add_argument('--lambdas', type=float, nargs='+',
                        default=[0.0, 1.0])
    parser.add_argument('--wl-strategy', default='darts1',
                        choices=sorted(STRATEGIES))
    parser.add_argument('--out', default=None, help='also write the JSON')
    parser.add_argument(
        '--toy-num', type=int, default=None,
        help='IR/VIS toy pairs generated (a quarter is the held-out val '
        'split); default 48 with --quick, else 96')
    parser.add_argument(
        '--random-subset', type=int, nargs=2, default=None,
        metavar=('FIRST', 'END'),
        help='retrain only the random genotypes FIRST..END-1 of the same '
        '--num-random draws (to spread one space over processes; combine '
        'the scores by hand)')
    parser.add_argument(
        '--first-search-seed', type=int, default=0,
        help='search seeds FIRST..FIRST+--search-seeds-1')
    parser.add_argument(
        '--first-retrain-seed', type=int, default=0,
        help='retrain seeds FIRST..FIRST+--retrain-seeds-1 (to add a seed '
        'to an earlier run in another process)')
    parser.add_argument(
        '--reuse', default=None,
        help='folder with <space>/search_<strategy>_<seed>/genotype.yaml '
        'of an earlier run (with the same settings: checked against the '
        'search_key.json beside it where there is one) to use instead of '
        'searching again')
    parser.add_argument(
        '--work-dir', default=None,
        help='run in this folder (kept: the toy data, the searched and '
        'random genotypes under work/<space>/, for --reuse DIR/work) '
        'instead of a temporary one')
    parser.add_argument(
        '--jobs', type=int, default=1,
        help='run the independent units (each search seed; each genotype '
        'and retrain seed) in this many worker processes, one torch thread '
        'each (1: all in this process, the default); same results')
    parser.add_argument(
        '--search-cfg-options', nargs='+', action=DictAction, default=None,
        help='config options merged into every search config after the '
        "space's own (e.g. custom_hooks.0.stages.0.end=60)")
    parser.add_argument(
        '--retrain-cfg-options', nargs='+', action=DictAction, default=None,
        help='config options merged into every retrain config after the '
        "space's own (e.g. train_cfg.max_iters=200)")
    parser.add_argument(
        '--argmax-too', action='store_true',
        help="also retrain each search's plain argmax genotype (no "
        "regulariser budget; rows '<strategy>-argmax s<seed>') beside the "
        "config's derivation: a capped and an uncapped derivation of the "
        'same alpha')
    parser.add_argument(
        '--random-derived', type=int, default=0, metavar='N',
        help='also retrain N genotypes that the search config derives from '
        'a random alpha (i.i.d. N(0, 1); argmax plus its regulariser '
        "budget, e.g. the neck's skip/conv_1 cap; rows 'random-derived i', "
        'ranked against the uniform random ones like a strategy): does the '
        'learned alpha add anything beyond the derivation rule?')
    parser.add_argument(
        '--constant-ops', nargs='+', default=None, metavar='OP',
        help="also retrain, per OP, the genotype with OP at every choice "
        "point (rows 'constant <OP>', ranked like a strategy; e.g. skip "
        'and the largest op): can the proxy see the operators at all? A '
        'neck of all skip that scores like the random ones says no')
    parser.add_argument(
        '--match-size', choices=['params', 'flops'], default=None,
        help='also rank each searched genotype among random genotypes of '
        'its size (this measure of the searched part within '
        '--size-tolerance): after the searches, keep drawing from the same '
        'seeded stream as the --num-random draws until every searched '
        'genotype has --min-matched of them, and retrain the extra matched '
        "draws (rows 'random i (size-matched draw)'); flops: one forward "
        'pass per draw on the first held-out sample')
    parser.add_argument('--size-tolerance', type=float, default=0.15,
                        help='relative size tolerance of --match-size '
                        '(0.15: within ±15 %%)')
    parser.add_argument('--min-matched', type=int, default=8,
                        help='size-matched random genotypes needed per '
                        'searched genotype (--match-size)')
    parser.add_argument('--max-draws', type=int, default=1000,
                        help='the most random draws of --match-size (the '
                        '--num-random ones included); an error if some '
                        'searched genotype has fewer than --min-matched '
                        'matches by then')
    parser.add_argument(
        '--results-json', default=None, metavar='FILE',
        help='also write a results record (command, commit, machine, the '
        'searched genotypes\' ranks per space and the whole RESULT as '
        '"control") for tools/misc/results_to_docs.py, e.g. '
        'docs/results/search_vs_random_roadscene221.json')
    parser.add_argument('--unit', default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.unit:  # a worker process of --jobs
        _unit_main(args.unit)
        return
    if args.jobs < 1:
        parser.error(f'--jobs must be >= 1, got {args.jobs}')
    if args.match_size:
        if args.random_subset:
            parser.error('--match-size retrains all --num-random draws; it '
                         'cannot be combined with --random-subset')
        if not 0 < args.size_tolerance < 1:
            parser.error('--size-tolerance must lie in (0, 1), got '
                         f'{args.size_tolerance}')
        if args.min_matched < 1:
            parser.error(f'--min-matched must be >= 1, got '
                         f'{args.min_matched}')
    if args.num_random is None:
        args.num_random = 8 if args.quick else 12
    if args.retrain_seeds is None:
        args.retrain_seeds = 1 if args.quick else 2
    if args.strategies is None:
        args.strategies = ['ias_paper', 'darts1'] if args.quick else \
            ['ias_paper', 'darts1', 'implicit']
    # the real-data spaces run when named (they need their data folder)
    spaces = args.spaces or (['tim_fusion'] if args.quick else [
        s for s in SPACES if not SPACES[s].get('real_data')])
    if args.match_size and args.max_draws < args.num_random:
        parser.error(f'--max-draws ({args.max_draws}) must be at least '
                     f'--num-random ({args.num_random})')
    for s in spaces:  # a missing data folder fails before anything runs
        real_data_root(SPACES[s], s)
    if args.results_json:
        from mmfusenas.benchmark.results_record import check_record_path
        check_record_path(args.results_json)
    torch.set_num_threads(int(os.environ.get('OMP_NUM_THREADS', '1')))
    MMLogger.get_instance('mmengine', log_level='WARNING')
    cwd = os.getcwd()
    result: Dict[str, Any] = {}
    with _work_dir(args.work_dir) as tmp:
        os.makedirs(osp.join(tmp, 'data'), exist_ok=True)
        os.chdir(tmp)
        try:
            needed = {'ivif'} if args.wl else {
                SPACES[s]['data'] for s in spaces if SPACES[s].get('data')
            }
            for d in sorted(needed):
                DATA[d](osp.join(tmp, 'data'), args.quick,
                        args.toy_num if d == 'ivif' else None)
            if args.wl:
                result['tim_fusion_wl'] = bench_wl(args, tmp)
            else:
                for name in spaces:
                    print(f'== {name}', flush=True)
                    result[name] = bench_space(name, SPACES[name], args, tmp)
        finally:
            os.chdir(cwd)
    result['settings'] = dict(
        quick=args.quick,
        search_seeds=args.search_seeds,
        first_search_seed=args.first_search_seed,
        num_random=args.num_random,
        retrain_seeds=args.retrain_seeds,
        first_retrain_seed=args.first_retrain_seed,
        strategies=args.strategies,  # the RUAS spaces: their cooperative one
        jobs=args.jobs,
        argmax_too=args.argmax_too,
        random_derived=args.random_derived,
        constant_ops=args.constant_ops,
        search_cfg_options=args.search_cfg_options,
        retrain_cfg_options=args.retrain_cfg_options,
        match_size=args.match_size,
        size_tolerance=args.size_tolerance,
        min_matched=args.min_matched,
        max_draws=args.max_draws,
        score='held-out loss (the space\'s held-out split), lower is '
        'better')
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(result, f, indent=1)
    if args.results_json and not args.wl:
        write_control_record(args.results_json, result, spaces, sys.argv)
    print('RESULT ' + json.dumps(result))


#: the columns of a control's results record (tools/misc/results_to_docs.py)
RECORD_METRICS = ['held-out loss', 'rank % (all random)',
                  'rank % (size-matched)', 'size-matched n']


def control_record_tables(result: Dict[str, Any],
                          spaces: List[str]) -> Dict[str, dict]:
    """The docs tables of a control's RESULT: per space, one row per
    searched genotype (its held-out loss, its rank percentile among all
    uniform random genotypes and among the size-matched ones, how many
    those are, the searched part's parameters and FLOPs, the held-out
    pairs) and one row of the uniform random genotypes' median."""
    tables = {}
    first = result.get('settings', {}).get('first_search_seed', 0)
    for name in spaces:
        res = result[name]
        rows: Dict[str, dict] = {}
        for strategy, value in res.items():
            if not isinstance(value, dict) or 'searched_rank_pct' not in \
                    value:
                continue
            for k, score in enumerate(value['scores']):
                seed = first + k
                row = {'held-out loss': score}
                if res['n_random']:
                    row['rank % (all random)'] = \
                        value['searched_rank_pct'][k]
                if 'matched_rank_pct' in value:
                    row['rank % (size-matched)'] = \
                        value['matched_rank_pct'][k]
                    row['size-matched n'] = value['n_matched'][k]
                row.update(params=value['params'][k],
                           flops=value['mflops'][k] * 1e6)
                rows[f'{strategy} s{seed}'] = row
        if res['n_random']:
            rows[f'random median ({res["n_random"]} uniform draws)'] = {
                'held-out loss': res['random_median']}
        if res.get('held_out_n'):
            for row in rows.values():
                row['pairs'] = res['held_out_n']
        tables[f'{name}: {res.get("held_out", "held-out split")}'] = rows
    return tables


def control_goal(result: Dict[str, Any], spaces: List[str],
                 min_seeds: int = 2) -> dict:
    """The decided form of "the search beats random": in every space, the
    default strategy's genotype of **every** search seed (>= ``min_seeds``)
    ranks above the median of the random genotypes of its size
    (``matched_rank_pct`` > 50; among all uniform draws without
    ``--match-size``), its score the mean over >= ``min_seeds`` retrain
    seeds. ``values`` also carry, per search, the first measurement at
    which softmax(α) had separated (None: never, within the cap) when the
    search config has an ``ArchSeparationHook``."""
    settings = result.get('settings', {})
    values, ok = {}, True
    for name in spaces:
        res = result[name]
        strategy = res['default_strategy']
        mine = res.get(strategy, {})
        ranks = mine.get('matched_rank_pct', mine.get('searched_rank_pct',
                                                      []))
        v = dict(strategy=strategy, rank_pct=ranks,
                 size_matched='matched_rank_pct' in mine,
                 search_seeds=len(ranks),
                 retrain_seeds=settings.get('retrain_seeds'))
        curves = mine.get('arch_separation')
        if curves:
            v['separated_at'] = [
                next((pt['step'] for pt in c if pt['separated']), None)
                if c else None for c in curves]
            v['final_min_ratio'] = [c[-1]['min_ratio'] if c else None
                                    for c in curves]
        ok &= (len(ranks) >= min_seeds
               and (settings.get('retrain_seeds') or 0) >= min_seeds
               and all(r is not None and r > 50 for r in ranks))
        values[name] = v
    return dict(criterion=(
        'the searched genotype ranks above the median of its size-matched '
        'random genotypes (held-out loss, mean over >= 2 retrain seeds) in '
        'every one of >= 2 search seeds'), values=values, reached=bool(ok))


def write_control_record(path: str, result: Dict[str, Any],
                         spaces: List[str], argv: List[str]) -> dict:
    """Write the control's results record (``--results-json``): the docs
    tables of :func:`control_record_tables`, a note per space (the
    uniform draws' Spearman rho with their parameters; the size matching)
    and the whole RESULT as ``control``."""
    from mmfusenas.benchmark.results_record import write_results_record
    notes = []
    for name in spaces:
        res = result[name]
        rho = res['spearman_score_params']
        if rho is None:
            note = (f'{name}: no uniform random genotypes, only '
                    'size-matched ones')
        else:
            note = (f'{name}: Spearman rho of the {res["n_random"]} '
                    'uniform random genotypes\' held-out loss with their '
                    f'parameters {rho:+.2f}')
        match = res.get('size_match')
        if match:
            note += (f'; size-matched: {match["metric"]} within '
                     f'±{match["tolerance"]:.0%} of the searched part, '
                     f'{match["draws"]} draws, '
                     f'{len(match["extra_retrained"])} retrained beyond the '
                     'uniform ones')
        notes.append(note + '.')
    notes.append('Held-out loss: lower is better; rank %: percent of the '
                 'random genotypes with a higher loss (100 = better than '
                 'all, 50 = the median).')
    command = 'python ' + ' '.join(
        [osp.relpath(osp.abspath(argv[0]), ROOT)] + argv[1:])
    return write_results_record(
        path, command, ROOT, control_record_tables(result, spaces),
        threads=int(os.environ.get('OMP_NUM_THREADS', '1')),
        metrics=RECORD_METRICS, note=' '.join(notes),
        goal=control_goal(result, spaces), control=result)


MODES = {'control': main_control}


def main(argv=None):
    """Run the mode ``--mode`` names (default ``control``)."""
    return run_mode(MODES, argv)


if __name__ == '__main__':
    main()
