"""tools/fuse.py and tools/enhance.py on folders with bad files."""
import os
import os.path as osp

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config

from helpers import load_tool
from mmfusenas.registry import MODELS

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
FUSION_CFG = osp.join(REPO, 'configs', 'tim', 'fusion_ivif_toy.py')
RUAS_CFG = osp.join(REPO, 'configs', 'ruas', 'ruas_s_toy.py')




def ckpt(cfg_path, path, **merge):
    cfg = Config.fromfile(cfg_path)
    cfg.merge_from_dict(merge)
    torch.manual_seed(0)
    torch.save({'state_dict': MODELS.build(cfg.model).state_dict()}, path)
    return path


def truncate(path):
    """Keep the header (PIL still reads the size) but not the data."""
    data = open(path, 'rb').read()
    with open(path, 'wb') as f:
        f.write(data[:60])


@pytest.fixture
def pairs(tmp_path):
    rng = np.random.default_rng(0)
    for folder in ('ir', 'vi'):
        os.makedirs(tmp_path / folder)
        for stem in ('a', 'b', 'c'):
            cv2.imwrite(str(tmp_path / folder / f'{stem}.png'),
                        rng.integers(0, 255, (20, 24), dtype=np.uint8))
    truncate(str(tmp_path / 'vi' / 'b.png'))
    return tmp_path


def test_fuse_validates_the_folder_before_writing(pairs, tmp_path, capsys):
    fuse = load_tool('tools/fuse.py')
    weights = ckpt(FUSION_CFG, str(tmp_path / 'f.pth'),
                   **{'model.fusion_net.channels': 4})
    out = str(tmp_path / 'out')
    base = [FUSION_CFG, weights, '--ir', str(pairs / 'ir'), '--vi',
            str(pairs / 'vi'), '--out', out, '--cfg-options',
            'model.fusion_net.channels=4']
    with pytest.raises(ValueError, match=r"1 of 3 pair\(s\) cannot be read; "
                       r"nothing was written[\s\S]*b: OSError"):
        fuse.main(base)
    assert not osp.exists(out)
    fuse.main(base + ['--skip-bad'])
    assert sorted(os.listdir(out)) == ['a.png', 'c.png']
    text = capsys.readouterr().out
    assert 'wrote 2 fused image(s)' in text and 'skipped 1:' in text
    assert 'b: OSError' in text


def test_enhance_validates_and_rejects_16_bit(tmp_path, capsys):
    enhance = load_tool('tools/enhance.py')
    weights = ckpt(RUAS_CFG, str(tmp_path / 'r.pth'))
    src = tmp_path / 'low'
    os.makedirs(src)
    rng = np.random.default_rng(0)
    cv2.imwrite(str(src / 'a.png'), rng.integers(0, 60, (16, 20, 3),
                                                 dtype=np.uint8))
    cv2.imwrite(str(src / 'b.png'), rng.integers(0, 9000, (16, 20, 3),
                                                 dtype=np.uint16))
    out = str(tmp_path / 'out')
    base = [RUAS_CFG, weights, '--input', str(src), '--out', out]
    with pytest.raises(ValueError, match=r"b: ValueError: .*16 bits per "
                       'channel'):
        enhance.main(base)
    assert not osp.exists(out)
    enhance.main(base + ['--skip-bad'])
    assert os.listdir(out) == ['a.png']
    assert 'skipped 1:' in capsys.readouterr().out


def test_fuse_data_root_uses_the_config_folders(pairs, tmp_path):
    """``--data-root DIR`` fuses DIR/<data_prefix> (ir/, vi/) of the config;
    folders and --data-root together are refused."""
    fuse = load_tool('tools/fuse.py')
    weights = ckpt(FUSION_CFG, str(tmp_path / 'f.pth'),
                   **{'model.fusion_net.channels': 4})
    out = str(tmp_path / 'out')
    base = [FUSION_CFG, weights, '--out', out, '--cfg-options',
            'model.fusion_net.channels=4']
    fuse.main(base + ['--data-root', str(pairs), '--skip-bad'])
    assert sorted(os.listdir(out)) == ['a.png', 'c.png']
    with pytest.raises(ValueError, match='not both'):
        fuse.main(base + ['--data-root', str(pairs), '--ir', str(pairs)])
    with pytest.raises(FileNotFoundError, match=r"--data-root \('ir'\)"):
        fuse.main(base + ['--data-root', str(tmp_path / 'none')])
