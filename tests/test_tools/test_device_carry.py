"""tools/misc/device_carry.py: the kit and the split's pairs copied byte for
byte for a lent GPU machine, nothing else, under the carry limit."""
import filecmp
import os
import os.path as osp
import subprocess

import pytest

from helpers import load_tool


def _tree(root, files):
    for rel, data in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


@pytest.fixture
def sources(tmp_path):
    _tree(tmp_path / 'kit', {'gpu_stack.sh': b'echo kit\n',
                             'wheels/a.whl': b'wheel'})
    files = {'classes.txt': b'person\ncar\n'}
    for stem in ('a1', 'a2', 'b1', 'gap1'):
        files.update({f'ir/{stem}.png': os.urandom(64),
                      f'vi/{stem}.jpg': os.urandom(64),
                      f'labels/fusion/{stem}.txt': b'0 0.5 0.5 0.1 0.1\n',
                      f'labels/infrared/{stem}.txt': b''})
    _tree(tmp_path / 'data', files)
    _tree(tmp_path / 'split', {'train.txt': b'# training\na1\na2\n',
                               'test.txt': b'# test\nb1\n',
                               'val.txt': b'gap1\n'})
    _tree(tmp_path / 'w', {'seafusion.pth': b'weights'})
    repo = tmp_path / 'repo'
    repo.mkdir()
    subprocess.run(['git', 'init', '-q', str(repo)], check=True)
    return tmp_path


def _argv(root, *extra):
    return ['--kit', str(root / 'kit'), '--data', str(root / 'data'),
            '--split-dir', str(root / 'split'), '--weights',
            str(root / 'w' / 'seafusion.pth'), '--out', str(root / 'repo'),
            *extra]


def test_the_split_and_the_kit_are_copied_byte_for_byte(sources):
    tool = load_tool('tools/misc/device_carry.py')
    tool.main(_argv(sources))
    out = sources / 'repo' / '.device_data' / 'MSRS_det'
    copied = sorted(osp.relpath(osp.join(d, f), out)
                    for d, _, fs in os.walk(out) for f in fs)
    # the train and test stems only (not gap1 of val.txt)
    assert copied == sorted(
        ['classes.txt'] + [f'{k}/{s}{e}' for s in ('a1', 'a2', 'b1')
                           for k, e in (('ir', '.png'), ('vi', '.jpg'),
                                        ('labels/fusion', '.txt'),
                                        ('labels/infrared', '.txt'))])
    for rel in copied:
        assert filecmp.cmp(out / rel, sources / 'data' / rel, shallow=False)
    assert (sources / 'repo' / '.device_data' / 'weights' /
            'seafusion.pth').read_bytes() == b'weights'
    assert (sources / 'repo' / '.device_kit' / 'wheels' /
            'a.whl').read_bytes() == b'wheel'
    exclude = (sources / 'repo' / '.git' / 'info' / 'exclude').read_text()
    assert '/.device_kit/\n' in exclude and '/.device_data/\n' in exclude
    tool.main(_argv(sources))  # again: nothing repeated
    assert (sources / 'repo' / '.git' / 'info' / 'exclude').read_text() \
        == exclude


def test_a_stem_missing_from_the_data_and_too_much_are_refused(
        sources, monkeypatch):
    tool = load_tool('tools/misc/device_carry.py')
    (sources / 'split' / 'test.txt').write_text('b1\nb9\n')
    with pytest.raises(FileNotFoundError, match=r"lacks 1 stems .*\['b9'\]"):
        tool.main(_argv(sources))
    (sources / 'split' / 'test.txt').write_text('b1\n')
    monkeypatch.setattr(tool, 'LIMIT_MB', 0.0001)
    with pytest.raises(ValueError, match='more than the 0.0001 MiB'):
        tool.main(_argv(sources))
