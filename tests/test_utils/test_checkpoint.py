"""weights_only loading of MMEngine checkpoints and legacy pickles."""
import io
import os.path as osp
import pickle

import numpy as np
import pytest
import torch
from mmengine.logging import HistoryBuffer, MessageHub

import mmfusenas  # noqa: F401  (registers the allow-list on import)
from mmfusenas.utils.checkpoint import (_history_buffer_getattr,
                                        load_legacy_checkpoint)


def mmengine_like_checkpoint():
    hub = MessageHub('ckpt-test-hub')
    for v in (1.0, 2.0, 4.0):
        hub.update_scalar('train/loss', v)
    hub.update_info('iter', 3)
    return dict(
        meta=dict(seed=0, iter=3, np_scalar=np.float64(0.5)),
        state_dict=dict(w=torch.arange(3.)),
        message_hub=hub.state_dict(),
        arrays=[np.arange(4, dtype=dt) for dt in (np.int64, np.float32)])


def test_mmengine_checkpoint_loads_with_weights_only(tmp_path):
    path = str(tmp_path / 'ckpt.pth')
    torch.save(mmengine_like_checkpoint(), path)
    ck = torch.load(path, weights_only=True)
    buf = ck['message_hub']['log_scalars']['train/loss']
    assert isinstance(buf, HistoryBuffer)
    assert buf.mean() == pytest.approx(7 / 3)
    assert buf.statistics('max') == 4.0
    assert ck['meta']['np_scalar'] == 0.5
    assert ck['arrays'][1].dtype == np.float32
    assert torch.equal(ck['state_dict']['w'], torch.arange(3.))


class _Evil:
    """Pickles to ``os.system('...')``: must never run under weights_only."""

    def __reduce__(self):
        import os
        return os.system, ('echo pwned',)


def test_arbitrary_globals_are_still_refused(tmp_path):
    path = str(tmp_path / 'evil.pth')
    torch.save({'x': _Evil()}, path)
    with pytest.raises(pickle.UnpicklingError):
        torch.load(path, weights_only=True)


def test_getattr_stand_in_only_resolves_statistics_methods():
    assert _history_buffer_getattr(HistoryBuffer, 'mean') is \
        HistoryBuffer.mean
    with pytest.raises(RuntimeError, match='Refusing'):
        _history_buffer_getattr(HistoryBuffer, '__init__')
    with pytest.raises(RuntimeError, match='Refusing'):
        _history_buffer_getattr(np, 'load')


def test_getattr_escape_in_a_crafted_pickle_is_refused(tmp_path):
    # getattr(HistoryBuffer, '__init__') would open a path to globals
    class Crafted:

        def __reduce__(self):
            return getattr, (HistoryBuffer, '__init__')

    buf = io.BytesIO()
    torch.save({'x': Crafted()}, buf)
    buf.seek(0)
    with pytest.raises(Exception, match='Refusing|getattr'):
        torch.load(buf, weights_only=True)


class LegacyNet(torch.nn.Module):
    """A whole pickled module, as old research code saved checkpoints."""

    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(1, 1, 1)


def test_legacy_pickle_needs_explicit_trust(tmp_path):
    path = str(tmp_path / 'legacy.pt')
    torch.save(LegacyNet(), path)
    with pytest.raises(RuntimeError, match='trust=True'):
        load_legacy_checkpoint(path)
    net = load_legacy_checkpoint(path, trust=True)
    assert isinstance(net, LegacyNet)
    # plain state dicts load without trust
    torch.save(net.state_dict(), path)
    assert set(load_legacy_checkpoint(path)) == {'conv.weight', 'conv.bias'}
    with pytest.raises(FileNotFoundError, match='missing.pt'):
        load_legacy_checkpoint(osp.join(str(tmp_path), 'missing.pt'))
