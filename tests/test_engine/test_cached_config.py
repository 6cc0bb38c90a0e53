import copy

import mmengine.config.config as mmengine_config
import pytest
import torch
from mmengine.config import Config
from mmengine.model import BaseModel
from mmengine.runner import Runner

from mmfusenas.utils.checkpoint import read_checkpoint
from mmfusenas.engine.runner import CachedTextConfig, with_cached_text


def _cfg(width=8):
    return Config(dict(
        model=dict(type='Net', channels=[width, 2 * width],
                   ops=('conv_3', 'skip'), nested=dict(a=1, b='x')),
        train_cfg=dict(max_iters=3), work_dir_lock=False))


@pytest.fixture
def format_calls(monkeypatch):
    # the suite's plain text (tests/conftest.py) off: formatted as for users
    monkeypatch.delenv('MMFUSENAS_CONFIG_TEXT', raising=False)
    calls = []
    real = mmengine_config.FormatCode

    def counting(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(mmengine_config, 'FormatCode', counting)
    return calls


def test_same_text_as_mmengine_formatted_once_per_content(format_calls):
    cfg = _cfg(width=13)
    expected = cfg.pretty_text  # MMEngine's own property
    assert len(format_calls) == 1
    cached = with_cached_text(cfg)
    assert type(cached) is CachedTextConfig
    assert cached.pretty_text == expected
    assert cached.pretty_text == expected
    # the runner's copies keep the class and reuse the text
    for other in (copy.deepcopy(cached), copy.copy(cached)):
        assert type(other) is CachedTextConfig
        assert other.pretty_text == expected
    assert len(format_calls) == 2
    # another value (or another type of the same value) is formatted again
    changed = copy.deepcopy(cached)
    changed.model.channels = [13, 27]
    assert changed.pretty_text == Config(changed.to_dict()).pretty_text
    assert 'channels=[\n        13,\n        27,\n    ],' in \
        changed.pretty_text
    changed.model.channels = (13, 27)
    assert changed.pretty_text == Config(changed.to_dict()).pretty_text
    assert changed.pretty_text != cached.pretty_text
    # the original keeps its own text
    assert cached.pretty_text == expected


def test_anything_else_passes_through():
    cfg = dict(a=1)
    assert with_cached_text(cfg) is cfg
    assert with_cached_text(None) is None
    cached = with_cached_text(_cfg())
    assert with_cached_text(cached) is cached


class _Net(BaseModel):

    def __init__(self):
        super().__init__()
        self.w = torch.nn.Parameter(torch.zeros(1))

    def forward(self, *args, mode='tensor', **kwargs):
        return dict(loss=self.w.sum())


def test_the_runner_of_a_cached_config_formats_it_once(tmp_path,
                                                       format_calls):
    cfg = _cfg(width=29)
    loader = torch.utils.data.DataLoader([0, 1], batch_size=1)
    runner = Runner(model=_Net(), work_dir=str(tmp_path),
                    cfg=with_cached_text(cfg), train_dataloader=loader,
                    train_cfg=dict(by_epoch=False, max_iters=1),
                    optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.1)),
                    default_hooks=dict(checkpoint=None),
                    # MMEngine's default would leave 'mmengine' as the
                    # current scope for the tests after this one
                    default_scope='mmfusenas')
    assert type(runner.cfg) is CachedTextConfig
    # logged and dumped into the work dir by the runner's constructor:
    # one formatting
    assert len(format_calls) == 1
    (dumped, ) = tmp_path.glob('*.py')
    for name in ('a.pth', 'b.pth'):
        runner.save_checkpoint(str(tmp_path), name, save_optimizer=False,
                               save_param_scheduler=False)
    assert len(format_calls) == 1
    meta = read_checkpoint(str(tmp_path / 'b.pth'))['meta']
    expected = cfg.pretty_text  # MMEngine's formatting of the same config
    assert meta['cfg'] == expected
    assert dumped.read_text() == expected


def test_plain_text_is_mmengines_unformatted_text(format_calls, monkeypatch,
                                                   tmp_path):
    monkeypatch.setenv('MMFUSENAS_CONFIG_TEXT', 'plain')
    cfg = _cfg(width=31)
    cached = with_cached_text(cfg)
    text = cached.pretty_text
    assert format_calls == []
    plain = Config(cfg.to_dict(), format_python_code=False).pretty_text
    assert text == plain
    # the same config when read back, and the config itself still formats
    path = tmp_path / 'plain.py'
    path.write_text(text)
    assert Config.fromfile(str(path)).to_dict() == cfg.to_dict()
    assert cached._format_python_code
    monkeypatch.delenv('MMFUSENAS_CONFIG_TEXT')
    assert cached.pretty_text == cfg.pretty_text != text
    assert len(format_calls) == 2
