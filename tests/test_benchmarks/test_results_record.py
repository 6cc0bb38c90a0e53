"""mmfusenas.benchmark.results_record: the commit a record names (and when
dirty)."""
import os.path as osp
import shutil
import subprocess

import pytest

from mmfusenas.benchmark.results_record import RESULTS_DIR, git_commit

pytestmark = pytest.mark.skipif(shutil.which('git') is None,
                                reason='git is not installed')


def _git(root, *args):
    return subprocess.run(['git', *args], cwd=root, check=True,
                          capture_output=True, text=True).stdout.strip()


def test_records_written_earlier_do_not_make_the_code_dirty(tmp_path):
    """A checkout whose only changes are in docs/results (records of
    earlier runs) is clean; a change to any other tracked file is dirty;
    untracked files are ignored."""
    root = str(tmp_path)
    _git(root, 'init', '-q')
    (tmp_path / 'code.py').write_text('x = 1\n')
    (tmp_path / RESULTS_DIR).mkdir(parents=True)
    record = tmp_path / RESULTS_DIR / 'a.json'
    record.write_text('{}\n')
    _git(root, 'add', '.')
    _git(root, '-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-qm',
         'init')
    head = _git(root, 'rev-parse', 'HEAD')
    assert git_commit(root) == head
    record.write_text('{"ms": 1}\n')                # an earlier record
    (tmp_path / 'new.py').write_text('y = 2\n')     # untracked
    assert git_commit(root) == head
    (tmp_path / 'code.py').write_text('x = 2\n')
    assert git_commit(root) == head + '-dirty'
    assert git_commit(osp.join(root, 'missing')) == 'unknown'
