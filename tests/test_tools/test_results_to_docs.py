"""tools/misc/results_to_docs.py: docs tables rendered from results JSON."""
import json

import pytest

from helpers import load_tool

RECORD = {
    'command': 'python benchmarks/bench_fusion_real.py --max-pairs 2',
    'commit': 'abc123',
    'machine': {'cpu_model': 'CPU X', 'cores': 2, 'threads': 1},
    'metrics': ['EN', 'SSIM'],
    'result': {
        'TNO': {
            'a': {'EN': 6.5, 'SSIM': 0.25, 'rank': {'EN': 1, 'SSIM': 2},
                  'mean_rank': 1.5, 'params': 1234, 'flops': 2.5e9,
                  'latency_ms': 12.34, 'pairs': 2},
            'b': {'absent': 'config b.py not found'},
        }
    },
}


@pytest.fixture(scope='module')
def tool():
    return load_tool('tools/misc/results_to_docs.py')


def test_docs_tables_equal_their_json(tool):
    """Fails when a table in docs/ was edited by hand or its JSON changed
    without `python tools/misc/results_to_docs.py`."""
    assert tool.update(check=True) == []


def test_render_hand_case(tool):
    assert tool.render(RECORD).split('\n') == [
        'Measured with `python benchmarks/bench_fusion_real.py '
        '--max-pairs 2` on CPU X (2 cores, 1 torch '
        'thread(s)); value (rank per metric, 1 = best).',
        '',
        '**TNO** (2 pairs)',
        '',
        '| method | EN | SSIM | mean rank | params | GFLOPs | CPU ms |',
        '|---|---|---|---|---|---|---|',
        '| a | 6.5000 (1) | 0.2500 (2) | 1.5000 | 1,234 | 2.500 | 12.3 |',
        '| b | absent: config b.py not found |  |  |  |  |  |',
    ]


def test_render_unranked_record_with_count_and_note(tool):
    """A record without ranks (a throughput measurement) has no rank
    wording or column; ``count`` names the sample count and ``note``
    follows the header, without the machine's load (kept in the record,
    which the header names)."""
    record = dict(
        command='python demo/video_demo.py m.py --ir a --vi b',
        commit='abc123', count='frames',
        note='Load average 1.0 before, 1.2 after; fps over the loop.',
        machine=dict(cpu_model='CPU X', cores=2, threads=1),
        metrics=['fps', 'fuse'],
        result={'clip': {'m': {'fps': 2.5, 'fuse': 12.0, 'frames': 100}}})
    assert tool.render(record, 'demo').split('\n') == [
        'Measured with `python demo/video_demo.py m.py --ir a --vi b` on '
        'CPU X (2 cores, 1 torch thread(s)); record '
        '`docs/results/demo.json`. fps over the loop.',
        '',
        '**clip** (100 frames)',
        '',
        '| method | fps | fuse |',
        '|---|---|---|',
        '| m | 2.5000 | 12.0000 |',
    ]


def test_a_rendered_record_names_no_history(tool):
    """The renderer keeps a record's commit (and a merged record's) and the
    machine's load out of the page; the note's other words stay."""
    record = dict(
        command='python benchmarks/bench_inference.py', commit='9736df2',
        note='median of 5 passes; load average 0.90 / 1.1 at the end.',
        machine=dict(cpu_model='CPU X', cores=2, threads=1),
        metrics=['ms'], result={'t': {'a': {'ms': 1.0}}},
        merged={'record': 'docs/results/old.json', 'command': 'python old',
                'commit': '5e6f7a8'})
    text = tool.render(record, 'x')
    for history in ('9736df2', '5e6f7a8', 'load average', '0.90', '1.1'):
        assert history not in text, history
    assert 'median of 5 passes.' in text and 'docs/results/x.json' in text


def test_render_decimals_and_text_values(tool):
    """``decimals`` sets the decimals of float values; ints and strings are
    written as they are."""
    record = dict(
        command='c', commit='abc', count='images per batch', decimals=1,
        machine=dict(cpu_model='CPU X', cores=2, threads=1),
        metrics=['ms', 'max abs diff'],
        result={'t': {'eager': {'ms': 1950.25, 'max abs diff': '1.6e-07',
                                'images per batch': 1}}})
    assert tool.render(record).split('\n')[2:] == [
        '**t** (1 images per batch)', '', '| method | ms | max abs diff |',
        '|---|---|---|', '| eager | 1950.2 | 1.6e-07 |']


def _repo(tmp_path, doc, record=None):
    (tmp_path / 'docs' / 'results').mkdir(parents=True)
    (tmp_path / 'docs' / 'page.md').write_text(doc)
    if record is not None:
        (tmp_path / 'docs' / 'results' / 'demo.json').write_text(
            json.dumps(record))
    return tmp_path


def test_update_rewrites_between_markers_only(tool, tmp_path):
    doc = ('# Page\n\nbefore\n<!-- results:demo -->\nstale table\n'
           '<!-- /results -->\nafter\n')
    root = _repo(tmp_path, doc, RECORD)
    assert tool.update(str(root), check=True) == ['docs/page.md']
    assert (root / 'docs' / 'page.md').read_text() == doc  # check: no write
    assert tool.update(str(root)) == ['docs/page.md']
    assert (root / 'docs' / 'page.md').read_text() == (
        '# Page\n\nbefore\n<!-- results:demo -->\n\n' + tool.render(RECORD, 'demo') +
        '\n\n<!-- /results -->\nafter\n')
    assert tool.update(str(root), check=True) == []


def test_blocks_outside_docs_are_rendered(tool, tmp_path):
    """The speed reports of benchmarks/docs/ and the plugin pages of
    projects/ hold results blocks too."""
    doc = '<!-- results:demo -->\nstale\n<!-- /results -->\n'
    root = _repo(tmp_path, '', RECORD)
    for folder in ('benchmarks', 'projects/cpu_kernels'):
        (root / folder / 'docs').mkdir(parents=True)
        (root / folder / 'docs' / 'report.md').write_text(doc)
    assert tool.update(str(root), check=True) == [
        'projects/cpu_kernels/docs/report.md', 'benchmarks/docs/report.md']


def test_missing_json_renders_not_measured(tool, tmp_path):
    root = _repo(tmp_path, '<!-- results:demo -->\n<!-- /results -->\n')
    tool.update(str(root))
    assert 'Not measured yet: `docs/results/demo.json` does not exist' in \
        (root / 'docs' / 'page.md').read_text()


def test_unclosed_block_names_file_and_line(tool, tmp_path):
    root = _repo(tmp_path, 'x\n<!-- results:demo -->\ntable\n', RECORD)
    with pytest.raises(ValueError,
                       match=r'docs/page.md:2: results block .demo. has no '
                       r'closing <!-- /results -->'):
        tool.update(str(root))


def test_record_without_commit_is_named(tool, tmp_path):
    bad = {k: v for k, v in RECORD.items() if k != 'commit'}
    root = _repo(tmp_path, 'x\n', bad)
    with pytest.raises(ValueError, match=r"demo.json: missing key\(s\) "
                       r"\['commit'\]"):
        tool.update(str(root))


def test_render_names_the_merged_record(tool):
    record = dict(RECORD, merged={'record': 'docs/results/old.json',
                                  'command': 'python old', 'commit': 'def'})
    lines = tool.render(record).split('\n')
    assert lines[:4] == [
        tool.render(RECORD).split('\n')[0], '',
        'The rows of the methods this command did not run are those of '
        '`python old` (`--merge docs/results/old.json`); '
        'the ranks are over all rows.', ''
    ]
    assert lines[4:] == tool.render(RECORD).split('\n')[2:]


def test_render_leaves_a_metric_a_row_lacks_empty(tool):
    """A summary row (e.g. the random genotypes' median of a search
    control) has only some of the columns: the others are empty cells."""
    record = dict(
        command='python benchmarks/bench_search_vs_random.py', commit='abc',
        machine=dict(cpu_model='CPU X', cores=2, threads=1),
        metrics=['held-out loss', 'rank % (all random)'],
        result={'space: held-out': {
            'ias_paper s0': {'held-out loss': 0.5,
                             'rank % (all random)': 75.0, 'params': 10,
                             'pairs': 50},
            'random median (12 uniform draws)': {'held-out loss': 0.6,
                                                 'pairs': 50}}})
    assert tool.render(record).split('\n')[2:] == [
        '**space: held-out** (50 pairs)',
        '',
        '| method | held-out loss | rank % (all random) | params |',
        '|---|---|---|---|',
        '| ias_paper s0 | 0.5000 | 75.0000 | 10 |',
        '| random median (12 uniform draws) | 0.6000 |  |  |',
    ]


def test_table_metrics_override_the_columns_of_one_table(tool):
    record = dict(
        command='c', commit='abc123', count='images',
        machine=dict(cpu_model='CPU X', cores=2, threads=1),
        metrics=['PSNR'], table_metrics={'check': ['a', 'b']},
        result={'main': {'m': {'PSNR': 30.0, 'images': 4}},
                'check': {'m': {'a': 1.0, 'b': 2.0, 'images': 16}}})
    lines = tool.render(record).split('\n')
    assert lines[lines.index('**main** (4 images)') + 2] == '| method | PSNR |'
    assert lines[lines.index('**check** (16 images)') + 2:][:3] == [
        '| method | a | b |', '|---|---|---|', '| m | 1.0000 | 2.0000 |']


def test_caveat_rows_get_a_footnote_under_their_table(tool):
    """TarDAL+ (a dark edge map) was shown like every other method: its
    name gets a footnote sign in every table holding it and the caveat is
    printed beneath the first of them; a record's own ``caveats`` add to
    the built-in ones."""
    row = {'EN': 1.0, 'rank': {'EN': 1}, 'mean_rank': 1.0}
    record = dict(
        command='c', commit='abc', machine=dict(cpu_model='CPU X', cores=2,
                                                threads=1),
        metrics=['EN'], caveats={'x': 'not a fused image either.'},
        result={'TNO': {'mean': row, 'TarDAL+': row},
                'RoadScene': {'TarDAL+': row, 'x': row}})
    caveat = tool.ROW_CAVEATS['TarDAL+']
    assert caveat.startswith('`tardal_plus.pt` writes a dark edge map, not '
                             'a fused image')
    assert tool.render(record).split('\n')[2:] == [
        '**TNO**', '', '| method | EN | mean rank |', '|---|---|---|',
        '| mean | 1.0000 (1) | 1.0000 |',
        '| TarDAL+ † | 1.0000 (1) | 1.0000 |', '', f'† TarDAL+: {caveat}',
        '', '**RoadScene**', '', '| method | EN | mean rank |',
        '|---|---|---|', '| TarDAL+ † | 1.0000 (1) | 1.0000 |',
        '| x ‡ | 1.0000 (1) | 1.0000 |', '',
        '‡ x: not a fused image either.']


def test_fusion_record_names_the_summed_columns(tool):
    """The SSIM column of the fusion tables (values above 1) is SSIM(A,F) +
    SSIM(B,F); a record with a fusion ``preset`` says so in its header."""
    record = dict(RECORD, preset='cddfuse')
    lines = tool.render(record).split('\n')
    assert lines[0] == tool.render(RECORD).split('\n')[0] + (
        ' SSIM: sums over the two sources (A = first source, IR; B = second, '
        'VI): SSIM = SSIM(A,F) + SSIM(B,F) (at most 2).')
    assert lines[1:] == tool.render(RECORD).split('\n')[1:]
    # the committed real-pair record: every summed column is named
    import json
    import os.path as osp
    with open(osp.join(tool.ROOT, 'docs', 'results',
                       'fusion_real.json')) as f:
        real = json.load(f)
    assert tool.render(real).split('\n')[0].endswith(
        '1 = best). MI, SCD, VIF, SSIM: sums over the two sources (A = '
        'first source, IR; B = second, VI): MI = MI(A,F) + MI(B,F), SCD = '
        'r(F-B,A) + r(F-A,B), VIF = VIF(A,F) + VIF(B,F), SSIM = SSIM(A,F) + '
        'SSIM(B,F) (at most 2).')
