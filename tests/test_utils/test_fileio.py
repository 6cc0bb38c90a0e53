"""mmfusenas.utils.fileio: stored benchmark runs read back by their
options."""
import json

import pytest

from mmfusenas.utils import read_stored_run


def test_read_stored_run_reuses_refuses_or_skips(tmp_path):
    path = tmp_path / 'run.json'
    assert read_stored_run(path, {'iters': 2}) is None  # not run yet
    run = {'options': {'iters': 2, 'dirs': ['a']}, 'rmse': 1.5}
    path.write_text(json.dumps(run))
    assert read_stored_run(path, {'iters': 2, 'dirs': ['a']}) == run
    with pytest.raises(ValueError, match=r"run.json was run with other "
                       r"options \(\{'iters': 2, 'dirs': \['a'\]\}\) than "
                       r"these \(\{'iters': 3\}\)"):
        read_stored_run(path, {'iters': 3})
    # when only reporting, a run made otherwise is left out
    assert read_stored_run(path, {'iters': 3},
                           missing_ok_on_mismatch=True) is None
    (tmp_path / 'other.json').write_text(json.dumps({'args': {'w': 4}}))
    assert read_stored_run(tmp_path / 'other.json', {'w': 4},
                           key='args') == {'args': {'w': 4}}


def test_out_of_space_names_the_file_and_leaves_the_old_one(
        tmp_path, monkeypatch):
    """A full disk while saving gave only ``OSError: [Errno 28] No space
    left on device``: the message now names the file and what is left."""
    import errno
    import os

    from mmfusenas.utils.fileio import atomic_write
    path = tmp_path / 'iter_2.pth'
    path.write_bytes(b'old')
    real_fsync = os.fsync

    def full_disk(fd):
        real_fsync(fd)
        raise OSError(errno.ENOSPC, 'No space left on device')

    monkeypatch.setattr(os, 'fsync', full_disk)
    with pytest.raises(OSError) as info:
        atomic_write(b'x' * 10, str(path))
    assert info.value.errno == errno.ENOSPC
    assert str(info.value) == (
        f'[Errno 28] No space left on device while writing {path} (10 '
        f'bytes): free space on the device of {tmp_path} (or write '
        'elsewhere, e.g. --work-dir / --out); nothing was written, the file '
        f"there before, if any, is unchanged: '{path}'")
    assert path.read_bytes() == b'old'
    assert sorted(p.name for p in tmp_path.iterdir()) == ['iter_2.pth']
