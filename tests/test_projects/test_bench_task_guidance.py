"""projects/reproductions/bench_task_guidance.py --mode compose: the
per-stage warm-up learning rates."""
import pytest
import torch

from helpers import load_tool


@pytest.fixture(scope='module')
def bench():
    return load_tool('projects/reproductions/bench_task_guidance.py')


def test_warmup_lr_defaults_to_3e_3_for_both_stages_and_pre_lr_otherwise(
        bench):
    args = bench.compose_parse_args([])
    assert args.warmup_lrs == {'scene': 3e-3, 'fusion': 3e-3}
    assert bench.warmup_lr('fusion', args) == 3e-3
    assert bench.warmup_lr('registration', args) == args.pre_lr == 1e-3
    # no value: --pre-lr for every warm-up (the earlier tables' setting)
    old = bench.compose_parse_args(['--warmup-lr', '--pre-lr', '2e-3'])
    assert old.warmup_lrs == {} and bench.warmup_lr('fusion', old) == 2e-3
    one = bench.compose_parse_args(['--warmup-lr', 'fusion=5e-4'])
    assert bench.warmup_lr('fusion', one) == 5e-4
    assert bench.warmup_lr('scene', one) == 1e-3


@pytest.mark.parametrize('item', ['fusion', 'fusion=', '=1e-3', 'fusion=x',
                                  'fusion=-1e-3'])
def test_a_bad_warmup_lr_names_the_item(bench, item):
    with pytest.raises(ValueError, match='STAGE=LR'):
        bench.compose_parse_args(['--warmup-lr', item])


def test_warm_up_gives_each_stage_its_own_lr(bench, monkeypatch):
    """The optimizer of each stage's warm-up gets that stage's lr."""
    seen = []

    class Record(torch.optim.Adam):

        def __init__(self, params, lr):
            seen.append(lr)
            super().__init__(params, lr=lr)

    monkeypatch.setattr(bench.torch.optim, 'Adam', Record)
    args = bench.compose_parse_args(['--warmup', '0', '--warmup-lr',
                                     'scene=2e-3', '--pre-lr', '7e-4'])

    class Model:
        """A compound model's staging interface (no warm-up iteration
        runs: ``--warmup 0``)."""
        stages = dict.fromkeys(['scene', 'fusion'])

        def set_stage_frozen(self, name, frozen):
            pass

        def stage(self, name):
            return torch.nn.Linear(1, 1)

        def set_bn_recalibration(self, name, active):
            pass

    model = Model()
    train = dict(x=torch.zeros(4, 4, 8, 8))
    for name in ('scene', 'fusion'):
        bench.warm_up(model, name, train, 0, args)
    assert seen == [2e-3, 7e-4]


def test_one_variant_per_process_writes_its_json_atomically(
        bench, tmp_path, capsys):
    """A launcher runs one ``--seeds S --variants V`` per process with
    ``--json-out``: a tiny run writes one row (the variant, the seed, an mAP
    in [0, 1]), no temporary file is left, and RESULT holds the variant."""
    import json
    torch.set_num_threads(1)
    out = tmp_path / 'out' / 's0_vis.json'
    out.parent.mkdir()
    bench.main([
        '--mode', 'compose', '--seeds', '0', '--variants', 'vis', '--num',
        '8', '--iters', '1', '--warmup', '1', '--res', '32', '--batch', '2',
        '--json-out', str(out)
    ])
    data = json.loads(out.read_text())
    assert [(r['variant'], r['seed']) for r in data['rows']] == [('vis', 0)]
    assert 0.0 <= data['rows'][0]['mAP'] <= 1.0
    assert data['args']['iters'] == 1
    assert sorted(p.name for p in out.parent.iterdir()) == ['s0_vis.json']
    result = [line for line in capsys.readouterr().out.splitlines()
              if line.startswith('RESULT ')]
    assert list(json.loads(result[0][7:])['variants']) == ['vis']


def test_compose_data_dir_of_another_darkness_is_refused(
        bench, tmp_path, monkeypatch):
    """--mode compose --data-dir: the night-time set is reused for the
    same --num and --darkness only. Training is stubbed: the run stops
    where it would read the set."""
    class Reading(Exception):
        pass

    def stop(root, split, res):
        raise Reading(root)

    monkeypatch.setattr(bench, 'compose_load_split', stop)
    root = str(tmp_path / 'night')
    argv = ['--data-dir', root, '--num', '4', '--darkness', '3',
            '--threads', str(torch.get_num_threads())]
    for _ in range(2):  # generated, then reused
        with pytest.raises(Reading):
            bench.main_compose(argv)
    with pytest.raises(ValueError, match=r'options\.night_darkness 3\.0 '
                       r'\(this run: 5\.0\)'):
        bench.main_compose(argv[:5] + ['5'] + argv[6:])
    with pytest.raises(ValueError, match=r'num 4 \(this run: 6\)'):
        bench.main_compose(argv[:3] + ['6'] + argv[4:])
