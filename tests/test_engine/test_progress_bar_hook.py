"""ProgressBarHook: a bar over the test loop, drawn by the main process."""
import importlib.util
import io
import os.path as osp
from types import SimpleNamespace

import pytest

_spec = importlib.util.spec_from_file_location(
    'tool_test_progress', osp.join(osp.dirname(__file__), '..', '..',
                                   'tools', 'test.py'))
progress_bar_hook = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(progress_bar_hook)
ProgressBarHook = progress_bar_hook.ProgressBarHook


def run_loop(hook, n):
    runner = SimpleNamespace(test_dataloader=list(range(n)))
    hook.before_test_epoch(runner)
    for i in range(n):
        hook.after_test_iter(runner, i)
    hook.after_test_epoch(runner, metrics={})


def test_bar_counts_the_test_batches(monkeypatch):
    out = io.StringIO()
    monkeypatch.setattr('sys.stdout', out)
    run_loop(ProgressBarHook(), 3)
    text = out.getvalue()
    # off a terminal: the title, then one line per step here (3 < 10)
    assert [line.split(' ')[0] for line in text.splitlines()] == [
        'testing', '1/3', '2/3', '3/3']
    assert text.startswith('testing 3 batch(es):\n')
    assert '\r' not in text and text.endswith('\n')
    assert '4/3' not in text   # ended once, not again after the epoch


@pytest.mark.parametrize('main,expected', [(False, ''), (True, 'x 2')])
def test_only_the_main_process_draws(monkeypatch, main, expected):
    out = io.StringIO()
    monkeypatch.setattr('sys.stdout', out)
    monkeypatch.setattr(progress_bar_hook, 'is_main_process', lambda: main)
    run_loop(ProgressBarHook(desc='x'), 2)
    assert out.getvalue().startswith(expected)
    assert bool(out.getvalue()) == main
