"""tools/analysis_tools/task_protocol.py on damaged or changed files (issue
69): a pickle in a run folder is refused unexecuted, truncated source images
and damaged JSON / initial weights are refused with the file named, changed
source images are noticed, ``start_sha256`` survives a resume, and the
documented ``--out`` inside a new work dir works. 4 real MSRS_det pairs at
64 x 64, 2 iterations."""
import json
import os
import os.path as osp
import pickle

import cv2
import numpy as np
import pytest
import torch

from helpers import load_tool
from helpers.damaged_files import JPEG_DAMAGE, write_damaged_jpeg
from mmfusenas.utils.checkpoint import read_checkpoint
from test_task_protocol import (BUDGET, TEST, TRAIN, _copy_pairs, _Killed,
                                 kill_after_first_step)

pytestmark = pytest.mark.usefixtures('one_thread')


@pytest.fixture(scope='module')
def bench():
    return load_tool('tools/analysis_tools/task_protocol.py')


def _make_data(shared_data: str, root: str) -> str:
    """``root/data`` (4 pairs of MSRS_det) and ``root/split``; returns
    ``root``."""
    _copy_pairs(osp.join(shared_data, 'detection', 'MSRS_det'),
                osp.join(root, 'data'), TRAIN + TEST)
    os.makedirs(osp.join(root, 'split'), exist_ok=True)
    for name, stems in (('train', TRAIN), ('test', TEST)):
        with open(osp.join(root, 'split', f'{name}.txt'), 'w') as f:
            f.write('\n'.join(stems) + '\n')
    return root


def _argv(root: str, work: str, *extra) -> list:
    return ['--data', osp.join(root, 'data'), '--split-dir',
            osp.join(root, 'split'), '--methods', 'ir', '--seeds', '0',
            '--work-dir', work, *BUDGET, *extra]


@pytest.fixture(scope='module')
def done(bench, shared_data, tmp_path_factory):
    """A finished protocol (input ir, seed 0); returns (root, work dir)."""
    root = _make_data(shared_data, str(tmp_path_factory.mktemp('faults')))
    work = osp.join(root, 'work')
    bench.run(bench.parse_args(_argv(root, work)))
    return root, work


class _Payload:
    """Unpickling it creates the file ``marker``."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return open, (self.marker, 'w')


def test_a_pickle_in_a_run_folder_is_refused_unexecuted(bench, done,
                                                        tmp_path, capsys):
    """Was loaded with weights_only=False by ``_checkpoint_iter``: the
    payload ran on the next start of the protocol."""
    root, _ = done
    work = str(tmp_path / 'work')
    run_dir = osp.join(work, 'runs', 'ir', 'seed_0')
    os.makedirs(run_dir)
    marker = str(tmp_path / 'marker')
    evil = osp.join(run_dir, 'latest.pth')
    torch.save(dict(meta=_Payload(marker), state_dict={}), evil)
    with pytest.raises(pickle.UnpicklingError, match='latest.pth holds '
                       'pickled Python objects'):
        bench._checkpoint_iter(evil)
    assert not osp.exists(marker)
    assert bench.main(_argv(root, work)) == 2
    err = capsys.readouterr().err
    assert f'error: checkpoint {evil} holds pickled Python objects' in err
    assert not osp.exists(marker)


def test_a_truncated_source_image_is_refused(bench, shared_data, tmp_path,
                                             capsys):
    """A JPEG cut to 700 bytes was copied grey-filled into the inputs."""
    root = _make_data(shared_data, str(tmp_path))
    src = osp.join(root, 'data', 'ir', f'{TEST[0]}.jpg')
    with open(src, 'rb') as f:
        head = f.read(700)
    with open(src, 'wb') as f:
        f.write(head)
    work = osp.join(root, 'work')
    assert bench.main(_argv(root, work)) == 2
    err = capsys.readouterr().err
    assert 'error: image ' in err and osp.abspath(src) in err
    assert 'is truncated (700 bytes' in err
    assert not osp.isdir(osp.join(work, 'runs'))  # nothing trained


@pytest.mark.parametrize('how', JPEG_DAMAGE)
def test_a_corrupt_jpeg_that_keeps_its_end_marker_is_refused(
        bench, shared_data, tmp_path, capsys, how):
    """A source JPEG cut to a third with ``FF D9`` appended, or with its
    middle third zeroed, was cached mostly grey and trained on: now the
    protocol stops before any training, naming the file and libjpeg's
    complaint."""
    root = _make_data(shared_data, str(tmp_path))
    src = osp.join(root, 'data', 'vi', f'{TRAIN[0]}.jpg')
    write_damaged_jpeg(src, how, source=src)
    work = osp.join(root, 'work')
    assert bench.main(_argv(root, work)) == 2
    err = capsys.readouterr().err
    assert f"error: image '{osp.abspath(src)}' is corrupt (libjpeg: " in err
    assert not osp.isdir(osp.join(work, 'runs'))  # nothing trained


def test_the_image_copy_refuses_a_truncated_source(bench, tmp_path):
    """The copy of a source image (``make_images``) reads it checked."""
    src = str(tmp_path / 'a.jpg')
    cv2.imwrite(src, np.full((16, 16), 90, np.uint8))
    with open(src, 'rb') as f:
        content = f.read()
    with open(src, 'wb') as f:
        f.write(content[:-8])  # its last scan and end marker cut
    data = bench.DataSet('d', str(tmp_path))
    data.add([dict(stem='a', img_path=dict(ir=src, vi=src), width=16,
                   height=16, instances=[])])
    data.sha256 = dict(a=dict(ir='x', vi='x'))
    with pytest.raises(OSError, match='is truncated') as info:
        bench.make_images('ir', dict(source='ir'), data, str(tmp_path / 'w'))
    assert src in str(info.value)
    assert not osp.exists(tmp_path / 'w' / 'images' / 'd' / 'ir' / 'a.png')


def _rewrite(path: str, delta: int) -> np.ndarray:
    """Re-encode the image ``path`` with its pixels changed by ``delta``;
    returns the new pixels."""
    img = cv2.imread(path, cv2.IMREAD_UNCHANGED)
    img = np.clip(img.astype(np.int16) + delta, 0, 255).astype(np.uint8)
    cv2.imwrite(path, img)
    return cv2.imread(path, cv2.IMREAD_UNCHANGED)


def test_changed_source_images_are_noticed(bench, shared_data, tmp_path,
                                           capsys):
    """The caches recorded the source folder, not its files: a restored or
    replaced source image kept the old images and results."""
    root = _make_data(shared_data, str(tmp_path))
    work = osp.join(root, 'work')
    first = bench.run(bench.parse_args(_argv(root, work)))
    capsys.readouterr()
    images = osp.join(work, 'images', 'data', 'ir')
    mtimes = {s: os.stat(osp.join(images, f'{s}.png')).st_mtime_ns
              for s in TRAIN + TEST}
    # unchanged: everything reused
    again = bench.run(bench.parse_args(_argv(root, work)))
    out = capsys.readouterr().out
    assert 'training done earlier' in out and 'testing again' not in out
    assert 'writing' not in out and again == first
    assert {s: os.stat(osp.join(images, f'{s}.png')).st_mtime_ns
            for s in TRAIN + TEST} == mtimes
    # a test image changed: its copy is made again, the test set tested
    # again, the training reused
    new = _rewrite(osp.join(root, 'data', 'ir', f'{TEST[0]}.jpg'), 40)
    bench.run(bench.parse_args(_argv(root, work)))
    out = capsys.readouterr().out
    assert f'ir: writing 1 image(s) of data to {images}' in out
    assert 'ir seed 0: training done earlier' in out
    assert 'ir seed 0: the images or labels of test changed since it was ' \
        'tested; testing again' in out
    assert np.array_equal(
        cv2.imread(osp.join(images, f'{TEST[0]}.png'), cv2.IMREAD_UNCHANGED),
        new)
    assert os.stat(osp.join(images, f'{TEST[1]}.png')).st_mtime_ns == \
        mtimes[TEST[1]]
    # a training image changed: the trained run is refused, named
    _rewrite(osp.join(root, 'data', 'ir', f'{TRAIN[0]}.jpg'), 40)
    assert bench.main(_argv(root, work)) == 2
    err = capsys.readouterr().err
    run_dir = osp.join(work, 'runs', 'ir', 'seed_0')
    assert f'error: {run_dir} was trained on other training data' in err
    assert f'remove {run_dir} to train it again' in err


def _killed_after_one_step(bench, done, tmp_path, monkeypatch):
    """``ir`` seed 0 killed after its first step in a new work dir; returns
    its argv, run dir and the runner builder that resumes it."""
    argv = _argv(done[0], str(tmp_path / 'work'))
    build = kill_after_first_step(bench, monkeypatch)
    with pytest.raises(_Killed):
        bench.run(bench.parse_args(argv))
    return argv, osp.join(str(tmp_path / 'work'), 'runs', 'ir',
                          'seed_0'), build


def test_start_sha256_is_the_initial_weights_after_a_resume(
        bench, done, tmp_path, monkeypatch):
    """Was the hash of the weights resumed from after a kill."""
    argv, run_dir, build = _killed_after_one_step(bench, done, tmp_path,
                                                  monkeypatch)
    first = read_checkpoint(osp.join(run_dir, 'iter_1.pth'))['meta']
    monkeypatch.setattr(bench, '_build_runner', build)
    result = bench.run(bench.parse_args(argv))
    with open(osp.join(run_dir, 'result.json')) as f:
        train = json.load(f)['train']
    assert train['resumed_from'] == 'iter_1.pth'
    seed = result['test']['ir']['per_seed']['0']
    assert seed['start_sha256'] == seed['init_sha256']
    # the seconds before the kill (kept in iter_1.pth) plus the resumed
    # part's one iteration
    assert first['train_seconds'] > 0 and first['train_cpu_seconds'] > 0
    assert train['seconds'] == pytest.approx(
        first['train_seconds'] + train['s_per_iter'], abs=0.02)
    assert train['cpu_seconds'] > first['train_cpu_seconds']
    # a finished checkpoint found without its result: read from it
    os.remove(osp.join(run_dir, 'result.json'))
    seed = bench.run(bench.parse_args(argv))['test']['ir']['per_seed']['0']
    assert seed['start_sha256'] == seed['init_sha256']
    last = read_checkpoint(osp.join(run_dir, 'iter_2.pth'))['meta']
    with open(osp.join(run_dir, 'result.json')) as f:
        train = json.load(f)['train']
    assert (train['seconds'], train['cpu_seconds']) == (
        last['train_seconds'], last['train_cpu_seconds'])
    assert train['seconds'] >= first['train_seconds']


def test_unknown_seconds_before_a_resume_are_not_guessed(
        bench, done, tmp_path, monkeypatch):
    """A checkpoint without the seconds before it (saved before they were
    kept): the resumed training's wall and CPU seconds are None, not the
    resumed part's alone."""
    argv, run_dir, build = _killed_after_one_step(bench, done, tmp_path,
                                                  monkeypatch)
    path = osp.join(run_dir, 'iter_1.pth')
    ckpt = read_checkpoint(path)
    del ckpt['meta']['train_seconds'], ckpt['meta']['train_cpu_seconds']
    torch.save(ckpt, path)
    monkeypatch.setattr(bench, '_build_runner', build)
    bench.run(bench.parse_args(argv))
    with open(osp.join(run_dir, 'result.json')) as f:
        train = json.load(f)['train']
    assert train['resumed_from'] == 'iter_1.pth'
    assert train['seconds'] is None and train['cpu_seconds'] is None
    assert train['s_per_iter'] > 0


@pytest.mark.parametrize('name', ['protocol.json', 'fusion.json',
                                  'result.json'])
def test_damaged_json_is_named(bench, done, name, capsys):
    """Was ``error: Expecting value: line 1 column 1 (char 0)``."""
    root, work = done
    path = dict(
        protocol=osp.join(work, 'protocol.json'),
        fusion=osp.join(work, 'images', 'data', 'ir', 'fusion.json'),
        result=osp.join(work, 'runs', 'ir', 'seed_0', 'result.json'))[
            name.split('.')[0]]
    with open(path, 'rb') as f:
        content = f.read()
    try:
        with open(path, 'wb') as f:
            f.write(b'')
        assert bench.main(_argv(root, work)) == 2
    finally:
        with open(path, 'wb') as f:
            f.write(content)
    err = capsys.readouterr().err
    assert f'error: {path} is damaged (not valid JSON: ' in err
    assert bench.main(_argv(root, work)) == 0


def _truncate(path):
    with open(path, 'r+b') as f:
        f.truncate(os.path.getsize(path) // 2)


def _empty(path):
    open(path, 'wb').close()


def _overwrite(path):
    with open(path, 'r+b') as f:
        f.seek(os.path.getsize(path) // 2)
        f.write(b'\xff' * 64)


@pytest.mark.parametrize('damage,says', [
    (_truncate, 'cannot be read by torch.load'),
    (_empty, 'is empty (0 bytes)'),
    (_overwrite, 'fails its CRC-32 check')])
def test_damaged_initial_weights_are_named(bench, done, damage, says,
                                           capsys):
    """Were a bare EOFError, or (bytes overwritten) blamed on other
    options of the finished runs."""
    root, work = done
    path = osp.join(work, 'init', 'seed_0.pth')
    with open(path, 'rb') as f:
        content = f.read()
    try:
        damage(path)
        assert bench.main(_argv(root, work)) == 2
    finally:
        with open(path, 'wb') as f:
            f.write(content)
    err = capsys.readouterr().err
    assert f'error: initial weights {path} ' in err and says in err
    assert f'remove {path} to have it made again' in err
    assert 'other options' not in err


def test_the_documented_out_in_a_new_work_dir(bench, done, tmp_path):
    """``--work-dir work_dirs/task_driven --out work_dirs/task_driven/
    table.json`` failed: the folder of --out did not exist yet."""
    root, _ = done
    work = str(tmp_path / 'work_dirs' / 'task_driven')
    out = osp.join(work, 'table.json')
    assert bench.main(_argv(root, work, '--out', out)) == 0
    with open(out) as f:
        assert list(json.load(f)['result']['test']) == ['ir']
