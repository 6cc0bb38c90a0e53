"""tools/analysis_tools/task_protocol.py: the task-driven protocol end to end
on 4 real MSRS_det pairs (2 train, 2 test) at 64 x 64, 2 iterations: the
table, one detector config and one initialisation for every input,
resuming (finished runs, a killed training), --test-pairs, and the
scoring against pycocotools on a hand case."""
import argparse
import json
import os
import os.path as osp
import shutil

import cv2
import numpy as np
import pytest
import torch
from mmengine.hooks import Hook

from helpers import load_tool
from mmfusenas.utils.checkpoint import read_checkpoint

pytestmark = pytest.mark.usefixtures('one_thread')

#: 2 train pairs and 2 test pairs of MSRS_det, all with boxes
TRAIN, TEST = ('00004N', '00008N'), ('00626D', '01238N')
METHODS = ['ir', 'vi', 'mean']
CLASSES = ['person', 'bicycle', 'car']
#: the budget: 2 iterations of 2 images at 64 x 64, no loader workers
BUDGET = ['--max-iters', '2', '--img-scale', '64', '64', '--batch-size',
          '2', '--workers', '0']


@pytest.fixture(scope='module')
def bench():
    return load_tool('tools/analysis_tools/task_protocol.py')


def _copy_pairs(src: str, dst: str, stems) -> None:
    """The pairs, labels and classes.txt of ``stems`` in the MSRS_det
    layout."""
    for sub, ext in (('ir', '.jpg'), ('vi', '.jpg'),
                     ('labels/fusion', '.txt'), ('labels/infrared', '.txt'),
                     ('labels/visible', '.txt')):
        os.makedirs(osp.join(dst, sub), exist_ok=True)
        for stem in stems:
            shutil.copy(osp.join(src, sub, stem + ext),
                        osp.join(dst, sub, stem + ext))
    shutil.copy(osp.join(src, 'classes.txt'), osp.join(dst, 'classes.txt'))


@pytest.fixture(scope='module')
def msrs4(tmp_path_factory, shared_data):
    """``data/`` (4 pairs), ``split/{train,test}.txt`` and ``extra/`` (the
    2 test pairs again, as an extra test set) under a temporary folder."""
    src = osp.join(shared_data, 'detection', 'MSRS_det')
    root = str(tmp_path_factory.mktemp('msrs4'))
    _copy_pairs(src, osp.join(root, 'data'), TRAIN + TEST)
    _copy_pairs(src, osp.join(root, 'extra'), TEST)
    os.makedirs(osp.join(root, 'split'))
    for name, stems in (('train', TRAIN), ('test', TEST)):
        with open(osp.join(root, 'split', f'{name}.txt'), 'w') as f:
            f.write(f'# {name}\n' + '\n'.join(stems) + '\n')
    return root


def _argv(root: str, work: str, *extra) -> list:
    return ['--data', osp.join(root, 'data'), '--split-dir',
            osp.join(root, 'split'), '--methods', *METHODS, '--work-dir',
            work, *BUDGET, *extra]


@pytest.fixture(scope='module')
def runs(bench, msrs4):
    """Run 1: seed 0, the split's test set only. Run 2 (the same work dir):
    seeds 0 and 1 and ``--test-pairs extra``. Returns both results, the
    work dir and the seed-0 result files (text, mtime) after run 1."""
    work = osp.join(msrs4, 'work')
    first = bench.run(bench.parse_args(_argv(msrs4, work, '--seeds', '0')))
    files = {}
    for name in METHODS:
        path = osp.join(work, 'runs', name, 'seed_0', 'result.json')
        files[name] = (open(path).read(), os.stat(path).st_mtime_ns)
    ckpt = osp.join(work, 'runs', 'ir', 'seed_0', 'iter_2.pth')
    ckpt_mtime = os.stat(ckpt).st_mtime_ns
    out = osp.join(msrs4, 'out.json')
    second = bench.run(bench.parse_args(_argv(
        msrs4, work, '--seeds', '0', '1', '--test-pairs',
        osp.join(msrs4, 'extra'), '--out', out)))
    return dict(first=first, second=second, work=work, files=files,
                ckpt=(ckpt, ckpt_mtime), out=out)


def test_table_shape_and_keys(runs):
    first, second = runs['first'], runs['second']
    assert list(first) == ['test']
    assert list(second) == ['test', 'extra']  # --test-pairs adds a set
    for result, seeds in ((first, [0]), (second, [0, 1])):
        for set_name, table in result.items():
            assert list(table) == METHODS
            for name, row in table.items():
                assert row['seeds'] == seeds
                assert row['images'] == 2
                for key in ('mAP', 'mAP50'):
                    assert 0 <= row[key] <= 1 and row[f'{key}_std'] >= 0
                for key in ('AP', 'AP50', 'AP_std', 'AP50_std'):
                    assert list(row[key]) == CLASSES
                # no bicycle among the 2 test pairs: no AP, not 0
                assert row['AP']['bicycle'] is None
                assert row['AP']['person'] is not None
                assert sorted(row['per_seed']) == [str(s) for s in seeds]
                for scores in row['per_seed'].values():
                    assert set(scores) >= {'mAP', 'mAP50', 'AP', 'AP50',
                                           'init_sha256', 'config_sha256',
                                           'start_sha256'}
    with open(runs['out']) as f:
        doc = json.load(f)
    assert doc['result'] == second
    assert doc['protocol']['sets'] == {
        'train': {'images': 2, 'boxes': 11},
        'test': {'images': 2, 'boxes': 10},
        'extra': {'images': 2, 'boxes': 10}}
    # the extra set holds the test pairs: every detector scores the same
    for name in METHODS:
        for key in ('mAP', 'mAP50', 'AP'):
            assert second['extra'][name][key] == second['test'][name][key]


def test_every_input_trains_the_same_config_from_the_same_weights(
        bench, runs):
    second, work = runs['second'], runs['work']
    with open(osp.join(work, 'protocol.json')) as f:
        protocol = json.load(f)
    assert protocol['img_scale'] == [64, 64]
    assert protocol['max_iters'] == 2 and protocol['batch_size'] == 2
    configs, inits = set(), {0: set(), 1: set()}
    for table in second.values():
        for row in table.values():
            configs.add(row['config_sha256'])
            for seed, scores in row['per_seed'].items():
                configs.add(scores['config_sha256'])
                inits[int(seed)].add(scores['init_sha256'])
                # the weights before the first step are the saved ones
                assert scores['start_sha256'] == scores['init_sha256']
    assert configs == {protocol['config_sha256']}
    assert len(inits[0]) == len(inits[1]) == 1 and inits[0] != inits[1]
    for seed in (0, 1):
        state = torch.load(osp.join(work, 'init', f'seed_{seed}.pth'),
                           weights_only=True)['state_dict']
        assert bench.state_sha256(state) == inits[seed].pop()
    # the inputs differ in their images only: the same label file
    for name in METHODS:
        with open(osp.join(work, 'images', 'data', name,
                           'fusion.json')) as f:
            assert json.load(f)['method'] == name
    ir = cv2.imread(osp.join(work, 'images', 'data', 'ir', f'{TEST[0]}.png'),
                    cv2.IMREAD_UNCHANGED)
    src = cv2.imread(osp.join(osp.dirname(work), 'data', 'ir',
                              f'{TEST[0]}.jpg'), cv2.IMREAD_UNCHANGED)
    assert np.array_equal(ir, src)  # the source pixels, not re-encoded


def test_a_rerun_skips_finished_runs(runs):
    first, second, work = runs['first'], runs['second'], runs['work']
    for name in METHODS:
        path = osp.join(work, 'runs', name, 'seed_0', 'result.json')
        stored = json.load(open(path))
        text, _ = runs['files'][name]
        before = json.loads(text)
        # run 2 only added the extra set to the seed-0 runs
        assert stored['train'] == before['train']
        assert stored['tests']['test'] == before['tests']['test']
        assert set(stored['tests']) == {'test', 'extra'}
        assert second['test'][name]['per_seed']['0'] == \
            first['test'][name]['per_seed']['0']
    ckpt, mtime = runs['ckpt']
    assert os.stat(ckpt).st_mtime_ns == mtime  # not trained again


def test_a_finished_protocol_runs_nothing(bench, msrs4, runs, capsys):
    work = runs['work']
    mtimes = {name: os.stat(osp.join(work, 'runs', name, 'seed_1',
                                     'result.json')).st_mtime_ns
              for name in METHODS}
    assert bench.main(_argv(msrs4, work, '--seeds', '0', '1',
                            '--test-pairs', osp.join(msrs4, 'extra'))) == 0
    out = capsys.readouterr().out
    assert out.count('training done earlier') == 6
    assert 'training 2 iterations' not in out
    last = out.strip().splitlines()[-1]
    assert json.loads(last[len('RESULT '):]) == runs['second']
    for name in METHODS:
        assert os.stat(osp.join(work, 'runs', name, 'seed_1',
                                'result.json')).st_mtime_ns == mtimes[name]


def test_another_protocol_in_the_work_dir_is_refused(bench, msrs4, runs,
                                                     capsys):
    argv = _argv(msrs4, runs['work'], '--seeds', '0')
    argv[argv.index('--max-iters') + 1] = '3'
    assert bench.main(argv) == 2
    err = capsys.readouterr().err
    assert 'holds runs of another protocol' in err and 'max_iters' in err


def test_images_of_another_method_are_refused(bench, msrs4, runs, capsys):
    manifest = osp.join(runs['work'], 'images', 'data', 'mean',
                        'fusion.json')
    text = open(manifest).read()
    doc = json.loads(text)
    doc['identity']['config'] = 'configs/baselines/classical_max_ivif.py'
    try:
        with open(manifest, 'w') as f:
            json.dump(doc, f)
        assert bench.main(_argv(msrs4, runs['work'], '--seeds', '0')) == 2
        assert 'remove that folder' in capsys.readouterr().err
    finally:
        with open(manifest, 'w') as f:
            f.write(text)


def test_unknown_input_is_an_error(bench, msrs4, tmp_path, capsys):
    argv = _argv(msrs4, str(tmp_path / 'w'))
    argv[argv.index('mean')] = 'nosuch'
    assert bench.main(argv) == 2
    assert "unknown input(s) ['nosuch']" in capsys.readouterr().err
    assert not (tmp_path / 'w').exists()


class _Killed(Exception):
    pass


class _KillAfterFirstStep(Hook):
    """Stops the training after its first iteration (and its checkpoint)."""

    priority = 'LOWEST'

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None):
        if runner.iter == 0:
            raise _Killed()


def kill_after_first_step(bench, monkeypatch):
    """Every training the protocol builds saves a checkpoint after each
    iteration and stops after the first (``_Killed``); returns the
    original runner builder, to put back for the resume."""
    build = bench._build_runner

    def killing(cfg):
        if cfg.get('train_cfg'):  # a checkpoint after every iteration
            cfg.default_hooks.checkpoint.interval = 1
        runner = build(cfg)
        if cfg.get('train_cfg'):
            runner.register_hook(_KillAfterFirstStep())
        return runner

    monkeypatch.setattr(bench, '_build_runner', killing)
    return build


def test_a_killed_training_resumes_from_its_checkpoint(bench, msrs4, runs,
                                                       monkeypatch):
    work = osp.join(msrs4, 'work_killed')
    argv = _argv(msrs4, work, '--seeds', '0')
    argv[argv.index('--methods') + 1:argv.index('--work-dir')] = ['ir']
    build = kill_after_first_step(bench, monkeypatch)
    with pytest.raises(_Killed):
        bench.run(bench.parse_args(argv))
    run_dir = osp.join(work, 'runs', 'ir', 'seed_0')
    assert not osp.exists(osp.join(run_dir, 'result.json'))
    assert osp.isfile(osp.join(run_dir, 'iter_1.pth'))
    monkeypatch.setattr(bench, '_build_runner', build)
    result = bench.run(bench.parse_args(argv))
    stored = json.load(open(osp.join(run_dir, 'result.json')))
    assert stored['train']['resumed_from'] == 'iter_1.pth'
    # the same weights as the uninterrupted run of the first work dir
    resumed = read_checkpoint(osp.join(run_dir, 'iter_2.pth'))
    whole = read_checkpoint(runs['ckpt'][0])
    assert bench.state_sha256(resumed['state_dict']) == \
        bench.state_sha256(whole['state_dict'])
    seed = result['test']['ir']['per_seed']['0']
    assert seed['mAP'] == runs['first']['test']['ir']['per_seed']['0']['mAP']
    # provenance: the shared initial weights, not the resumed ones
    assert seed['start_sha256'] == seed['init_sha256']


def test_coco_scores_hand_case(bench, tmp_path):
    """Perfect boxes of class a, a wrong box of class b, no box of c."""
    gt = dict(
        images=[dict(id=0, file_name='x.png', width=100, height=80),
                dict(id=1, file_name='y.png', width=100, height=80)],
        annotations=[
            dict(id=1, image_id=0, category_id=1, bbox=[10, 10, 30, 20],
                 area=600, iscrowd=0),
            dict(id=2, image_id=1, category_id=1, bbox=[50, 40, 20, 30],
                 area=600, iscrowd=0),
            dict(id=3, image_id=1, category_id=2, bbox=[5, 5, 20, 20],
                 area=400, iscrowd=0)],
        categories=[dict(id=1, name='a'), dict(id=2, name='b'),
                    dict(id=3, name='c')])
    gt_path, det_path = tmp_path / 'gt.json', tmp_path / 'dets.json'
    gt_path.write_text(json.dumps(gt))
    dets = [dict(image_id=a['image_id'], category_id=1, bbox=a['bbox'],
                 score=0.9) for a in gt['annotations'][:2]]
    dets.append(dict(image_id=1, category_id=2, bbox=[60, 5, 20, 20],
                     score=0.8))
    det_path.write_text(json.dumps(dets))
    scores = bench.coco_scores(str(gt_path), str(det_path), ['a', 'b', 'c'])
    assert scores['AP'] == {'a': pytest.approx(1.0), 'b': 0.0, 'c': None}
    assert scores['AP50'] == {'a': pytest.approx(1.0), 'b': 0.0, 'c': None}
    assert scores['mAP'] == pytest.approx(0.5)
    det_path.write_text('[]')
    empty = bench.coco_scores(str(gt_path), str(det_path), ['a', 'b', 'c'])
    assert empty['mAP'] == 0.0 and empty['AP'] == {'a': 0.0, 'b': 0.0,
                                                   'c': None}


def test_state_hash_sees_every_tensor(bench):
    state = {'w': torch.zeros(3), 'n': torch.tensor(2)}
    same = bench.state_sha256({k: v.clone() for k, v in state.items()})
    assert bench.state_sha256(state) == same
    assert bench.state_sha256(dict(state, n=torch.tensor(3))) != same
    assert bench.state_sha256(dict(state, w=torch.zeros(3).double())) != same


def _checkout(root, genotype='normal: [a]\n'):
    """A config that names its genotype and a data folder by its own
    location, in ``root/configs/``."""
    folder = root / 'configs'
    folder.mkdir(parents=True)
    (folder / 'g.yaml').write_text(genotype)
    (folder / 'fuse.py').write_text(
        "model = dict(type='ImageFusor', fusion_net=dict(\n"
        "    type='MaxAbsRuleFusion', genotype='{{fileDirname}}/g.yaml'))\n"
        "ann_root = '{{fileDirname}}/../data/'\n"
        "test_dataloader = dict(dataset=dict(pipeline=[\n"
        "    dict(type='LoadPairedImages'), dict(type='PackFusionInputs')]))\n")
    return str(folder / 'fuse.py')


def test_config_hashes_follow_the_content_not_the_checkout(bench,
                                                           tmp_path):
    """The same config read from two checkouts hashes the same (the
    ``{{fileDirname}}`` paths left out); an edited genotype file changes
    the hash. The same for a run's config_sha256 (a joint run's
    ``task_init`` and data folder left out too)."""
    from mmengine.config import Config
    a, b = _checkout(tmp_path / 'a'), _checkout(tmp_path / 'b')
    c = _checkout(tmp_path / 'c', genotype='normal: [b]\n')
    fused = [bench.fusion_config_sha256(x, {}) for x in (a, b, c)]
    assert fused[0] == fused[1] != fused[2]

    def run(config, seed):
        cfg = Config.fromfile(config)
        cfg.model.task_init = str(tmp_path / 'w' / 'init' / f'seed_{seed}')
        cfg.test_dataloader = dict(dataset=dict(
            data_root=str(tmp_path / f'data{seed}'), ann_file='x'))
        cfg.test_evaluator, cfg.randomness = {}, dict(seed=seed)
        return bench.config_sha256(cfg, str(tmp_path / 'w'))

    assert run(a, 0) == run(b, 1) != run(c, 0)


JOINT = osp.join('configs', 'tim', 'retinanet_ivif_msrs.py')


def test_joint_config_trains_the_protocol_budget_after_the_warm_up(bench,
                                                                   tmp_path):
    """800 detector iterations after the fusion warm-up (400 of 2400 in the
    config: 160 of 960), the protocol's data, labels, size and batch, the
    seed's initial detector weights; another detector is refused."""
    from mmengine.config import Config
    common = Config.fromfile(bench.DET_CONFIG)
    args = bench.parse_args(['--data', 'D', '--split-dir', 'S', '--labels',
                             'infrared'])
    protocol = dict(max_iters=800, img_scale=[320, 240], batch_size=4,
                    workers=1)
    cfg = bench.joint_config(JOINT, args, common, protocol, 3, 'init.pth',
                             str(tmp_path))
    assert cfg.train_cfg.max_iters == 960
    hook = [h for h in cfg.custom_hooks
            if h['type'] == 'FusionWarmupHook'][0]
    assert hook['warmup'] == 160
    linear, cosine = cfg.param_scheduler
    assert (linear['begin'], linear['end']) == (160, 240)
    assert (cosine['begin'], cosine['end']) == (240, 960)
    assert cfg.model.task_init == 'init.pth' and cfg.randomness.seed == 3
    assert cfg.train_dataloader.batch_size == 4
    for loader, split in (('train_dataloader', 'train'),
                          ('test_dataloader', 'test')):
        ds = cfg[loader].dataset
        # the pairs of the split's labels, written by prepare_labels
        assert ds.ann_file == osp.join(osp.abspath(args.work_dir), 'labels',
                                       f'{split}_infrared_pairs.json')
        assert ds.data_root == osp.abspath('D') + os.sep
        assert [s['scale'] for s in ds.pipeline
                if s['type'].endswith('Resize')] == [(320, 240)]
    assert cfg.val_dataloader is None and 'val_interval' not in cfg.train_cfg
    other = tmp_path / 'other.py'
    other.write_text(f"_base_ = ['{osp.abspath(JOINT)}']\n"
                     'model = dict(detector=dict(neck=dict(out_channels=64),'
                     ' bbox_head=dict(in_channels=64)))\n')
    with pytest.raises(ValueError, match='model.detector.bbox_head differs'):
        bench.joint_config(str(other), args, common, protocol, 0, 'i',
                           str(tmp_path))
    # a searched neck keeps its own initialisation; the campaign's joint
    # configs (the protocol's neck) take the seed file whole
    searched = bench.joint_config(
        osp.join('configs', 'tim', 'retinanet_ivif_msrs_searched_neck.py'),
        args, common, protocol, 0, 'i.pth', str(tmp_path))
    assert searched.model.task_init == dict(checkpoint='i.pth',
                                            exclude=['neck.'])
    for name in ('c8', 'c8_frozen', 'c8_amp'):
        path = osp.join('configs', 'tim', f'retinanet_ivif_msrs_{name}.py')
        assert bench.joint_config(path, args, common, protocol, 0, 'i.pth',
                                  str(tmp_path)).model.task_init == 'i.pth'
    for bad in ('tim', 'tim=x.yaml', '=a.py', 'a b=c.py'):
        with pytest.raises(argparse.ArgumentTypeError, match='NAME=CONFIG'):
            bench._joint_item(bad)


def test_a_joint_model_is_scored_beside_the_inputs(bench, msrs4, runs,
                                                   capsys):
    """A tiny joint run: the row of the joint model in the split's test
    table, trained from the same initial detector weights as the inputs of
    its seed and scored on the protocol's ground truth. Added to the work
    dir of ``runs`` (the same protocol), whose ``ir`` of seed 0 is done: a
    work dir of its own trained and tested that input again."""
    work = runs['work']
    result = bench.run(bench.parse_args([
        '--data', osp.join(msrs4, 'data'), '--split-dir',
        osp.join(msrs4, 'split'), '--methods', 'ir', '--work-dir', work,
        '--seeds', '0', '--joint', f'tim={JOINT}', *BUDGET]))
    row = result['test']['tim']
    assert row['joint'] == JOINT and row['seeds'] == [0]
    assert row['neck'] == 'FPN'
    assert set(row['AP50']) == set(CLASSES) and 0 <= row['mAP50'] <= 1
    seed = row['per_seed']['0']
    assert seed['init_sha256'] == \
        result['test']['ir']['per_seed']['0']['init_sha256']
    run_dir = osp.join(work, 'runs', 'tim', 'seed_0')
    with open(osp.join(work, 'labels', 'test_fusion.json')) as f:
        gt_ids = {img['id'] for img in json.load(f)['images']}
    with open(osp.join(run_dir, 'dets_test.protocol.bbox.json')) as f:
        assert {d['image_id'] for d in json.load(f)} <= gt_ids
    assert 'tim seed 0: joint training' in capsys.readouterr().out
    # a re-run trains and tests nothing again
    again = bench.run(bench.parse_args([
        '--data', osp.join(msrs4, 'data'), '--split-dir',
        osp.join(msrs4, 'split'), '--methods', 'ir', '--work-dir', work,
        '--seeds', '0', '--joint', f'tim={JOINT}', *BUDGET]))
    assert again['test']['tim']['per_seed'] == row['per_seed']
    assert 'joint training' not in capsys.readouterr().out


def _row(m50, sd, seeds, **extra):
    return dict(mAP=m50 / 2, mAP50=m50, mAP_std=sd / 2, mAP50_std=sd,
                AP={'person': m50}, AP50={'person': m50},
                seeds=list(range(seeds)), **extra)


def test_joint_goal_by_hand(bench):
    """The joint row against the best other row: reached only when ahead by
    more than the larger seed spread over >= 2 seeds; other joint rows and
    absent inputs are not compared."""
    table = dict(ir=_row(0.30, 0.02, 2), vi=_row(0.10, 0.01, 2),
                 max={'absent': 'x'},
                 tim=_row(0.35, 0.03, 2, joint='a.py'),
                 other=_row(0.90, 0.0, 2, joint='b.py'))
    goal = bench.joint_goal(table, 'tim')
    v = goal['values']
    assert v['best'] == 'ir' and v['inputs'] == ['ir', 'vi']
    assert v['difference'] == pytest.approx(0.05)
    assert v['spread'] == pytest.approx(0.03) and goal['reached']
    table['tim'] = _row(0.31, 0.03, 2, joint='a.py')  # ahead by < spread
    assert not bench.joint_goal(table, 'tim')['reached']
    table['tim'] = _row(0.35, 0.0, 1, joint='a.py')  # one seed
    table['ir'] = _row(0.30, 0.0, 1)
    assert not bench.joint_goal(table, 'tim')['reached']
    rows = bench.record_rows(table)
    assert 'max' not in rows and rows['ir'] == dict(
        mAP=0.15, mAP50=0.30, per_class={'person': dict(AP=0.30, AP50=0.30)},
        seeds=1, sd=dict(mAP=0.0, mAP50=0.0))


# ---------------------------------------------------------------- records
TOY = osp.join('configs', 'baselines', 'fusion_toy.py')
#: the toolbox fusion model of the record tests (``toy.py`` beside its
#: checkpoints): the toy fusion network at a quarter of its width. Its
#: images of the 4 pairs at 640 x 480 are made three times; at the full
#: width that took most of these tests' time, and no check depends on it
TOY_CONFIG = ('_base_ = [{base!r}]\n'
              'model = dict(fusion_net=dict(base_channels=4, '
              'decoder_channels=(8, 4)))\n')


class _Trained(Exception):
    """Raised instead of training, to see that a unit is run again."""


def _no_training(*args, **kwargs):
    raise _Trained()


@pytest.fixture(scope='module')
def recorded(bench, msrs4, tmp_path_factory):
    """``ir`` and a toolbox fusion model (``toy``), seed 0, run once with
    ``--records``."""
    from mmfusenas.apis import init_model
    root = tmp_path_factory.mktemp('records')
    (root / 'toy.py').write_text(TOY_CONFIG.format(base=osp.abspath(TOY)))
    torch.manual_seed(0)
    ckpt = str(root / 'toy.pth')
    torch.save({'state_dict': init_model(_toy_config(ckpt)).state_dict()},
               ckpt)
    records = str(root / 'records')
    work = str(root / 'work')
    result = bench.run(bench.parse_args(_rec_argv(msrs4, work, records,
                                                  ckpt)))
    return dict(root=root, ckpt=ckpt, records=records, work=work,
                result=result)


def _toy_config(ckpt: str) -> str:
    """The config of the ``toy`` checkpoint ``ckpt``: ``toy.py`` beside
    it."""
    return osp.join(osp.dirname(ckpt), 'toy.py')


def _rec_argv(root, work, records, ckpt, *extra, methods=('ir', 'toy'),
              data='data'):
    return ['--data', osp.join(root, data), '--split-dir',
            osp.join(root, 'split'), '--methods', *methods, '--checkpoint',
            f'toy={_toy_config(ckpt)}:{ckpt}', '--work-dir', work, '--seeds',
            '0', '--records', records, *BUDGET, *extra]


def test_a_recorded_unit_is_reused_without_its_work_dir(bench, msrs4,
                                                        recorded, capsys,
                                                        monkeypatch):
    records = recorded['records']
    for name in ('ir', 'toy'):
        with open(osp.join(records, name, 'seed_0.json')) as f:
            record = json.load(f)
        assert record['options']['method'] == name
        assert record['protocol']['max_iters'] == 2
        assert record['train']['iters'] == 2
        assert record['train']['cpu_seconds'] > 0
        assert record['train']['max_memory_mb'] is None  # on the CPU
        # the final training losses: means over the last iterations, and
        # the total is the sum of the detector's two losses
        losses = record['train']['final_losses']
        assert sorted(losses) == ['loss', 'loss_bbox', 'loss_cls']
        assert losses['loss'] == pytest.approx(
            losses['loss_bbox'] + losses['loss_cls'], abs=2e-4)
        assert losses['loss_cls'] > 0
        assert record['command'].startswith(
            'python tools/analysis_tools/task_protocol.py --data ')
        assert record['tests']['test']['mAP'] == \
            recorded['result']['test'][name]['per_seed']['0']['mAP']
    shutil.rmtree(recorded['work'])
    capsys.readouterr()
    monkeypatch.setattr(bench, 'train_run', _no_training)
    again = bench.run(bench.parse_args(_rec_argv(
        msrs4, str(recorded['root'] / 'work2'), records, recorded['ckpt'])))
    out = capsys.readouterr().out
    for name in ('ir', 'toy'):
        assert f'{name} seed 0: taken from the record ' \
            f'{osp.join(records, name, "seed_0.json")} (no training)' in out
        assert again['test'][name]['per_seed'] == \
            recorded['result']['test'][name]['per_seed']
    assert 'recorded in' not in out  # nothing changed, nothing rewritten


def _assert_run_again(bench, argv, name, key, capsys, monkeypatch):
    monkeypatch.setattr(bench, 'train_run', _no_training)
    capsys.readouterr()
    with pytest.raises(_Trained):
        bench.run(bench.parse_args(argv))
    out = capsys.readouterr().out
    assert f'{name} seed 0: the record ' in out
    line = out[out.index(f'{name} seed 0: the record '):].splitlines()[0]
    assert 'was made from other inputs (' in line and f'{key}: ' in line
    assert line.endswith('; running it again')


def test_a_changed_detector_config_runs_the_unit_again(bench, msrs4,
                                                       recorded, capsys,
                                                       monkeypatch):
    config = recorded['root'] / 'det.py'
    base = osp.abspath(osp.join('configs', 'tim',
                                'retinanet_r18_msrs_det_protocol.py'))
    config.write_text(f'_base_ = {base!r}\n'
                      'optim_wrapper = dict(optimizer=dict(lr=1e-3))\n')
    argv = _rec_argv(msrs4, str(recorded['root'] / 'w_cfg'),
                     recorded['records'], recorded['ckpt'], '--det-config',
                     str(config), methods=('ir', ))
    _assert_run_again(bench, argv, 'ir', 'config_sha256', capsys,
                      monkeypatch)


def test_a_changed_label_file_runs_the_unit_again(bench, msrs4, recorded,
                                                  capsys, monkeypatch):
    data = osp.join(msrs4, 'data_relabelled')
    shutil.copytree(osp.join(msrs4, 'data'), data)
    with open(osp.join(data, 'labels', 'fusion', TRAIN[0] + '.txt'),
              'a') as f:
        f.write('\n0 0.5 0.5 0.1 0.2\n')
    argv = _rec_argv(msrs4, str(recorded['root'] / 'w_labels'),
                     recorded['records'], recorded['ckpt'],
                     methods=('ir', ), data='data_relabelled')
    _assert_run_again(bench, argv, 'ir', 'train_labels_sha256', capsys,
                      monkeypatch)


def test_a_changed_fusion_checkpoint_runs_the_unit_again(bench, msrs4,
                                                         recorded, capsys,
                                                         monkeypatch):
    state = torch.load(recorded['ckpt'], weights_only=True)
    state['state_dict'] = {k: v + 1 if v.is_floating_point() else v
                           for k, v in state['state_dict'].items()}
    ckpt = str(recorded['root'] / 'toy2.pth')
    torch.save(state, ckpt)
    argv = _rec_argv(msrs4, str(recorded['root'] / 'w_ckpt'),
                     recorded['records'], ckpt, methods=('toy', ))
    _assert_run_again(bench, argv, 'toy', 'identity', capsys, monkeypatch)


def test_a_changed_fusion_config_runs_the_unit_again(bench, msrs4,
                                                     recorded, capsys,
                                                     monkeypatch):
    """The same weights under a config that makes other images (here the
    8-bit rounding of the fused image)."""
    folder = recorded['root'] / 'round'
    folder.mkdir()
    (folder / 'toy.py').write_text(
        TOY_CONFIG.format(base=osp.abspath(TOY)) +
        "model.update(postprocess=dict(rounding='round'))\n")
    ckpt = str(folder / 'toy.pth')
    shutil.copy(recorded['ckpt'], ckpt)
    argv = _rec_argv(msrs4, str(recorded['root'] / 'w_round'),
                     recorded['records'], ckpt, methods=('toy', ))
    _assert_run_again(bench, argv, 'toy', 'identity', capsys, monkeypatch)


def test_a_joint_row_keeps_one_config_over_its_seeds(bench, msrs4, recorded,
                                                     tmp_path, monkeypatch):
    """A joint run's config hash holds its seed's initial-weights file; a
    new seed is compared with each recorded seed's hash of the same
    config."""
    records = str(tmp_path / 'records')
    shutil.copytree(recorded['records'], records)
    work = str(tmp_path / 'work')

    def argv(config: str, seed: int) -> list:
        return ['--data', osp.join(msrs4, 'data'), '--split-dir',
                osp.join(msrs4, 'split'), '--methods', 'ir', '--work-dir',
                work, '--seeds', str(seed), '--joint', f'tim={config}',
                '--records', records, *BUDGET]

    bench.run(bench.parse_args(argv(JOINT, 0)))
    assert osp.isfile(osp.join(records, 'tim', 'seed_0.json'))
    changed = tmp_path / 'joint.py'
    changed.write_text(f'_base_ = {osp.abspath(JOINT)!r}\n'
                       'model = dict(fusion_loss_weight=0.25)\n')
    train_config = bench.train_config

    def no_joint_training(cfg, *args, **kwargs):
        if 'detector' in cfg.model:
            raise _Trained()
        return train_config(cfg, *args, **kwargs)

    monkeypatch.setattr(bench, 'train_config', no_joint_training)
    recorded_0 = osp.join(records, 'tim', 'seed_0.json')
    with pytest.raises(ValueError) as err:
        bench.run(bench.parse_args(argv(str(changed), 1)))
    assert str(err.value).startswith(
        f'tim seed 1: {changed} is not the config seed 0 was recorded with '
        f'({recorded_0}: another config_sha256)')
    # the same config: seed 1 goes on to its training
    with pytest.raises(_Trained):
        bench.run(bench.parse_args(argv(JOINT, 1)))


def test_a_damaged_record_is_named_and_refused(bench, msrs4, recorded,
                                               capsys, monkeypatch):
    records = str(recorded['root'] / 'damaged')
    shutil.copytree(recorded['records'], records)
    path = osp.join(records, 'ir', 'seed_0.json')
    with open(path, 'w') as f:
        f.write('{"options": {"method": "ir"')
    monkeypatch.setattr(bench, 'train_run', _no_training)
    capsys.readouterr()
    assert bench.main(_rec_argv(msrs4, str(recorded['root'] / 'w_bad'),
                                records, recorded['ckpt'],
                                methods=('ir', ))) == 2
    err = capsys.readouterr().err
    assert err.startswith(f'error: {path} is damaged (not valid JSON')


def test_joint_detections_are_mapped_to_the_protocols_ids(bench, tmp_path):
    """A joint model's CocoMetric numbers images from 1 and classes from 0;
    the protocol's ground truth numbers them from 0 and 1. Detections equal
    to the ground-truth boxes score AP 1 for every class once images are
    mapped by stem and classes by name (the classes shifted by one scored
    person 0 and car 0)."""
    from types import SimpleNamespace
    gt = dict(
        images=[dict(id=0, file_name='a.png', width=64, height=64),
                dict(id=1, file_name='b.png', width=64, height=64)],
        categories=[dict(id=i + 1, name=n) for i, n in enumerate(CLASSES)],
        annotations=[])
    boxes = {('a', 'person'): [4, 4, 20, 30],
             ('a', 'car'): [30, 30, 20, 12],
             ('b', 'bicycle'): [10, 20, 16, 16],
             ('b', 'person'): [40, 8, 8, 20]}
    stem_ids = {'a': 0, 'b': 1}
    for k, ((stem, name), box) in enumerate(boxes.items()):
        gt['annotations'].append(dict(
            id=k + 1, image_id=stem_ids[stem], bbox=box, area=box[2] * box[3],
            category_id=CLASSES.index(name) + 1, iscrowd=0))
    gt_json = str(tmp_path / 'gt.json')
    with open(gt_json, 'w') as f:
        json.dump(gt, f)
    own_ids = {'a': 2, 'b': 1}  # the joint model's test dataset's ids
    dets = [dict(image_id=own_ids[stem], bbox=box, score=0.9,
                 category_id=CLASSES.index(name))
            for (stem, name), box in boxes.items()]
    dets_json = str(tmp_path / 'dets_test.bbox.json')
    with open(dets_json, 'w') as f:
        json.dump(dets, f)
    infos = [dict(img_id=2, stem='a'), dict(img_id=1, stem='b')]
    dataset = type('Dataset', (), dict(
        __len__=lambda self: 2, get_data_info=lambda self, i: infos[i]))()
    runner = SimpleNamespace(
        test_dataloader=SimpleNamespace(dataset=dataset),
        test_evaluator=SimpleNamespace(metrics=[SimpleNamespace(
            cat_ids=[0, 1, 2], dataset_meta=dict(classes=tuple(CLASSES)))]))
    scores = bench.joint_scores(runner, dets_json, gt_json, CLASSES)
    assert scores['mAP50'] == pytest.approx(1.0)
    assert scores['AP50'] == pytest.approx(
        dict(person=1.0, bicycle=1.0, car=1.0))
    with open(str(tmp_path / 'dets_test.protocol.bbox.json')) as f:
        mapped = json.load(f)
    assert [(d['image_id'], d['category_id']) for d in mapped] == [
        (0, 1), (0, 3), (1, 2), (1, 1)]
    # a class the protocol does not know is named
    runner.test_evaluator.metrics[0].dataset_meta = dict(
        classes=('person', 'bike', 'car'))
    with pytest.raises(KeyError, match=r"classes \['bike'\] of the "
                       'detections are not in the protocol'):
        bench.joint_scores(runner, dets_json, gt_json, CLASSES)


def test_train_record_hook_keeps_the_cuda_peak_over_logger_resets(
        bench, monkeypatch):
    """MMEngine's logger resets the CUDA peak at each logging interval; the
    record keeps the largest peak seen before any iteration and at the end,
    and reads nothing on the CPU."""
    peaks = iter([300 * 2**20, 100 * 2**20, 4149 * 2**20 + 1, 50 * 2**20])
    monkeypatch.setattr(torch.cuda, 'max_memory_allocated',
                        lambda device: next(peaks))
    hook = bench.TrainRecordHook()
    hook.before_train_iter(None, 0)
    assert hook.max_memory_mb is None  # CPU: never asked
    hook._device = torch.device('cuda')
    for i in range(3):
        hook.before_train_iter(None, i)
    assert hook.max_memory_mb == 4149
    hook._device = torch.device('cuda')
    hook.after_train(argparse.Namespace(
        message_hub=argparse.Namespace(log_scalars={})))
    assert hook.max_memory_mb == 4149
