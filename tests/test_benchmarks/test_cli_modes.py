"""mmfusenas.benchmark.cli_modes: choosing a script's mode with ``--mode``."""
import sys

import pytest

from mmfusenas.benchmark.cli_modes import run_mode, split_mode


def test_split_mode_takes_the_flag_anywhere_and_defaults_to_the_first():
    modes = ['a', 'b']
    assert split_mode(['--x', '1'], modes) == ('a', ['--x', '1'])
    assert split_mode(['--x', '1', '--mode', 'b', '--y'], modes) == (
        'b', ['--x', '1', '--y'])
    assert split_mode(['--mode=b', '--y'], modes) == ('b', ['--y'])


def test_split_mode_rejects_an_unknown_or_missing_name():
    with pytest.raises(SystemExit, match=r"'c': not one of \['a', 'b'\]"):
        split_mode(['--mode', 'c'], ['a', 'b'])
    with pytest.raises(SystemExit, match='needs a value'):
        split_mode(['--mode'], ['a', 'b'])


def test_run_mode_passes_argv_or_sys_argv(monkeypatch, capsys):
    seen = {}

    def with_argv(argv):
        return ('a', argv)

    def without_argv():
        seen['argv'] = list(sys.argv)
        return 'b'

    modes = {'a': with_argv, 'b': without_argv}
    monkeypatch.setattr(sys, 'argv', ['prog.py', 'ignored'])
    assert run_mode(modes, ['--k', '2']) == ('a', ['--k', '2'])
    assert run_mode(modes, ['--mode', 'b', '--k', '3']) == 'b'
    assert seen['argv'] == ['prog.py', '--k', '3']
    assert sys.argv == ['prog.py', 'ignored']  # restored
    assert run_mode(modes, ['--mode', 'a', '--help']) == ('a', ['--help'])
    assert "modes (--mode NAME): a, b (default a); options of mode 'a'" in (
        capsys.readouterr().out)
