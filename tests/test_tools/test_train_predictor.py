"""tools/search/train_predictor.py: the stored path scores are reused only
while what made them (checkpoint bytes, model and val loader configs,
batches, seed, space) is unchanged, from any checkout or work dir, and the
predictor trains on this run's paths only."""
import json
import os
import os.path as osp
import shutil

import pytest
import torch
import torch.nn as nn

from mmfusenas.models.mutables import OneShotChoice, encode_choices
from helpers import load_tool

pytestmark = pytest.mark.usefixtures('one_thread')

TOOL = 'tools/search/train_predictor.py'


class _Supernet(nn.Module):
    """Three choice points and a weight the path losses depend on."""

    def __init__(self) -> None:
        super().__init__()
        self.points = nn.ModuleList(
            OneShotChoice(f'p{i}', dict(a=nn.Identity(), b=nn.Identity(),
                                        c=nn.Identity())) for i in range(3))
        self.w = nn.Parameter(torch.ones(1))


def _setup(tmp_path, monkeypatch, work='work'):
    """The tool with a stand-in runner (weights from ``load_from``) and a
    path loss counting its calls; the config file and the checkpoint."""
    mod = load_tool(TOOL)
    calls = []

    def path_loss(model, path, batches):
        calls.append(dict(path))
        codes = encode_choices({f'p{i}': 'abc' for i in range(3)}, path)
        return model.w.item() * sum(c * 3**i for i, c in enumerate(codes))

    class Runner:
        @classmethod
        def from_cfg(cls, cfg):
            runner = cls()
            runner.model, runner.val_dataloader = _Supernet(), [{}] * 4
            return runner

        def load_checkpoint(self, path):
            self.model.load_state_dict(torch.load(path)['state_dict'])

    monkeypatch.setattr(mod, 'Runner', Runner)
    monkeypatch.setattr(mod, 'path_loss', path_loss)
    work = str(tmp_path / work)
    ckpt = osp.join(work, 'supernet.pth')
    save_weights(ckpt, 1.0)
    cfg = str(tmp_path / 'predictor.py')
    with open(cfg, 'w') as f:
        f.write(f'model = dict(type="Stand-in")\n'
                f'val_dataloader = dict(num_workers=0, batch_size=1, '
                f'dataset=dict(data_root={osp.join(work, "val")!r}))\n'
                f'load_from = {ckpt!r}\nwork_dir = {work!r}\n'
                f'predictor = dict(num_paths=12, batches=2, epochs=1, '
                f'out_dir={osp.join(work, "predictor")!r})\n')
    return mod, calls, cfg, ckpt, work


def save_weights(path, w):
    """A supernet checkpoint whose path losses scale with ``w``."""
    state = _Supernet().state_dict()
    state['w'] = torch.full((1, ), w)
    os.makedirs(osp.dirname(path), exist_ok=True)
    torch.save(dict(state_dict=state), path)


def _scores(work):
    with open(osp.join(work, 'predictor', 'path_scores.json')) as f:
        return json.load(f)


def test_scores_are_reused_only_when_made_alike(tmp_path, monkeypatch,
                                                capsys):
    mod, calls, cfg, ckpt, work = _setup(tmp_path, monkeypatch)
    first = mod.main([cfg])
    scored = len(calls)
    assert first['paths'] == scored > 6
    # unchanged: every score reused (num_workers is not part of the key)
    capsys.readouterr()
    again = mod.main([cfg, '--cfg-options', 'val_dataloader.num_workers=1'])
    assert again['kendall_tau'] == first['kendall_tau']
    assert len(calls) == scored and 'rescoring' not in capsys.readouterr(
    ).out
    # fewer paths: trained on this run's paths, not every stored one
    fewer = mod.main([cfg, '--cfg-options', 'predictor.num_paths=6'])
    assert 4 <= fewer['paths'] <= 6 and len(calls) == scored
    assert len(_scores(work)['scores']) == scored
    # the supernet retrained: the stored scores are not served
    old = _scores(work)['scores']
    save_weights(ckpt, 2.0)
    retrained = mod.main([cfg])
    out = capsys.readouterr().out
    assert len(calls) == 2 * scored
    assert 'path_scores.json: made with other checkpoint_sha256; ' \
           f'rescoring (not reusing {scored} scores)' in out
    new = _scores(work)['scores']
    assert new.keys() == old.keys() and retrained['paths'] == scored
    assert all(new[k]['loss'] == 2 * old[k]['loss'] for k in new)
    # another batch count / val data: rescored, the keys named
    mod.main([cfg, '--cfg-options', 'predictor.batches=3',
              'val_dataloader.batch_size=2'])
    assert len(calls) == 3 * scored
    assert 'made with other batches, val_dataloader_sha256; ' in \
        capsys.readouterr().out
    # a score file without a key (made before the key existed): rescored
    data = _scores(work)
    del data['key']
    with open(osp.join(work, 'predictor', 'path_scores.json'), 'w') as f:
        json.dump(data, f)
    mod.main([cfg, '--cfg-options', 'predictor.batches=3',
              'val_dataloader.batch_size=2'])
    assert len(calls) == 4 * scored


def test_scores_key_is_equal_from_another_work_dir(tmp_path, monkeypatch):
    from mmengine import Config
    mod, _, cfg, ckpt, work = _setup(tmp_path, monkeypatch)
    other = str(tmp_path / 'moved')
    shutil.copytree(work, other)
    keys = []
    for folder in (work, other):
        c = Config.fromfile(cfg)
        c.work_dir, c.load_from = folder, osp.join(folder, 'supernet.pth')
        c.val_dataloader.dataset.data_root = osp.join(folder, 'val')
        keys.append(mod.scores_key(c, dict(batches=2, seed=1),
                                   dict(p0=('a', 'b'))))
    assert keys[0] == keys[1] and keys[0]['space'] == dict(p0=['a', 'b'])
    assert '/' not in json.dumps(keys[0])  # no path stored
