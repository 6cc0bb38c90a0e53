"""mmfusenas.utils.cache_keys: the same inputs give the same key from any
checkout and work dir; a changed input or named file changes it."""
import torch

from mmfusenas.utils.cache_keys import (named_files, portable_json,
                                        portable_sha256, state_sha256)


def _cfg(checkout, work):
    return dict(genotype=f'{checkout}/configs/tim/../g.yaml',
                data_root=f'{work}/val', other='/data/nyu',
                fn=f'<function f at 0x7f{len(work)}>')


def test_portable_json_writes_the_checkout_and_work_dir_as_placeholders():
    text = portable_json(_cfg('/co/one', '/w/one'), '/w/one')
    assert text == ('{"data_root": "<work-dir>/val", "fn": "<function f>", '
                    '"genotype": "<repository>/configs/tim/../g.yaml", '
                    '"other": "/data/nyu"}')
    key = portable_sha256(_cfg('/co/one', '/w/one'), '/w/one')
    assert portable_sha256(_cfg('/tmp/co/two', '/w/two/x'), '/w/two/x') == key
    assert portable_sha256(dict(_cfg('/co/one', '/w/one'), other='/data/x'),
                           '/w/one') != key
    # a work dir is replaced only when given
    assert '"/w/one/val"' in portable_json(_cfg('/co/one', '/w/one'))


def test_named_files_hash_the_existing_files_by_content(tmp_path):
    for checkout in ('a', 'b'):
        folder = tmp_path / checkout / 'configs'
        folder.mkdir(parents=True)
        (folder / 'g.yaml').write_text('normal: [a]\n')
        (folder / 'split.txt').write_text('p01\n')
    a, b = (dict(genotype=str(tmp_path / c / 'configs' / 'g.yaml'),
                 split=[str(tmp_path / c / 'configs' / 'split.txt')],
                 missing=str(tmp_path / c / 'configs' / 'none.yaml'))
            for c in ('a', 'b'))
    found = named_files(a)
    assert sorted(found) == ['<repository>/configs/g.yaml',
                             '<repository>/configs/split.txt']
    assert named_files(b) == found
    assert list(named_files(a, suffixes=('.yaml', ))) == [
        '<repository>/configs/g.yaml']
    (tmp_path / 'b' / 'configs' / 'g.yaml').write_text('normal: [b]\n')
    assert named_files(b) != found
    # a relative path is read from root
    assert named_files(dict(g='configs/split.txt'), root=str(
        tmp_path / 'a')) == {'configs/split.txt': found[
            '<repository>/configs/split.txt']}


def test_state_hash_sees_names_dtypes_shapes_and_bytes():
    state = {'w': torch.zeros(3), 'n': torch.tensor(2), 'meta': 'x'}
    key = state_sha256({k: (v.clone() if torch.is_tensor(v) else v)
                        for k, v in state.items()})
    assert state_sha256(state) == key
    for changed in (dict(state, n=torch.tensor(3)),
                    dict(state, w=torch.zeros(3).double()),
                    dict(state, w=torch.zeros(1, 3)), dict(state, meta='y'),
                    {'v' if k == 'w' else k: v for k, v in state.items()}):
        assert state_sha256(changed) != key
