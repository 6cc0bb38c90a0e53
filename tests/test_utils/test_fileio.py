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
