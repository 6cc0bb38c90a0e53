"""weights_only loading of MMEngine checkpoints and legacy pickles; the
checked loader."""
import argparse
import io
import os.path as osp
import pickle

import numpy as np
import pytest
import torch
from mmengine.logging import HistoryBuffer, MessageHub

import mmfusenas  # noqa: F401  (registers the allow-list on import)
from mmfusenas.utils.checkpoint import (OFFICIAL_WEIGHT_FILES,
                                        CheckpointMismatchError,
                                        _history_buffer_getattr,
                                        identify_official_weights,
                                        load_legacy_checkpoint,
                                        load_model_weights, read_checkpoint)


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


# ----------------------------------------------------------------------
# the checked loader
# ----------------------------------------------------------------------
class _Net(torch.nn.Module):

    def __init__(self, width=3):
        super().__init__()
        self.conv = torch.nn.Conv2d(1, width, 1)
        self.bn = torch.nn.BatchNorm2d(width)


def _saved(tmp_path, state, name='w.pth'):
    path = str(tmp_path / name)
    torch.save({'state_dict': state, 'meta': {'iter': 1}}, path)
    return path


def test_checked_loader_loads_and_returns_the_checkpoint(tmp_path):
    src = _Net()
    torch.nn.init.normal_(src.conv.weight)
    path = _saved(tmp_path, {f'module.{k}': v
                             for k, v in src.state_dict().items()})
    dst = _Net()
    ckpt = load_model_weights(dst, path)
    assert ckpt['meta'] == {'iter': 1}
    for key, value in src.state_dict().items():
        assert torch.equal(dst.state_dict()[key], value)


@pytest.mark.parametrize('case', ['empty', 'truncated', 'pickle', 'nan',
                                  'other_width', 'not_a_state_dict'])
def test_checked_loader_names_the_file_and_loads_nothing(tmp_path, case):
    good = _saved(tmp_path, _Net().state_dict(), 'good.pth')
    path = str(tmp_path / f'{case}.pth')
    if case == 'empty':
        open(path, 'wb').close()
        error, text = ValueError, r'is empty \(0 bytes\)'
    elif case == 'truncated':
        with open(good, 'rb') as f:
            data = f.read()
        with open(path, 'wb') as f:
            f.write(data[:len(data) // 2])
        error, text = ValueError, 'cannot be read by torch.load'
    elif case == 'pickle':
        torch.save({'state_dict': _Net().state_dict(),
                    'args': argparse.Namespace(lr=1)}, path)
        error = pickle.UnpicklingError
        text = r'refuses \(e.g. argparse.Namespace\).*tools/model_converters'
    elif case == 'nan':
        state = _Net().state_dict()
        state['bn.running_var'][1] = float('inf')
        torch.save({'state_dict': state}, path)
        error, text = FloatingPointError, \
            r'1 tensor\(s\) hold NaN/Inf \(bn.running_var\)'
    elif case == 'other_width':
        torch.save({'state_dict': _Net(5).state_dict()}, path)
        error = CheckpointMismatchError
        text = (r'does not fit the model _Net of this config: 6 shape '
                r'mismatch\(es\), checkpoint vs model \(conv.weight '
                r'\(5, 1, 1, 1\) vs \(3, 1, 1, 1\), conv.bias \(5,\) vs '
                r'\(3,\), bn.weight \(5,\) vs \(3,\) and 3 more\)')
    else:
        torch.save([1, 2], path)
        error, text = ValueError, 'holds no state dict .* but a list'
    net = _Net()
    before = {k: v.clone() for k, v in net.state_dict().items()}
    with pytest.raises(error, match=f'^checkpoint {path}.*{text}'):
        load_model_weights(net, path)
    for key, value in net.state_dict().items():
        assert torch.equal(value, before[key])


@pytest.mark.parametrize('path', ['', '  ', None])
def test_an_empty_path_is_named_as_such(path):
    with pytest.raises(FileNotFoundError) as err:
        read_checkpoint(path)
    assert str(err.value) == f'checkpoint: no file given (path {path!r})'


def test_checked_loader_summarises_a_mismatch_and_allows_non_strict(
        tmp_path):
    state = {f'layer{i}.weight': torch.zeros(1) for i in range(40)}
    state.update(_Net().state_dict())
    del state['bn.bias']
    path = _saved(tmp_path, state)
    with pytest.raises(CheckpointMismatchError) as info:
        load_model_weights(_Net(), path)
    msg = str(info.value)
    assert "1 of the model's 7 keys missing (bn.bias)" in msg
    assert ('40 unexpected key(s) (layer0.weight, layer1.weight, '
            'layer2.weight, layer3.weight, layer4.weight and 35 more)') in msg
    assert len(msg) < 600  # a summary, not a key dump
    net = _Net()
    torch.nn.init.constant_(net.bn.bias, 7.0)
    load_model_weights(net, path, strict=False)
    assert torch.equal(net.bn.bias, torch.full((3, ), 7.0))
    assert torch.equal(net.bn.weight, state['bn.weight'])


@pytest.mark.parametrize('name,keys', [
    ('seafusion', ['vis_rgbd1.dense.conv1.conv.weight']),
    ('tardal', ['dense.0.0.weight', 'fuse.3.0.weight']),
    ('ifcnn_max', ['conv1.weight', 'conv2.bn.running_var']),
    ('ruas', ['enhance_net.iems.0.cell.c1_r.op.weight']),
    ('tim', ['module.stem.0.conv2d.weight']),
    ('hbl', ['e.encode.down1.weight']),
    ('dcnas', ['rgb_encoder.head.0.weight']),
])
def test_official_weight_files_are_recognised(tmp_path, name, keys):
    assert identify_official_weights(keys) == name
    path = str(tmp_path / 'official.pt')
    torch.save({k: torch.zeros(1) for k in keys}, path)
    with pytest.raises(CheckpointMismatchError) as info:
        load_model_weights(_Net(), path)
    msg = str(info.value)
    converter = OFFICIAL_WEIGHT_FILES[name]['command'].split(' {src}')[0]
    assert f'it is an official {OFFICIAL_WEIGHT_FILES[name]["network"]}' \
        in msg
    assert converter.split()[1] in msg and path in msg
    assert 'missing' not in msg


def test_no_official_match_for_toolbox_checkpoints():
    assert identify_official_weights(_Net().state_dict()) is None
    assert identify_official_weights(
        ['fusion_net.stem.0.conv.weight', 'network.encoder.0.weight']) is None


def test_nonfinite_tensors_by_hand():
    """Exactly the floating-point tensors holding NaN / Inf are named, in
    order, whatever their dtype; huge finite values (whose 2-norm
    overflows), integer and empty tensors are not."""
    from mmfusenas.utils.checkpoint import nonfinite_tensors
    nan, inf = float('nan'), float('inf')
    state = dict(
        state_dict={'a.weight': torch.tensor([3e38, 3e38, -3e38]),
                    'a.half': torch.tensor([1.0, nan, 2.0]).half(),
                    'a.steps': torch.tensor([7]),
                    'a.empty': torch.zeros(0)},
        optimizer=dict(state={0: dict(exp_avg=torch.ones(4, 4),
                                      exp_avg_sq=torch.tensor([1.0, -inf]))},
                       param_groups=[dict(lr=0.1)]),
        meta=[torch.tensor([1j, 2.0]), torch.tensor([0.0, 1.0]).bfloat16()])
    assert nonfinite_tensors(state) == [
        'state_dict.a.half', 'optimizer.state.0.exp_avg_sq']
    state['meta'][1][0] = nan
    assert nonfinite_tensors(state['meta'], 'meta') == ['meta[1]']
    assert nonfinite_tensors(torch.tensor([inf])) == ['<tensor>']
    assert nonfinite_tensors(dict(x=1.0, y='s')) == []
