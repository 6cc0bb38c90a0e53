"""tools/install.sh installs torch from TORCH_INDEX_URL when it is set
(the CPU build: https://download.pytorch.org/whl/cpu), with a stand-in
interpreter that records the pip commands: nothing is installed."""
import os
import os.path as osp
import stat
import subprocess

import pytest

from helpers import REPO_ROOT

CPU_INDEX = 'https://download.pytorch.org/whl/cpu'


def run_install(tmp_path, **env):
    log = tmp_path / 'calls.txt'
    fake = tmp_path / 'python'
    # torch is missing, everything else "works"; every call is logged
    fake.write_text('#!/bin/sh\n'
                    f'echo "$*" >> {log}\n'
                    '[ "$1 $2" = "-c import torch" ] && exit 1\n'
                    'exit 0\n')
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    env = dict(os.environ, PYTHON=str(fake), MMCV_WHEELS=str(tmp_path),
               **env)
    subprocess.run(['bash', osp.join(REPO_ROOT, 'tools', 'install.sh')],
                   check=True, env=env, capture_output=True)
    return [line for line in log.read_text().splitlines()
            if line.startswith('-m pip install')
            and line.split()[-1].startswith('torch')]


@pytest.mark.skipif(os.name != 'posix', reason='a shell script')
def test_torch_index_url_is_used_for_torch_only(tmp_path, monkeypatch):
    monkeypatch.delenv('TORCH_INDEX_URL', raising=False)
    assert run_install(tmp_path) == ['-m pip install torch==2.13.0']
    (tmp_path / 'calls.txt').unlink()
    assert run_install(tmp_path, TORCH_INDEX_URL=CPU_INDEX) == [
        f'-m pip install --index-url {CPU_INDEX} torch==2.13.0']
    calls = (tmp_path / 'calls.txt').read_text()
    assert calls.count('--index-url') == 1  # not for the rest of the stack


def test_readme_says_how_to_get_the_cpu_build():
    text = open(osp.join(REPO_ROOT, 'README.md'), encoding='utf-8').read()
    assert f'TORCH_INDEX_URL={CPU_INDEX} bash tools/install.sh' in text


def _mmcv_calls(tmp_path, answer, **env):
    """The pip calls of install.sh when its check of mmcv against torch
    prints ``answer`` (torch present; every call logged, nothing run)."""
    log = tmp_path / 'calls.txt'
    fake = tmp_path / 'python'
    fake.write_text('#!/bin/sh\n'
                    f'echo "$*" >> {log}\n'
                    'case "$*" in *get_compiling_cuda_version*) '
                    f'echo "{answer}";; esac\n'
                    'exit 0\n')
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    env = dict({k: v for k, v in os.environ.items() if k != 'MMCV_WHEELS'},
               PYTHON=str(fake), **env)
    out = subprocess.run(['bash', osp.join(REPO_ROOT, 'tools', 'install.sh')],
                         check=True, env=env, capture_output=True, text=True)
    calls = [line for line in log.read_text().splitlines()
             if 'mmcv' in line and line.startswith('-m pip')]
    return calls, out.stdout


@pytest.mark.skipif(os.name != 'posix', reason='a shell script')
def test_an_mmcv_of_the_other_kind_is_rebuilt(tmp_path):
    """An mmcv whose ops do not match torch (a CPU build under a CUDA torch)
    is removed and built again from source without pip's cache or the
    shared CPU wheels; a matching one is kept."""
    calls, out = _mmcv_calls(tmp_path, 'ok cuda')
    assert calls == [] and 'already installed' in out
    (tmp_path / 'calls.txt').unlink()
    calls, out = _mmcv_calls(tmp_path, 'mismatch cuda')
    assert 'do not match torch (cuda): rebuilding' in out
    assert calls == ['-m pip uninstall -y mmcv',
                     '-m pip install --no-build-isolation --no-cache-dir '
                     'mmcv==2.1.0']
    (tmp_path / 'calls.txt').unlink()
    wheels = tmp_path / 'wheels'
    wheels.mkdir()
    calls, _ = _mmcv_calls(tmp_path, 'missing cpu', MMCV_WHEELS=str(wheels))
    assert calls == ['-m pip install --no-build-isolation --find-links '
                     f'{wheels} mmcv==2.1.0']


@pytest.mark.skipif(os.name != 'posix', reason='a shell script')
def test_an_mmcv_whose_ops_do_not_import_is_rebuilt(tmp_path):
    """mmcv 2.1.0 installed but ``import mmcv.ops`` failing (built for
    another torch, e.g. from pip's cache): a plain ``pip install
    mmcv==2.1.0`` would keep it, so it is removed and built without pip's
    cache, from source unless MMCV_WHEELS names a folder."""
    calls, out = _mmcv_calls(tmp_path, 'broken cpu')
    assert 'mmcv.ops does not import: rebuilding' in out
    assert calls == ['-m pip uninstall -y mmcv',
                     '-m pip install --no-build-isolation --no-cache-dir '
                     'mmcv==2.1.0']  # not the shared CPU wheels
    (tmp_path / 'calls.txt').unlink()
    wheels = tmp_path / 'wheels'
    wheels.mkdir()
    calls, _ = _mmcv_calls(tmp_path, 'broken cpu', MMCV_WHEELS=str(wheels))
    assert calls[1] == ('-m pip install --no-build-isolation --no-cache-dir '
                        f'--find-links {wheels} mmcv==2.1.0')


@pytest.mark.skipif(os.name != 'posix', reason='a shell script')
def test_the_script_fails_when_mmcv_ops_do_not_import(tmp_path):
    """The last check imports ``mmcv.ops`` (importing mmfusenas checks only
    versions): when it fails the script exits non-zero, says what to do and
    never reaches its "ready" line."""
    fake = tmp_path / 'python'
    fake.write_text('#!/bin/sh\n'
                    'case "$*" in *get_compiling_cuda_version*) '
                    'echo "ok cpu";; "-c import mmcv.ops") exit 1;; esac\n'
                    'echo "$*"\n'
                    'exit 0\n')
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    env = dict(os.environ, PYTHON=str(fake))
    out = subprocess.run(['bash', osp.join(REPO_ROOT, 'tools', 'install.sh')],
                         env=env, capture_output=True, text=True)
    assert out.returncode == 1
    assert "error: 'import mmcv.ops' fails" in out.stderr
    assert 'Run tools/install.sh again' in out.stderr
    assert 'import mmfusenas' not in out.stdout  # the "ready" line


def _setuptools_calls(tmp_path, **env):
    log = tmp_path / 'calls.txt'
    if log.exists():
        log.unlink()
    _mmcv_calls(tmp_path, 'missing cpu', **env)
    return [line for line in log.read_text().splitlines()
            if line.split()[-1].startswith('setuptools')
            or line.endswith('setuptools<70 wheel')]


@pytest.mark.skipif(os.name != 'posix', reason='a shell script')
def test_setuptools_is_pinned_only_for_a_source_build(tmp_path):
    """mmcv's source build needs setuptools < 70 and torch >= 77.0.3: the
    pin is installed only when mmcv is built (no prebuilt wheel of this
    Python) and the newer setuptools is put back after it, so ``pip
    check`` stays clean; a prebuilt wheel needs neither."""
    wheels = tmp_path / 'wheels'
    wheels.mkdir()
    built = ['-m pip install setuptools<70 wheel',
             '-m pip install setuptools>=77.0.3,<81']
    assert _setuptools_calls(tmp_path, MMCV_WHEELS=str(wheels)) == built
    # the stand-in interpreter prints no version: the tag is empty
    (wheels / 'mmcv-2.1.0--linux_x86_64.whl').write_bytes(b'')
    assert _setuptools_calls(tmp_path, MMCV_WHEELS=str(wheels)) == []
