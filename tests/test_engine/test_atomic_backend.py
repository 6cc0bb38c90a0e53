import os

import pytest
from mmengine.fileio import get_file_backend

from mmfusenas.engine.atomic_backend import AtomicLocalBackend
from mmfusenas.utils.fileio import atomic_write


def test_backend_is_selected_by_name(tmp_path):
    backend = get_file_backend(
        str(tmp_path), backend_args=dict(backend='atomic_local'))
    assert isinstance(backend, AtomicLocalBackend)
    backend.put(b'abc', str(tmp_path / 'sub' / 'f.bin'))
    backend.put_text('héllo', str(tmp_path / 't.txt'))
    assert (tmp_path / 'sub' / 'f.bin').read_bytes() == b'abc'
    assert (tmp_path / 't.txt').read_text(encoding='utf-8') == 'héllo'


def test_interrupted_write_keeps_old_file_and_leaves_no_temp(
        tmp_path, monkeypatch):
    target = tmp_path / 'ckpt.pth'
    atomic_write(b'old complete checkpoint', target)

    def crash(src, dst):
        raise KeyboardInterrupt('killed while saving')

    monkeypatch.setattr(os, 'replace', crash)
    with pytest.raises(KeyboardInterrupt):
        atomic_write(b'new', target)
    assert target.read_bytes() == b'old complete checkpoint'
    assert sorted(p.name for p in tmp_path.iterdir()) == ['ckpt.pth']
