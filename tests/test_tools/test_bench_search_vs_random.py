"""Protocol helpers of benchmarks/bench_search_vs_random.py."""
import importlib.util
import json
import os
import os.path as osp

import pytest
from mmengine.config import Config

from mmfusenas.benchmark.search_spaces import (SPACES, anchor_positives,
                                               set_img_scale)
from mmfusenas.testing.toy_data.control_sets import DATA

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


@pytest.fixture(scope='module')
def bench():
    path = osp.join(REPO, 'benchmarks', 'bench_search_vs_random.py')
    spec = importlib.util.spec_from_file_location('bench_svr', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _scales(cfg):
    found = []

    def walk(node):
        if isinstance(node, dict):
            if node.get('type') == 'PairedResize':
                found.append(tuple(node['scale']))
            for v in node.values():
                walk(v)
        elif isinstance(node, (list, tuple)):
            for v in node:
                walk(v)

    walk(cfg._cfg_dict)
    return found


@pytest.mark.parametrize('space', ['tim_neck', 'tim_decoder'])
def test_img_scale_reaches_every_loader_of_search_and_retrain(space):
    spec = SPACES[space]
    assert spec['img_scale'] == (64, 64)
    for key in ('search', 'retrain'):
        cfg = Config.fromfile(osp.join(REPO, spec[key]))
        before = _scales(cfg)
        # the toy neck search's own loaders already run at 64 px (its
        # proxy setting); its unused test loader and the retrain configs
        # at the detectors' 128 px
        assert before and set(before) <= {(128, 128), (64, 64)}, key
        assert (128, 128) in before, key
        set_img_scale(cfg._cfg_dict, spec['img_scale'])
        after = _scales(cfg)
        # the weights loader, the alpha loader (search) and the evaluation
        # loaders all resize to the toy pairs' own size
        assert after == [(64, 64)] * len(before), key
    cfg = Config.fromfile(osp.join(REPO, spec['search']))
    set_img_scale(cfg._cfg_dict, (64, 64))
    arch = cfg.train_cfg.arch_dataloader.dataset.pipeline
    train = cfg.train_dataloader.dataset.pipeline
    assert [t.get('scale') for t in arch if t['type'] == 'PairedResize'] == \
        [(64, 64)]
    assert [t.get('scale') for t in train if t['type'] == 'PairedResize'] == \
        [(64, 64)]


def test_rank_percentile_by_hand(bench):
    randoms = [1.0, 2.0, 3.0, 4.0]  # held-out losses, lower is better
    assert bench.rank_pct(0.5, randoms) == 100.0
    assert bench.rank_pct(2.5, randoms) == 50.0
    assert bench.rank_pct(3.0, randoms) == 37.5  # a tie counts half
    assert bench.rank_pct(5.0, randoms) == 0.0


def test_random_draws_do_not_depend_on_the_subset(bench):
    # --random-subset retrains a slice of the same draws: the draws
    # themselves must be a function of (space, n, seed) only
    spec = SPACES['tim_decoder']
    first = bench.random_genotypes(spec, 4, seed=1000)
    again = bench.random_genotypes(spec, 4, seed=1000)
    assert [g.choices for g in first] == [g.choices for g in again]
    assert len({tuple(sorted(g.choices.items())) for g in first}) == 4
    assert all('zero' not in g.choices.values() for g in first)


def _retina(octave_base_scale, strides):
    return dict(
        bbox_head=dict(
            anchor_generator=dict(
                type='AnchorGenerator',
                octave_base_scale=octave_base_scale,
                scales_per_octave=1,
                ratios=[1.0],
                strides=strides)),
        train_cfg=dict(
            assigner=dict(
                type='MaxIoUAssigner',
                pos_iou_thr=0.5,
                neg_iou_thr=0.4,
                min_pos_iou=0,
                ignore_iof_thr=-1)))


def _coco(tmp_path, boxes, size=64):
    import json
    ann = dict(
        images=[dict(id=1, width=size, height=size, file_name='1.png')],
        annotations=[
            dict(id=i, image_id=1, bbox=b, category_id=1)
            for i, b in enumerate(boxes)
        ])
    path = tmp_path / 'ann.json'
    path.write_text(json.dumps(ann))
    return str(path)


def test_anchor_positives_by_hand(tmp_path):
    # a 64 px image resized to 32 px: the box (0, 0, 32, 32) becomes
    # (0, 0, 16, 16), exactly the stride-8 anchor of size 2 x 8 centred at
    # (8, 8) (IoU 1; its neighbours 1/3 < 0.5); the stride-4 anchors are
    # 8 px (IoU <= 0.25): positives [0, 1]
    det = _retina(2, [4, 8])
    ann = _coco(tmp_path, [[0, 0, 32, 32]])
    assert anchor_positives(det, ann, (32, 32)) == [0, 1]
    # a 10 px box (5 px at 32 px) matches no anchor by IoU >= 0.5; with
    # min_pos_iou=0 its best anchor (a stride-4 8 px one) is still positive
    ann = _coco(tmp_path, [[4, 4, 10, 10]])
    assert anchor_positives(det, ann, (32, 32)) == [1, 0]
    with pytest.raises(KeyError, match='train_cfg.assigner|train_cfg'):
        anchor_positives(dict(bbox_head=det['bbox_head']), ann, (32, 32))


def test_neck_space_anchors_give_coarse_levels_positives(tmp_path):
    # the diagnosis of the neck control: at the benchmark's 64 px the toy
    # configs' anchors (2 x stride, meant for 128 px) leave the stride-16 and
    # stride-32 outputs without a positive; the space's anchors (0.4 x
    # stride) give >= 3 of the 4 levels positives, in the search and the
    # retrain config alike
    from mmfusenas.testing.toy_data.ivif import generate_toy_dataset
    root = str(tmp_path / 'toy')
    generate_toy_dataset(root, num=16, seed=0, size=64, val_fraction=0.25)
    ann = osp.join(root, 'annotations', 'instances_train.json')
    spec = SPACES['tim_neck']
    cfg = Config.fromfile(osp.join(REPO, spec['retrain']))
    before = anchor_positives(cfg.model.detector, ann, (64, 64))
    assert before[0] > 0 and before[2:] == [0, 0], before
    cfg.merge_from_dict(spec['retrain_opts'](True))
    after = anchor_positives(cfg.model.detector, ann, (64, 64))
    assert sum(n > 0 for n in after) >= 3, after
    search = Config.fromfile(osp.join(REPO, spec['search']))
    search.merge_from_dict(spec['search_opts'](True))
    assert search.model.architecture.detector.bbox_head.anchor_generator \
        == cfg.model.detector.bbox_head.anchor_generator


def test_toy_neck_search_runs_at_its_proxy_setting():
    # search_retinanet_ivif_toy.py: weights and alpha loaders at 64 px with
    # anchors of 0.4 x stride (the benchmark's measured setting); its retrain
    # config keeps the detector's 128 px and 2 x stride anchors
    cfg = Config.fromfile(
        osp.join(REPO, 'configs', 'tim', 'search_retinanet_ivif_toy.py'))
    for loader in (cfg.train_dataloader, cfg.train_cfg.arch_dataloader):
        resize = [t for t in loader.dataset.pipeline
                  if t['type'] == 'PairedResize']
        assert [tuple(t['scale']) for t in resize] == [(64, 64)]
    anchors = cfg.model.architecture.detector.bbox_head.anchor_generator
    assert anchors.octave_base_scale == 0.4
    assert anchors.strides == [4, 8, 16, 32]
    retrain = Config.fromfile(
        osp.join(REPO, 'configs', 'tim', 'retrain_retinanet_ivif_toy.py'))
    assert retrain.model.detector.bbox_head.anchor_generator \
        .octave_base_scale == 2
    assert dict(anchors, octave_base_scale=2) == \
        retrain.model.detector.bbox_head.anchor_generator


def test_neck_score_pipeline_is_deterministic(bench, monkeypatch):
    # tim_neck scores with the training pipeline (the test pipeline loads no
    # boxes) without its random flips; other spaces keep them (seeded)
    monkeypatch.setattr(bench.Runner, 'build_dataloader',
                        staticmethod(lambda loader, seed=0: loader))
    for space, flips in [('tim_neck', False), ('tim_decoder', True)]:
        spec = SPACES[space]
        cfg = Config.fromfile(osp.join(REPO, spec['retrain']))
        loader = bench._score_loader(cfg, spec)
        types = [t['type'] for t in loader.dataset.pipeline]
        train = [t['type'] for t in cfg.train_dataloader.dataset.pipeline]
        assert 'PairedRandomFlip' in train
        assert ('PairedRandomFlip' in types) == flips, space
        assert [t for t in train if t != 'PairedRandomFlip'] == \
            [t for t in types if t != 'PairedRandomFlip']
        # the held-out split, never the training one
        assert 'val' in loader.dataset.ann_file, space
        assert loader.sampler == dict(type='DefaultSampler', shuffle=False)


def test_every_toy_set_takes_the_pair_count_that_main_passes(tmp_path):
    # main() calls DATA[d](root, quick, toy_num or None) for every data set;
    # the night-time set of the chain space once took two arguments only
    import json
    DATA['night'](str(tmp_path), True, 8)
    with open(tmp_path / 'toy_night' / 'meta.json') as f:
        meta = json.load(f)
    assert meta['num_train'] + meta['num_val'] == 8
    for name, make in DATA.items():
        assert make.__code__.co_argcount == 3, name


def _args(bench, **kw):
    import argparse
    base = dict(
        quick=True, strategies=['darts1', 'ias_paper'], search_seeds=2,
        first_search_seed=0, num_random=3, random_subset=None,
        retrain_seeds=2, first_retrain_seed=0, reuse=None,
        search_cfg_options={'train_cfg.max_iters': 7},
        retrain_cfg_options={'train_dataloader.dataset.pipeline.2.scale':
                             (64, 64)})
    base.update(kw)
    return argparse.Namespace(**base)


def test_units_of_a_control_have_their_own_work_dirs(bench, tmp_path):
    # --jobs runs the units side by side: every search (strategy, seed) and
    # every retraining (genotype, retrain seed) is one unit with a work dir
    # of its own; a searched genotype's retrainings wait for its search,
    # the random ones for nothing
    spec = SPACES['tim_neck']
    rows, units = bench.plan_units('tim_neck', spec, _args(bench),
                                   str(tmp_path))
    searches = [u for u in units if u['kind'] == 'search']
    retrains = [u for u in units if u['kind'] == 'retrain']
    assert len(searches) == 2 * 2  # 2 strategies x 2 search seeds
    assert len(retrains) == (4 + 3) * 2  # (searched + random) x 2 seeds
    assert len({u['work'] for u in units}) == len(units)
    assert len({u['id'] for u in units}) == len(units)
    assert len({u['result'] for u in units}) == len(units)
    assert [r[0] for r in rows] == [
        'darts1 s0', 'darts1 s1', 'ias_paper s0', 'ias_paper s1',
        'random 0', 'random 1', 'random 2'
    ]
    by_id = {u['id']: u for u in units}
    for u in retrains:
        if u['label'].startswith('random'):
            assert u['deps'] == []
        else:
            strategy, seed = u['label'].split(' s')
            dep, = u['deps']
            assert by_id[dep]['genotype'] == u['genotype']
            assert (by_id[dep]['strategy'], by_id[dep]['seed']) == \
                (strategy, int(seed))
    # the options as a worker reads them back from its JSON
    assert searches[0]['extra'] == {'train_cfg.max_iters': 7}
    assert retrains[0]['extra'] == {
        'train_dataloader.dataset.pipeline.2.scale': [64, 64]}
    # a reused search is no unit; its retrainings wait for nothing
    reuse = tmp_path / 'reuse' / 'tim_neck' / 'search_darts1_0'
    reuse.mkdir(parents=True)
    import shutil
    shutil.copy(rows[4][2], reuse / 'genotype.yaml')
    _, units = bench.plan_units(
        'tim_neck', spec, _args(bench, reuse=str(tmp_path / 'reuse')),
        str(tmp_path))
    assert 'tim_neck/search_darts1_0' not in {u['id'] for u in units}
    assert [u['deps'] for u in units
            if u['kind'] == 'retrain' and u['label'] == 'darts1 s0'] == \
        [[], []]


def test_run_units_reports_a_failed_worker(bench, tmp_path, monkeypatch):
    # a worker that exits non-zero stops the run with its exit code and the
    # end of its log; the in-process path raises the unit's own error
    import subprocess
    import sys

    def start(unit):
        import os
        os.makedirs(unit['work'], exist_ok=True)
        log = open(osp.join(unit['work'], 'unit.log'), 'w')
        proc = subprocess.Popen(
            [sys.executable, '-c',
             'import sys; print("boom: kind must be search"); sys.exit(3)'],
            stdout=log, stderr=subprocess.STDOUT)
        log.close()
        return proc

    unit = dict(id='x/retrain_bad_0', kind='nonsense', space='tim_neck',
                quick=True, root=str(tmp_path), work=str(tmp_path / 'w'),
                deps=[], result=str(tmp_path / 'w' / 'unit_result.json'))
    with pytest.raises(ValueError, match="kind must be 'search'"):
        bench.run_units([unit], jobs=1)
    monkeypatch.setattr(bench, '_start_unit', start)
    with pytest.raises(RuntimeError, match=r'unit x/retrain_bad_0 failed '
                       r'\(exit 3\)(.|\n)*boom: kind must be'):
        bench.run_units([unit], jobs=2)
    # a unit waiting for a unit that is not in the list
    waiting = dict(unit, id='x/retrain_y_0', deps=['x/search_nowhere'])
    with pytest.raises(RuntimeError, match='unknown units'):
        bench.run_units([waiting], jobs=2)


@pytest.mark.slow
def test_jobs_give_the_same_scores_as_one_process(tmp_path):
    # one search seed and one random neck, each retrained once, a few
    # iterations: --jobs 2 (worker processes) and --jobs 1 (in process)
    import json
    import os
    import subprocess
    import sys
    results = {}
    for jobs in (1, 2):
        out = tmp_path / f'jobs{jobs}.json'
        cmd = [
            sys.executable,
            osp.join(REPO, 'benchmarks', 'bench_search_vs_random.py'),
            '--quick', '--spaces', 'tim_neck', '--strategies', 'darts1',
            '--search-seeds', '1', '--num-random', '1', '--retrain-seeds',
            '1', '--toy-num', '8', '--jobs', str(jobs), '--out', str(out),
            '--argmax-too',
            '--search-cfg-options', 'train_cfg.max_iters=3',
            'custom_hooks.0.stages.0.end=1',
            'custom_hooks.0.stages.1.begin=1', '--retrain-cfg-options',
            'train_cfg.max_iters=2'
        ]
        env = dict(os.environ, OMP_NUM_THREADS='1',
                   PYTHONPATH=os.pathsep.join(
                       [REPO, os.environ.get('PYTHONPATH', '')]))
        subprocess.run(cmd, check=True, env=env, cwd=str(tmp_path),
                       stdout=subprocess.DEVNULL)
        results[jobs] = json.loads(out.read_text())['tim_neck']
    one, two = results[1], results[2]
    assert one['retrain_scores'] == two['retrain_scores']
    assert set(one['retrain_scores']) == {
        'darts1 s0', 'darts1-argmax s0', 'random 0'}
    assert one['darts1'] == two['darts1']
    assert one['darts1-argmax'] == two['darts1-argmax']


def test_toy_neck_search_caps_cheap_edges_at_derivation(bench):
    # search_retinanet_ivif_toy.py derives at most 2 parameter-free / 1x1
    # edges (skip, conv_1): a hand-made alpha with 4 such winners keeps
    # the 2 whose runner-up loses most and switches the other 2
    import math

    import torch

    import mmfusenas.search  # noqa: F401
    from mmfusenas.models.mutables import (ArchParams, bind_arch_params,
                                           derive_choices)
    from mmfusenas.registry import MODELS, TASK_UTILS
    cfg = Config.fromfile(
        osp.join(REPO, 'configs', 'tim', 'search_retinanet_ivif_toy.py'))
    assert cfg.model.regularizer == dict(
        type='SkipCountRegularizer', loss_weight=0.0,
        skip_names=('skip', 'conv_1'), budget=2)
    # the searched part and its alpha, as BilevelSearchAlgorithm builds them
    neck = MODELS.build(cfg.model.architecture.detector.neck)
    arch_params = ArchParams()
    bind_arch_params(neck, arch_params)
    reg = TASK_UTILS.build(cfg.model.regularizer)
    keys = arch_params.keys()
    assert len(keys) == 18
    # key: (cheap winner, its alpha, runner-up, its alpha); other ops 0
    hand = {
        'neck/cell0/edge0': ('skip', 3.0, 'res_conv_3', 2.0),
        'neck/cell1/edge1': ('conv_1', 3.0, 'conv_3', 1.0),
        'neck/cell2/edge2': ('skip', 2.0, 'dil_conv_3_2', 1.9),
        'neck/cell3/edge0': ('conv_1', 3.0, 'res_conv_5', 2.5),
    }
    with torch.no_grad():
        for key in keys:
            names = arch_params.choices(key)
            alpha = torch.zeros(len(names))
            if key in hand:
                win, a, second, b = hand[key]
                alpha[names.index(win)] = a
                alpha[names.index(second)] = b
            else:
                alpha[names.index('res_conv_3')] = 1.0
            arch_params.alphas[key].copy_(alpha)
    # probability lost by switching to the runner-up (11 candidates):
    # (e^a - e^b) / (e^a + e^b + 9)
    lost = {k: (math.exp(a) - math.exp(b)) / (math.exp(a) + math.exp(b) + 9)
            for k, (_, a, _, b) in hand.items()}
    assert sorted(lost, key=lost.get)[:2] == [
        'neck/cell2/edge2', 'neck/cell3/edge0']
    uncapped = derive_choices(neck)
    assert sum(v in ('skip', 'conv_1') for v in uncapped.values()) == 4
    # the search prepares the regulariser at its first alpha step and
    # derives through fit_to_budget (BilevelSearchAlgorithm.derive_genotype)
    reg.prepare(neck, arch_params, None)
    capped, meta = reg.fit_to_budget(uncapped, arch_params)
    expected = {k: 'res_conv_3' for k in keys}
    expected.update({
        'neck/cell0/edge0': 'skip',
        'neck/cell1/edge1': 'conv_1',
        'neck/cell2/edge2': 'dil_conv_3_2',
        'neck/cell3/edge0': 'res_conv_5',
    })
    assert capped == expected
    assert meta['budget_swaps'] == [
        'neck/cell2/edge2: skip -> dil_conv_3_2',
        'neck/cell3/edge0: conv_1 -> res_conv_5'
    ]
    assert meta['cost'] == 2.0
    # --argmax-too: the plain derivation of the same alpha, from the
    # probabilities the capped genotype stores
    from mmfusenas.models.mutables import Genotype
    space = cfg.model.architecture.detector.neck.to_dict()
    genotype = Genotype.from_space(
        space, capped, probabilities=arch_params.probabilities(),
        meta=dict(meta, strategy='DartsFirstOrderStrategy'))
    plain = bench.argmax_genotype(genotype)
    assert plain.choices == uncapped
    assert plain.meta == dict(strategy='DartsFirstOrderStrategy',
                              derivation='argmax (no budget)')
    assert plain.network == Genotype.from_space(space, uncapped).network
    with pytest.raises(ValueError, match='probabilities of every choice'):
        bench.argmax_genotype(Genotype.from_space(space, capped))


def test_held_out_losses_are_per_term_sample_weighted_means(bench,
                                                            monkeypatch):
    # two held-out batches of 2 and 1 images: every logged term is the
    # image-weighted mean over the split; the score is the total ``loss``
    # or, with a space's ``score_keys``, the sum of the named terms
    import torch
    from mmengine.model import BaseModel

    class Fixed(BaseModel):

        def __init__(self):
            super().__init__()
            self.losses = iter([
                dict(loss_cls=torch.tensor(1.0), loss_bbox=torch.tensor(4.0),
                     eta=torch.tensor(0.5)),
                dict(loss_cls=torch.tensor(4.0), loss_bbox=torch.tensor(1.0),
                     eta=torch.tensor(0.5)),
            ])

        def forward(self, inputs, data_samples=None, mode='loss'):
            return next(self.losses)

    batches = [dict(inputs=[torch.zeros(1)] * 2),
               dict(inputs=[torch.zeros(1)])]
    monkeypatch.setattr(bench, '_score_loader', lambda cfg, spec: batches)
    runner = type('R', (), {'model': Fixed()})()
    parts = bench.held_out_losses(runner, None, {})
    # loss_cls (2 * 1 + 1 * 4) / 3 = 2, loss_bbox (2 * 4 + 1) / 3 = 3
    assert parts == pytest.approx(dict(loss=5.0, loss_cls=2.0, loss_bbox=3.0,
                                       eta=0.5))
    assert bench.score_of(parts) == pytest.approx(5.0)
    assert bench.score_of(parts, ('loss_cls', )) == pytest.approx(2.0)
    assert bench.score_of(parts, ['loss_cls', 'loss_bbox']) == \
        pytest.approx(5.0)
    with pytest.raises(KeyError, match=r"\['loss_iou'\].*loss_bbox"):
        bench.score_of(parts, ('loss_iou', ))


def test_signal_vs_noise_by_hand(bench):
    # seed 1 is 2 worse than seed 0 for every genotype: a shared offset
    # (one-way within variance 2, but no genotype x seed interaction), so
    # the means 2, 3, 7 (variance 7) are all true between-genotype spread
    sig = bench.signal_vs_noise({'a': [1.0, 3.0], 'b': [2.0, 4.0],
                                 'c': [6.0, 8.0], 'one seed': [0.0]})
    assert sig['genotypes'] == 3 and sig['seeds'] == 2
    assert sig['within_sd'] == pytest.approx(2**0.5)
    assert sig['interaction_sd'] == pytest.approx(0.0, abs=1e-12)
    assert sig['seed_sd'] == pytest.approx(2**0.5)  # seed means 3, 5
    assert sig['means_sd'] == pytest.approx(7**0.5)
    assert sig['between_sd'] == pytest.approx(7**0.5)
    assert sig['reliability'] == pytest.approx(1.0)
    # with a genotype x seed interaction
    x = {'a': [0.0, 2.0], 'b': [1.0, 1.0], 'c': [2.0, 3.0]}
    # grand 1.5, genotype means 1, 1, 2.5, seed means 1, 2:
    # residuals a: 0-1-1+1.5=-0.5, 2-1-2+1.5=0.5; b: 0.5, -0.5;
    # c: 0, 0 -> interaction var (4 * 0.25) / (2 * 1) = 0.5
    sig = bench.signal_vs_noise(x)
    assert sig['interaction_sd'] == pytest.approx(0.5**0.5)
    means_var = 0.75  # var(1, 1, 2.5), ddof 1
    assert sig['means_sd'] == pytest.approx(means_var**0.5)
    assert sig['between_sd'] == pytest.approx((means_var - 0.5 / 2)**0.5)
    assert sig['reliability'] == pytest.approx((means_var - 0.25) /
                                               means_var)
    # pure noise: every genotype's seeds average to the same value
    noise = bench.signal_vs_noise({'a': [1.0, 2.0], 'b': [2.0, 1.0],
                                   'c': [0.5, 2.5]})
    assert noise['between_sd'] == 0.0 and noise['reliability'] == 0.0
    # the smallest common number of seeds; too few genotypes: nothing
    assert bench.signal_vs_noise({'a': [0.0, 2.0, 9.0], 'b': [1.0, 1.0],
                                  'c': [2.0, 3.0]}) == sig
    assert bench.signal_vs_noise({'a': [1.0, 2.0], 'b': [3.0, 4.0]}) == {}


def test_rank_by_term_and_parts_in_the_result(bench):
    results = [
        dict(label='s', kind='darts1', parts=[
            dict(loss=3.0, loss_cls=1.0, eta=0.5),
            dict(loss=5.0, loss_cls=1.0, eta=0.5)]),
        dict(label='r0', kind='random', parts=[
            dict(loss=2.0, loss_cls=2.0, eta=0.5),
            dict(loss=2.0, loss_cls=3.0, eta=0.5)]),
    ]
    # the loss terms every retraining logged, the total first, no weights
    assert bench._loss_terms(results) == ['loss', 'loss_cls']
    assert bench._term_mean(results[0], 'loss') == 4.0
    assert bench._loss_terms([dict(parts=[None])]) == []


def test_spearman_and_score_predictors_by_hand(bench):
    # score_predictors' rank correlation is the predictors' spearman_rho
    # (average ranks of ties, here 0-based)
    from scipy import stats

    xs, ys = [1.0, 2.0, 2.0, 5.0, 3.0], [0.5, 0.1, 0.4, 0.9, 0.3]
    assert bench.spearman_rho(xs, ys) == pytest.approx(
        stats.spearmanr(xs, ys)[0])
    assert bench.spearman_rho([1, 2, 3], [3, 2, 1]) == pytest.approx(-1.0)
    rows = [
        dict(mean=1.0, params=10, mflops=1.0,
             choices={'a': 'skip', 'b': 'conv_3'}),
        dict(mean=2.0, params=20, mflops=1.0,
             choices={'a': 'skip', 'b': 'skip'}),
        dict(mean=3.0, params=30, mflops=1.0,
             choices={'a': 'conv_3', 'b': 'conv_3'}),
        dict(mean=4.0, params=5, mflops=1.0,
             choices={'a': 'conv_5', 'b': 'conv_3'}),
    ]
    pred = bench.score_predictors(rows)
    # FLOPs are constant: left out; n_skip = 1, 2, 0, 0
    assert 'mflops' not in pred
    assert pred['params'] == pytest.approx(round(
        stats.spearmanr([10, 20, 30, 5], [1, 2, 3, 4])[0], 3))
    assert pred['n_skip'] == pytest.approx(round(
        stats.spearmanr([1, 2, 0, 0], [1, 2, 3, 4])[0], 3))
    assert pred['n_conv_5'] == pytest.approx(round(
        stats.spearmanr([0, 0, 0, 1], [1, 2, 3, 4])[0], 3))
    assert bench.score_predictors(rows[:3]) == {}


def test_random_alpha_through_the_search_derivation(bench):
    # --random-derived: random alpha, derived as the toy neck search derives
    # (argmax + its cap of 2 skip / conv_1 edges): seeded, distinct, capped,
    # and exactly the capped argmax of the probabilities they store
    spec = SPACES['tim_neck']
    assert bench.derived_random_genotypes(spec, 0, seed=2000) == []
    first = bench.derived_random_genotypes(spec, 3, seed=2000)
    again = bench.derived_random_genotypes(spec, 3, seed=2000)
    assert [g.choices for g in first] == [g.choices for g in again]
    assert len({tuple(sorted(g.choices.items())) for g in first}) == 3
    for g in first:
        assert len(g.choices) == 18
        cheap = [k for k, v in g.choices.items() if v in ('skip', 'conv_1')]
        assert len(cheap) <= 2
        plain = bench.argmax_genotype(g)
        n_plain = sum(v in ('skip', 'conv_1') for v in plain.choices.values())
        # an edge differs from the plain argmax only where the cap swapped
        swapped = {s.split(':')[0] for s in g.meta.get('budget_swaps', [])}
        assert {k for k in g.choices
                if g.choices[k] != plain.choices[k]} == swapped
        assert len(swapped) == max(0, n_plain - 2)
        assert g.meta['random_derived'] in (0, 1, 2)


def test_score_groups_sum_terms_and_rank_like_a_term(bench):
    results = [
        dict(label='s', parts=[dict(loss=9.0, loss_cls=1.0, loss_bbox=2.0)]),
        dict(label='r', parts=[dict(loss=5.0, loss_cls=2.0, loss_bbox=2.5)]),
    ]
    groups = SPACES['tim_neck']['score_groups']
    assert groups == {'task': ('loss_cls', 'loss_bbox')}
    assert bench.add_score_groups(results, groups) == ['task']
    assert results[0]['parts'][0]['task'] == 3.0
    assert results[1]['parts'][0]['task'] == 4.5
    # by the total the first loses, by the task loss it wins
    assert bench.rank_pct(bench._term_mean(results[0], 'task'),
                          [bench._term_mean(results[1], 'task')]) == 100.0
    with pytest.raises(KeyError, match=r"score_groups\['x'\].*loss_iou"):
        bench.add_score_groups(results, {'x': ('loss_iou', )})


def test_constant_genotypes_put_one_op_on_every_choice_point(bench):
    # --constant-ops: the proxy check (can the control see the operators?)
    spec = SPACES['tim_neck']
    assert bench.constant_genotypes(spec, []) == []
    skip, big = bench.constant_genotypes(spec, ['skip', 'res_conv_7'])
    assert len(skip.choices) == 18
    assert set(skip.choices.values()) == {'skip'}
    assert set(big.choices.values()) == {'res_conv_7'}
    assert (skip.meta['constant_op'], big.meta['constant_op']) == \
        ('skip', 'res_conv_7')
    # a valid genotype of the space: it round-trips through a file
    assert bench.Genotype.from_space(skip.space, skip.choices).network == \
        skip.network
    with pytest.raises(ValueError, match=r"'sep_conv_3' is not a candidate "
                       r'of 18 of the 18 choice points'):
        bench.constant_genotypes(spec, ['sep_conv_3'])


def test_constant_ops_are_retrained_and_ranked_like_a_strategy(
        bench, tmp_path):
    args = bench.argparse.Namespace(
        strategies=['darts1'], quick=True, search_seeds=0,
        first_search_seed=0, reuse=None, argmax_too=False, random_derived=0,
        constant_ops=['skip'], random_subset=None, num_random=1,
        retrain_seeds=2, first_retrain_seed=0, search_cfg_options=None,
        retrain_cfg_options=None)
    rows, units = bench.plan_units('tim_neck', SPACES['tim_neck'],
                                   args, str(tmp_path))
    assert [(label, kind) for label, kind, _ in rows] == [
        ('constant skip', 'constant'), ('random 0', 'random')]
    path = rows[0][2]
    assert set(bench.Genotype.load(path).choices.values()) == {'skip'}
    assert sorted(u['id'] for u in units) == [
        'tim_neck/retrain_constant_skip_0', 'tim_neck/retrain_constant_skip_1',
        'tim_neck/retrain_random_0_0', 'tim_neck/retrain_random_0_1']


def _fake_retraining(bench, tmp_path, monkeypatch, **options):
    """A genotype file, a retrain unit of it (``options`` added) and the
    seeds the faked retrainings ran with (each scores their count)."""
    calls = []

    def fake_retrain(spec, genotype, seed, work, quick, extra=None):
        calls.append(seed)
        return dict(score=float(len(calls)), params=7, mflops=1.0)

    monkeypatch.setattr(bench, 'retrain', fake_retrain)
    genotype = tmp_path / 'g.yaml'
    genotype.write_text('choices:\n  cell0: ms\n')
    work = tmp_path / 'work'
    work.mkdir()
    return calls, genotype, dict(space='tim_fusion', kind='retrain',
                                 genotype=str(genotype), seed=0,
                                 work=str(work), quick=True, extra={},
                                 **options)


def test_a_finished_retraining_is_kept_on_restart_only_for_its_key(
        bench, tmp_path, monkeypatch):
    calls, genotype, unit = _fake_retraining(bench, tmp_path, monkeypatch)
    first = bench.run_unit(unit)
    assert first == dict(score=1.0, params=7, mflops=1.0) and calls == [0]
    # started again: the stored result, no second retraining
    assert bench.run_unit(dict(unit)) == first and calls == [0]
    # another seed, other options or another genotype: trained again
    assert bench.run_unit(dict(unit, seed=1))['score'] == 2.0
    assert bench.run_unit(dict(unit, extra={'a': 1}))['score'] == 3.0
    genotype.write_text('choices:\n  cell0: dc\n')
    assert bench.run_unit(dict(unit, extra={'a': 1}))['score'] == 4.0
    assert calls == [0, 1, 0, 0]


def test_retrain_key_holds_the_retrain_config_and_the_toy_num(
        bench, tmp_path, monkeypatch):
    """A finished retraining is kept only when the retrain config's content
    (here: the space's retrain options) and ``--toy-num`` are unchanged;
    the key holds no path of the checkout or of the work folder."""
    calls, _, unit = _fake_retraining(bench, tmp_path, monkeypatch,
                                      toy_num=8)
    key = bench.retrain_key(unit)
    assert key['toy_num'] == 8 and len(key['config_sha256']) == 64
    assert str(tmp_path) not in json.dumps(key)
    assert bench.ROOT not in json.dumps(key)
    # a real-data space: its data folder (outside the checkout) is no part
    # of the key either
    spec = dict(bench.SPACES['tim_fusion'], real_data='../shared/data/x')
    cfg = bench.Config(dict(d=dict(data_root=bench.osp.normpath(
        bench.osp.join(bench.ROOT, '..', 'shared', 'data', 'x', 'RS')))))
    moved = bench.Config(dict(d=dict(data_root='/elsewhere/RS')))
    monkeypatch.setattr(bench, 'real_data_root',
                        lambda s: '/elsewhere' if s is spec else '')
    assert bench.config_sha256(moved, spec) != bench.config_sha256(cfg, spec)
    monkeypatch.setattr(bench, 'real_data_root', lambda s: bench.osp.dirname(
        cfg.d.data_root))
    assert bench.config_sha256(cfg, spec) == bench.config_sha256(
        bench.Config(dict(d=dict(data_root='<data>/RS'))))
    assert bench.run_unit(unit)['score'] == 1.0
    assert bench.run_unit(dict(unit))['score'] == 1.0  # kept
    assert bench.run_unit(dict(unit, toy_num=16))['score'] == 2.0
    spec = SPACES['tim_fusion']
    opts = spec['retrain_opts']
    monkeypatch.setitem(spec, 'retrain_opts', lambda quick: dict(
        opts(quick), **{'train_cfg.max_iters': 3}))
    assert bench.run_unit(dict(unit, toy_num=16))['score'] == 3.0
    assert bench.run_unit(dict(unit, toy_num=16))['score'] == 3.0  # kept
    assert calls == [0, 0, 0]


def _search_unit(work, **kw):
    unit = dict(space='tim_fusion', kind='search', strategy='darts1', seed=0,
                work=str(work), genotype=str(work / 'genotype.yaml'),
                argmax_genotype=None, quick=True,
                extra={'train_cfg.max_iters': 2}, toy_num=8,
                id='tim_fusion/search_darts1_0')
    unit.update(kw)
    return unit


def test_a_search_folder_of_other_settings_is_started_afresh(
        bench, tmp_path, monkeypatch, capsys):
    """A search unit resumes its folder's checkpoints only when the
    folder's search_key.json matches (search config content, --quick, the
    options, --toy-num); otherwise, or without a key (an older run), the
    folder is emptied first (its unit.log kept). No search runs: stubbed."""
    seen = []

    class FakeGenotype:
        def dump(self, path):
            with open(path, 'w') as f:
                f.write('choices: {}\n')

    def fake_run_search(spec, strategy, seed, work, quick, extra=None):
        seen.append(sorted(os.listdir(work)))
        with open(osp.join(work, 'epoch_1.pth'), 'w') as f:
            f.write('weights')
        return FakeGenotype()

    monkeypatch.setattr(bench, 'run_search', fake_run_search)
    work = tmp_path / 'search_darts1_0'
    unit = _search_unit(work)
    bench.run_unit(unit)
    assert seen[-1] == ['search_key.json']
    key = json.loads((work / 'search_key.json').read_text())
    assert key == bench.search_key(SPACES['tim_fusion'], 'tim_fusion',
                                   'darts1', 0, True,
                                   {'train_cfg.max_iters': 2}, 8)
    bench.run_unit(dict(unit))  # the same settings: resumed
    assert seen[-1] == ['epoch_1.pth', 'genotype.yaml', 'search_key.json']
    (work / 'unit.log').write_text('log of this run')
    for other, named in [
            (dict(extra={'train_cfg.max_iters': 3}),
             "['config_sha256', 'extra']"),
            (dict(quick=False), "['config_sha256', 'quick']"),
            (dict(toy_num=16), "['toy_num']")]:
        bench.run_unit(unit)  # a search of the first settings, then:
        capsys.readouterr()
        bench.run_unit(_search_unit(work, **other))
        assert seen[-1] == ['search_key.json', 'unit.log'], other
        out = capsys.readouterr().out
        assert f'holds a search made with other {named}: starting it ' \
            'afresh' in out, out
    # a folder of an older run (no key): started afresh too
    (work / 'search_key.json').unlink()
    bench.run_unit(unit)
    assert seen[-1] == ['search_key.json', 'unit.log']
    assert (work / 'unit.log').read_text() == 'log of this run'


def test_reuse_checks_the_search_key_beside_the_genotype(
        bench, tmp_path, capsys):
    """--reuse DIR: a genotype whose search_key.json matches this run is
    reused (and said so); one searched with other settings is refused,
    naming them; one without a key is reused with a warning that nothing
    was checked."""
    spec = SPACES['tim_neck']
    rows, _ = bench.plan_units('tim_neck', spec, _args(bench, num_random=1,
                                                       search_seeds=1),
                               str(tmp_path))
    folder = tmp_path / 'reuse' / 'tim_neck' / 'search_darts1_0'
    folder.mkdir(parents=True)
    import shutil
    shutil.copy(rows[-1][2], folder / 'genotype.yaml')
    args = _args(bench, num_random=1, search_seeds=1,
                 reuse=str(tmp_path / 'reuse'))
    key = bench.search_key(spec, 'tim_neck', 'darts1', 0, True,
                           {'train_cfg.max_iters': 7}, None)
    (folder / 'search_key.json').write_text(json.dumps(key))
    capsys.readouterr()
    _, units = bench.plan_units('tim_neck', spec, args, str(tmp_path))
    assert 'tim_neck/search_darts1_0' not in {u['id'] for u in units}
    assert 'search_darts1_0/genotype.yaml instead of searching (darts1, ' \
        'seed 0): its search_key.json matches' in capsys.readouterr().out
    (folder / 'search_key.json').write_text(json.dumps(
        dict(key, extra={'train_cfg.max_iters': 9}, config_sha256='x')))
    with pytest.raises(ValueError, match=r"--reuse: .*genotype\.yaml was "
                       r"searched with other settings .*config_sha256 'x' "
                       r"there.*extra \{'train_cfg.max_iters': 9\} there, "
                       r"\{'train_cfg.max_iters': 7\} here"):
        bench.plan_units('tim_neck', spec, args, str(tmp_path))
    (folder / 'search_key.json').unlink()
    bench.plan_units('tim_neck', spec, args, str(tmp_path))
    assert 'no search_key.json beside it' in capsys.readouterr().out
